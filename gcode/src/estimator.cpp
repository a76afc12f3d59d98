// Print-time estimate: each move accelerates from its entry speed, cruises and
// decelerates to the junction speed with the next move (trapezoid).
#include "estimator.hpp"

#include <algorithm>
#include <cmath>

namespace ipp3d::gcode::internal {
namespace {

constexpr double kTiny = 1e-9;

// Seconds for `d` mm from v0 to v1 with cruise vmax and acceleration a.
double trapezoid(double d, double v0, double v1, double vmax, double a) {
  v1 = std::min(v1, std::sqrt(v0 * v0 + 2 * a * d));
  v0 = std::min(v0, std::sqrt(v1 * v1 + 2 * a * d));
  const double peak_sq = (2 * a * d + v0 * v0 + v1 * v1) / 2;
  if (peak_sq <= vmax * vmax) {
    const double peak = std::sqrt(peak_sq);
    return (2 * peak - v0 - v1) / a;
  }
  const double ramps = (2 * vmax * vmax - v0 * v0 - v1 * v1) / (2 * a);
  return (2 * vmax - v0 - v1) / a + (d - ramps) / vmax;
}

}  // namespace

Estimator::Estimator(double acceleration, double corner_velocity, double max_velocity)
    : accel_(acceleration), corner_(corner_velocity), max_velocity_(max_velocity) {}


double Estimator::junction(double ux, double uy, double uz, double cruise) const {
  if (!pending_ || (ux == 0 && uy == 0 && uz == 0) || (ux_ == 0 && uy_ == 0 && uz_ == 0)) {
    return 0.0;
  }
  const double limit = std::min(cruise, cruise_);
  // Junction deviation model (as Klipper): corner speed from the angle.
  const double cos_theta = -(ux * ux_ + uy * uy_ + uz * uz_);
  if (cos_theta >= 0.999999) return 0.0;
  const double deviation = corner_ * corner_ * (std::sqrt(2.0) - 1) / accel_;
  const double sin_half = std::sqrt(std::max(0.5 * (1 - cos_theta), 0.0));
  const double radius = sin_half >= 1 ? 1e9 : deviation * sin_half / (1 - sin_half);
  return std::min(std::sqrt(radius * accel_), limit);
}

void Estimator::move(double dx, double dy, double dz, double de, double speed) {
  double length = std::sqrt(dx * dx + dy * dy + dz * dz);
  double ux = 0, uy = 0, uz = 0;
  if (length < kTiny) {
    length = std::fabs(de);  // extrude-only move
    if (length < kTiny) return;
  } else {
    ux = dx / length, uy = dy / length, uz = dz / length;
  }
  const double cruise = std::min(speed, max_velocity_);
  const double corner = junction(ux, uy, uz, cruise);
  flush(corner);
  pending_ = true;
  length_ = length;
  cruise_ = cruise;
  entry_ = corner;

  ux_ = ux, uy_ = uy, uz_ = uz;
}

void Estimator::dwell(double seconds) {
  flush(0.0);
  seconds_ += seconds;
}

void Estimator::flush(double exit_speed) {
  if (!pending_) return;
  seconds_ += trapezoid(length_, entry_, exit_speed, cruise_, accel_);
  pending_ = false;
}

double Estimator::total() {
  flush(0.0);
  return seconds_;
}

}  // namespace ipp3d::gcode::internal
