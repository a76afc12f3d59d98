// Private: the decimal number reader of the G-code parser.
#pragma once

namespace ipp3d::gcode::internal {

// How reading a number ended.
enum class NumberStatus : unsigned char {
  kOk,         // a finite number was read
  kMissing,    // nothing that starts a number (p unchanged)
  kBad,        // a sign or '.' without digits
  kNotFinite,  // "nan", "inf" or "infinity" (any case, optional sign)
};

// Reads [+-] digits [. digits] (no exponent: in G-code 'E' starts a word) from
// [p, end), advancing p past it. The result is bit-identical to strtod: short
// numbers take an exact fast path, long ones std::from_chars.
NumberStatus parse_number(const char*& p, const char* end, double& out) noexcept;

}  // namespace ipp3d::gcode::internal
