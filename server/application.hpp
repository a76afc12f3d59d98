// The running printer application: one PAPPL system with one PAPPL printer
// per configured [[printer]], TLS credentials and the state database in the
// state directory, the request gate, the scheduler and the operator
// operations wired into PAPPL's callbacks, and PAPPL's own DNS-SD
// advertising turned off.
#pragma once

#include "audit_checkpointer.hpp"
#include "dnssd.hpp"
#include "ipp/credentials.hpp"
#include "ipp/request_gate.hpp"
#include "options.hpp"
#include "printer_monitor.hpp"
#include "printer_runtime.hpp"
#include "scheduler.hpp"
#include "state/pappl_state.hpp"
#include "state/state_store.hpp"
#include "tls.hpp"
#include "web/audit_page.hpp"
#include "web/pairing_web.hpp"

#include <pappl/pappl.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ipp3d::server {

// Owns the PAPPL system and one PrinterMonitor thread per printer (started
// by the first timer tick, stopped by the destructor before the system is deleted; the
// process otherwise ends through shutdown_now()). Printers and jobs are
// PAPPL's and only borrowed.
// Everything below is created before PAPPL's threads start and is fixed
// afterwards (no lock needed for the members themselves; each object guards
// its own mutable state).
class Application {
 public:
  // Prepares the state directory, database and TLS identity and creates the
  // PAPPL system and printers. Errors name the setting or file at fault;
  // a missing admin account is an error telling how to create one.
  static Result<std::unique_ptr<Application>> create(RunSettings settings);

  Application(const Application&) = delete;
  Application& operator=(const Application&) = delete;
  ~Application();

  // The ipps:// URI of each printer, in configuration order.
  [[nodiscard]] std::vector<std::string> printer_uris() const;
  // Per printer, in configuration order: "KEY_ID (STATE/keys/NAME-encryption.key.pub)",
  // the key that `ipp3d sign --for FILE --encrypt` encrypts to.
  [[nodiscard]] std::vector<std::string> printer_key_descriptions() const;
  // How many signers the printers trust (0: every signed job is refused).
  [[nodiscard]] std::size_t trusted_signer_count() const { return store_->trusted_signers().size(); }
  // The TLS certificate's SHA-256 fingerprint (it changes when the certificate is renewed).
  [[nodiscard]] std::string certificate_fingerprint() const;

  // Serves until SIGTERM or SIGINT: then saves the state and ends the
  // process at once (PAPPL alone would wait up to 60 s for queued jobs).
  // Call from the main thread before any other thread was started.
  int run();

 private:
  // Blocks SIGTERM and SIGINT in the calling thread and every thread it
  // starts later, so that only run()'s signal thread receives them.
  static void block_shutdown_signals();

 public:
 private:
  explicit Application(RunSettings settings) : settings_(std::move(settings)) {}
  Status open_state();
  Status create_system();
  Status create_printers();
  // Creates the audit checkpointer (the audit key in STATE/keys).
  Status open_audit_log();
  // Registers the audit web resources and records the server-started event.
  void start_audit_log();
  // Records the server-stopped event and a final checkpoint (clean shutdown).
  void close_audit_log(int signal_number);
  // application_state.cpp: PAPPL state, job ledger and shutdown.
  Status load_pappl_state();
  void restore_job_history(const std::vector<InterruptedJob>& interrupted);
  void reserve_job_ids();
  [[noreturn]] void shutdown_now(int signal_number);
  void wait_for_signals();
  [[nodiscard]] std::filesystem::path pappl_state_path() const { return settings_.state_dir / "pappl.state"; }
  static bool save_callback(pappl_system_t* system, void* data);
  // application_dnssd.cpp: advertises _ipps-3d._tcp once the server answers.
  void start_dnssd();
  // Serves the printer's current G-code policy (the resource of gcode_policy_path()).
  static bool policy_resource_callback(pappl_client_t* client, void* data);
  // application_keys.cpp: renews the TLS certificate when fewer than 30 days
  // remain, logging and auditing it; failures are logged (the old one stays).
  void renew_certificate_if_due(std::int64_t now);
  // Logs through PAPPL once the system exists, else to standard error.
  void log_message(pappl_loglevel_t level, const std::string& text) const;
  PrinterRuntime* find_printer(pappl_printer_t* printer) const;
  PrinterRuntime* find_printer(const char* driver_name) const;

  static http_status_t auth_callback(pappl_client_t* client, const char* group, gid_t, void* data);
  static bool driver_callback(pappl_system_t*, const char* driver_name, const char*, const char*,
                              pappl_pr_driver_data_t* driver_data, ipp_t** driver_attrs, void* data);
  static const char* mime_callback(const unsigned char* header, size_t size, void* data);
  static bool operation_callback(pappl_client_t* client, void* data);
  static bool timer_callback(pappl_system_t*, void* data);

  RunSettings settings_;
  KeyPassphrase key_passphrase_;  // protects the keys at rest; empty: not protected
  mutable std::mutex tls_mutex_;  // guards tls_ (renewed from the main loop, read by any thread)
  TlsIdentity tls_;
  std::int64_t next_certificate_check_ = 0;  // main-loop thread only
  std::unique_ptr<StateStore> store_;
  std::unique_ptr<AuditCheckpointer> checkpointer_;  // signs the audit log's checkpoints
  std::unique_ptr<AuditResources> audit_resources_;  // what the audit web resources use
  std::unique_ptr<CredentialVerifier> verifier_;
  std::unique_ptr<RequestGate> gate_;
  std::unique_ptr<PairingService> pairing_;    // pairing requests (docs/security.md, "Pairing")
  std::unique_ptr<PairingPage> pairing_page_;  // the operator's Pairing page
  std::vector<std::unique_ptr<PrinterRuntime>> printers_;
  std::unique_ptr<Scheduler> scheduler_;
  std::vector<std::unique_ptr<PrinterMonitor>> monitors_;  // one per printer, same order
  std::vector<std::string> driver_names_;
  std::vector<pappl_pr_driver_t> drivers_;
  pappl_system_t* system_ = nullptr;  // owned, papplSystemDelete in ~Application
  std::thread signal_thread_;         // waits for SIGTERM/SIGINT (blocked in all other threads)
  std::thread dnssd_thread_;          // reads printer-uuid, then starts dnssd_
  bool dnssd_started_ = false;        // timer_callback started dnssd_thread_ (main-loop thread only)
  long ticks_ = 0;                    // timer_callback calls (main-loop thread only)
  std::mutex dnssd_mutex_;            // guards dnssd_
  std::unique_ptr<DnssdAdvertiser> dnssd_;
};

}  // namespace ipp3d::server
