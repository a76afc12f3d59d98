// Operator actions as IPP operations (docs/ipp-extensions.md), served
// through PAPPL's operation callback: ipp3d's vendor operations and the
// standard Suspend-Current-Job and Resume-Job, which PAPPL 1.3.1 does not
// implement. Each is authorized by the request gate's role policy over TLS:
// the operator actions need an operator or admin, ipp3d-Get-Job-Facts the
// job's owner, an operator or an admin.
#pragma once

#include "printer_runtime.hpp"

#include <pappl/pappl.h>

#include <functional>

namespace ipp3d::server {

// Vendor operation codes. IPP reserves 0x4000-0x7FFF for vendor extensions;
// CUPS uses 0x4001-0x4029 (PAPPL answers some of those itself), so ipp3d
// starts at 0x4101.
enum VendorOperation : int {
  kOpLoadMaterial = 0x4101,       // ipp3d-Load-Material: material-key (keyword)
  kOpUnloadMaterial = 0x4102,     // ipp3d-Unload-Material
  kOpConfirmPlateClear = 0x4103,  // ipp3d-Confirm-Plate-Clear
  kOpGetJobFacts = 0x4104,        // ipp3d-Get-Job-Facts: job-id (integer)
  kOpEmergencyStop = 0x4105,      // ipp3d-Emergency-Stop
};

// Adds what the G-code gate and the envelope say about a verified job to
// `response` (the attributes of ipp3d-Get-Job-Facts, docs/ipp-extensions.md).
void add_job_facts(ipp_t* response, const VerifiedDocument& document);

// PAPPL's operation callback for ipp3d's vendor operations, Suspend-Current-Job
// and Resume-Job (job-id or job-uri). Returns false for
// operations it does not handle (PAPPL then answers operation-not-supported).
// Never throws.
bool handle_vendor_operation(pappl_client_t* client,
                             const std::function<PrinterRuntime*(pappl_printer_t*)>& lookup) noexcept;

}  // namespace ipp3d::server
