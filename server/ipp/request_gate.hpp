// The request gate: PAPPL's authentication callback, the only ipp3d code that
// runs before PAPPL handles a request that needs authorization. It
//  - requires TLS (426 Upgrade Required on plain HTTP),
//  - checks HTTP Basic credentials (401 without valid ones) and applies the
//    role policy of ipp/role_policy.hpp (403 when the role lacks the right);
//    a user's Get-Jobs is narrowed to its own jobs,
//  - refuses documents the printer does not print (not a signed envelope,
//    or plain G-code where signatures are required) and job tickets that fail
//    validation, answering with a real IPP error and creating no job
//    (the recipe of docs/ipp-extensions.md), and
//  - holds every new job on arrival so the scheduler owns the queue order.
// Operations PAPPL serves without authorization (Get-Printer-Attributes,
// Identify-Printer, Get-System-Attributes) never reach it.
#pragma once

#include "ipp/credentials.hpp"
#include "ipp/role_policy.hpp"
#include "printer_runtime.hpp"

#include <pappl/pappl.h>

#include <functional>
#include <optional>
#include <set>
#include <string>

namespace ipp3d::server {

// The group name PAPPL passes for admin checks (set with
// papplSystemSetAdminGroup; "none" makes PAPPL skip its own group lookup).
inline constexpr const char* kAdminGroup = "none";

// The job attribute that records a client's own job-hold-until (PAPPL only
// ever sees "indefinite").
inline constexpr const char* kRequestedHoldAttribute = "ipp3d-job-hold-until";
// With kRequestedHoldAttribute "time": the client's job-hold-until-time as
// UNIX time (integer).
inline constexpr const char* kRequestedHoldTimeAttribute = "ipp3d-job-hold-until-time";

class RequestGate {
 public:
  using PrinterLookup = std::function<PrinterRuntime*(pappl_printer_t*)>;
  RequestGate(CredentialVerifier& verifier, PrinterLookup lookup)
      : verifier_(verifier), lookup_(std::move(lookup)) {}

  // PAPPL's auth callback. Never throws; returns HTTP_STATUS_CONTINUE to let
  // PAPPL proceed (possibly with an IPP error already set in the response).
  http_status_t authorize(pappl_client_t* client, const char* group) noexcept;

  // Registers the path of an Operator web page (operators may use it; every
  // other protected page needs an admin). Call before the system runs.
  void add_operator_page(const std::string& path) { operator_pages_.insert(path); }

 private:
  // Who sent the request: the role of valid credentials (setting PAPPL's
  // user name), nullopt when there are none or they are refused.
  struct Identity {
    std::optional<Role> role;  // nullopt: no credentials, or refused ones
    bool busy = false;         // every password-hashing slot was busy: nothing was checked
  };
  Identity identify(pappl_client_t* client);
  // The right the current request needs.
  Right required_right_of(pappl_client_t* client) const;
  void screen_job_request(pappl_client_t* client, PrinterRuntime& printer);
  void screen_send_document(pappl_client_t* client, const PrinterRuntime& printer);

  CredentialVerifier& verifier_;
  PrinterLookup lookup_;
  // Paths of the Operator pages; filled before the system runs, read-only
  // afterwards (no lock needed).
  std::set<std::string> operator_pages_;
};

// Reads and discards the rest of the request body (so that an answer that
// refuses the request leaves the connection usable).
void discard_request_body(pappl_client_t* client);

}  // namespace ipp3d::server
