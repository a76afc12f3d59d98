// PAPPL's own state file (printers, defaults, jobs; STATE/pappl.state):
// saved atomically, and repaired before loading. PAPPL 1.3.1 writes it by
// truncate-then-write and, after a crash or stop mid-print, reloads the
// printing job as "processing" forever; ipp3d rewrites such jobs to aborted
// first (the physical print is gone with the process for the virtual
// printer; the Moonraker backend re-attaches instead).
#pragma once

#include "ipp3d/result.hpp"

#include <pappl/pappl.h>

#include <ctime>
#include <filesystem>
#include <string>
#include <vector>

namespace ipp3d::server {

// Writes PAPPL's state to PATH.tmp, syncs it, and renames it over `path`.
Status save_pappl_state(pappl_system_t* system, const std::filesystem::path& path);

// A job the state file listed as processing or stopped.
struct InterruptedJob {
  std::string printer;
  int job_id = 0;
  bool operator==(const InterruptedJob&) const = default;
};

// Rewrites the state file text: every job in state processing (5) or
// processing-stopped (6), and every not yet finished job listed in
// `known_printing` (jobs the ledger saw start printing: PAPPL saves its state
// only when a job is created or ends, so a job killed mid-print reloads as
// held), becomes aborted (8) with `completed` = `now` and is added to
// `interrupted` -- except the unfinished jobs listed in `reattach` (prints
// that go on without the server), which become held (4), to be released and
// followed again, and are added to `reattached` when it is given. Returns
// the new text. Other lines are kept as they are.
std::string mark_interrupted_jobs(const std::string& state_text, std::time_t now,
                                  const std::vector<InterruptedJob>& known_printing,
                                  std::vector<InterruptedJob>& interrupted,
                                  const std::vector<InterruptedJob>& reattach = {},
                                  std::vector<InterruptedJob>* reattached = nullptr);

// Applies mark_interrupted_jobs() to the file at `path` (atomically); a
// missing file is not an error. Returns the interrupted jobs (and fills
// `reattached` when given).
Result<std::vector<InterruptedJob>> repair_pappl_state(const std::filesystem::path& path,
                                                       const std::vector<InterruptedJob>& known_printing,
                                                       const std::vector<InterruptedJob>& reattach = {},
                                                       std::vector<InterruptedJob>* reattached = nullptr);

}  // namespace ipp3d::server
