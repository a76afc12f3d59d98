// The PAPPL driver of an ipp3d printer: PAPPL validates drivers as if every
// printer printed sheets, so the driver fills those fields with fixed values
// and advertises the 3D capabilities (PWG 5100.21) through driver_attrs.
#pragma once

#include "printer_runtime.hpp"

#include <pappl/pappl.h>

#include <set>
#include <string>

namespace ipp3d::server {

// The PAPPL driver name of a configured printer: "ipp3d-" + its name.
std::string driver_name_for(const std::string& printer_name);

// The attribute names PAPPL 1.3.1 generates itself; adding them through
// driver_attrs would make them appear twice in Get-Printer-Attributes.
const std::set<std::string>& pappl_generated_attributes();

// Adds the ipp3d security printer attributes (docs/ipp-extensions.md):
// ipp3d-printer-key-id, ipp3d-printer-public-key, ipp3d-signature-required,
// ipp3d-unaddressed-envelopes-accepted, ipp3d-envelope-max-lifetime,
// ipp3d-document-max-size-mb, and the G-code gate's ipp3d-gcode-policy-digest
// and ipp3d-gcode-policy-resource.
void add_security_attributes(const PrinterRuntime& printer, ipp_t* attrs);

// Adds the machine's status attributes (docs/ipp-extensions.md, "Machine
// status"): ipp3d-machine-state (keyword), ipp3d-printer-status-message
// (text) and ipp3d-temperatures (collection of integers in °C, no-value when
// unknown).
void add_machine_attributes(const MachineView& view, ipp_t* attrs);

// The resource path of the printer's published G-code policy:
// "/NAME/gcode-policy.json" (relative to the server's https:// address).
std::string gcode_policy_path(const PrinterRuntime& printer);

// Fills `driver` and `driver_attrs` for `printer`: the print callback is
// print_job_file() and `driver->extension` points at `printer` (borrowed).
// Never throws.
bool fill_driver_data(PrinterRuntime& printer, pappl_pr_driver_data_t* driver, ipp_t** driver_attrs);

}  // namespace ipp3d::server
