// `ipp3d sign [--key KEY] FILE -o OUT [--for PRINTER.pub ...] [--encrypt]
// [--copies N [--licence ID]] [--expires 7d] [--name NAME]`: makes an
// envelope (docs/envelope.md).
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ipp3d::client {

// The options of `ipp3d sign`.
struct SignCommandOptions {
  std::string key;  // empty: CONFIG_DIR/key
  std::string file;
  std::string out;
  std::vector<std::string> recipients;  // printers' X25519 public key files
  bool encrypt = false;
  std::optional<std::uint32_t> copies;
  std::string licence;
  std::string expires = "7d";
  std::string name;  // empty: FILE's base name
};

// Adds the `sign` subcommand to `app`; parsing fills `options`.
CLI::App* add_sign_command(CLI::App& app, SignCommandOptions& options);

// "Ns", "Nm", "Nh", "Nd" (N from 1) in seconds; nullopt for anything else.
std::optional<std::int64_t> parse_duration(const std::string& text);

// Signs FILE into OUT (written atomically) and prints a one-line summary.
// Returns 0 on success, 2 on any error (nothing is left at OUT then).
int run_sign(const SignCommandOptions& options);

}  // namespace ipp3d::client
