// Print-time estimate: each move accelerates from its entry speed, cruises and
// decelerates to the junction speed with the next move (trapezoid).
#include "estimator.hpp"

#include <algorithm>
#include <cmath>

namespace ipp3d::gcode::internal {
namespace {

constexpr double kMinDenominator = 1e-12;

// Seconds for `length` mm from v0 to v1 with cruise speed v and acceleration
// a (1/a given), without branches: the peak speed is min(v, triangle peak).
inline double trapezoid(double length, double v0, double v1, double v, double accel, double inv_accel) {
  const double reach = 2.0 * accel * length;
  v1 = std::min(v1, std::sqrt(v0 * v0 + reach));
  v0 = std::min(v0, std::sqrt(v1 * v1 + reach));
  const double peak = std::min(v, std::sqrt((reach + v0 * v0 + v1 * v1) * 0.5));
  const double ramps = (2.0 * peak * peak - v0 * v0 - v1 * v1) * 0.5 * inv_accel;
  return (2.0 * peak - v0 - v1) * inv_accel + std::max(length - ramps, 0.0) / v;
}

}  // namespace

Estimator::Estimator(double acceleration, double corner_velocity, double max_velocity)
    : accel_(acceleration),
      inv_accel_(1.0 / acceleration),
      deviation_accel_(corner_velocity * corner_velocity * (std::sqrt(2.0) - 1.0)),
      max_velocity_(max_velocity) {}

void Estimator::process() {
  for (std::size_t i = 0; i < count_; ++i) {
    const Move& m = buffer_[i];
    const double length_sq = m.dx * m.dx + m.dy * m.dy + m.dz * m.dz;
    const double xyz = std::sqrt(length_sq);
    const double inv = length_sq > 0 ? 1.0 / xyz : 0.0;
    const double ux = m.dx * inv, uy = m.dy * inv, uz = m.dz * inv;
    const double cruise = std::min(m.speed, max_velocity_);
    // Junction deviation (as Klipper): corner speed from the angle; 0 at a
    // reversal or next to an extrude-only move.
    const double cos_theta = -(ux * ux_ + uy * uy_ + uz * uz_);
    const double sin_half = std::sqrt(std::max(0.5 * (1.0 - cos_theta), 0.0));
    const double corner_sq = deviation_accel_ * sin_half / std::max(1.0 - sin_half, kMinDenominator);
    const bool both_travel = pending_ && inv != 0 && (ux_ != 0 || uy_ != 0 || uz_ != 0);
    const double corner = both_travel ? std::min({std::sqrt(corner_sq), cruise, cruise_}) : 0.0;
    if (pending_) seconds_ += trapezoid(length_, entry_, corner, cruise_, accel_, inv_accel_);
    pending_ = true;
    length_ = length_sq > 0 ? xyz : m.extrude;
    cruise_ = cruise;
    entry_ = corner;
    ux_ = ux;
    uy_ = uy;
    uz_ = uz;
  }
  count_ = 0;
}

void Estimator::flush(double exit_speed) {
  process();
  if (!pending_) return;
  seconds_ += trapezoid(length_, entry_, exit_speed, cruise_, accel_, inv_accel_);
  pending_ = false;
}

void Estimator::dwell(double seconds) {
  flush(0.0);
  seconds_ += seconds;
}

double Estimator::total() {
  flush(0.0);
  return seconds_;
}

}  // namespace ipp3d::gcode::internal
