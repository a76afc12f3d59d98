// The job ledger: what ipp3d remembers of each job in the state database,
// because PAPPL forgets messages of completed jobs across restarts.
#pragma once

#include "printer_runtime.hpp"

#include <pappl/pappl.h>

namespace ipp3d::server {

// Writes the job's current name, user, state (or `state_override` when not
// 0), message and progress to the ledger of `printer`. Errors are logged,
// not returned: the ledger never stops a print.
void record_job(pappl_job_t* job, PrinterRuntime& printer, int state_override = 0);

}  // namespace ipp3d::server
