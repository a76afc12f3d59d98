// Operator actions on the machine, shared by the IPP operations
// (Suspend-Current-Job, Resume-Job, ipp3d-Emergency-Stop; ipp/operator_ops.cpp)
// and the Operator web page's buttons. Callers check authorization.
#pragma once

#include "ipp3d/result.hpp"

#include "audit.hpp"
#include "backend/backend.hpp"
#include "printer_runtime.hpp"

#include <optional>
#include <string>

namespace ipp3d::server {

// Pauses `current` on `backend`. Errors: no print (client-error-not-possible,
// "no print is running"), the backend's refusal (client-error-not-possible
// when the state does not allow it, server-error-device-error when the
// machine is not ready or cannot be asked), each with a message saying why.
Status suspend_print(Backend& backend, const std::optional<CurrentPrint>& current);

// Resumes `current` on `backend`; `job_id`, when given, must be the current
// print's job (else client-error-not-possible naming both). Errors as
// suspend_print().
Status resume_print(Backend& backend, const std::optional<CurrentPrint>& current, std::optional<int> job_id);

// Each action below is recorded in the audit log with `who` (docs/audit.md,
// "Operator actions"), refused ones too.

// suspend_print() on the printer's current print, recording
// "operator WHO" as the pause origin (cleared again on failure).
Status suspend_current_print(PrinterRuntime& printer, const Requester& who);

// resume_print() on the printer's current print; clears the pause origin
// on success.
Status resume_current_print(PrinterRuntime& printer, std::optional<int> job_id, const Requester& who);

// Emergency stop of the printer's machine (the backend halts it at once;
// it needs a restart). Logged with `who`. Errors: the backend's.
Status emergency_stop_printer(PrinterRuntime& printer, const Requester& who);

// PrinterRuntime::load_material(), unload_material() and
// confirm_plate_clear() on behalf of `who`. Errors: theirs.
Status load_material_for(PrinterRuntime& printer, const std::string& key, const Requester& who);
Status unload_material_for(PrinterRuntime& printer, const Requester& who);
Status confirm_plate_clear_for(PrinterRuntime& printer, const Requester& who);

}  // namespace ipp3d::server
