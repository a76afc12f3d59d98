// TLS trust like SSH: the SHA-256 fingerprints of printers' certificates,
// pinned on first contact in `known_printers` (one line per printer:
// "HOST:PORT FINGERPRINT"), checked on every later connection.
#pragma once

#include "ipp3d/result.hpp"

#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace ipp3d::client {

// The configuration directory: $IPP3D_CONFIG_DIR, else $XDG_CONFIG_HOME/ipp3d,
// else ~/.config/ipp3d. Error when none of these variables is set.
Result<std::filesystem::path> default_config_directory();

// The default pin file, CONFIG_DIR/known_printers.
Result<std::filesystem::path> default_known_printers_path();

// The fingerprint of a DER certificate as the server prints it: SHA-256 as 32
// uppercase hex byte pairs joined by ':' ("AB:CD:..."). Empty when OpenSSL fails.
std::string certificate_fingerprint(std::span<const unsigned char> der);

// Parses a fingerprint a user typed: 64 hex digits in either case, with or
// without ':' separators, optionally prefixed "sha256:" or "SHA256:".
// Returns the canonical form (certificate_fingerprint's), nullopt otherwise.
std::optional<std::string> normalize_fingerprint(std::string_view text);

// The pins of one known_printers file. Lines starting with '#' and blank
// lines are ignored; a malformed line is an error naming the file and line.
class KnownPrinters {
 public:
  // Reads `path`; a missing file is an empty set of pins. Errors: the file
  // is unreadable, readable or writable by group or others (the message says
  // to chmod 600 it), or has a malformed line.
  static Result<KnownPrinters> load(const std::filesystem::path& path);

  // The pinned fingerprint of "HOST:PORT", nullopt when it has none.
  [[nodiscard]] std::optional<std::string> find(const std::string& host_port) const;

  // Pins (or re-pins) `host_port` to the canonical `fingerprint` and rewrites
  // the file atomically with mode 0600, creating its directory (0700) when
  // missing. Errors: the directory or file cannot be written.
  Status pin(const std::string& host_port, const std::string& fingerprint);

  // The file these pins come from.
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  explicit KnownPrinters(std::filesystem::path path) : path_(std::move(path)) {}
  std::filesystem::path path_;
  std::map<std::string, std::string> pins_;
};

}  // namespace ipp3d::client
