// Pairing: the client's half of the protocol over the printer's JSON
// endpoints (docs/ipp-extensions.md, "Pairing").
#include "ipp3d/client/pairing.hpp"

#include "ipp3d/trust/pairing.hpp"

#include <nlohmann/json.hpp>
#include <sodium.h>

namespace ipp3d::client {
namespace {

using nlohmann::json;

Error pairing_error(ipp_status_t status, std::string message) {
  return Error{status, std::move(message), {}, 0};
}

// The IPP-like status of an HTTP error answer of the endpoints.
ipp_status_t status_of_http(int http) {
  switch (http) {
    case 400:
      return IPP_STATUS_ERROR_BAD_REQUEST;
    case 404:
      return IPP_STATUS_ERROR_NOT_FOUND;
    case 409:
      return IPP_STATUS_ERROR_NOT_POSSIBLE;
    case 429:
      return IPP_STATUS_ERROR_BUSY;
    default:
      return IPP_STATUS_ERROR_INTERNAL;
  }
}

// POSTs `body` to the endpoint `step` and returns the JSON object of a 200
// answer; otherwise the printer's {"error"} message.
Result<json> call(Printer& printer, const std::string& step, const json& body) {
  const std::string path = "/ipp3d/pairing/" + step;
  auto answer = printer.post(path, "application/json", body.dump());
  if (!answer) return std::move(answer).error();
  json parsed = json::parse(answer->body, nullptr, /*allow_exceptions=*/false);
  if (answer->status != 200) {
    std::string reason = parsed.is_object() && parsed.contains("error") && parsed["error"].is_string()
                             ? parsed["error"].get<std::string>()
                             : "HTTP " + std::to_string(answer->status);
    if (answer->status == 404 && !parsed.is_object()) {
      reason = "the printer does not offer pairing (HTTP 404 for " + path + "); is it ipp3d-server?";
    }
    return pairing_error(status_of_http(answer->status), "pairing refused by the printer: " + reason);
  }
  if (!parsed.is_object()) return pairing_error(IPP_STATUS_ERROR_INTERNAL, path + ": the answer is not JSON");
  return parsed;
}

// A string member, or an error naming it.
Result<std::string> text_member(const json& object, const char* name) {
  const auto found = object.find(name);
  if (found == object.end() || !found->is_string()) {
    return pairing_error(IPP_STATUS_ERROR_INTERNAL, std::string("the printer's answer has no ") + name);
  }
  return found->get<std::string>();
}

// The state keyword the printer sent.
std::optional<PairingState> parse_state(const std::string& text) {
  if (text == "awaiting-reveal") return PairingState::kAwaitingReveal;
  if (text == "pending") return PairingState::kPending;
  if (text == "approved") return PairingState::kApproved;
  if (text == "rejected") return PairingState::kRejected;
  if (text == "failed") return PairingState::kFailed;
  if (text == "expired") return PairingState::kExpired;
  return std::nullopt;
}

}  // namespace

bool pairing_codes_match(const std::string& typed, const std::string& code) {
  std::string digits;
  for (const char c : typed) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') digits += c;
  }
  if (digits.size() != code.size() || code.empty()) return false;
  return sodium_memcmp(digits.data(), code.data(), code.size()) == 0;
}

Result<Pairing> Pairing::start(Printer& printer, const trust::PublicKey& key,
                               const PairingRequestOptions& options) {
  if (printer.trust_decision() != TrustDecision::kUnverified) {
    return pairing_error(IPP_STATUS_ERROR_BAD_REQUEST,
                         "pairing needs a printer opened with OpenOptions::unverified");
  }
  const auto certificate = trust::parse_certificate_fingerprint(printer.fingerprint());
  if (!certificate)
    return pairing_error(IPP_STATUS_ERROR_CUPS_PKI, "the printer's certificate has no fingerprint");
  trust::PairingClaim claim;
  claim.client_key = key.bytes;
  claim.client_nonce = trust::random_pairing_nonce();
  claim.name = options.name;
  claim.account = options.account;
  const trust::PairingCommitment commitment = trust::pairing_commitment(claim);

  auto begun = call(
      printer, "begin",
      json{{"name", claim.name}, {"account", claim.account}, {"commitment", trust::hex_text(commitment)}});
  if (!begun) return std::move(begun).error();
  auto request = text_member(*begun, "request");
  if (!request) return std::move(request).error();
  auto server_nonce_text = text_member(*begun, "server-nonce");
  if (!server_nonce_text) return std::move(server_nonce_text).error();
  const auto server_nonce = trust::parse_hex32(*server_nonce_text);
  if (!server_nonce)
    return pairing_error(IPP_STATUS_ERROR_INTERNAL, "the printer's server-nonce is not 64 hex digits");
  std::chrono::seconds lifetime{600};
  if (const auto found = begun->find("expires-in"); found != begun->end() && found->is_number_integer()) {
    lifetime = std::chrono::seconds(found->get<long>());
  }
  // The nonce is revealed only now, after the printer chose its own.
  auto revealed = call(printer, "reveal",
                       json{{"request", *request},
                            {"public-key", trust::hex_text(claim.client_key)},
                            {"nonce", trust::hex_text(claim.client_nonce)}});
  if (!revealed) return std::move(revealed).error();
  return Pairing(printer, *request, trust::pairing_code(claim, *server_nonce, *certificate), lifetime);
}

Result<PairingStatus> Pairing::status() {
  auto answer = call(*printer_, "status", json{{"request", request_id_}});
  if (!answer) return std::move(answer).error();
  auto state_text = text_member(*answer, "state");
  if (!state_text) return std::move(state_text).error();
  const auto state = parse_state(*state_text);
  if (!state)
    return pairing_error(IPP_STATUS_ERROR_INTERNAL, "unknown pairing state \"" + *state_text + "\"");
  PairingStatus status;
  status.state = *state;
  if (auto message = text_member(*answer, "message")) status.message = *message;
  return status;
}

Status Pairing::cancel(const std::string& reason) {
  auto answer = call(*printer_, "cancel", json{{"request", request_id_}, {"reason", reason}});
  if (!answer) return std::move(answer).error();
  return {};
}

}  // namespace ipp3d::client
