// `ipp3d check FILE --config printer.toml [--printer NAME] [--material KEY]
// [--platform-temperature C] [--json]` or `ipp3d check FILE --printer URI
// [--material KEY] [--platform-temperature C] [--json]`: runs the server's
// G-code gate on a local file, with a configuration or with the policy the
// printer publishes.
#pragma once

#include "ipp3d/gcode/report.hpp"

#include <CLI/CLI.hpp>

#include <optional>
#include <string>

namespace ipp3d::client {

// The options of `ipp3d check`.
struct CheckOptions {
  std::string file;
  std::string config;
  std::string printer;                      // a name in --config (empty: its only printer), or a printer URI
  std::string fingerprint;                  // with a URI: pin this fingerprint
  bool insecure = false;                    // with a URI: allow ipp://
  std::string material;                     // empty: the printer's loaded_material, else none
  std::optional<int> platform_temperature;  // the ticket's platform-temperature, °C
  bool json = false;
};

// Adds the `check` subcommand to `app`; parsing fills `options`.
CLI::App* add_check_command(CLI::App& app, CheckOptions& options);

// Runs the check and prints the verdict to stdout (errors to stderr).
// Returns 0 when the file is accepted, 1 when it is refused, 2 for a bad
// configuration, unknown printer or material, or an unreadable file.
int run_check(const CheckOptions& options);

// Prints a report (text or JSON per options.json) for `printer` and `material`.
void print_check_report(const CheckOptions& options, const std::string& printer, const std::string& material,
                        const gcode::Report& report, const std::string& digest);

// `check --printer URI`: fetches the printer's published policy over the
// pinned connection, reproduces it (limits_from_policy), checks the file
// with the requested material (else the loaded one) from the policy's
// materials database and the platform temperature the server would use:
// the server's verdict. Exit codes as run_check, plus those of remote.hpp
// for the connection.
int run_remote_check(const CheckOptions& options);

}  // namespace ipp3d::client
