// Internal: the line grammar of key files (docs/envelope.md §2) — "name:
// value" lines in a fixed order — and canonical base64.
#pragma once

#include "ipp3d/result.hpp"

#include "detail.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ipp3d::trust::detail {

// An error in a key file: "SOURCE line N: message".
Error key_file_error(const std::string& source, std::size_t line, const std::string& field,
                     const std::string& message);

// Reads the lines of a key file in order.
class KeyFileLines {
 public:
  // Splits `text` into lines: LF line ends, a final LF, no CR, no empty
  // line, no NUL. Errors name the line.
  static Result<KeyFileLines> split(std::string_view text, const std::string& source);

  // Line 1 must be exactly `header`.
  Status expect_header(std::string_view header);
  // The next line must be "name: value"; returns value.
  Result<std::string_view> expect(std::string_view name);
  // True when a next line exists and starts with "name:".
  [[nodiscard]] bool next_is(std::string_view name) const;
  // There must be no further line.
  Status expect_end();

  // 1-based number of the line read last.
  [[nodiscard]] std::size_t line() const { return next_; }
  [[nodiscard]] const std::string& source() const { return source_; }
  // An error for the line read last.
  [[nodiscard]] Error error(const std::string& field, const std::string& message) const;

 private:
  KeyFileLines(std::vector<std::string_view> lines, std::string source)
      : lines_(std::move(lines)), source_(std::move(source)) {}
  std::vector<std::string_view> lines_;
  std::string source_;
  std::size_t next_ = 0;
};

// Standard base64 with padding (RFC 4648 §4).
std::string to_base64(std::span<const std::uint8_t> bytes);
// Decodes canonical base64 of exactly `out.size()` bytes into `out`; false
// for anything else (wrong length, other alphabet, non-canonical padding bits).
bool from_base64(std::string_view text, std::span<std::uint8_t> out);

// A decimal number without sign or leading zeros within [min, max].
std::optional<std::uint64_t> parse_decimal(std::string_view text, std::uint64_t min, std::uint64_t max);

}  // namespace ipp3d::trust::detail
