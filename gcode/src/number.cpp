// The uncommon cases of the decimal number reader: no digits ("nan", "-",
// "."), or more digits than the exact fast path handles (std::from_chars).
#include "number.hpp"

#include <charconv>
#include <initializer_list>

namespace ipp3d::gcode::internal {
namespace {

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

NumberStatus parse_number_slow(const char*& p, const char* s, const char* number_start, const char* end,
                               bool negative, int digits, double& out) noexcept {
  if (digits == 0) {
    if (skip_non_finite(s, end)) {
      p = s;
      return NumberStatus::kNotFinite;
    }
    if (s == p) return NumberStatus::kMissing;
    p = s;
    return NumberStatus::kBad;
  }
  double value = 0.0;
  const auto result = std::from_chars(number_start, s, value, std::chars_format::fixed);
  p = s;
  if (result.ec != std::errc{}) return NumberStatus::kNotFinite;  // too large: strtod would give inf
  out = negative ? -value : value;
  return NumberStatus::kOk;
}

}  // namespace ipp3d::gcode::internal
