#include "operator_actions.hpp"

#include <utility>

namespace ipp3d::server {
namespace {

// The backend's refusal of `action` as an operator-facing Error.
Error refusal(const char* action, Error error) {
  if (error.status == IPP_STATUS_ERROR_INTERNAL) error.status = IPP_STATUS_ERROR_DEVICE;
  error.message = std::string("Cannot ") + action + " the print: " + error.message;
  return error;
}

// No print to act on.
Error nothing_running(const char* action) {
  return Error{IPP_STATUS_ERROR_NOT_POSSIBLE,
               std::string("Cannot ") + action + ": no print is running on this printer.", "", 0};
}

// Records an operator action and its outcome.
void audit_action(PrinterRuntime& printer, const char* type, const Requester& who, int job_id,
                  std::vector<std::pair<std::string, std::string>> details, const Status& done) {
  details.emplace_back("outcome", done ? "done" : "failed: " + done.error().message);
  audit(printer.store(), AuditEvent{type, who.user, who.address, printer.name(), job_id, std::move(details)});
}

}  // namespace

Status suspend_print(Backend& backend, const std::optional<CurrentPrint>& current) {
  if (!current) return nothing_running("suspend");
  if (Status paused = backend.pause(current->remote_name); !paused) return refusal("suspend", paused.error());
  return {};
}

Status resume_print(Backend& backend, const std::optional<CurrentPrint>& current, std::optional<int> job_id) {
  if (!current) return nothing_running("resume");
  if (job_id && *job_id != current->job_id) {
    return Error{IPP_STATUS_ERROR_NOT_POSSIBLE,
                 "Cannot resume job " + std::to_string(*job_id) + ": it is not printing (job " +
                     std::to_string(current->job_id) + " is the current print).",
                 "job-id", 0};
  }
  if (Status resumed = backend.resume(current->remote_name); !resumed)
    return refusal("resume", resumed.error());
  return {};
}

Status suspend_current_print(PrinterRuntime& printer, const Requester& who) {
  const auto current = printer.current_print();
  // Recorded first: the monitor must never see our pause without its origin.
  const std::string previous = printer.pause_origin();
  printer.set_pause_origin("operator " + who.user);
  Status done = suspend_print(printer.backend(), current);
  audit_action(printer, "print-suspended", who, current ? current->job_id : 0, {}, done);
  if (!done) {
    printer.set_pause_origin(previous);
    return done;
  }
  papplLogPrinter(printer.printer(), PAPPL_LOGLEVEL_INFO, "Job %d suspended by \"%s\".", current->job_id,
                  who.user.c_str());
  return done;
}

Status resume_current_print(PrinterRuntime& printer, std::optional<int> job_id, const Requester& who) {
  const auto current = printer.current_print();
  Status done = resume_print(printer.backend(), current, job_id);
  audit_action(printer, "print-resumed", who, current ? current->job_id : job_id.value_or(0), {}, done);
  if (!done) return done;
  printer.set_pause_origin("");
  papplLogPrinter(printer.printer(), PAPPL_LOGLEVEL_INFO, "Job %d resumed by \"%s\".", current->job_id,
                  who.user.c_str());
  return done;
}

Status emergency_stop_printer(PrinterRuntime& printer, const Requester& who) {
  papplLogPrinter(printer.printer(), PAPPL_LOGLEVEL_WARN, "Emergency stop requested by \"%s\".",
                  who.user.c_str());
  const auto current = printer.current_print();
  Status done = printer.backend().emergency_stop();
  audit_action(printer, "emergency-stop", who, current ? current->job_id : 0, {}, done);
  if (!done) {
    Error error = done.error();
    if (error.status == IPP_STATUS_ERROR_INTERNAL) error.status = IPP_STATUS_ERROR_DEVICE;
    error.message = "The emergency stop may not have reached the machine: " + error.message;
    return error;
  }
  return done;
}

Status load_material_for(PrinterRuntime& printer, const std::string& key, const Requester& who) {
  const std::string previous = printer.loaded_material().value_or("");
  Status done = printer.load_material(key);
  audit_action(printer, "material-loaded", who, 0, {{"material-key", key}, {"previous", previous}}, done);
  return done;
}

Status unload_material_for(PrinterRuntime& printer, const Requester& who) {
  const std::string previous = printer.loaded_material().value_or("");
  Status done = printer.unload_material();
  audit_action(printer, "material-unloaded", who, 0, {{"previous", previous}}, done);
  return done;
}

Status confirm_plate_clear_for(PrinterRuntime& printer, const Requester& who) {
  Status done = printer.confirm_plate_clear();
  audit_action(printer, "plate-confirmed-clear", who, 0, {}, done);
  return done;
}

}  // namespace ipp3d::server
