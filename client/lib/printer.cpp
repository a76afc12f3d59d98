// Printer: opening a connection with TLS pinning, requests under the
// trust-checked password callback, errors from responses, capabilities and
// printer status.
#include "ipp3d/attributes/ipp_codec.hpp"
#include "ipp3d/client/known_printers.hpp"

#include "printer_state.hpp"

#include <array>

namespace ipp3d::client {
namespace detail {
namespace {

Error client_error(ipp_status_t status, std::string message, std::string attribute = {}) {
  return Error{status, std::move(message), std::move(attribute), 0};
}

struct CredentialsFree {
  void operator()(cups_array_t* credentials) const noexcept { httpFreeCredentials(credentials); }
};

// libcups' password callback: gives the caller's password only over TLS,
// only when the connection still shows the pinned certificate, and only once
// per request (a second challenge means the credentials were refused).
const char* answer_challenge(const char* /*prompt*/, http_t* http, const char* /*method*/,
                             const char* /*resource*/, void* data) {
  auto* state = static_cast<Printer::State*>(data);
  if (!state->tls || state->decision == TrustDecision::kInsecure ||
      state->decision == TrustDecision::kUnverified || state->challenges++ > 0) {
    return nullptr;
  }
  auto fingerprint = connection_fingerprint(http);
  if (!fingerprint || *fingerprint != state->fingerprint) {
    state->trust_failed = true;
    return nullptr;
  }
  if (!state->credentials && state->options.credentials) state->credentials = state->options.credentials();
  if (!state->credentials) return nullptr;
  cupsSetUser(state->credentials->user.c_str());
  return state->credentials->password.c_str();
}

// The first attribute named in the unsupported-attributes group, leaving out
// the server's ipp-attribute-fidelity artefact (docs/ipp-extensions.md).
std::string unsupported_attribute(ipp_t* response) {
  std::string first;
  for (ipp_attribute_t* a = ippFirstAttribute(response); a != nullptr; a = ippNextAttribute(response)) {
    if (ippGetGroupTag(a) != IPP_TAG_UNSUPPORTED_GROUP || ippGetName(a) == nullptr) continue;
    std::string name = ippGetName(a);
    if (name != "ipp-attribute-fidelity") return name;
    if (first.empty()) first = name;
  }
  return first;
}

}  // namespace

Result<std::string> connection_fingerprint(http_t* http) {
  cups_array_t* raw = nullptr;
  if (httpCopyCredentials(http, &raw) != 0 || raw == nullptr) {
    return client_error(kTrustFailure, "the printer presented no TLS certificate");
  }
  const std::unique_ptr<cups_array_t, CredentialsFree> credentials(raw);
  const auto* leaf = static_cast<http_credential_t*>(cupsArrayFirst(credentials.get()));
  if (leaf == nullptr || leaf->data == nullptr) {
    return client_error(kTrustFailure, "the printer presented no TLS certificate");
  }
  std::string fingerprint =
      certificate_fingerprint({static_cast<const unsigned char*>(leaf->data), leaf->datalen});
  if (fingerprint.empty()) return client_error(kTrustFailure, "cannot compute the certificate's SHA-256");
  return fingerprint;
}

Status reconnect(Printer::State& state) {
  if (httpReconnect2(state.http.get(), static_cast<int>(state.options.timeout.count()), nullptr) != 0) {
    return client_error(IPP_STATUS_ERROR_SERVICE_UNAVAILABLE,
                        "cannot reconnect to " + state.host_port + ": " + cupsLastErrorString());
  }
  if (!state.tls) return {};
  auto fingerprint = connection_fingerprint(state.http.get());
  if (!fingerprint) return std::move(fingerprint).error();
  if (*fingerprint != state.fingerprint) {
    return client_error(kTrustFailure, "the printer's TLS certificate changed during the session");
  }
  return {};
}

IppPtr new_request(const Printer::State& state, ipp_op_t op) {
  IppPtr request(ippNewRequest(op));
  ippAddString(request.get(), IPP_TAG_OPERATION, IPP_TAG_URI, "printer-uri", nullptr, state.uri.c_str());
  ippAddString(request.get(), IPP_TAG_OPERATION, IPP_TAG_NAME, "requesting-user-name", nullptr,
               state.user_name.c_str());
  return request;
}

std::string text_of(ipp_t* ipp, const char* name) {
  ipp_attribute_t* attribute = ippFindAttribute(ipp, name, IPP_TAG_ZERO);
  if (attribute == nullptr) return {};
  const char* text = ippGetString(attribute, 0, nullptr);
  return text != nullptr ? text : "";
}

Error response_error(ipp_t* response, const std::string& what) {
  const ipp_status_t status = response != nullptr ? ippGetStatusCode(response) : cupsLastError();
  std::string reason = response != nullptr ? text_of(response, "detailed-status-message") : "";
  if (reason.empty() && response != nullptr) reason = text_of(response, "status-message");
  if (reason.empty()) reason = cupsLastErrorString() != nullptr ? cupsLastErrorString() : "";
  if (reason.empty()) reason = ippErrorString(status);
  std::string attribute = response != nullptr ? unsupported_attribute(response) : "";
  std::string message = what + " refused: " + reason;
  if (!attribute.empty() && reason.find(attribute) == std::string::npos) {
    message += " (attribute " + attribute + ")";
  }
  if (response == nullptr) message = what + " failed: " + reason;
  return client_error(status, std::move(message), std::move(attribute));
}

Result<IppPtr> perform(Printer::State& state, IppPtr request, const std::string& what) {
  IppPtr response;
  {
    const AuthScope scope(state);
    response.reset(cupsDoRequest(state.http.get(), request.release(), state.resource.c_str()));
  }
  if (state.trust_failed) {
    state.trust_failed = false;
    return client_error(kTrustFailure, what +
                                           ": the printer's TLS certificate changed during the session; "
                                           "no credentials were sent");
  }
  const ipp_status_t status = response ? ippGetStatusCode(response.get()) : cupsLastError();
  if (response && status <= IPP_STATUS_OK_EVENTS_COMPLETE) return response;
  Error error = response_error(response.get(), what);
  if (status == IPP_STATUS_ERROR_NOT_AUTHORIZED || status == IPP_STATUS_ERROR_CUPS_AUTHENTICATION_CANCELED) {
    error.status = IPP_STATUS_ERROR_NOT_AUTHORIZED;
    error.message =
        what + ": the printer wants credentials" +
        (state.credentials ? std::string(" and refused those given (user ") + state.credentials->user + ")"
                           : std::string(" and none were given"));
  }
  return error;
}

AuthScope::AuthScope(Printer::State& state) : state_(state) {
  state_.challenges = 0;
  if (state_.credentials) cupsSetUser(state_.credentials->user.c_str());
  cupsSetPasswordCB2(answer_challenge, &state_);
}

AuthScope::~AuthScope() {
  cupsSetPasswordCB2(nullptr, nullptr);
  // No Authorization is reused on a later request (or a reconnected socket):
  // each one is given again by answer_challenge after a pin check.
  httpSetAuthString(state_.http.get(), nullptr, nullptr);
}

}  // namespace detail

namespace {

using detail::client_error;

// Fills the URI parts of `state`. Errors: malformed, not ipp/ipps, userinfo.
Status parse_uri(const std::string& uri, Printer::State& state) {
  std::array<char, 32> scheme{};
  std::array<char, 256> userinfo{};
  std::array<char, 256> host{};
  std::array<char, 1024> resource{};
  int port = 0;
  if (httpSeparateURI(HTTP_URI_CODING_ALL, uri.c_str(), scheme.data(), scheme.size(), userinfo.data(),
                      userinfo.size(), host.data(), host.size(), &port, resource.data(),
                      resource.size()) < HTTP_URI_STATUS_OK) {
    return client_error(IPP_STATUS_ERROR_BAD_REQUEST,
                        uri + " is not a printer URI (ipps://HOST:PORT/ipp/print/NAME)");
  }
  state.scheme = scheme.data();
  if (state.scheme != "ipps" && state.scheme != "ipp") {
    return client_error(IPP_STATUS_ERROR_BAD_REQUEST,
                        uri + ": the scheme must be ipps:// (or ipp:// with --insecure)");
  }
  if (userinfo[0] != '\0') {
    return client_error(IPP_STATUS_ERROR_BAD_REQUEST,
                        uri +
                            ": credentials do not belong in the URI; the client asks for them (IPP3D_USER, "
                            "IPP3D_PASSWORD)");
  }
  state.uri = uri;
  state.host = host.data();
  state.port = port;
  state.resource = resource.data();
  state.host_port = state.host + ":" + std::to_string(port);
  state.tls = state.scheme == "ipps";
  return {};
}

// The message of a fingerprint mismatch: both fingerprints and what to do.
std::string mismatch_message(const Printer::State& state, const std::string& expected,
                             const std::string& seen, const std::filesystem::path& file, bool explicit_pin) {
  std::string text =
      "the TLS certificate of " + state.host_port + " does not match " +
      (explicit_pin ? std::string("the fingerprint given with --fingerprint")
                    : "the pinned one in " + file.string()) +
      ":\n  expected: " + expected + "\n  presented: " + seen +
      "\nNo credentials or jobs were sent. This is another server (possibly an attacker in the "
      "middle), or the printer's certificate was replaced: ipp3d-server renews it when it nears "
      "its expiry (and logs the new fingerprint), and a new state directory makes a new one. "
      "Check the new fingerprint with the printer's operator (ipp3d-server prints it at start "
      "and logs it on renewal), then re-pin: pair again (ipp3d pair), or connect with "
      "--fingerprint " +
      seen + ".";
  return text;
}

// The pin file of `options`: its own, else the default.
Result<std::filesystem::path> pin_file_of(const OpenOptions& options) {
  if (!options.known_printers.empty()) return options.known_printers;
  return default_known_printers_path();
}

// Checks the connection's certificate against the pin; pins on first contact.
// With OpenOptions::unverified only records what it saw.
Status establish_trust(Printer::State& state) {
  auto seen = detail::connection_fingerprint(state.http.get());
  if (!seen) return std::move(seen).error();
  auto pin_file = pin_file_of(state.options);
  if (!pin_file) return std::move(pin_file).error();
  const std::filesystem::path& file = *pin_file;
  auto pins = KnownPrinters::load(file);
  if (!pins) return std::move(pins).error();
  if (state.options.unverified) {
    state.fingerprint = *seen;
    state.decision = TrustDecision::kUnverified;
    return {};
  }
  if (state.options.fingerprint) {
    const auto wanted = normalize_fingerprint(*state.options.fingerprint);
    if (!wanted) {
      return client_error(
          IPP_STATUS_ERROR_BAD_REQUEST,
          "--fingerprint takes a SHA-256 fingerprint: 64 hex digits, ':' separators optional");
    }
    if (*wanted != *seen)
      return client_error(detail::kTrustFailure, mismatch_message(state, *wanted, *seen, file, true));
    state.decision = TrustDecision::kExplicit;
  } else if (const auto pinned = pins->find(state.host_port)) {
    if (*pinned != *seen)
      return client_error(detail::kTrustFailure, mismatch_message(state, *pinned, *seen, file, false));
    state.decision = TrustDecision::kPinned;
  } else {
    state.decision = TrustDecision::kFirstContact;
  }
  state.fingerprint = *seen;
  if (state.decision != TrustDecision::kPinned) {
    if (Status pinned = pins->pin(state.host_port, *seen); !pinned) return pinned;
    if (state.decision == TrustDecision::kFirstContact && state.options.on_first_contact) {
      state.options.on_first_contact(state.host_port, *seen);
    }
  }
  return {};
}

// The 3D and ipp3d attributes capabilities() asks for by name (libcups files
// materials-col-* under job-template, so group names would miss them).
constexpr std::array kCapabilityAttributes = {"printer-volume-supported",
                                              "platform-shape",
                                              "platform-temperature-supported",
                                              "platform-temperature-default",
                                              "chamber-temperature-supported",
                                              "chamber-temperature-default",
                                              "materials-col-database",
                                              "materials-col-ready",
                                              "materials-col-default",
                                              "materials-col-supported",
                                              "max-materials-col-supported",
                                              "material-diameter-supported",
                                              "material-nozzle-diameter-supported",
                                              "material-temperature-supported",
                                              "material-shell-thickness-supported",
                                              "material-rate-supported",
                                              "material-rate-units-supported",
                                              "material-purpose-supported",
                                              "material-type-supported",
                                              "material-amount-units-supported",
                                              "print-accuracy-supported",
                                              "print-accuracy-default",
                                              "accuracy-units-supported",
                                              "print-base-default",
                                              "print-base-supported",
                                              "print-supports-default",
                                              "print-supports-supported",
                                              "print-quality-default",
                                              "print-quality-supported",
                                              "ipp-features-supported",
                                              "document-format-default",
                                              "document-format-supported",
                                              "color-supported",
                                              "multiple-document-jobs-supported",
                                              "job-creation-attributes-supported",
                                              "ipp3d-printer-public-key",
                                              "ipp3d-printer-key-id",
                                              "ipp3d-signature-required",
                                              "ipp3d-gcode-policy-resource",
                                              "ipp3d-gcode-policy-digest",
                                              "ipp3d-document-max-size-mb"};

constexpr std::array kStatusAttributes = {"printer-name",
                                          "printer-state",
                                          "printer-state-reasons",
                                          "printer-state-message",
                                          "printer-is-accepting-jobs",
                                          "queued-job-count",
                                          "materials-col-ready",
                                          "ipp3d-machine-state",
                                          "ipp3d-printer-status-message"};

// A Get-Printer-Attributes request for `names`.
template <std::size_t N>
IppPtr attributes_request(const Printer::State& state, const std::array<const char*, N>& names) {
  IppPtr request = detail::new_request(state, IPP_OP_GET_PRINTER_ATTRIBUTES);
  ippAddStrings(request.get(), IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "requested-attributes",
                static_cast<int>(N), nullptr, names.data());
  return request;
}

}  // namespace

Result<Printer> Printer::open(const std::string& uri, const OpenOptions& options) {
  auto state = std::make_unique<State>();
  state->options = options;
  if (Status parsed = parse_uri(uri, *state); !parsed) return std::move(parsed).error();
  if (!state->tls && !options.insecure) {
    return client_error(IPP_STATUS_ERROR_BAD_REQUEST,
                        uri +
                            ": plain ipp:// is not encrypted and its server cannot be checked; use ipps:// "
                            "(or --insecure to allow it anyway)");
  }
  state->user_name = options.user_name.empty() ? cupsUser() : options.user_name;
  state->http.reset(httpConnect2(state->host.c_str(), state->port, nullptr, AF_UNSPEC,
                                 state->tls ? HTTP_ENCRYPTION_ALWAYS : HTTP_ENCRYPTION_IF_REQUESTED, 1,
                                 static_cast<int>(options.timeout.count()), nullptr));
  if (!state->http) {
    return client_error(IPP_STATUS_ERROR_SERVICE_UNAVAILABLE,
                        "cannot connect to " + state->host_port + ": " + cupsLastErrorString());
  }
  if (state->tls) {
    if (Status trusted = establish_trust(*state); !trusted) return std::move(trusted).error();
  } else {
    state->decision = TrustDecision::kInsecure;
  }
  return Printer(std::move(state));
}

Printer::Printer(std::unique_ptr<State> state) : state_(std::move(state)) {}
Printer::Printer(Printer&&) noexcept = default;
Printer& Printer::operator=(Printer&&) noexcept = default;
Printer::~Printer() = default;

const std::string& Printer::uri() const { return state_->uri; }
const std::string& Printer::fingerprint() const { return state_->fingerprint; }
TrustDecision Printer::trust_decision() const { return state_->decision; }

IppPtr Printer::new_request(ipp_op_t op) const { return detail::new_request(*state_, op); }

std::optional<std::string> Printer::pinned_fingerprint() const {
  auto file = pin_file_of(state_->options);
  if (!file) return std::nullopt;
  auto pins = KnownPrinters::load(*file);
  if (!pins) return std::nullopt;
  return pins->find(state_->host_port);
}

Status Printer::pin_certificate() {
  if (!state_->tls || state_->fingerprint.empty()) {
    return client_error(IPP_STATUS_ERROR_BAD_REQUEST, "a plain ipp:// connection has no certificate to pin");
  }
  auto file = pin_file_of(state_->options);
  if (!file) return std::move(file).error();
  auto pins = KnownPrinters::load(*file);
  if (!pins) return std::move(pins).error();
  if (Status pinned = pins->pin(state_->host_port, state_->fingerprint); !pinned) return pinned;
  state_->decision = TrustDecision::kExplicit;
  return {};
}

Result<IppPtr> Printer::send(IppPtr request) {
  const std::string what = ippOpString(ippGetOperation(request.get()));
  return detail::perform(*state_, std::move(request), what);
}

Result<Capabilities> Printer::capabilities() {
  auto response =
      detail::perform(*state_, attributes_request(*state_, kCapabilityAttributes), "Get-Printer-Attributes");
  if (!response) return std::move(response).error();
  ipp_t* ipp = response->get();
  auto model = attributes::decode_capabilities(ipp);
  if (!model) return std::move(model).error();
  Capabilities caps;
  caps.model = std::move(model).value();
  if (const std::string key = detail::text_of(ipp, "ipp3d-printer-public-key"); !key.empty()) {
    auto parsed = trust::parse_public_key(key, "ipp3d-printer-public-key");
    if (!parsed) return std::move(parsed).error();
    caps.encryption_key = std::move(parsed).value();
  }
  caps.key_id = detail::text_of(ipp, "ipp3d-printer-key-id");
  if (ipp_attribute_t* a = ippFindAttribute(ipp, "ipp3d-signature-required", IPP_TAG_BOOLEAN)) {
    caps.signature_required = ippGetBoolean(a, 0) != 0;
  }
  caps.policy_resource = detail::text_of(ipp, "ipp3d-gcode-policy-resource");
  caps.policy_digest = detail::text_of(ipp, "ipp3d-gcode-policy-digest");
  if (ipp_attribute_t* a = ippFindAttribute(ipp, "ipp3d-document-max-size-mb", IPP_TAG_INTEGER)) {
    caps.max_document_mb = ippGetInteger(a, 0);
  }
  return caps;
}

Result<PrinterStatus> Printer::status() {
  auto response =
      detail::perform(*state_, attributes_request(*state_, kStatusAttributes), "Get-Printer-Attributes");
  if (!response) return std::move(response).error();
  ipp_t* ipp = response->get();
  PrinterStatus status;
  status.name = detail::text_of(ipp, "printer-name");
  if (ipp_attribute_t* a = ippFindAttribute(ipp, "printer-state", IPP_TAG_ENUM)) {
    status.state = static_cast<ipp_pstate_t>(ippGetInteger(a, 0));
  }
  if (ipp_attribute_t* a = ippFindAttribute(ipp, "printer-state-reasons", IPP_TAG_KEYWORD)) {
    for (int i = 0; i < ippGetCount(a); ++i) status.reasons.emplace_back(ippGetString(a, i, nullptr));
  }
  status.message = detail::text_of(ipp, "ipp3d-printer-status-message");
  if (status.message.empty()) status.message = detail::text_of(ipp, "printer-state-message");
  status.machine_state = detail::text_of(ipp, "ipp3d-machine-state");
  if (ipp_attribute_t* a = ippFindAttribute(ipp, "printer-is-accepting-jobs", IPP_TAG_BOOLEAN)) {
    status.accepting = ippGetBoolean(a, 0) != 0;
  }
  if (ipp_attribute_t* a = ippFindAttribute(ipp, "queued-job-count", IPP_TAG_INTEGER)) {
    status.queued = ippGetInteger(a, 0);
  }
  if (ipp_attribute_t* a = ippFindAttribute(ipp, "materials-col-ready", IPP_TAG_BEGIN_COLLECTION)) {
    for (int i = 0; i < ippGetCount(a); ++i) {
      auto material = attributes::decode_material(ippGetCollection(a, i), "materials-col-ready");
      if (!material) return std::move(material).error();
      status.ready.push_back(std::move(material).value());
    }
  }
  return status;
}

const char* printer_state_name(ipp_pstate_t state) {
  switch (state) {
    case IPP_PSTATE_IDLE:
      return "idle";
    case IPP_PSTATE_PROCESSING:
      return "processing";
    case IPP_PSTATE_STOPPED:
      return "stopped";
  }
  return "unknown";
}

}  // namespace ipp3d::client
