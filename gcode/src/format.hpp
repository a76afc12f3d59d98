// Private: short number formatting for violation values and limits.
#pragma once

#include <charconv>
#include <string>

namespace ipp3d::gcode::fmt {

// A number in at most 7 significant digits: 220, 0.4, -4.5, 1e+06.
inline std::string number(double value) {
  char buffer[48];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::general, 7);
  return std::string(buffer, result.ptr);
}

// Lengths, speeds, accelerations, temperatures and percentages with their units.
inline std::string mm(double value) { return number(value) + " mm"; }
inline std::string mm_s(double value) { return number(value) + " mm/s"; }
inline std::string mm_s2(double value) { return number(value) + " mm/s²"; }
inline std::string celsius(double value) { return number(value) + " °C"; }
inline std::string percent(double value) { return number(value) + " %"; }

}  // namespace ipp3d::gcode::fmt
