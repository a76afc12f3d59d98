// `ipp3d pair URI [--name NAME] [--account ACCOUNT] [--key KEY]`: asks the
// printer to trust the signing key and pins the printer's certificate, both
// only after the 6-digit codes were compared on the two sides
// (docs/security.md, "Pairing").
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace ipp3d::client {

// The options of `ipp3d pair`.
struct PairOptions {
  std::string uri;
  std::string name;     // empty: ACCOUNT@HOSTNAME
  std::string account;  // empty: IPP3D_USER, else the login name
  std::string key;      // empty: CONFIG_DIR/key
};

// Adds the `pair` subcommand to `app`; parsing fills `options`.
CLI::App* add_pair_command(CLI::App& app, PairOptions& options);

// Runs the pairing: prints the code, reads the code the printer's page
// shows from standard input, waits for the operator's decision, pins.
// Exit status: 0 paired; 1 rejected, expired or refused; 2 usage or key
// problem; 3 unreachable; 5 the codes differ (nothing pinned).
int run_pair(const PairOptions& options);

}  // namespace ipp3d::client
