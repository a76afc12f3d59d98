// Units of PWG 5100.21 and conversions from the millimetres people write.
//   temperatures: degrees Celsius (integer, -273..MAX)
//   diameters, tolerances, shell thickness: nanometres (§17.2)
//   build volume, object sizes and offsets: hundredths of a millimetre (§17.1)
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>

namespace ipp3d::attributes {

inline constexpr int kAbsoluteZeroCelsius = -273;
inline constexpr int kNanometresPerMillimetre = 1'000'000;
inline constexpr int kHundredthsPerMillimetre = 100;

// Converts millimetres to nanometres, rounding to nearest; nullopt when the
// value is not finite, negative, or does not fit an IPP integer (2^31-1 nm).
// Example: 1.75 mm -> 1750000 nm.
inline std::optional<int> millimetres_to_nanometres(double mm) {
  if (!std::isfinite(mm) || mm < 0.0) return std::nullopt;
  const double nm = std::round(mm * kNanometresPerMillimetre);
  if (nm > static_cast<double>(std::numeric_limits<int>::max())) return std::nullopt;
  return static_cast<int>(nm);
}

// Converts millimetres to hundredths of a millimetre, rounding to nearest;
// nullopt when not finite or out of the IPP integer range. Negative values are
// allowed (axis minimums such as -4 mm).
inline std::optional<int> millimetres_to_hundredths(double mm) {
  if (!std::isfinite(mm)) return std::nullopt;
  const double h = std::round(mm * kHundredthsPerMillimetre);
  if (h > static_cast<double>(std::numeric_limits<int>::max()) ||
      h < static_cast<double>(std::numeric_limits<int>::min())) {
    return std::nullopt;
  }
  return static_cast<int>(h);
}

// Nanometres to millimetres (for messages and the G-code gate).
constexpr double nanometres_to_millimetres(int nm) {
  return static_cast<double>(nm) / kNanometresPerMillimetre;
}

// Hundredths of a millimetre to millimetres.
constexpr double hundredths_to_millimetres(int h) {
  return static_cast<double>(h) / kHundredthsPerMillimetre;
}

}  // namespace ipp3d::attributes
