// libipp3d's client API: one ipp3d printer reached over IPP (libcups).
//
//   ipp3d::client::OpenOptions options;               // pins in ~/.config/ipp3d/known_printers
//   auto printer = ipp3d::client::Printer::open("ipps://host:8631/ipp/print/virtual-fdm", options);
//   if (!printer) { std::cerr << printer.error().message; ... }
//   auto caps = printer->capabilities();              // 3D attributes + the printer's key
//   auto id = printer->submit("part.gcode", ticket, {.signer = &key});
//   auto final = printer->watch(id->job_id, [](const JobInfo& job, bool changed) { ...; return true; });
//
// Trust: `open` connects with TLS and compares the certificate's SHA-256
// fingerprint with the pin of HOST:PORT (known_printers.hpp) before any
// request is sent; an unknown printer is pinned (first contact) and a
// mismatch is an error. Credentials are given only when the server asks
// (401), and only after the connection's fingerprint is checked again.
//
// Errors are values (ipp3d::Result): `message` says what is wrong and what to
// do, `attribute` names the offending attribute when the printer named one,
// `status` is the IPP status (client-error-not-found for an unknown job, ...;
// IPP_STATUS_ERROR_SERVICE_UNAVAILABLE when the printer cannot be reached,
// IPP_STATUS_ERROR_CUPS_PKI for a TLS trust failure, IPP_STATUS_ERROR_NOT_AUTHORIZED /
// _FORBIDDEN for credentials). No function throws, except std::bad_alloc.
//
// A Printer owns one connection and is used from one thread at a time: it
// sets libcups' per-thread user and password callback during its requests.
#pragma once

#include "ipp3d/attributes/capabilities.hpp"
#include "ipp3d/attributes/job_ticket.hpp"
#include "ipp3d/ipp_handles.hpp"
#include "ipp3d/result.hpp"
#include "ipp3d/trust/envelope.hpp"
#include "ipp3d/trust/keys.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ipp3d::client {

// A user name and password for HTTP Basic (sent over TLS only).
struct Credentials {
  std::string user;
  std::string password;
};

// Asked for credentials when the printer challenges a request; nullopt: none.
using CredentialsProvider = std::function<std::optional<Credentials>()>;

// How the TLS certificate was trusted.
enum class TrustDecision {
  kPinned,        // matched the pin in known_printers
  kFirstContact,  // no pin yet: pinned now
  kExplicit,      // matched OpenOptions::fingerprint (pinned now)
  kInsecure,      // plain ipp:// with OpenOptions::insecure: no TLS, nothing checked
  kUnverified,    // OpenOptions::unverified (pairing): seen, neither checked nor pinned yet
};

// What Printer::open needs besides the URI.
struct OpenOptions {
  // Allow plain ipp:// (no TLS, no pinning, credentials never sent).
  bool insecure = false;
  // Pin this fingerprint (any form normalize_fingerprint accepts) instead of
  // trusting on first contact; the certificate must match it, and it
  // replaces an earlier pin for HOST:PORT.
  std::optional<std::string> fingerprint;
  // The pin file; empty: default_known_printers_path().
  std::filesystem::path known_printers;
  // Called with ("HOST:PORT", fingerprint) when a printer is pinned on first contact.
  std::function<void(const std::string&, const std::string&)> on_first_contact;
  // The requesting-user-name of requests; empty: the login name (cupsUser()).
  std::string user_name;
  // Asked for Basic credentials when a request is challenged (never in advance).
  CredentialsProvider credentials;
  // Connect timeout.
  std::chrono::milliseconds timeout{10000};
  // Pairing (pairing.hpp): connect with TLS and remember the certificate's
  // fingerprint without comparing it with a pin or pinning it; credentials are
  // never sent on such a connection. pin_certificate() pins it once pairing
  // has authenticated it.
  bool unverified = false;
};

// An HTTP answer of Printer::post: the status and the body.
struct HttpAnswer {
  int status = 0;  // HTTP status code
  std::string body;
};

// The printer's model and the ipp3d vendor attributes.
struct Capabilities {
  attributes::PrinterCapabilities model;           // PWG 5100.21 (attributes/ codec)
  std::optional<trust::PublicKey> encryption_key;  // ipp3d-printer-public-key (X25519)
  std::string key_id;                              // ipp3d-printer-key-id
  bool signature_required = true;                  // ipp3d-signature-required
  std::string policy_resource;                     // ipp3d-gcode-policy-resource
  std::string policy_digest;                       // ipp3d-gcode-policy-digest
  std::optional<int> max_document_mb;              // ipp3d-document-max-size-mb
};

