// Application: PAPPL's saved state, the job ledger across restarts, job-id
// reservation and shutdown.
#include "application.hpp"
#include "scheduler.hpp"
#include "state/pappl_state.hpp"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <pthread.h>
#include <unistd.h>

namespace ipp3d::server {
namespace {

// The shutdown signals.
sigset_t shutdown_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

// Collects the PAPPL printers that the configuration no longer has.
struct StalePrinters {
  const std::vector<std::unique_ptr<PrinterRuntime>>* configured;
  std::vector<pappl_printer_t*> stale;
};

// papplSystemIteratePrinters callback filling StalePrinters.
void find_stale_printer(pappl_printer_t* printer, void* data) {
  auto* collect = static_cast<StalePrinters*>(data);
  const std::string name = papplPrinterGetName(printer);
  for (const auto& configured : *collect->configured) {
    if (configured->name() == name) return;
  }
  collect->stale.push_back(printer);
}

// What restore_job_history() needs per completed job.
struct HistoryContext {
  PrinterRuntime* printer;
};

// papplPrinterIterateCompletedJobs callback: puts the ledger's final message
// back on a job PAPPL reloaded without it.
void restore_message(pappl_job_t* job, void* data) {
  auto* context = static_cast<HistoryContext*>(data);
  const auto record = context->printer->store().job(context->printer->name(), papplJobGetID(job));
  const char* current = papplJobGetMessage(job);
  if (record && !record->message.empty() && (current == nullptr || *current == '\0')) {
    papplJobSetMessage(job, record->message.c_str());
  }
}

}  // namespace

void Application::block_shutdown_signals() {
  const sigset_t set = shutdown_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

Status Application::load_pappl_state() {
  // Jobs the ledger last saw printing (a kill -9 leaves them so).
  // Of those, the prints handed to a machine that prints on without us are
  // followed again (held now, released first, re-attached by the print callback).
  std::vector<InterruptedJob> printing;
  std::vector<InterruptedJob> reattach;
  for (const auto& printer : printers_) {
    for (const auto& record : store_->jobs(printer->name())) {
      if (record.state != IPP_JSTATE_PROCESSING) continue;
      printing.push_back({record.printer, record.job_id});
      if (printer->backend().prints_outlive_server() &&
          store_->machine_print(record.printer, record.job_id)) {
        reattach.push_back({record.printer, record.job_id});
      }
    }
  }
  std::vector<InterruptedJob> reattached;
  auto interrupted = repair_pappl_state(pappl_state_path(), printing, reattach, &reattached);
  if (!interrupted) return interrupted.error();
  for (const auto& job : reattached) {
    for (const auto& printer : printers_) {
      if (printer->name() == job.printer) printer->expect_reattach(job.job_id);
    }
  }
  if (std::filesystem::exists(pappl_state_path()) &&
      !papplSystemLoadState(system_, pappl_state_path().c_str())) {
    papplLog(system_, PAPPL_LOGLEVEL_WARN, "Could not load %s; starting with no saved jobs.",
             pappl_state_path().c_str());
  }
  StalePrinters collect{&printers_, {}};
  papplSystemIteratePrinters(system_, find_stale_printer, &collect);
  for (pappl_printer_t* stale : collect.stale) papplPrinterDelete(stale);
  restore_job_history(*interrupted);
  return {};
}

void Application::restore_job_history(const std::vector<InterruptedJob>& interrupted) {
  for (const auto& job : interrupted) {
    JobRecord record = store_->job(job.printer, job.job_id).value_or(JobRecord{});
    record.printer = job.printer;
    record.job_id = job.job_id;
    record.state = IPP_JSTATE_ABORTED;
    record.message =
        "Interrupted: ipp3d-server stopped during the print; the virtual printer cannot resume it.";
    record.completed = static_cast<std::int64_t>(std::time(nullptr));
    (void)store_->save_job(record);
  }
  for (const auto& printer : printers_) {
    const std::string resource = "/ipp/print/" + printer->name();
    pappl_printer_t* loaded = papplSystemFindPrinter(system_, resource.c_str(), 0, nullptr);
    if (loaded == nullptr) continue;
    HistoryContext context{printer.get()};
    papplPrinterIterateCompletedJobs(loaded, restore_message, &context, 1, 0);
    for (const auto& job : interrupted) {
      if (job.printer != printer->name()) continue;
      if (pappl_job_t* found = papplPrinterFindJob(loaded, job.job_id)) {
        papplJobSetReasons(found, PAPPL_JREASON_ABORTED_BY_SYSTEM, PAPPL_JREASON_NONE);
      }
    }
  }
}

void Application::reserve_job_ids() {
  for (const auto& printer : printers_) {
    const int next =
        std::max(store_->next_job_id(printer->name()), papplPrinterGetNextJobID(printer->printer()));
    papplPrinterSetNextJobID(printer->printer(), next);
    (void)store_->reserve_job_ids(printer->name(), next + kJobIdBlock);
  }
}

bool Application::save_callback(pappl_system_t* system, void* data) {
  auto* app = static_cast<Application*>(data);
  const Status saved = save_pappl_state(system, app->pappl_state_path());
  if (!saved) papplLog(system, PAPPL_LOGLEVEL_ERROR, "%s", saved.error().message.c_str());
  return saved.ok();
}

void Application::wait_for_signals() {
  const sigset_t set = shutdown_signals();
  int signal_number = 0;
  while (sigwait(&set, &signal_number) != 0) {
  }
  shutdown_now(signal_number);
}

void Application::shutdown_now(int signal_number) {
  papplLog(system_, PAPPL_LOGLEVEL_INFO, "Signal %d: saving state and stopping.", signal_number);
  close_audit_log(signal_number);
  // A job printing now is saved as processing; the next start repairs it to
  // aborted and the ledger explains why (restore_job_history).
  for (const auto& printer : printers_) {
    (void)store_->set_next_job_id(printer->name(), papplPrinterGetNextJobID(printer->printer()));
  }
  const Status saved = save_pappl_state(system_, pappl_state_path());
  if (!saved) {
    papplLog(system_, PAPPL_LOGLEVEL_ERROR, "%s", saved.error().message.c_str());
    reserve_job_ids();  // the saved state may lack jobs: skip their IDs
  }
  (void)std::fflush(nullptr);
  {
    const std::lock_guard lock(tls_mutex_);
    if (tls_.runtime) tls_.runtime->remove();  // the decrypted TLS key goes with the process
  }
  // PAPPL's threads (connections, the printing job) end with the process;
  // everything durable is already on disk (SQLite WAL, synchronous=FULL).
  std::_Exit(saved ? 0 : 1);
}

int Application::run() {
  block_shutdown_signals();  // before any thread starts: only signal_thread_ receives them
  signal_thread_ = std::thread([this] { wait_for_signals(); });
  signal_thread_.detach();
  papplSystemRun(system_);
  return 0;
}

}  // namespace ipp3d::server
