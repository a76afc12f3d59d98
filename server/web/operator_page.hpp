// The printer's "Operator" web page (/NAME/operator, beside PAPPL's /NAME/ pages): shows the
// machine's status and temperatures, the loaded material, the plate-clear
// gate and the waiting jobs, and lets the admin pause, resume or
// emergency-stop the print, load or unload material and confirm that the
// build plate is clear.
// Admin-only (PAPPL asks the auth callback, so TLS and the admin account are
// required) and CSRF-checked (papplClientIsValidForm).
#pragma once

#include "printer_runtime.hpp"

#include <pappl/pappl.h>

#include <string>

namespace ipp3d::server {

// The page's path for `printer`.
std::string operator_page_path(const PrinterRuntime& printer);

// Registers the page and its navigation link. `printer` must outlive PAPPL.
void add_operator_page(pappl_system_t* system, PrinterRuntime& printer);

}  // namespace ipp3d::server
