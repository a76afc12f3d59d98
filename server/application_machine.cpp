// The machine checks at start (machine_check.hpp): one thread that runs
// check_machine() for every printer and retries those whose machine cannot
// be asked yet. The printer monitor will take this over (at start and
// whenever Klippy becomes ready); then this file goes.
#include "application.hpp"
#include "machine_check.hpp"

#include <chrono>

namespace ipp3d::server {

void Application::start_machine_checks() {
  machine_check_thread_ = std::thread([this] {
    std::vector<PrinterRuntime*> pending;
    for (const auto& printer : printers_) pending.push_back(printer.get());
    for (;;) {
      std::erase_if(pending, [](PrinterRuntime* printer) { return check_machine(*printer); });
      std::unique_lock lock(machine_check_mutex_);
      if (pending.empty() || machine_check_wake_.wait_for(lock, std::chrono::seconds(5),
                                                          [this] { return machine_check_stop_; })) {
        return;
      }
    }
  });
}

void Application::stop_machine_checks() {
  {
    const std::lock_guard lock(machine_check_mutex_);
    machine_check_stop_ = true;
  }
  machine_check_wake_.notify_all();
  if (machine_check_thread_.joinable()) machine_check_thread_.join();
}

}  // namespace ipp3d::server
