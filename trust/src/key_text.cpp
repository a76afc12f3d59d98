// Internal: key file lines and canonical base64 (key_text.hpp).
#include "key_text.hpp"

#include <sodium.h>

#include <charconv>

namespace ipp3d::trust::detail {

Error key_file_error(const std::string& source, std::size_t line, const std::string& field,
                     const std::string& message) {
  return Error{IPP_STATUS_ERROR_INTERNAL, source + " line " + std::to_string(line) + ": " + message, field,
               static_cast<long>(line)};
}

Result<KeyFileLines> KeyFileLines::split(std::string_view text, const std::string& source) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = text.find('\n', start);
    const std::size_t number = lines.size() + 1;
    if (end == std::string_view::npos) {
      return key_file_error(source, number, {}, "the line does not end with a line feed");
    }
    const std::string_view line = text.substr(start, end - start);
    if (line.empty()) return key_file_error(source, number, {}, "empty line");
    if (line.find('\r') != std::string_view::npos) {
      return key_file_error(source, number, {}, "carriage return (the file must use LF line ends)");
    }
    if (line.find('\0') != std::string_view::npos) return key_file_error(source, number, {}, "NUL byte");
    lines.push_back(line);
    start = end + 1;
  }
  if (lines.empty()) return key_file_error(source, 1, {}, "the file is empty");
  return KeyFileLines(std::move(lines), source);
}

Status KeyFileLines::expect_header(std::string_view header) {
  next_ = 1;
  if (lines_.front() != header) {
    return error({}, "expected \"" + std::string(header) + "\" (not an ipp3d key file of this kind)");
  }
  return {};
}

Result<std::string_view> KeyFileLines::expect(std::string_view name) {
  const std::string expected = std::string(name) + ": ";
  if (next_ >= lines_.size()) {
    return key_file_error(source_, next_ + 1, std::string(name),
                          "missing \"" + std::string(name) + ":\" line");
  }
  const std::string_view line = lines_[next_++];
  if (line.substr(0, expected.size()) != expected) {
    return error(std::string(name), "expected \"" + expected + "...\"");
  }
  return line.substr(expected.size());
}

bool KeyFileLines::next_is(std::string_view name) const {
  if (next_ >= lines_.size()) return false;
  const std::string_view line = lines_[next_];
  return line.size() > name.size() && line.substr(0, name.size()) == name && line[name.size()] == ':';
}

Status KeyFileLines::expect_end() {
  if (next_ < lines_.size()) {
    ++next_;
    return error({}, "unexpected line (fields must appear in the documented order, no others)");
  }
  return {};
}

Error KeyFileLines::error(const std::string& field, const std::string& message) const {
  return key_file_error(source_, next_, field, message);
}

std::string to_base64(std::span<const std::uint8_t> bytes) {
  const std::size_t size = sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  std::string out(size, '\0');
  sodium_bin2base64(out.data(), out.size(), bytes.data(), bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(size - 1);  // the terminating NUL
  return out;
}

bool from_base64(std::string_view text, std::span<std::uint8_t> out) {
  const std::size_t canonical_size =
      sodium_base64_ENCODED_LEN(out.size(), sodium_base64_VARIANT_ORIGINAL) - 1;
  if (text.size() != canonical_size) return false;
  std::size_t decoded = 0;
  const char* end = nullptr;
  if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &decoded, &end,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      decoded != out.size() || end != text.data() + text.size()) {
    wipe(out);
    return false;
  }
  // One encoding per value: re-encode and compare (rejects non-zero padding bits).
  std::string again = to_base64(out);
  const bool canonical = equal_ct(bytes_of(again), bytes_of(text));
  wipe(again);
  if (!canonical) wipe(out);
  return canonical;
}

std::optional<std::uint64_t> parse_decimal(std::string_view text, std::uint64_t min, std::uint64_t max) {
  if (text.empty() || (text.size() > 1 && text[0] == '0')) return std::nullopt;
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max)
    return std::nullopt;
  return value;
}

}  // namespace ipp3d::trust::detail