// What Get-Jobs / Get-Job-Attributes say about a job. -1: not given.
struct JobInfo {
  int id = 0;
  std::string name;
  std::string user;  // job-originating-user-name
  ipp_jstate_t state = IPP_JSTATE_PENDING;
  std::vector<std::string> reasons;  // job-state-reasons
  std::string message;               // job-state-message
  int impressions = -1;              // job-impressions: layers x copies
  int impressions_completed = -1;    // job-impressions-completed: layers done
  int copies = 1;
  long time_at_creation = -1;    // printer-up-time seconds
  long time_at_processing = -1;  // printer-up-time seconds; -1 before processing
  long time_at_completed = -1;

  // True once the job ended (canceled, aborted, completed).
  [[nodiscard]] bool terminal() const { return state >= IPP_JSTATE_CANCELED; }
};

// "pending", "held", "processing", "stopped", "canceled", "aborted", "completed".
const char* job_state_name(ipp_jstate_t state);

// The printer's state (Get-Printer-Attributes).
struct PrinterStatus {
  std::string name;  // printer-name
  ipp_pstate_t state = IPP_PSTATE_IDLE;
  std::vector<std::string> reasons;         // printer-state-reasons
  std::string message;                      // ipp3d-printer-status-message, else printer-state-message
  std::string machine_state;                // ipp3d-machine-state
  bool accepting = true;                    // printer-is-accepting-jobs
  int queued = 0;                           // queued-job-count
  std::vector<attributes::Material> ready;  // materials-col-ready
};

// "idle", "processing", "stopped".
const char* printer_state_name(ipp_pstate_t state);

// How submit() signs and names the job.
struct SubmitOptions {
  const trust::SecretKey* signer = nullptr;                 // required: an Ed25519 key
  std::optional<trust::PublicKey> encrypt_to;               // the printer's X25519 key: encrypt (mode 1)
  std::string job_name;                                     // empty: the file's name
  int copies = 1;                                           // IPP copies (1-999)
  std::int64_t lifetime_seconds = std::int64_t{7} * 86400;  // the envelope's validity from now
  std::optional<trust::Licence> licence;                    // print-count licence, if any
};

// A job that submit() created.
struct Submitted {
  int job_id = 0;
  // The printer accepted the job but changed something (e.g. a temperature
  // clamped into the material's range, PWG 5100.21 §12): what it said. Empty otherwise.
  std::string notice;
};

// Called by watch() after every poll with the job's status and whether it
// differs from the previous one (state, reasons, message, progress); return
// false to stop watching.
using WatchCallback = std::function<bool(const JobInfo& job, bool changed)>;

// How watch() learns of changes.
struct WatchOptions {
  // Polling period while no notification can be waited for.
  std::chrono::milliseconds interval{500};
  // Subscribe to the job's events (Create-Job-Subscriptions, pull method
  // ippget) and, while it is processing, wait for them with Get-Notifications
  // (notify-wait) instead of sleeping: a change is seen as soon as the
  // printer reports it. Without a subscription (refused), watch() polls.
  bool notifications = true;
  // Checked every `interval` while waiting for a notification: true stops
  // the wait at once (the connection is reopened) and the job is polled, so
  // that the callback runs (e.g. to ask about a Ctrl-C). May be empty.
  std::function<bool()> interrupted;
  // Told how many notifications each wait brought (0: none came). May be empty.
  std::function<void(int events)> on_notifications;
};

// One printer. Move-only.
class Printer {
 public:
  // Connects to `uri` (ipps://HOST:PORT/RESOURCE, or ipp:// with
  // options.insecure) and checks the certificate against the pin (see the
  // file comment). Errors: a malformed or unsupported URI, ipp:// without
  // insecure, the printer unreachable, a fingerprint that differs from the
  // pin (the message shows both and how to re-pin), a pin file problem.
  static Result<Printer> open(const std::string& uri, const OpenOptions& options);

