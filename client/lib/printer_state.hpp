// Internals of Printer shared by its source files: the connection state,
// requests with the trust-checked password callback, and response errors.
#pragma once

#include "ipp3d/client/printer.hpp"

#include <string>

namespace ipp3d::client::detail {

// The libcups status of a TLS trust failure (a fingerprint mismatch).
inline constexpr ipp_status_t kTrustFailure = IPP_STATUS_ERROR_CUPS_PKI;

}  // namespace ipp3d::client::detail

namespace ipp3d::client {

struct Printer::State {
  std::string uri;
  std::string scheme;
  std::string host;
  int port = 0;
  std::string resource;
  std::string host_port;  // "HOST:PORT", the key of the pin
  bool tls = true;
  std::string fingerprint;  // the pinned one ("" when insecure)
  TrustDecision decision = TrustDecision::kPinned;
  HttpPtr http;
  OpenOptions options;
  std::string user_name;                   // requesting-user-name
  std::optional<Credentials> credentials;  // asked once, then reused
  int challenges = 0;                      // password callbacks during the current request
  bool trust_failed = false;               // the callback saw another certificate
};

namespace detail {

// The SHA-256 fingerprint of the certificate `http` is connected with.
Result<std::string> connection_fingerprint(http_t* http);

// Reconnects (after a failed upload) and checks the pin again.
Status reconnect(Printer::State& state);

// A request for `op` with charset, language, printer-uri and requesting-user-name.
IppPtr new_request(const Printer::State& state, ipp_op_t op);

// Sends `request` with cupsDoRequest under the password callback; the
// response when its status is successful, else the error it carries
// (prefixed with `what`, e.g. "Create-Job").
Result<IppPtr> perform(Printer::State& state, IppPtr request, const std::string& what);

// The Error of an IPP response (or of libcups' last error when null).
Error response_error(ipp_t* response, const std::string& what);

// A text/keyword/name attribute of any group ("" when absent).
std::string text_of(ipp_t* ipp, const char* name);

// Installs the trust-checking password callback for one request (libcups'
// per-thread state) and removes it, and any cached Authorization, after.
class AuthScope {
 public:
  explicit AuthScope(Printer::State& state);
  AuthScope(const AuthScope&) = delete;
  AuthScope& operator=(const AuthScope&) = delete;
  ~AuthScope();

 private:
  Printer::State& state_;
};

}  // namespace detail
}  // namespace ipp3d::client
