// `ipp3d audit checkpoint URI [-o FILE]`: fetches a fresh signed checkpoint of
// the printer host's audit log (admin credentials) over the pinned TLS
// connection, checks its signature, and keeps it on this machine, where
// `ipp3d-server audit verify --against FILE` can later prove that the
// host's history was not rewritten or truncated (docs/audit.md).
#pragma once

#include "remote.hpp"

#include <CLI/CLI.hpp>

#include <string>

namespace ipp3d::client {

// The path of the checkpoint resource on ipp3d-server.
inline constexpr const char* kAuditCheckpointResource = "/ipp3d/audit/checkpoint";

// What `audit checkpoint` was given.
struct AuditCheckpointOptions {
  RemoteOptions remote;
  std::string output;  // -o FILE; empty: the JSON goes to standard output
};

// Adds `audit checkpoint`; returns the `checkpoint` subcommand (parsed() when chosen).
CLI::App* add_audit_command(CLI::App& app, AuditCheckpointOptions& options);

// Runs it. Exit codes as remote.hpp's; kExitRefused also when the checkpoint's
// signature does not verify, or when FILE holds an earlier checkpoint of
// another key or of a later record (the printer's history went back: the
// earlier checkpoint is kept).
int run_audit_checkpoint(const AuditCheckpointOptions& options);

}  // namespace ipp3d::client
