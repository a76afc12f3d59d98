// `ipp3d verify --trust KEY.pub [--trust ...] FILE|- [--key PRINTER_KEY]
// [--output PLAIN] [--json]`: checks an envelope as a printer would
// (docs/envelope.md §6, without the printer's replay state) and prints its
// claims and the verdict.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace ipp3d::client {

// The options of `ipp3d verify`.
struct VerifyOptions {
  std::vector<std::string> trust;  // trusted Ed25519 public key files
  std::string file;                // "-": standard input
  std::string key;                 // a printer's X25519 secret key file (decrypts mode 1)
  std::string output;              // the verified document, written only when valid
  bool json = false;
};

// Adds the `verify` subcommand to `app`; parsing fills `options`.
CLI::App* add_verify_command(CLI::App& app, VerifyOptions& options);

// Verifies and prints. Returns 0 when valid, 1 when refused (the problem
// keyword and message are printed), 2 for usage and I/O errors.
int run_verify(const VerifyOptions& options);

}  // namespace ipp3d::client
