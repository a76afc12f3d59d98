// Print-time estimate: each move accelerates from its entry speed, cruises and
// decelerates to the junction speed with the next move (trapezoid). The SSE2
// passes do exactly the operations of the scalar formulas, in the same order
// (std::min(a, b) is _mm_min_pd(b, a)), so both give bit-identical results.
#include "estimator.hpp"

#include <algorithm>
#include <cmath>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

#if defined(__SSE2__)

// Slot i + 1 from buffered move i: length, inverse length, direction, cruise.
void Estimator::directions(std::size_t n) {
  const __m128d zero = _mm_setzero_pd();
  const __m128d one = _mm_set1_pd(1.0);
  const __m128d vmax = _mm_set1_pd(max_velocity_);
  for (std::size_t i = 0; i < n; i += 2) {
    const __m128d dx = _mm_loadu_pd(&dx_[i]);
    const __m128d dy = _mm_loadu_pd(&dy_[i]);
    const __m128d dz = _mm_loadu_pd(&dz_[i]);
    const __m128d length_sq =
        _mm_add_pd(_mm_add_pd(_mm_mul_pd(dx, dx), _mm_mul_pd(dy, dy)), _mm_mul_pd(dz, dz));
    const __m128d xyz = _mm_sqrt_pd(length_sq);
    const __m128d moves = _mm_cmpgt_pd(length_sq, zero);
    const __m128d inv = _mm_and_pd(moves, _mm_div_pd(one, xyz));
    _mm_storeu_pd(&inv_s_[i + 1], inv);
    _mm_storeu_pd(&ux_s_[i + 1], _mm_mul_pd(dx, inv));
    _mm_storeu_pd(&uy_s_[i + 1], _mm_mul_pd(dy, inv));
    _mm_storeu_pd(&uz_s_[i + 1], _mm_mul_pd(dz, inv));
    _mm_storeu_pd(&cruise_s_[i + 1], _mm_min_pd(vmax, _mm_loadu_pd(&speed_[i])));
    _mm_storeu_pd(&length_s_[i + 1],
                  _mm_or_pd(_mm_and_pd(moves, xyz), _mm_andnot_pd(moves, _mm_loadu_pd(&extrude_[i]))));
  }
}

// Slot i: the junction (corner) speed between slots i - 1 and i, as Klipper's
// junction deviation; 0 at a reversal or next to an extrude-only move.
void Estimator::corners(std::size_t n) {
  const __m128d zero = _mm_setzero_pd();
  const __m128d one = _mm_set1_pd(1.0);
  const __m128d half = _mm_set1_pd(0.5);
  const __m128d sign = _mm_set1_pd(-0.0);
  const __m128d min_denominator = _mm_set1_pd(kMinDenominator);
  const __m128d deviation = _mm_set1_pd(deviation_accel_);
  for (std::size_t i = 1; i <= n; i += 2) {
    const __m128d px = _mm_loadu_pd(&ux_s_[i - 1]);
    const __m128d py = _mm_loadu_pd(&uy_s_[i - 1]);
    const __m128d pz = _mm_loadu_pd(&uz_s_[i - 1]);
    const __m128d ux = _mm_loadu_pd(&ux_s_[i]);
    const __m128d uy = _mm_loadu_pd(&uy_s_[i]);
    const __m128d uz = _mm_loadu_pd(&uz_s_[i]);
    const __m128d dot = _mm_add_pd(_mm_add_pd(_mm_mul_pd(ux, px), _mm_mul_pd(uy, py)), _mm_mul_pd(uz, pz));
    const __m128d cos_theta = _mm_xor_pd(dot, sign);
    const __m128d sin_half = _mm_sqrt_pd(_mm_max_pd(zero, _mm_mul_pd(half, _mm_sub_pd(one, cos_theta))));
    const __m128d corner_sq =
        _mm_div_pd(_mm_mul_pd(deviation, sin_half), _mm_max_pd(min_denominator, _mm_sub_pd(one, sin_half)));
    const __m128d corner = _mm_min_pd(_mm_loadu_pd(&cruise_s_[i - 1]),
                                      _mm_min_pd(_mm_loadu_pd(&cruise_s_[i]), _mm_sqrt_pd(corner_sq)));
    const __m128d previous_travels =
        _mm_or_pd(_mm_or_pd(_mm_cmpneq_pd(px, zero), _mm_cmpneq_pd(py, zero)), _mm_cmpneq_pd(pz, zero));
    const __m128d both_travel = _mm_and_pd(previous_travels, _mm_cmpneq_pd(_mm_loadu_pd(&inv_s_[i]), zero));
    _mm_storeu_pd(&corner_s_[i], _mm_and_pd(both_travel, corner));
  }
}

