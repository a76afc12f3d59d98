#include "document_format.hpp"

#include <cctype>

namespace ipp3d::server {
namespace {

// True for the bytes G-code text may contain.
bool is_text_byte(unsigned char c) { return c == '\t' || c == '\n' || c == '\r' || (c >= 0x20 && c != 0x7F); }

// Strips leading spaces and a ';' comment from one line.
std::string_view command_part(std::string_view line) {
  const auto comment = line.find(';');
  if (comment != std::string_view::npos) line = line.substr(0, comment);
  while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
  while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r'))
    line.remove_suffix(1);
  return line;
}

// True when `command` starts like a G-code word: a letter of G, M, T, N
// followed by a digit (either case), or an upper-case Klipper command name.
bool looks_like_command(std::string_view command, bool& is_g_or_m) {
  const auto upper = static_cast<char>(std::toupper(static_cast<unsigned char>(command[0])));
  if (command.size() >= 2 && std::isdigit(static_cast<unsigned char>(command[1])) &&
      (upper == 'G' || upper == 'M' || upper == 'T' || upper == 'N')) {
    is_g_or_m = is_g_or_m || upper == 'G' || upper == 'M' || upper == 'N';
    return true;
  }
  std::size_t i = 0;
  while (i < command.size() && (std::isupper(static_cast<unsigned char>(command[i])) ||
                                std::isdigit(static_cast<unsigned char>(command[i])) || command[i] == '_')) {
    ++i;
  }
  return i >= 2 && std::isupper(static_cast<unsigned char>(command[0])) &&
         (i == command.size() || command[i] == ' ');
}

}  // namespace

bool is_accepted_format(std::string_view format, bool signature_required) {
  return format == kEnvelopeFormat || (format == kGcodeFormat && !signature_required);
}

const char* detected_format_name(std::span<const unsigned char> header) {
  const auto format = detect_format(header);
  if (!format) return nullptr;
  return *format == kEnvelopeFormat ? kEnvelopeFormat.data() : kGcodeFormat.data();
}

std::optional<std::string> detect_format(std::span<const unsigned char> header) {
  constexpr std::string_view kMagic = "IPP3DENV";
  if (header.size() >= kMagic.size() &&
      std::string_view(reinterpret_cast<const char*>(header.data()), kMagic.size()) == kMagic) {
    return std::string(kEnvelopeFormat);
  }
  // A partial last line (the header is cut at 8 KB) is not judged.
  std::size_t end = header.size();
  while (end > 0 && header[end - 1] != '\n') --end;
  if (end == 0) end = header.size();
  for (std::size_t i = 0; i < end; ++i) {
    if (!is_text_byte(header[i])) return std::nullopt;
  }
  const std::string_view text(reinterpret_cast<const char*>(header.data()), end);
  bool is_g_or_m = false;
  std::size_t commands = 0;
  for (std::size_t start = 0; start < text.size();) {
    auto newline = text.find('\n', start);
    if (newline == std::string_view::npos) newline = text.size();
    const auto command = command_part(text.substr(start, newline - start));
    start = newline + 1;
    if (command.empty()) continue;
    if (!looks_like_command(command, is_g_or_m)) return std::nullopt;
    ++commands;
  }
  if (commands == 0 || !is_g_or_m) return std::nullopt;
  return std::string(kGcodeFormat);
}

}  // namespace ipp3d::server
