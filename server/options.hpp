// Command-line options of ipp3d-server and how they combine with the
// configuration file (flags override the file).
#pragma once

#include "ipp3d/config/config.hpp"
#include "ipp3d/result.hpp"

#include <filesystem>
#include <optional>
#include <string>

namespace ipp3d::server {

// What the command line asked for.
struct CommandLine {
  std::optional<std::filesystem::path> config_file;          // --config FILE
  std::optional<std::string> listen;                         // --listen HOST:PORT
  std::optional<std::filesystem::path> state_dir;            // --state-dir DIR
  std::optional<std::string> log_level;                      // --log-level LEVEL
  std::optional<std::filesystem::path> log_file;             // --log-file FILE
  std::optional<std::filesystem::path> key_passphrase_file;  // --key-passphrase-file FILE
  std::optional<int> pairing_lifetime;                       // --pairing-lifetime SECONDS
};

// A host and port to listen on.
struct ListenAddress {
  std::string host;  // "127.0.0.1", "::1" (without brackets) or a host name
  int port = 0;
};

// Everything the server needs to start, after merging flags and file.
struct RunSettings {
  config::Config config;
  std::optional<std::filesystem::path> config_file;  // the --config file, when one was given
  ListenAddress listen;
  std::filesystem::path state_dir;
  std::string log_level;                          // debug, info, warn, error
  std::optional<std::filesystem::path> log_file;  // nullopt: stderr
  // "sha256:HEX" of the configuration file's bytes, or "default" without
  // --config (the server-started audit event records it).
  std::string config_digest = "default";
  // The file holding the passphrase of the server's private keys: the flag,
  // else [server] key_passphrase_file, else $CREDENTIALS_DIRECTORY's
  // ipp3d-key-passphrase when present; nullopt: keys are not protected.
  std::optional<std::filesystem::path> key_passphrase_file;
  int pairing_lifetime_seconds = 600;  // how long a pairing request waits (1-600)
};

// Parses "HOST:PORT" or "[V6]:PORT". Errors name the text and the reason.
Result<ListenAddress> parse_listen_address(const std::string& text);

// The state directory when neither flag nor file names one:
// $IPP3D_STATE_DIR, else $HOME/.local/state/ipp3d. Errors when neither
// variable is set.
Result<std::filesystem::path> default_state_dir();

// Loads the configuration (or the default one when no --config is given)
// and applies the flags. Errors carry every configuration problem, one per line.
Result<RunSettings> resolve_settings(const CommandLine& command_line);

}  // namespace ipp3d::server