// Slot i: the time of the move in slot i - 1, from its entry speed to the corner of slot i.
void Estimator::times(std::size_t n) {
  const __m128d zero = _mm_setzero_pd();
  const __m128d two = _mm_set1_pd(2.0);
  const __m128d half = _mm_set1_pd(0.5);
  const __m128d twice_accel = _mm_set1_pd(2.0 * accel_);
  const __m128d inv_accel = _mm_set1_pd(inv_accel_);
  for (std::size_t i = 1; i <= n; i += 2) {
    const __m128d length = _mm_loadu_pd(&length_s_[i - 1]);
    const __m128d v = _mm_loadu_pd(&cruise_s_[i - 1]);
    __m128d v0 = _mm_loadu_pd(&corner_s_[i - 1]);
    __m128d v1 = _mm_loadu_pd(&corner_s_[i]);
    const __m128d reach = _mm_mul_pd(twice_accel, length);
    v1 = _mm_min_pd(_mm_sqrt_pd(_mm_add_pd(_mm_mul_pd(v0, v0), reach)), v1);
    v0 = _mm_min_pd(_mm_sqrt_pd(_mm_add_pd(_mm_mul_pd(v1, v1), reach)), v0);
    const __m128d v0_sq = _mm_mul_pd(v0, v0);
    const __m128d v1_sq = _mm_mul_pd(v1, v1);
    const __m128d peak =
        _mm_min_pd(_mm_sqrt_pd(_mm_mul_pd(_mm_add_pd(_mm_add_pd(reach, v0_sq), v1_sq), half)), v);
    const __m128d two_peak = _mm_mul_pd(two, peak);
    const __m128d ramps = _mm_mul_pd(
        _mm_mul_pd(_mm_sub_pd(_mm_sub_pd(_mm_mul_pd(two_peak, peak), v0_sq), v1_sq), half), inv_accel);
    const __m128d accelerating = _mm_mul_pd(_mm_sub_pd(_mm_sub_pd(two_peak, v0), v1), inv_accel);
    const __m128d cruising = _mm_div_pd(_mm_max_pd(zero, _mm_sub_pd(length, ramps)), v);
    _mm_storeu_pd(&time_s_[i], _mm_add_pd(accelerating, cruising));
  }
}

#else

void Estimator::directions(std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const double length_sq = dx_[i] * dx_[i] + dy_[i] * dy_[i] + dz_[i] * dz_[i];
    const double xyz = std::sqrt(length_sq);
    const double inv = length_sq > 0 ? 1.0 / xyz : 0.0;
    inv_s_[i + 1] = inv;
    ux_s_[i + 1] = dx_[i] * inv;
    uy_s_[i + 1] = dy_[i] * inv;
    uz_s_[i + 1] = dz_[i] * inv;
    cruise_s_[i + 1] = std::min(speed_[i], max_velocity_);
    length_s_[i + 1] = length_sq > 0 ? xyz : extrude_[i];
  }
}

void Estimator::corners(std::size_t n) {
  for (std::size_t i = 1; i <= n; ++i) {
    const double cos_theta = -(ux_s_[i] * ux_s_[i - 1] + uy_s_[i] * uy_s_[i - 1] + uz_s_[i] * uz_s_[i - 1]);
    const double sin_half = std::sqrt(std::max(0.5 * (1.0 - cos_theta), 0.0));
    const double corner_sq = deviation_accel_ * sin_half / std::max(1.0 - sin_half, kMinDenominator);
    const bool both_travel = inv_s_[i] != 0 && (ux_s_[i - 1] != 0 || uy_s_[i - 1] != 0 || uz_s_[i - 1] != 0);
    corner_s_[i] = both_travel ? std::min({std::sqrt(corner_sq), cruise_s_[i], cruise_s_[i - 1]}) : 0.0;
  }
}

void Estimator::times(std::size_t n) {
  for (std::size_t i = 1; i <= n; ++i) {
    time_s_[i] =
        trapezoid(length_s_[i - 1], corner_s_[i - 1], corner_s_[i], cruise_s_[i - 1], accel_, inv_accel_);
  }
}

#endif

void Estimator::process() {
  const std::size_t n = count_;
  if (n == 0) return;
  // Pad to an even count with a harmless move (its results are not used).
  const std::size_t padded = (n + 1) & ~std::size_t{1};
  if (padded != n) {
    dx_[n] = dy_[n] = dz_[n] = extrude_[n] = 0.0;
    speed_[n] = 1.0;
  }
  length_s_[0] = length_;
  inv_s_[0] = 0.0;
  ux_s_[0] = ux_;
  uy_s_[0] = uy_;
  uz_s_[0] = uz_;
  cruise_s_[0] = cruise_;
  corner_s_[0] = entry_;
  directions(padded);
  corners(padded);
  if (!pending_) corner_s_[1] = 0.0;  // no move before the first one
  times(padded);
  for (std::size_t i = pending_ ? 1 : 2; i <= n; ++i) seconds_ += time_s_[i];
  pending_ = true;
  length_ = length_s_[n];
  cruise_ = cruise_s_[n];
  entry_ = corner_s_[n];
  ux_ = ux_s_[n];
  uy_ = uy_s_[n];
  uz_ = uz_s_[n];
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
