// The running printer application: one PAPPL system with one PAPPL printer
// per configured [[printer]], TLS credentials from the state directory, and
// PAPPL's own DNS-SD advertising turned off.
#pragma once

#include "options.hpp"
#include "printer_driver.hpp"
#include "tls.hpp"

#include <pappl/pappl.h>

#include <memory>
#include <string>
#include <vector>

namespace ipp3d::server {

// Owns the PAPPL system. Printers and jobs are PAPPL's and only borrowed.
class Application {
 public:
  // Prepares the state directory and TLS identity and creates the PAPPL
  // system and printers. Errors name the setting or file at fault.
  static Result<std::unique_ptr<Application>> create(RunSettings settings);

  Application(const Application&) = delete;
  Application& operator=(const Application&) = delete;
  ~Application();

  // The ipps:// URI of each printer, in configuration order.
  [[nodiscard]] std::vector<std::string> printer_uris() const;
  // The TLS certificate's SHA-256 fingerprint.
  [[nodiscard]] const std::string& certificate_fingerprint() const { return tls_.sha256_fingerprint; }

  // Serves until SIGTERM or SIGINT; returns the process exit status.
  int run();

 private:
  explicit Application(RunSettings settings) : settings_(std::move(settings)) {}
  Status create_system();
  Status create_printers();

  RunSettings settings_;
  TlsIdentity tls_;
  // Read by PAPPL's driver callback (a borrowed pointer to this vector is
  // registered): fixed after create(), so it needs no lock.
  std::vector<PrinterSetup> printers_;
  std::vector<pappl_pr_driver_t> drivers_;
  pappl_system_t* system_ = nullptr;  // owned, papplSystemDelete in ~Application
};

}  // namespace ipp3d::server
