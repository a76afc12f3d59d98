#include "printer_monitor.hpp"

#include <cmath>
#include <exception>

namespace ipp3d::server {
namespace {

// Klippy states in which the machine reports no temperatures.
bool temperatures_unknown(const std::string& klippy_state) {
  return klippy_state == "disconnected" || klippy_state == "unreachable";
}

}  // namespace

PrintStatus unreachable_status(const std::optional<PrintStatus>& last, const Error& error) {
  PrintStatus status = last.value_or(PrintStatus{});
  status.ready = false;
  status.klippy_state = "unreachable";
  status.ready_message = error.message.empty() ? "the machine cannot be reached" : error.message;
  return status;
}

MachineView machine_view_for(const PrintStatus& status, const std::string& problem,
                             const std::string& pause_origin) {
  MachineView view;
  view.state = status.klippy_state.empty() ? "unknown" : status.klippy_state;
  if (!problem.empty()) {
    view.message = problem;
  } else if (status.state == PrintState::kPaused) {
    const std::string& why = !status.display_message.empty() ? status.display_message : status.message;
    view.message = !pause_origin.empty() ? "Paused by " + pause_origin + "."
                                         : "Paused by the printer" + (why.empty() ? "." : ": " + why);
  } else if (status.state == PrintState::kPrinting) {
    view.message = "Printing.";
  } else {
    view.message = "Ready.";
  }
  if (!temperatures_unknown(status.klippy_state)) {
    view.temperatures = Temperatures{status.hotend_temperature, status.hotend_target, status.bed_temperature,
                                     status.bed_target};
  }
  return view;
}

bool machine_view_changed(const MachineView& shown, const MachineView& now) {
  if (shown.state != now.state || shown.message != now.message) return true;
  if (shown.temperatures.has_value() != now.temperatures.has_value()) return true;
  if (!now.temperatures) return false;
  const Temperatures& a = *shown.temperatures;
  const Temperatures& b = *now.temperatures;
  return std::fabs(a.hotend - b.hotend) >= 1.0 || std::fabs(a.bed - b.bed) >= 1.0 ||
         std::lround(a.hotend_target) != std::lround(b.hotend_target) ||
         std::lround(a.bed_target) != std::lround(b.bed_target);
}

PrinterMonitor::PrinterMonitor(PrinterRuntime& printer, MachineCheck check,
                               std::chrono::milliseconds interval)
    : printer_(printer), check_(std::move(check)), interval_(interval) {}

PrinterMonitor::~PrinterMonitor() { stop(); }

void PrinterMonitor::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { run(); });
}

void PrinterMonitor::stop() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void PrinterMonitor::run() noexcept {
  for (;;) {
    try {
      poll();
    } catch (const std::exception& e) {
      papplLogPrinter(printer_.printer(), PAPPL_LOGLEVEL_ERROR, "Printer monitor: %s", e.what());
    } catch (...) {
      papplLogPrinter(printer_.printer(), PAPPL_LOGLEVEL_ERROR, "Printer monitor failed.");
    }
    std::unique_lock lock(mutex_);
    if (wake_.wait_for(lock, interval_, [this] { return stopping_; })) return;
  }
}

void PrinterMonitor::poll() {
  auto answer = printer_.backend().status();
  const bool answered = answer.ok();
  const PrintStatus status =
      answered ? std::move(answer).value() : unreachable_status(printer_.machine_status(), answer.error());
  printer_.set_machine_status(status);
  // Nothing is loaded any more: an operator's pause is over (a cancel while paused never resumes).
  if (answered && (status.state != PrintState::kPrinting && status.state != PrintState::kPaused) &&
      !printer_.pause_origin().empty()) {
    printer_.set_pause_origin("");
  }

  pappl_printer_t* printer = printer_.printer();
  // A heaters-off a job could not deliver: sent once the machine is ready
  // and no print is loaded (never into a print that started since).
  if (status.ready && status.state != PrintState::kPrinting && status.state != PrintState::kPaused &&
      printer_.take_heaters_off_request()) {
    if (Status off = printer_.backend().heaters_off(); off) {
      papplLogPrinter(printer, PAPPL_LOGLEVEL_INFO, "Heaters turned off (fail-safe after the last job).");
    } else {
      printer_.request_heaters_off();
    }
  }
  // Until one succeeds (false: the machine could not be asked), again at the next ready answer.
  if (status.ready && (!was_ready_ || !checked_)) checked_ = check_(printer_);
  was_ready_ = status.ready;

  MachineView view = machine_view_for(status, printer_.machine_problem(), printer_.pause_origin());
  if (!shown_ || machine_view_changed(*shown_, view)) {
    shown_ = view;
    printer_.publish_machine_view(std::move(view));
  }
  // The reason follows the published view, so that a client seeing
  // `offline` come or go also sees the message that goes with it.
  const bool offline = !status.ready;
  if (offline_shown_ != offline) {
    if (offline) {
      papplPrinterSetReasons(printer, PAPPL_PREASON_OFFLINE, PAPPL_PREASON_NONE);
      papplLogPrinter(printer, PAPPL_LOGLEVEL_WARN, "The machine is not ready (%s): %s",
                      status.klippy_state.c_str(), status.ready_message.c_str());
    } else {
      papplPrinterSetReasons(printer, PAPPL_PREASON_NONE, PAPPL_PREASON_OFFLINE);
      if (offline_shown_) papplLogPrinter(printer, PAPPL_LOGLEVEL_INFO, "The machine is ready again.");
    }
    offline_shown_ = offline;
  }
}

}  // namespace ipp3d::server
