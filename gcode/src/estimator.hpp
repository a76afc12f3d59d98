// Private: print-time estimate from moves with a trapezoidal speed profile,
// one move of look-ahead and Klipper-style junction (cornering) speeds. Moves
// are buffered and timed in batches by a branch-free loop, so the square
// roots of successive moves overlap instead of stalling the parser.
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
    buffer_[count_++] = Move{dx, dy, dz, travel ? 0.0 : (de < 0 ? -de : de), speed};
    if (count_ == kBatch) process();
  }

  // A pause (G4) of `seconds`: the current move ends at rest.
  void dwell(double seconds);

  // Total seconds so far, including the pending move.
  [[nodiscard]] double total();

 private:
  static constexpr std::size_t kBatch = 256;

  // One buffered move; `extrude` is the length of an extrude-only move.
  struct Move {
    double dx, dy, dz, extrude, speed;
  };

  // Times the buffered moves.
  void process();
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
  std::array<Move, kBatch> buffer_{};
  std::size_t count_ = 0;
};

}  // namespace ipp3d::gcode::internal
