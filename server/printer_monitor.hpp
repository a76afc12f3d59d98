// The printer monitor: one thread per printer that asks the machine for its
// status about once a second, records it in the PrinterRuntime (which the
// scheduler reads to decide whether a job may start), marks the PAPPL
// printer `offline` while the machine is not ready or cannot be asked, and
// publishes the machine's status and temperatures as printer attributes
// (docs/ipp-extensions.md, "Machine status") when they change.
#pragma once

#include "ipp3d/result.hpp"

#include "printer_runtime.hpp"

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

namespace ipp3d::server {

// The status recorded when the backend cannot be asked: the last known
// status (or a default one) made not ready, with klippy_state "unreachable"
// and the error's message as the reason.
PrintStatus unreachable_status(const std::optional<PrintStatus>& last, const Error& error);

// What the printer shows for `status`: its state, the message (the
// printer's `problem` when there is one, else a paused print and who
// paused it, else "Ready."), and the temperatures (unknown while Klippy is
// disconnected or unreachable).
MachineView machine_view_for(const PrintStatus& status, const std::string& problem,
                             const std::string& pause_origin);

// True when `now` must be published over `shown`: the state or message
// changed, the temperatures became (un)known, a current temperature moved by
// 1 °C or more, or a target changed.
bool machine_view_changed(const MachineView& shown, const MachineView& now);

// Polls one printer's backend on its own thread. IPP threads never wait for
// it: they read what it stored in the PrinterRuntime.
class PrinterMonitor {
 public:
  // Called when the machine is first ready and whenever it becomes ready
  // again (check_machine() in production); false when the machine could
  // not be asked (then it is called again at the next ready answer). Must
  // not throw.
  using MachineCheck = std::function<bool(PrinterRuntime&)>;

  // `printer` must outlive the monitor.
  PrinterMonitor(PrinterRuntime& printer, MachineCheck check,
                 std::chrono::milliseconds interval = std::chrono::seconds(1));
  PrinterMonitor(const PrinterMonitor&) = delete;
  PrinterMonitor& operator=(const PrinterMonitor&) = delete;
  ~PrinterMonitor();  // stop()

  // Starts the thread (once; the printer must be attached to PAPPL).
  void start();
  // Stops the thread and waits for it: at most one status() call in flight,
  // which the backend bounds by its query timeout. Idempotent.
  void stop();

 private:
  void run() noexcept;
  // One poll: record, mark offline/online, check, publish.
  void poll();

  PrinterRuntime& printer_;
  const MachineCheck check_;
  const std::chrono::milliseconds interval_;
  std::thread thread_;

  std::mutex mutex_;              // guards stopping_
  std::condition_variable wake_;  // signalled by stop()
  bool stopping_ = false;

  // Only the monitor thread touches these.
  bool checked_ = false;  // the last machine check could ask the machine
  bool was_ready_ = false;
  std::optional<bool> offline_shown_;  // what printer-state-reasons shows
  std::optional<MachineView> shown_;   // what was published last
};

}  // namespace ipp3d::server
