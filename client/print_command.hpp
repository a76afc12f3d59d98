// `ipp3d print URI FILE [ticket options] [--encrypt] [--no-wait] [--key KEY]`:
// signs FILE on the fly, submits it and watches it print.
#pragma once

#include "remote.hpp"

#include <CLI/CLI.hpp>

#include <optional>
#include <string>

namespace ipp3d::client {

// The options of `ipp3d print`.
struct PrintOptions {
  RemoteOptions remote;
  std::string file;
  std::string material;  // material-key; empty: the printer's loaded material
  std::optional<int> platform_temperature;
  std::string supports;  // print-supports keyword; empty: the printer's default
  std::string base;      // print-base keyword; empty: the printer's default
  int copies = 1;
  bool encrypt = false;
  bool no_wait = false;
  bool no_preflight = false;  // skip the local G-code check with the printer's policy
  std::string key;            // empty: CONFIG_DIR/key
  std::string expires = "7d";
};

// Adds the `print` subcommand to `app`; parsing fills `options`.
CLI::App* add_print_command(CLI::App& app, PrintOptions& options);

// Submits the job and, unless --no-wait, follows it to its end. Returns 0
// when the job completed (or was submitted, with --no-wait), else an exit
// code of remote.hpp (1 when it was refused, canceled or aborted).
int run_print(const PrintOptions& options);

}  // namespace ipp3d::client
