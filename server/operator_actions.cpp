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

Status suspend_current_print(PrinterRuntime& printer, const std::string& who) {
  const auto current = printer.current_print();
  // Recorded first: the monitor must never see our pause without its origin.
  const std::string previous = printer.pause_origin();
  printer.set_pause_origin("operator " + who);
  Status done = suspend_print(printer.backend(), current);
  if (!done) {
    printer.set_pause_origin(previous);
    return done;
  }
  papplLogPrinter(printer.printer(), PAPPL_LOGLEVEL_INFO, "Job %d suspended by \"%s\".", current->job_id,
                  who.c_str());
  return done;
}

Status resume_current_print(PrinterRuntime& printer, std::optional<int> job_id, const std::string& who) {
  const auto current = printer.current_print();
  Status done = resume_print(printer.backend(), current, job_id);
  if (!done) return done;
  printer.set_pause_origin("");
  papplLogPrinter(printer.printer(), PAPPL_LOGLEVEL_INFO, "Job %d resumed by \"%s\".", current->job_id,
                  who.c_str());
  return done;
}

Status emergency_stop_printer(PrinterRuntime& printer, const std::string& who) {
  papplLogPrinter(printer.printer(), PAPPL_LOGLEVEL_WARN, "Emergency stop requested by \"%s\".", who.c_str());
  Status done = printer.backend().emergency_stop();
  if (!done) {
    Error error = done.error();
    if (error.status == IPP_STATUS_ERROR_INTERNAL) error.status = IPP_STATUS_ERROR_DEVICE;
    error.message = "The emergency stop may not have reached the machine: " + error.message;
    return error;
  }
  return done;
}

}  // namespace ipp3d::server
