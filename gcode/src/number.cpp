// The decimal number reader: one pass over the digits into a 64-bit mantissa,
// then one correctly rounded division (Clinger's fast path), else from_chars.
#include "number.hpp"

#include <charconv>
#include <cstdint>
#include <initializer_list>

namespace ipp3d::gcode::internal {
namespace {

// Exact powers of ten representable in a double (10^0 .. 10^22).
constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                             1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
constexpr std::uint64_t kMaxExactMantissa = std::uint64_t{1} << 53;
constexpr int kMaxFastFraction = 22;
constexpr int kMaxMantissaDigits = 19;

// Lower-cases an ASCII letter.
constexpr char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// True when [p, end) starts with `word` (lower case), ignoring case.
bool starts_with_word(const char* p, const char* end, const char* word) {
  for (; *word != '\0'; ++p, ++word) {
    if (p == end || lower(*p) != *word) return false;
  }
  return true;
}

// Consumes "nan", "inf" or "infinity" at p; true when one was there.
bool skip_non_finite(const char*& p, const char* end) {
  for (const char* word : {"infinity", "inf", "nan"}) {
    if (starts_with_word(p, end, word)) {
      while (p != end && *word != '\0') ++p, ++word;
      return true;
    }
  }
  return false;
}

}  // namespace

NumberStatus parse_number(const char*& p, const char* end, double& out) noexcept {
  const char* s = p;
  const bool negative = s != end && *s == '-';
  if (s != end && (*s == '-' || *s == '+')) ++s;
  const char* number_start = s;
  std::uint64_t mantissa = 0;
  int digits = 0;    // significant digits accumulated
  int fraction = 0;  // digits after the point
  bool any = false;
  bool seen_point = false;
  for (; s != end; ++s) {
    const auto digit = static_cast<unsigned>(*s - '0');
    if (digit <= 9) {
      any = true;
      if (mantissa != 0 || digit != 0) ++digits;
      mantissa = mantissa * 10 + digit;  // wraps only when digits > 19 (then from_chars is used)
      fraction += seen_point ? 1 : 0;
    } else if (*s == '.' && !seen_point) {
      seen_point = true;
    } else {
      break;
    }
  }
  if (!any) {
    if (skip_non_finite(s, end)) {
      p = s;
      return NumberStatus::kNotFinite;
    }
    if (s == p) return NumberStatus::kMissing;
    p = s;
    return NumberStatus::kBad;
  }
  double value = 0.0;
  if (digits <= kMaxMantissaDigits && mantissa <= kMaxExactMantissa && fraction <= kMaxFastFraction) {
    value = static_cast<double>(mantissa) / kPow10[fraction];
  } else {
    const auto result = std::from_chars(number_start, s, value, std::chars_format::fixed);
    if (result.ec != std::errc{}) {  // too large for a double: strtod would give inf
      p = s;
      return NumberStatus::kNotFinite;
    }
  }
  out = negative ? -value : value;
  p = s;
  return NumberStatus::kOk;
}

}  // namespace ipp3d::gcode::internal
