// Private: print-time estimate from moves with a trapezoidal speed profile,
// one move of look-ahead and Klipper-style junction (cornering) speeds.
#pragma once

namespace ipp3d::gcode::internal {

// Accumulates the time of the moves given to it.
class Estimator {
 public:
  // `acceleration` in mm/s², `corner_velocity` (square corner velocity) and
  // `max_velocity` in mm/s; all must be > 0.
  Estimator(double acceleration, double corner_velocity, double max_velocity);


  // One straight move by (dx, dy, dz) mm with extrusion de mm at `speed` mm/s.
  void move(double dx, double dy, double dz, double de, double speed);

  // A pause (G4) or an unknown jump (G28): ends the current move at rest.
  void dwell(double seconds);

  // Total seconds so far, including the pending move.
  [[nodiscard]] double total();

 private:
  // Adds the pending move's time, ending at `exit_speed`.
  void flush(double exit_speed);
  // The speed at the corner between the pending move and one along (ux, uy, uz).
  [[nodiscard]] double junction(double ux, double uy, double uz, double cruise) const;

  double accel_;
  double corner_;
  double max_velocity_;
  double seconds_ = 0.0;
  bool pending_ = false;
  double length_ = 0.0;  // pending move
  double cruise_ = 0.0;
  double entry_ = 0.0;
  double ux_ = 0.0, uy_ = 0.0, uz_ = 0.0;  // its unit direction
};

}  // namespace ipp3d::gcode::internal
