// `ipp3d check FILE --config printer.toml [--printer NAME] [--material KEY] [--json]`:
// runs the server's G-code gate on a local file.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace ipp3d::client {

// The options of `ipp3d check`.
struct CheckOptions {
  std::string file;
  std::string config;
  std::string printer;   // empty: the only printer of the configuration
  std::string material;  // empty: the printer's loaded_material, else none
  bool json = false;
};

// Adds the `check` subcommand to `app`; parsing fills `options`.
CLI::App* add_check_command(CLI::App& app, CheckOptions& options);

// Runs the check and prints the verdict to stdout (errors to stderr).
// Returns 0 when the file is accepted, 1 when it is refused, 2 for a bad
// configuration, unknown printer or material, or an unreadable file.
int run_check(const CheckOptions& options);

}  // namespace ipp3d::client
