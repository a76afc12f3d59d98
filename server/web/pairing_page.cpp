// The operator's Pairing page: pending requests with their codes, approve
// ("codes match") or reject. Admin or operator account over TLS; forms are
// CSRF-checked (papplClientIsValidForm).
#include "ipp/request_gate.hpp"
#include "web/pairing_web.hpp"

#include <chrono>
#include <exception>
#include <string>

namespace ipp3d::server {
namespace {

void put_text(pappl_client_t* client, const std::string& text) {
  papplClientHTMLEscape(client, text.c_str(), text.size());
}

// Lets admin and operator accounts in (HTTP Basic over TLS); answers 301 to
// https (GET on plain HTTP), 426, 401 or 403 otherwise and returns false.
bool authorize(pappl_client_t* client, CredentialVerifier& verifier) {
  http_status_t refusal = HTTP_STATUS_CONTINUE;
  if (!papplClientIsEncrypted(client)) {
    refusal = HTTP_STATUS_UPGRADE_REQUIRED;
  } else {
    const char* header = httpGetField(papplClientGetHTTP(client), HTTP_FIELD_AUTHORIZATION);
    const auto credentials = parse_basic_authorization(header);
    const auto role = credentials ? verifier.verify(*credentials) : std::nullopt;
    if (!role) {
      if (credentials) {
        papplLogClient(client, PAPPL_LOGLEVEL_WARN, "Failed login for \"%s\".", credentials->user.c_str());
      }
      refusal = HTTP_STATUS_UNAUTHORIZED;
    } else if (*role != Role::kAdmin && *role != Role::kOperator) {
      refusal = HTTP_STATUS_FORBIDDEN;
    } else {
      papplClientSetUsername(client, credentials->user.c_str());
    }
  }
  if (refusal == HTTP_STATUS_CONTINUE) return true;
  discard_request_body(client);
  papplClientRespond(client, refusal, nullptr, nullptr, 0, 0);
  return false;
}

// Performs the posted approve/reject; returns the banner text.
std::string perform(pappl_client_t* client, PairingService& service, int count, cups_option_t* form) {
  const char* action = cupsGetOption("action", count, form);
  const char* id = cupsGetOption("request", count, form);
  if (action == nullptr || id == nullptr) return "Choose a request and an action.";
  const std::string by = papplClientGetUsername(client);
  const char* host = papplClientGetHostName(client);
  const std::string source = host != nullptr ? host : "";
  const std::string what = action;
  if (what == "approve") {
    const char* name = cupsGetOption("name", count, form);
    const char* account = cupsGetOption("account", count, form);
    auto approved =
        service.approve(id, name != nullptr ? name : "", account != nullptr ? account : "", by, source);
    if (!approved) return "Not approved: " + approved.error().message;
    papplLogClient(client, PAPPL_LOGLEVEL_INFO, "Pairing approved by \"%s\": %s", by.c_str(),
                   approved->c_str());
    return *approved;
  }
  if (what == "reject") {
    auto rejected = service.reject(id, by, source);
    if (!rejected) return "Not rejected: " + rejected.error().message;
    papplLogClient(client, PAPPL_LOGLEVEL_INFO, "Pairing request %s rejected by \"%s\".", id, by.c_str());
    return "Rejected: the key is not trusted and the client pins nothing.";
  }
  return "Unknown action.";
}

// An input field of a request's form.
void text_input(pappl_client_t* client, const char* label, const char* name, const std::string& value) {
  papplClientHTMLPrintf(client, "<label>%s <input type=\"text\" name=\"%s\" value=\"", label, name);
  put_text(client, value);
  papplClientHTMLPuts(client, "\" size=\"20\"></label> ");
}

// One pending request: its code, facts and the approve/reject form.
void request_row(pappl_client_t* client, const PairingRequest& request, std::chrono::seconds lifetime) {
  const auto age =
      std::chrono::duration_cast<std::chrono::seconds>(PairingRegistry::Clock::now() - request.created);
  papplClientHTMLPuts(client, "<tr><td style=\"font-size:200%;font-family:monospace\">");
  put_text(client, trust::grouped_pairing_code(request.code));
  papplClientHTMLPuts(client, "</td><td>");
  put_text(client, request.key ? trust::key_id_hex(request.key->id) : "");
  papplClientHTMLPuts(client, "</td><td>");
  put_text(client, request.source);
  papplClientHTMLPrintf(client, "</td><td>%lds</td><td>", static_cast<long>((lifetime - age).count()));
  papplClientHTMLStartForm(client, papplClientGetURI(client), false);
  papplClientHTMLPuts(client, "<input type=\"hidden\" name=\"request\" value=\"");
  put_text(client, request.id);
  papplClientHTMLPuts(client, "\">");
  text_input(client, "Signer name", "name", request.claim.name);
  text_input(client, "Account", "account", request.claim.account);
  papplClientHTMLPuts(client,
                      "<button type=\"submit\" name=\"action\" value=\"approve\">Codes match: trust this key"
                      "</button> <button type=\"submit\" name=\"action\" value=\"reject\">Reject</button>"
                      "</form></td></tr>\n");
}

// The page body: explanation and the table of pending requests.
void pending_section(pappl_client_t* client, PairingService& service) {
  papplClientHTMLPuts(client,
                      "<h1 class=\"title\">Pairing</h1>\n<p>A client running <code>ipp3d pair</code> shows a "
                      "six-digit code. Approve a request only when the code below is <b>exactly</b> the one "
                      "on the client's screen: a different code means someone may be between the client "
                      "and this printer. Approving trusts the key to sign jobs for the account.</p>\n");
  const auto pending = service.registry().pending();
  if (pending.empty()) {
    papplClientHTMLPuts(client, "<p>No pairing requests are waiting.</p>\n");
    return;
  }
  papplClientHTMLPuts(client,
                      "<table class=\"list\"><thead><tr><th>Code</th><th>Key ID</th><th>From</th>"
                      "<th>Expires in</th><th>Decision</th></tr></thead><tbody>\n");
  for (const auto& request : pending) request_row(client, request, service.registry().limits().lifetime);
  papplClientHTMLPuts(client, "</tbody></table>\n");
}

// PAPPL resource callback of the page.
bool pairing_page(pappl_client_t* client, void* data) {
  auto* context = static_cast<PairingPage*>(data);
  try {
    if (!authorize(client, context->verifier)) return true;
    std::string banner;
    if (papplClientGetMethod(client) == HTTP_STATE_POST) {
      cups_option_t* form = nullptr;
      const int count = papplClientGetForm(client, &form);
      if (count == 0) {
        banner = "Invalid form data.";
      } else if (!papplClientIsValidForm(client, count, form)) {
        banner = "Invalid form submission.";
      } else {
        banner = perform(client, context->service, count, form);
      }
      cupsFreeOptions(count, form);
    }
    context->service.expire();
    if (!papplClientRespond(client, HTTP_STATUS_OK, nullptr, "text/html", 0, 0)) return false;
    papplClientHTMLHeader(client, "Pairing", 0);
    papplClientHTMLPuts(client, "<div class=\"content\"><div class=\"row\"><div class=\"col-12\">\n");
    if (!banner.empty()) {
      papplClientHTMLPuts(client, "<div class=\"banner\">");
      put_text(client, banner);
      papplClientHTMLPuts(client, "</div>\n");
    }
    pending_section(client, context->service);
    papplClientHTMLPuts(client, "</div></div></div>\n");
    papplClientHTMLFooter(client);
  } catch (const std::exception& e) {
    papplLogClient(client, PAPPL_LOGLEVEL_ERROR, "Pairing page failed: %s", e.what());
  }
  return true;
}

}  // namespace

void add_pairing_page(pappl_system_t* system, PairingPage& page) {
  papplSystemAddResourceCallback(system, kPairingPagePath, "text/html", pairing_page, &page);
  papplSystemAddLink(system, "Pairing", kPairingPagePath, PAPPL_LOPTIONS_NAVIGATION);
}

}  // namespace ipp3d::server