  Printer(Printer&&) noexcept;
  Printer& operator=(Printer&&) noexcept;
  Printer(const Printer&) = delete;
  Printer& operator=(const Printer&) = delete;
  ~Printer();

  // The URI given to open().
  [[nodiscard]] const std::string& uri() const;
  // The certificate's fingerprint ("" with insecure) and how it was trusted.
  [[nodiscard]] const std::string& fingerprint() const;
  [[nodiscard]] TrustDecision trust_decision() const;

  // Get-Printer-Attributes naming the 3D attributes explicitly, decoded with
  // the attributes/ codec. Errors: IPP errors, a response the codec refuses.
  Result<Capabilities> capabilities();
  // Printer state, reasons, messages, loaded materials, queue length.
  Result<PrinterStatus> status();

  // Create-Job with `ticket`'s job template attributes, then Send-Document
  // of the envelope of `file` made on the fly (signed with options.signer,
  // encrypted to options.encrypt_to when given) in chunked HTTP: no copy of
  // the file, memory bounded by one envelope chunk. `file` must be a regular
  // file (it is read twice). Returns the job-id (and the printer's notice
  // when it substituted a value). Errors: the printer's
  // refusal (message from detailed-status-message / status-message,
  // attribute from the unsupported group), a local file or key problem; when
  // the document cannot be sent after Create-Job, the job is cancelled.
  Result<Submitted> submit(const std::filesystem::path& file, const attributes::JobTicket& ticket,
                           const SubmitOptions& options);

  // Get-Jobs: not-completed jobs, or all (`all`), as the printer lists them to
  // this user (ipp3d-server may list only the user's own jobs).
  Result<std::vector<JobInfo>> jobs(bool all = false);
  // Get-Job-Attributes. client-error-not-found for an unknown job.
  Result<JobInfo> job(int id);
  // Cancel-Job. Errors as the printer gives them (not-possible once ended, ...).
  Status cancel(int id);
  // Polls job(id) and calls `callback` after each poll, between polls
  // waiting for the job's IPP notifications while it is processing (see
  // WatchOptions), else sleeping `options.interval`; returns the last status
  // when the job ended or the callback returned false. A failed poll is
  // retried (once reconnected) for up to 30 s before the error is returned.
  Result<JobInfo> watch(int id, const WatchCallback& callback, const WatchOptions& options);
  // The same with WatchOptions{interval}.
  Result<JobInfo> watch(int id, const WatchCallback& callback,
                        std::chrono::milliseconds interval = std::chrono::milliseconds(500));

  // HTTP GET of `resource` (a path such as "/virtual-fdm/gcode-policy.json",
  // or an https:// URL on the same HOST:PORT) over the pinned connection;
  // the body, at most `max_bytes`. A 401 challenge is answered with the
  // credentials (as for requests). Errors: another host, an HTTP error
  // status (named; 401/403 as IPP_STATUS_ERROR_NOT_AUTHORIZED), a larger
  // body, the connection failing.
  Result<std::string> fetch(const std::string& resource, std::size_t max_bytes = std::size_t{4} << 20);

  // HTTP POST of `body` (as `content_type`) to `path` (e.g.
  // "/ipp3d/pairing/begin") on this connection, without credentials; the
  // answer whatever its status (body at most `max_bytes`). Errors: the
  // connection failing or the certificate changing, a larger body.
  Result<HttpAnswer> post(const std::string& path, const std::string& content_type, const std::string& body,
                          std::size_t max_bytes = std::size_t{1} << 16);

  // The pin file's entry of HOST:PORT, if any (whatever the certificate).
  [[nodiscard]] std::optional<std::string> pinned_fingerprint() const;

  // Pins this connection's certificate for HOST:PORT in the pin file
  // (replacing an earlier pin), e.g. once pairing authenticated it. Errors:
  // insecure connections, the pin file cannot be written.
  Status pin_certificate();

  // A new request for `op` carrying this printer's printer-uri and
  // requesting-user-name (e.g. for a vendor operation; add its attributes, then send()).
  [[nodiscard]] IppPtr new_request(ipp_op_t op) const;

  // Sends `request` on the pinned connection (credentials only when
  // challenged) and returns the response when its status is successful,
  // else the error it carries.
  Result<IppPtr> send(IppPtr request);

  // The connection's state: opaque, defined inside the library.
  struct State;

 private:
  explicit Printer(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace ipp3d::client
