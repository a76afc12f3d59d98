// The read and queue commands: `ipp3d status URI`, `jobs URI [--all]`,
// `job URI ID`, `cancel URI ID`, `materials URI` (--json on the read ones).
#pragma once

#include "remote.hpp"

#include <CLI/CLI.hpp>

namespace ipp3d::client {

// Which queue command was chosen and its arguments.
struct QueueOptions {
  RemoteOptions remote;
  bool all = false;  // jobs --all
  int job_id = 0;    // job, cancel
};

// The subcommands, each filling its own QueueOptions.
struct QueueCommands {
  CLI::App* status = nullptr;
  CLI::App* jobs = nullptr;
  CLI::App* job = nullptr;
  CLI::App* cancel = nullptr;
  CLI::App* materials = nullptr;
  QueueOptions status_options, jobs_options, job_options, cancel_options, materials_options;
};

// Adds status, jobs, job, cancel and materials to `app`.
void add_queue_commands(CLI::App& app, QueueCommands& commands);

// Runs whichever queue command was parsed; nullopt when none was.
std::optional<int> run_queue_command(const QueueCommands& commands);

}  // namespace ipp3d::client
