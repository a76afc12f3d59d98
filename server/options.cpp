#include "options.hpp"

#include "ipp3d/trust/keys.hpp"
#include "ipp3d/trust/sha256.hpp"

#include "keys/key_passphrase.hpp"

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <iterator>

namespace ipp3d::server {
namespace {

// An Error for a bad command-line or configuration setting.
Error setting_error(const std::string& what, const std::string& message) {
  return Error{IPP_STATUS_ERROR_INTERNAL, message, what, 0};
}

// "sha256:HEX" of a (small, already parsed) configuration file; "unreadable" when it cannot be read again.
std::string file_digest(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto digest = trust::Sha256::of({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
  if (!in.good() && !in.eof()) return "unreadable";
  return digest ? "sha256:" + trust::hex_text(*digest) : "unreadable";
}

}  // namespace

Result<ListenAddress> parse_listen_address(const std::string& text) {
  ListenAddress address;
  std::string port_text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return setting_error("listen", "listen address '" + text + "' must look like [::1]:8631");
    }
    address.host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos || text.find(':') != colon) {
      return setting_error("listen", "listen address '" + text + "' must be HOST:PORT (IPv6 as [::1]:8631)");
    }
    address.host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  int port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (address.host.empty() || ec != std::errc{} || end != port_text.data() + port_text.size() || port < 1 ||
      port > 65535) {
    return setting_error("listen", "listen address '" + text + "' needs a host and a port from 1 to 65535");
  }
  address.port = port;
  return address;
}

Result<std::filesystem::path> default_state_dir() {
  if (const char* dir = std::getenv("IPP3D_STATE_DIR"); dir != nullptr && *dir != '\0') {
    return std::filesystem::path(dir);
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return std::filesystem::path(home) / ".local" / "state" / "ipp3d";
  }
  return setting_error("state-dir",
                       "no state directory: pass --state-dir DIR or set IPP3D_STATE_DIR or HOME");
}

Result<RunSettings> resolve_settings(const CommandLine& command_line) {
  RunSettings settings;
  if (command_line.config_file) {
    auto loaded = config::load_config(*command_line.config_file);
    if (!loaded) return setting_error("config", config::format_errors(loaded.error()));
    settings.config = std::move(loaded).value();
    settings.config_digest = file_digest(*command_line.config_file);
    settings.config_file = command_line.config_file;
  } else {
    settings.config = config::default_config();
  }
  const auto& server = settings.config.server;

  auto listen = parse_listen_address(command_line.listen.value_or(server.listen));
  if (!listen) return listen.error();
  settings.listen = listen.value();

  if (command_line.state_dir) {
    settings.state_dir = *command_line.state_dir;
  } else if (server.state_dir) {
    settings.state_dir = *server.state_dir;
  } else {
    auto dir = default_state_dir();
    if (!dir) return dir.error();
    settings.state_dir = dir.value();
  }

  settings.log_level = command_line.log_level.value_or(server.log_level);
  if (settings.log_level != "debug" && settings.log_level != "info" && settings.log_level != "warn" &&
      settings.log_level != "error") {
    return setting_error("log-level",
                         "log level '" + settings.log_level + "' must be debug, info, warn or error");
  }
  settings.pairing_lifetime_seconds = command_line.pairing_lifetime.value_or(600);
  if (settings.pairing_lifetime_seconds < 1 || settings.pairing_lifetime_seconds > 600) {
    return setting_error("pairing-lifetime",
                         "--pairing-lifetime " + std::to_string(settings.pairing_lifetime_seconds) +
                             " must be 1 to 600 seconds (requests expire after 10 minutes at most)");
  }
  if (command_line.log_file) {
    settings.log_file = *command_line.log_file;
  } else if (server.log_file) {
    settings.log_file = std::filesystem::path(*server.log_file);
  }
  std::optional<std::filesystem::path> passphrase_file = command_line.key_passphrase_file;
  if (!passphrase_file && server.key_passphrase_file) passphrase_file = *server.key_passphrase_file;
  settings.key_passphrase_file = key_passphrase_file(passphrase_file);
  return settings;
}

}  // namespace ipp3d::server
