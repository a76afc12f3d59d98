// The JSON endpoints of pairing (POST, TLS only, no credentials): a small
// JSON object in, a JSON object out; errors as an HTTP status with
// {"error": MESSAGE} (docs/ipp-extensions.md, "Pairing").
#include "ipp/request_gate.hpp"
#include "web/pairing_web.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <chrono>
#include <exception>
#include <optional>
#include <string>

namespace ipp3d::server {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxBodyBytes = 4096;

// What each endpoint does.
enum class Endpoint { kBegin, kReveal, kStatus, kCancel };

// Writes `body` with `status` as application/json.
bool respond_json(pappl_client_t* client, http_status_t status, const json& body) {
  const std::string text = body.dump();
  if (!papplClientRespond(client, status, nullptr, "application/json", 0, text.size())) return false;
  return httpWrite2(papplClientGetHTTP(client), text.data(), text.size()) >= 0;
}

// The HTTP status of a pairing error.
http_status_t http_status_of(const Error& error) {
  switch (error.status) {
    case IPP_STATUS_ERROR_NOT_FOUND:
      return HTTP_STATUS_NOT_FOUND;
    case IPP_STATUS_ERROR_NOT_POSSIBLE:
      return HTTP_STATUS_CONFLICT;
    case IPP_STATUS_ERROR_BUSY:
      return static_cast<http_status_t>(429);  // Too Many Requests (not in libcups' enum)
    case IPP_STATUS_ERROR_BAD_REQUEST:
      return HTTP_STATUS_BAD_REQUEST;
    default:
      return HTTP_STATUS_SERVER_ERROR;
  }
}

bool respond_error(pappl_client_t* client, const Error& error) {
  return respond_json(client, http_status_of(error), json{{"error", error.message}});
}

// The request body as JSON (at most kMaxBodyBytes); nullopt when it is not a JSON object.
std::optional<json> read_body(pappl_client_t* client) {
  http_t* http = papplClientGetHTTP(client);
  std::string body;
  std::array<char, 1024> buffer{};
  ssize_t bytes = 0;
  while ((bytes = httpRead2(http, buffer.data(), buffer.size())) > 0) {
    body.append(buffer.data(), static_cast<std::size_t>(bytes));
    if (body.size() > kMaxBodyBytes) {
      discard_request_body(client);
      return std::nullopt;
    }
  }
  json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object()) return std::nullopt;
  return parsed;
}

// A string member ("" when missing or not a string).
std::string text_member(const json& object, const char* name) {
  const auto found = object.find(name);
  return found != object.end() && found->is_string() ? found->get<std::string>() : std::string();
}

// A 64-hex-digit member as 32 bytes, or an error naming it.
Result<std::array<std::uint8_t, 32>> bytes_member(const json& object, const char* name) {
  if (auto bytes = trust::parse_hex32(text_member(object, name))) return *bytes;
  return Error{IPP_STATUS_ERROR_BAD_REQUEST, std::string(name) + " must be 64 hex digits", name, 0};
}

// The client's address.
std::string source_of(pappl_client_t* client) {
  const char* host = papplClientGetHostName(client);
  return host != nullptr ? host : "";
}

bool begin(pappl_client_t* client, PairingService& service, const json& body) {
  auto commitment = bytes_member(body, "commitment");
  if (!commitment) return respond_error(client, commitment.error());
  auto begun =
      service.begin(text_member(body, "name"), text_member(body, "account"), *commitment, source_of(client));
  if (!begun) return respond_error(client, begun.error());
  const auto lifetime = service.registry().limits().lifetime;
  return respond_json(client, HTTP_STATUS_OK,
                      json{{"request", begun->id},
                           {"server-nonce", trust::hex_text(begun->server_nonce)},
                           {"expires-in", lifetime.count()}});
}

bool reveal(pappl_client_t* client, PairingService& service, const json& body) {
  auto key = bytes_member(body, "public-key");
  if (!key) return respond_error(client, key.error());
  auto nonce = bytes_member(body, "nonce");
  if (!nonce) return respond_error(client, nonce.error());
  auto revealed = service.reveal(text_member(body, "request"), *key, *nonce, source_of(client));
  if (!revealed) return respond_error(client, revealed.error());
  return respond_json(client, HTTP_STATUS_OK, json{{"state", pairing_state_name(revealed->state)}});
}

bool status(pappl_client_t* client, PairingService& service, const json& body) {
  const std::string id = text_member(body, "request");
  const auto request = service.registry().find(id);
  if (!request) {
    return respond_error(client,
                         Error{IPP_STATUS_ERROR_NOT_FOUND,
                               "no pairing request " + id +
                                   " (unknown or ended long ago; a restarted server forgets requests)",
                               "", 0});
  }
  return respond_json(client, HTTP_STATUS_OK,
                      json{{"state", pairing_state_name(request->state)}, {"message", request->outcome}});
}

bool cancel(pappl_client_t* client, PairingService& service, const json& body) {
  std::string reason = text_member(body, "reason");
  if (reason.size() > 200) reason.resize(200);
  auto failed = service.cancel(text_member(body, "request"), reason, source_of(client));
  if (!failed) return respond_error(client, failed.error());
  return respond_json(client, HTTP_STATUS_OK, json{{"state", pairing_state_name(failed->state)}});
}

// PAPPL resource callback of the endpoint `kEndpoint`; `data` is the PairingService.
template <Endpoint kEndpoint>
bool pairing_endpoint(pappl_client_t* client, void* data) {
  auto& service = *static_cast<PairingService*>(data);
  try {
    if (!papplClientIsEncrypted(client)) {
      discard_request_body(client);
      return papplClientRespond(client, HTTP_STATUS_UPGRADE_REQUIRED, nullptr, nullptr, 0, 0);
    }
    if (papplClientGetMethod(client) != HTTP_STATE_POST) {
      return respond_json(client, HTTP_STATUS_METHOD_NOT_ALLOWED,
                          json{{"error", "use POST with a JSON object"}});
    }
    const auto body = read_body(client);
    if (!body) {
      return respond_json(client, HTTP_STATUS_BAD_REQUEST,
                          json{{"error", "the body must be a JSON object of at most 4096 bytes"}});
    }
    switch (kEndpoint) {
      case Endpoint::kBegin:
        return begin(client, service, *body);
      case Endpoint::kReveal:
        return reveal(client, service, *body);
      case Endpoint::kStatus:
        return status(client, service, *body);
      case Endpoint::kCancel:
        return cancel(client, service, *body);
    }
    return false;
  } catch (const std::exception& e) {
    papplLogClient(client, PAPPL_LOGLEVEL_ERROR, "Pairing endpoint failed: %s", e.what());
    return false;
  }
}

}  // namespace

void add_pairing_endpoints(pappl_system_t* system, PairingService& service) {
  papplSystemAddResourceCallback(system, "/ipp3d/pairing/begin", "application/json",
                                 pairing_endpoint<Endpoint::kBegin>, &service);
  papplSystemAddResourceCallback(system, "/ipp3d/pairing/reveal", "application/json",
                                 pairing_endpoint<Endpoint::kReveal>, &service);
  papplSystemAddResourceCallback(system, "/ipp3d/pairing/status", "application/json",
                                 pairing_endpoint<Endpoint::kStatus>, &service);
  papplSystemAddResourceCallback(system, "/ipp3d/pairing/cancel", "application/json",
                                 pairing_endpoint<Endpoint::kCancel>, &service);
}

}  // namespace ipp3d::server
