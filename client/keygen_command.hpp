// `ipp3d keygen [--out KEY] [--algorithm ed25519|x25519] [--passphrase]
// [--comment TEXT] [--force]`: makes a key pair, KEY (0600) and KEY.pub.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace ipp3d::client {

// The options of `ipp3d keygen`.
struct KeygenOptions {
  std::string out;                    // empty: CONFIG_DIR/key
  std::string algorithm = "ed25519";  // x25519 for a printer's encryption key
  bool passphrase = false;
  std::string comment;
  bool force = false;
};

// Adds the `keygen` subcommand to `app`; parsing fills `options`.
CLI::App* add_keygen_command(CLI::App& app, KeygenOptions& options);

// Writes the key pair and prints the key ID. Returns 0 on success, 2 on any
// error (the key exists without --force, no passphrase, I/O).
int run_keygen(const KeygenOptions& options);

}  // namespace ipp3d::client
