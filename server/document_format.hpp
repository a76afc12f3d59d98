// Which document formats an ipp3d printer accepts, and recognising them by
// content when a client sends application/octet-stream (as `lp` through a
// raw CUPS queue does).
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace ipp3d::server {

inline constexpr std::string_view kGcodeFormat = "text/x-gcode";
inline constexpr std::string_view kEnvelopeFormat = "application/vnd.ipp3d.envelope";
inline constexpr std::string_view kOctetStream = "application/octet-stream";

// True when `format` is a format ipp3d prints: the signed envelope, and
// plain G-code unless `signature_required`.
bool is_accepted_format(std::string_view format, bool signature_required);

// Recognises a document from its first bytes (PAPPL passes up to 8 KB):
// "application/vnd.ipp3d.envelope" for an envelope (its magic, docs/envelope.md),
// "text/x-gcode" for G-code, nullopt for anything else. G-code here
// means text without NUL or other control bytes (tab, CR, LF allowed) whose
// command lines are G/M/T/N words or upper-case Klipper commands, with at
// least one G or M command; comment-only text is not G-code.
std::optional<std::string> detect_format(std::span<const unsigned char> header);

// detect_format() as one of the static strings above (PAPPL's MIME
// callback keeps the pointer), or null.
const char* detected_format_name(std::span<const unsigned char> header);

}  // namespace ipp3d::server
