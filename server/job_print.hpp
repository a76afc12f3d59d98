// Printing one job on a printer's backend: PAPPL's print-file callback.
// Uploads the spooled G-code, starts it once per copy (each copy behind the
// plate-clear gate), shows progress as job-impressions(-completed) = layers
// and a job-state-message, honours Cancel-Job within a poll interval, and
// records the outcome in the job ledger.
#pragma once

#include "printer_runtime.hpp"

#include <pappl/pappl.h>

#include <string>

namespace ipp3d::server {

// PAPPL's printfile_cb. The printer's PrinterRuntime is the driver's
// `extension`. Returns true when every copy printed (or the job was
// canceled), false to end the job aborted. Never throws.
bool print_job_file(pappl_job_t* job, pappl_pr_options_t* options, pappl_device_t* device) noexcept;

// PAPPL's MIME filter callback for signed envelopes
// (application/vnd.ipp3d.envelope -> text/x-gcode): prints the job's
// verified plaintext exactly as print_job_file() does. Never throws.
bool print_envelope_job(pappl_job_t* job, pappl_device_t* device, void* data) noexcept;

// "Copy 1 of 2: layer 3 of 120 (2%), 0:42 elapsed": the progress message.
std::string progress_message(int copy, int copies, int layer, int layers, double elapsed_seconds);

}  // namespace ipp3d::server
