// Private: print-time estimate from moves with a trapezoidal speed profile,
// one move of look-ahead and Klipper-style junction (cornering) speeds. Moves
// are buffered and timed in batches: every move's length, direction, corner
// speed and time only depend on its neighbours, so each batch is computed in
// independent passes (two moves at a time with SSE2) and only the sum is serial.
#pragma once

#include <array>
#include <cstddef>

namespace ipp3d::gcode::internal {

// Accumulates the time of the moves given to it.
class Estimator {
 public:
  // `acceleration` in mm/s², `corner_velocity` (square corner velocity) and
  // `max_velocity` in mm/s; all must be > 0.
  Estimator(double acceleration, double corner_velocity, double max_velocity);

  // One straight move by (dx, dy, dz) mm with extrusion de mm at `speed` mm/s.
  void move(double dx, double dy, double dz, double de, double speed) {
    const bool travel = dx != 0 || dy != 0 || dz != 0;
    if (!travel && de == 0) return;
    dx_[count_] = dx;
    dy_[count_] = dy;
    dz_[count_] = dz;
    extrude_[count_] = travel ? 0.0 : (de < 0 ? -de : de);
    speed_[count_] = speed;
    if (++count_ == kBatch) process();
  }

  // A pause (G4) of `seconds`: the current move ends at rest.
  void dwell(double seconds);

  // Total seconds so far, including the pending move.
  [[nodiscard]] double total();

 private:
  static constexpr std::size_t kBatch = 256;
  // Slots: 0 is the pending move of the previous batch, 1..n the buffered
  // moves, plus one of padding so that pairs never read past the end.
  static constexpr std::size_t kSlots = kBatch + 2;

  // Times the buffered moves.
  void process();
  // The passes of process() over slots [1, n] (n rounded up to even).
  void directions(std::size_t n);
  void corners(std::size_t n);
  void times(std::size_t n);
  // Adds the pending move's time, ending at `exit_speed`.
  void flush(double exit_speed);

  double accel_;
  double inv_accel_;
  double deviation_accel_;  // junction deviation x acceleration (mm²/s²)
  double max_velocity_;
  double seconds_ = 0.0;
  // The pending move: it ends at the junction speed with the next one.
  bool pending_ = false;
  double length_ = 0.0;
  double cruise_ = 0.0;
  double entry_ = 0.0;
  double ux_ = 0.0, uy_ = 0.0, uz_ = 0.0;
  // Buffered moves (structure of arrays); `extrude_` is the length of an extrude-only move.
  std::array<double, kSlots> dx_{}, dy_{}, dz_{}, extrude_{}, speed_{};
  std::size_t count_ = 0;
  // Per slot: length, inverse length (0: no travel), unit vector, cruise and
  // entry (corner) speed, and the time of the move.
  std::array<double, kSlots> length_s_{}, inv_s_{}, ux_s_{}, uy_s_{}, uz_s_{}, cruise_s_{}, corner_s_{},
      time_s_{};
};

}  // namespace ipp3d::gcode::internal
