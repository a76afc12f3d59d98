// What every command that talks to a printer shares: the connection flags
// (--fingerprint, --insecure), credentials from IPP3D_USER/IPP3D_PASSWORD or
// the terminal, opening the printer with a first-contact notice, exit codes.
#pragma once

#include "ipp3d/client/printer.hpp"

#include <CLI/CLI.hpp>

#include <optional>
#include <string>

namespace ipp3d::client {

// Exit codes of the commands that talk to a printer (docs/man/ipp3d.1).
inline constexpr int kExitOk = 0;             // done; for print: the job completed
inline constexpr int kExitRefused = 1;        // the printer refused, or the job was canceled or aborted
inline constexpr int kExitUsage = 2;          // bad arguments, or a local file or key problem
inline constexpr int kExitUnreachable = 3;    // the printer cannot be reached
inline constexpr int kExitAuth = 4;           // credentials missing or refused
inline constexpr int kExitTrust = 5;          // the TLS certificate does not match the pin
inline constexpr int kExitInterrupted = 130;  // Ctrl-C while watching; the job goes on

// The connection flags of a printer command.
struct RemoteOptions {
  std::string uri;
  std::string fingerprint;  // empty: trust on first contact / the pin
  bool insecure = false;
  bool json = false;
};

// Adds the URI argument and --fingerprint/--insecure (and --json when `json`).
void add_remote_options(CLI::App& command, RemoteOptions& options, bool json);

// The exit code for a library error (trust, auth, unreachable, refused).
int exit_code_for(const Error& error);

// Prints "ipp3d COMMAND: MESSAGE" to stderr and returns exit_code_for(error).
int report(const std::string& command, const Error& error);

// Opens the printer — options.uri, or the printer of that DNS-SD instance
// name (discovery.hpp; a name is anything without "://") —: pins on first contact (telling the user on
// stderr), asks for credentials only when challenged (IPP3D_USER/IPP3D_PASSWORD, else the terminal without
// echo). The requesting user is IPP3D_USER or the login name.
Result<Printer> open_printer(const RemoteOptions& options);

// The helper for the "Refused" hint: how to give credentials.
inline constexpr const char* kCredentialsHint =
    "set IPP3D_USER and IPP3D_PASSWORD, or run at a terminal to be asked; never on the command line";

}  // namespace ipp3d::client
