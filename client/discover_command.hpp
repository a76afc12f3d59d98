// `ipp3d discover [--json] [--timeout S]`: the ipp3d printers DNS-SD finds
// (`_ipps-3d._tcp` through avahi-daemon), with the URI to give the other commands.
#pragma once

#include <CLI/CLI.hpp>

namespace ipp3d::client {

// The options of `ipp3d discover`.
struct DiscoverOptions {
  double timeout_seconds = 3.0;  // how long to browse at most
  bool json = false;
};

// Adds the `discover` subcommand to `app`; parsing fills `options`.
CLI::App* add_discover_command(CLI::App& app, DiscoverOptions& options);

// Browses and prints the printers found (a table, or a JSON array). Exit
// status 0 (also when none is found: the table then says so), 3 when
// avahi-daemon is not running or DNS-SD fails (the message says to give a URI).
int run_discover(const DiscoverOptions& options);

}  // namespace ipp3d::client
