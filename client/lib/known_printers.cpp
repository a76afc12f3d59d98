// known_printers: reading, checking and atomically rewriting the pin file.
#include "ipp3d/client/known_printers.hpp"

#include "ipp3d/trust/atomic_file.hpp"
#include "ipp3d/trust/sha256.hpp"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

namespace ipp3d::client {
namespace {

constexpr std::size_t kDigestBytes = 32;

Error pin_error(const std::string& message) {
  return Error{IPP_STATUS_ERROR_INTERNAL, message, "known_printers", 0};
}

// The value of an environment variable, "" when unset.
std::string variable(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

// Formats 32 bytes as "AB:CD:...".
std::string colon_hex(std::span<const unsigned char> bytes) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string text;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i > 0) text += ':';
    text += kHex[bytes[i] >> 4];
    text += kHex[bytes[i] & 0x0F];
  }
  return text;
}

// Checks that the pin file is private to its owner.
Status check_mode(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return pin_error(path.string() + ": " + std::strerror(errno));
  if ((st.st_mode & 077) != 0) {
    return pin_error(path.string() + " is accessible by group or others; run: chmod 600 " + path.string());
  }
  return {};
}

}  // namespace

Result<std::filesystem::path> default_config_directory() {
  if (const std::string dir = variable("IPP3D_CONFIG_DIR"); !dir.empty()) return std::filesystem::path(dir);
  if (const std::string xdg = variable("XDG_CONFIG_HOME"); !xdg.empty()) {
    return std::filesystem::path(xdg) / "ipp3d";
  }
  if (const std::string home = variable("HOME"); !home.empty()) {
    return std::filesystem::path(home) / ".config" / "ipp3d";
  }
  return pin_error("no configuration directory: set IPP3D_CONFIG_DIR or HOME");
}

Result<std::filesystem::path> default_known_printers_path() {
  auto dir = default_config_directory();
  if (!dir) return std::move(dir).error();
  return *dir / "known_printers";
}

std::string certificate_fingerprint(std::span<const unsigned char> der) {
  const auto digest = trust::Sha256::of(std::span<const std::uint8_t>(der.data(), der.size()));
  if (!digest) return {};
  return colon_hex(*digest);
}

std::optional<std::string> normalize_fingerprint(std::string_view text) {
  for (const std::string_view prefix : {"sha256:", "SHA256:", "SHA-256:"}) {
    if (text.starts_with(prefix)) {
      text.remove_prefix(prefix.size());
      break;
    }
  }
  std::string digits;
  for (const char c : text) {
    if (c == ':') continue;
    if (std::isxdigit(static_cast<unsigned char>(c)) == 0) return std::nullopt;
    digits += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  if (digits.size() != 2 * kDigestBytes) return std::nullopt;
  std::string canonical;
  for (std::size_t i = 0; i < digits.size(); i += 2) {
    if (i > 0) canonical += ':';
    canonical += digits.substr(i, 2);
  }
  return canonical;
}

Result<KnownPrinters> KnownPrinters::load(const std::filesystem::path& path) {
  KnownPrinters pins(path);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return pins;
  if (Status mode = check_mode(path); !mode) return std::move(mode).error();
  std::ifstream in(path);
  if (!in) return pin_error(path.string() + ": cannot read");
  std::string line;
  long number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string host_port;
    std::string fingerprint;
    std::string extra;
    fields >> host_port >> fingerprint >> extra;
    const auto canonical = normalize_fingerprint(fingerprint);
    if (host_port.empty() || !canonical || !extra.empty()) {
      Error error = pin_error(path.string() + ":" + std::to_string(number) +
                              ": expected \"HOST:PORT SHA256-FINGERPRINT\"; fix or delete the line");
      error.line = number;
      return error;
    }
    pins.pins_[host_port] = *canonical;
  }
  return pins;
}

std::optional<std::string> KnownPrinters::find(const std::string& host_port) const {
  const auto it = pins_.find(host_port);
  if (it == pins_.end()) return std::nullopt;
  return it->second;
}

Status KnownPrinters::pin(const std::string& host_port, const std::string& fingerprint) {
  pins_[host_port] = fingerprint;
  std::error_code ec;
  if (path_.has_parent_path() && !std::filesystem::exists(path_.parent_path(), ec)) {
    std::filesystem::create_directories(path_.parent_path(), ec);
    if (ec) return pin_error("cannot create " + path_.parent_path().string() + ": " + ec.message());
    std::filesystem::permissions(path_.parent_path(), std::filesystem::perms::owner_all, ec);
  }
  std::string text = "# ipp3d known printers: HOST:PORT SHA-256 fingerprint of the TLS certificate\n";
  for (const auto& [key, value] : pins_) text.append(key).append(" ").append(value).append("\n");
  auto out = trust::AtomicFileWriter::create(path_, 0600);
  if (!out) return pin_error(out.error().message);
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(text.data());
  if (Status written = out->write({bytes, text.size()}); !written) return pin_error(written.error().message);
  if (Status committed = out->commit(); !committed) return pin_error(committed.error().message);
  return {};
}

}  // namespace ipp3d::client
