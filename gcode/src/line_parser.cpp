// The line parser: one forward pass over the bytes of a line, driven by a
// 256-entry character class table; the '\n' that ends every line is the sentinel.
#include "line_parser.hpp"

#include "ipp3d/gcode/report.hpp"

#include "number.hpp"

#include <array>
#include <cstring>

namespace ipp3d::gcode::internal {
namespace {

constexpr int kFirstSdCode = 20;  // M20-M34: SD card commands, some with a file name
constexpr int kLastSdCode = 34;
constexpr int kMaxCodeDigits = 5;
constexpr int kWordMask =
    31;  // word letters A-Z map to bits 0-25  // "M862" fits; longer command numbers are malformed

// Character classes.
enum Class : unsigned char { kOther, kSpace, kLetter, kDigit, kNewline, kNul, kControl, kHigh };

// The class of every byte.
constexpr std::array<unsigned char, 256> make_classes() {
  std::array<unsigned char, 256> table{};
  for (int c = 0; c < 256; ++c) {
    const bool letter = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    Class k = kOther;
    k = (c >= 0x80) ? kHigh : k;
    k = (c < 0x20 || c == 0x7F) ? kControl : k;
    k = (c == 0) ? kNul : k;
    k = (c == '\n') ? kNewline : k;
    k = (c >= '0' && c <= '9') ? kDigit : k;
    k = letter ? kLetter : k;
    k = (c == ' ' || c == '\t' || c == '\r') ? kSpace : k;
    table[static_cast<std::size_t>(c)] = k;
  }
  return table;
}
constexpr std::array<unsigned char, 256> kClasses = make_classes();

// The class of `c`.
inline unsigned char klass(char c) { return kClasses[static_cast<unsigned char>(c)]; }

// Upper-cases an ASCII letter.
inline char to_upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

// Marks the line as broken (rule, detail) and returns its '\n'.
const char* fail(Line& line, const char* p, const char* end, std::string_view rule, std::string detail) {
  line.kind = Line::Kind::kError;
  line.rule = rule;
  line.detail = std::move(detail);
  const void* nl = std::memchr(p, '\n', static_cast<std::size_t>(end - p));
  return nl != nullptr ? static_cast<const char*>(nl) : end - 1;
}

// Fails for a byte that may not appear in a command.
const char* fail_byte(Line& line, const char* p, const char* end) {
  switch (klass(*p)) {
    case kNul:
      return fail(line, p, end, rule::kNulByte, "NUL byte");
    case kControl:
    case kHigh: {
      const auto byte = static_cast<unsigned char>(*p);
      std::string detail = "binary byte 0x";
      detail += "0123456789abcdef"[byte >> 4];
      detail += "0123456789abcdef"[byte & 0xFU];
      return fail(line, p, end, rule::kBinary, detail);
    }
    default:
      return fail(line, p, end, rule::kMalformed, std::string("unexpected character '") + *p + "'");
  }
}

// Skips comment text up to `stop` (or '\n'); fails on control bytes. Returns
// the position of `stop`/'\n' or nullptr after fail().
const char* skip_text(const char* p, const char* end, char stop, Line& line, const char** failed) {
  for (;; ++p) {
    const unsigned char k = klass(*p);
    if (*p == stop || k == kNewline) return p;
    if (k == kNul || k == kControl) {
      *failed = fail_byte(line, p, end);
      return nullptr;
    }
  }
}

// Reads the rest of a text command (M117 message): up to ';' or '\n'.
const char* parse_text(const char* p, const char* end, Line& line) {
  while (klass(*p) == kSpace) ++p;
  const char* failed = nullptr;
  const char* stop = skip_text(p, end, ';', line, &failed);
  if (stop == nullptr) return failed;
  line.text = std::string_view(p, static_cast<std::size_t>(stop - p));
  if (*stop == ';') stop = skip_text(stop, end, '\n', line, &failed);
  return stop == nullptr ? failed : stop;
}

// Verifies a '*' checksum at p (XOR of the bytes from `first` to the '*').
const char* parse_checksum(const char* first, const char* p, const char* end, Line& line) {
  unsigned expected = 0;
  for (const char* c = first; c != p; ++c) expected ^= static_cast<unsigned char>(*c);
  ++p;
  unsigned given = 0;
  int digits = 0;
  for (; klass(*p) == kDigit && digits < 4; ++p, ++digits)
    given = given * 10 + static_cast<unsigned>(*p - '0');
  if (digits == 0 || digits > 3) return fail(line, p, end, rule::kChecksum, "'*' without a checksum");
  if (given != expected) {
    return fail(line, p, end, rule::kChecksum,
                "checksum " + std::to_string(given) + " does not match " + std::to_string(expected));
  }
  while (klass(*p) == kSpace) ++p;
  const char* failed = nullptr;
  if (*p == ';') p = skip_text(p, end, '\n', line, &failed);
  if (p == nullptr) return failed;
  if (*p != '\n') return fail(line, p, end, rule::kMalformed, "text after the checksum");
  return p;
}

// True for the bytes that may follow a word's number: white space, a letter
// (the next word), the line end, ';', '(' and '*'.
constexpr std::array<bool, 256> make_follows_number() {
  std::array<bool, 256> table{};
  for (int c = 0; c < 256; ++c) {
    const unsigned char k = kClasses[static_cast<std::size_t>(c)];
    table[static_cast<std::size_t>(c)] =
        k == kSpace || k == kLetter || k == kNewline || c == ';' || c == '(' || c == '*';
  }
  return table;
}
constexpr std::array<bool, 256> kFollowsNumber = make_follows_number();

// Reads one word's value after its letter; returns nullptr after fail().
const char* parse_word(const char* p, const char* end, Line& line, int index, const char** failed) {
  double value = 0.0;
  const char* start = p;
  const NumberStatus status = parse_number_in_line(p, end, value);
  if (status == NumberStatus::kOk && kFollowsNumber[static_cast<unsigned char>(*p)]) [[likely]] {
    line.value[index] = value;
    return p;
  }
  switch (status) {
    case NumberStatus::kOk:
      break;
    case NumberStatus::kMissing:
      line.valueless |= 1U << index;
      return p;
    case NumberStatus::kNotFinite:
      *failed =
          fail(line, p, end, rule::kNotFinite,
               std::string(1, static_cast<char>('A' + index)) + std::string(start, p) + " is not finite");
      return nullptr;
    case NumberStatus::kBad:
      *failed = fail(line, p, end, rule::kBadNumber,
                     std::string(1, static_cast<char>('A' + index)) + " has no digits");
      return nullptr;
  }
  const unsigned char k = klass(*p);
  if (k == kNul || k == kControl || k == kHigh) {
    *failed = fail_byte(line, p, end);
    return nullptr;
  }
  *failed = fail(line, p, end, rule::kBadNumber,
                 std::string(1, static_cast<char>('A' + index)) + " is not a number");
  return nullptr;
}

// Parses the words of a classic command ("X10 Y.5 E-1").
const char* parse_words(const char* first, const char* p, const char* end, Line& line) {
  const char* failed = nullptr;
  for (;;) {
    switch (klass(*p)) {
      case kSpace:
        ++p;
        continue;
      case kNewline:
        return p;
      case kLetter: {
        const int index = (to_upper(*p) - 'A') & kWordMask;
        if ((line.present >> index & 1U) != 0) {
          return fail(line, p, end, rule::kDuplicateWord,
                      std::string("word ") + to_upper(*p) + " appears twice");
        }
        line.present |= 1U << index;
        p = parse_word(p + 1, end, line, index, &failed);
        if (p == nullptr) return failed;
        continue;
      }
      default:
        break;
    }
    if (*p == ';') {
      p = skip_text(p, end, '\n', line, &failed);
      return p == nullptr ? failed : p;
    }
    if (*p == '(') {
      p = skip_text(p + 1, end, ')', line, &failed);
      if (p == nullptr) return failed;
      if (*p != ')') return fail(line, p, end, rule::kMalformed, "unterminated '(' comment");
      ++p;
      continue;
    }
    if (*p == '*') return parse_checksum(first, p, end, line);
    return fail_byte(line, p, end);
  }
}

// Parses a classic command starting at its letter.
const char* parse_classic(const char* first, const char* p, const char* end, Line& line) {
  line.kind = Line::Kind::kClassic;
  line.letter = to_upper(*p++);
  int code = 0;
  int digits = 0;
  for (; klass(*p) == kDigit && digits <= kMaxCodeDigits; ++p, ++digits) code = code * 10 + (*p - '0');
  if (digits > kMaxCodeDigits) return fail(line, p, end, rule::kMalformed, "command number too long");
  line.code = code;
  if (*p == '.' && klass(p[1]) == kDigit) {
    line.sub = *++p - '0';
    if (klass(*++p) == kDigit) return fail(line, p, end, rule::kMalformed, "command number too long");
  }
  // Messages and SD card file names: the rest of the line is text.
  const bool text = code == 117 || code == 118 || (code >= kFirstSdCode && code <= kLastSdCode);
  if (line.letter == 'M' && text && line.sub < 0) return parse_text(p, end, line);
  return parse_words(first, p, end, line);
}

// Reads one KEY=VALUE parameter of an extended command; nullptr after fail().
const char* parse_param(const char* p, const char* end, Line& line, const char** failed) {
  const char* key = p;
  while (klass(*p) == kLetter || klass(*p) == kDigit || *p == '_') ++p;
  if (p == key || *p != '=') {
    *failed = fail(line, p, end, rule::kMalformed, "parameter is not KEY=VALUE");
    return nullptr;
  }
  const std::string_view key_view(key, static_cast<std::size_t>(p - key));
  const char* value = ++p;
  const char quote = (*p == '"' || *p == '\'') ? *p : '\0';
  if (quote != '\0') {
    value = ++p;
    while (*p != quote && klass(*p) != kNewline && klass(*p) != kNul && klass(*p) != kControl) ++p;
    if (*p != quote) {
      *failed = klass(*p) == kNewline ? fail(line, p, end, rule::kMalformed, "unterminated quote")
                                      : fail_byte(line, p, end);
      return nullptr;
    }
  } else {
    while (klass(*p) != kSpace && klass(*p) != kNewline && *p != ';' && klass(*p) != kNul &&
           klass(*p) != kControl)
      ++p;
  }
  if (line.param_count == kMaxParams) {
    *failed = fail(line, p, end, rule::kMalformed, "too many parameters");
    return nullptr;
  }
  line.params[line.param_count++] =
      Param{key_view, std::string_view(value, static_cast<std::size_t>(p - value))};
  return quote != '\0' ? p + 1 : p;
}

// Parses a Klipper extended command starting at its name.
const char* parse_extended(const char* p, const char* end, Line& line) {
  line.kind = Line::Kind::kExtended;
  const char* name = p;
  while (klass(*p) == kLetter || klass(*p) == kDigit || *p == '_') ++p;
  line.name = std::string_view(name, static_cast<std::size_t>(p - name));
  if (klass(*p) != kSpace && klass(*p) != kNewline && *p != ';') return fail_byte(line, p, end);
  const char* failed = nullptr;
  const char* rest = p;
  for (;;) {
    while (klass(*p) == kSpace) ++p;
    if (klass(*p) == kNewline || *p == ';') break;
    if (klass(*p) == kNul || klass(*p) == kControl) return fail_byte(line, p, end);
    p = parse_param(p, end, line, &failed);
    if (p == nullptr) return failed;
  }
  line.text = std::string_view(rest, static_cast<std::size_t>(p - rest));
  if (*p == ';') p = skip_text(p, end, '\n', line, &failed);
  return p == nullptr ? failed : p;
}

}  // namespace

const char* parse_line(const char* p, const char* end, Line& line) {
  line.kind = Line::Kind::kBlank;
  line.present = 0;
  line.valueless = 0;
  line.sub = -1;
  line.param_count = 0;
  line.comment = {};
  line.text = {};
  while (klass(*p) == kSpace) ++p;
  const char* first = p;
  // The most common lines, "G1 X.. Y.. E..", "G0 ..": what parse_classic() finds for them.
  if (p[0] == 'G' && (p[1] == '1' || p[1] == '0') && p[2] == ' ') {
    line.kind = Line::Kind::kClassic;
    line.letter = 'G';
    line.code = p[1] - '0';
    return parse_words(first, p + 2, end, line);
  }
  const char* failed = nullptr;
  if (*p == ';') {
    const char* stop = skip_text(p + 1, end, '\n', line, &failed);
    if (stop == nullptr) return failed;
    line.comment = std::string_view(p + 1, static_cast<std::size_t>(stop - p - 1));
    return stop;
  }
  if ((*p == 'N' || *p == 'n') && klass(p[1]) == kDigit) {
    for (++p; klass(*p) == kDigit;) ++p;
    while (klass(*p) == kSpace) ++p;
  }
  while (*p == '(') {
    p = skip_text(p + 1, end, ')', line, &failed);
    if (p == nullptr) return failed;
    if (*p != ')') return fail(line, p, end, rule::kMalformed, "unterminated '(' comment");
    for (++p; klass(*p) == kSpace;) ++p;
  }
  if (klass(*p) == kLetter && klass(p[1]) == kDigit) return parse_classic(first, p, end, line);
  if (klass(*p) == kLetter || *p == '_') return parse_extended(p, end, line);
  if (klass(*p) == kNewline) return p;
  if (*p == ';') {
    const char* stop = skip_text(p, end, '\n', line, &failed);
    return stop == nullptr ? failed : stop;
  }
  return fail_byte(line, p, end);
}

std::string_view upper(std::string_view name, char* buffer, std::size_t size) {
  if (name.size() > size) return {};
  for (std::size_t i = 0; i < name.size(); ++i) buffer[i] = to_upper(name[i]);
  return {buffer, name.size()};
}

}  // namespace ipp3d::gcode::internal
