// Private: splits one G-code line into a command and its parameters.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ipp3d::gcode::internal {

// Largest number of KEY=VALUE parameters of an extended command.
inline constexpr int kMaxParams = 32;

// One KEY=VALUE parameter of a Klipper extended command; `value` without quotes.
struct Param {
  std::string_view key;
  std::string_view value;
};

// One parsed line. Classic commands ("G1 X10") have a letter, a code and
// words A-Z; extended commands ("SET_HEATER_TEMPERATURE HEATER=extruder")
// have a name and parameters. Only the members of the line's kind are valid.
struct Line {
  enum class Kind : unsigned char { kBlank, kClassic, kExtended, kError };
  Kind kind = Kind::kBlank;
  char letter = 0;              // classic: upper-case command letter
  int code = 0;                 // classic: the number after it
  int sub = -1;                 // classic: the digits after a '.', -1 when none
  std::uint32_t present = 0;    // classic: bit (L - 'A') set when word L is present
  std::uint32_t valueless = 0;  // classic: words written without a value ("G28 X")
  double value[26] = {};        // classic: word values, valid when present and not valueless
  std::string_view name;        // extended: the command name as written
  std::string_view text;        // M117/M118/extended: the raw rest of the line
  Param params[kMaxParams];     // extended
  int param_count = 0;
  std::string_view comment;  // the text after ';' of a line that is only a comment
  std::string_view rule;     // kError: the rule broken
  std::string detail;        // kError: what is wrong

  // True when word `letter` (upper case) is present.
  [[nodiscard]] bool has(char word) const { return (present >> (word - 'A') & 1U) != 0; }
  // True when word `letter` is present with a value.
  [[nodiscard]] bool has_value(char word) const { return (present & ~valueless) >> (word - 'A') & 1U; }
  // The value of word `letter`; requires has_value(letter).
  [[nodiscard]] double get(char word) const { return value[word - 'A']; }
};

// Parses the line starting at `p`; the line ends at the first '\n', which must
// exist before `end`. Returns a pointer to that '\n'. Checks syntax only:
// comments, N line numbers and '*' checksums, numbers, control bytes.
const char* parse_line(const char* p, const char* end, Line& line);

// Upper-cases `name` into `buffer` (capacity `size`); empty when it does not fit.
std::string_view upper(std::string_view name, char* buffer, std::size_t size);

}  // namespace ipp3d::gcode::internal
