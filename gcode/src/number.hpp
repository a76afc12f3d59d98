// Private: the decimal number reader of the G-code parser. The common case
// (at most 19 digits, at most 22 after the point) is inline: one pass into a
// 64-bit mantissa and one correctly rounded division (Clinger's fast path).
#pragma once

#include <cstdint>

namespace ipp3d::gcode::internal {

// How reading a number ended.
enum class NumberStatus : unsigned char {
  kOk,         // a finite number was read
  kMissing,    // nothing that starts a number (p unchanged)
  kBad,        // a sign or '.' without digits
  kNotFinite,  // "nan", "inf" or "infinity" (any case, optional sign), or too large
};

// The uncommon cases of parse_number(): no digits, or too many for the fast path.
NumberStatus parse_number_slow(const char*& p, const char* s, const char* number_start, const char* end,
                               bool negative, int digits, double& out) noexcept;

// Exact powers of ten representable in a double (10^0 .. 10^22).
inline constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

// parse_number(); kTerminated: a byte that is not a digit, sign or '.' comes
// before `end`, so the loops need not compare with `end`.
template <bool kTerminated>
inline NumberStatus parse_number_impl(const char*& p, const char* end, double& out) noexcept {
  constexpr std::uint64_t kMaxExactMantissa = std::uint64_t{1} << 53;
  constexpr int kMaxDigits = 19;
  constexpr int kMaxFraction = 22;
  const char* s = p;
  const bool negative = (kTerminated || s != end) && *s == '-';
  if ((kTerminated || s != end) && (*s == '-' || *s == '+')) ++s;
  const char* number_start = s;
  std::uint64_t mantissa = 0;
  while ((kTerminated || s != end) && static_cast<unsigned>(*s - '0') <= 9)
    mantissa = mantissa * 10 + static_cast<unsigned>(*s++ - '0');
  int digits = static_cast<int>(s - number_start);
  int fraction = 0;
  if ((kTerminated || s != end) && *s == '.') {
    const char* fraction_start = ++s;
    while ((kTerminated || s != end) && static_cast<unsigned>(*s - '0') <= 9) {
      mantissa = mantissa * 10 + static_cast<unsigned>(*s++ - '0');  // wraps only beyond 19 digits
    }
    fraction = static_cast<int>(s - fraction_start);
    digits += fraction;
  }
  if (digits == 0 || digits > kMaxDigits || mantissa > kMaxExactMantissa || fraction > kMaxFraction) {
    return parse_number_slow(p, s, number_start, end, negative, digits, out);
  }
  const double value = static_cast<double>(mantissa) / kPow10[fraction];
  out = negative ? -value : value;
  p = s;
  return NumberStatus::kOk;
}

// Reads [+-] digits [. digits] (no exponent: in G-code 'E' starts a word) from
// [p, end), advancing p past it. The result is bit-identical to strtod.
inline NumberStatus parse_number(const char*& p, const char* end, double& out) noexcept {
  return parse_number_impl<false>(p, end, out);
}

// parse_number() for a number inside a line: a '\n' comes before `end`.
inline NumberStatus parse_number_in_line(const char*& p, const char* end, double& out) noexcept {
  return parse_number_impl<true>(p, end, out);
}

}  // namespace ipp3d::gcode::internal
