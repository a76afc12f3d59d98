#include "web/audit_page.hpp"

#include "audit.hpp"
#include "state/audit_chain.hpp"

#include <array>
#include <ctime>
#include <exception>
#include <string>

namespace ipp3d::server {
namespace {

// Writes HTML-escaped text.
void put_text(pappl_client_t* client, const std::string& text) {
  papplClientHTMLEscape(client, text.c_str(), text.size());
}

// "2026-12-05 01:02:03 UTC".
std::string time_text(std::int64_t when) {
  const auto seconds = static_cast<std::time_t>(when);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  std::array<char, 32> text{};
  if (std::strftime(text.data(), text.size(), "%Y-%m-%d %H:%M:%S UTC", &utc) == 0)
    return std::to_string(when);
  return text.data();
}

// "name=value, name=value".
std::string details_text(const AuditEvent& event) {
  std::string text;
  for (const auto& [name, value] : event.details) {
    if (!text.empty()) text += ", ";
    text.append(name).append("=").append(value);
  }
  return text;
}

// One table row per record.
void record_row(pappl_client_t* client, const AuditRecord& record) {
  papplClientHTMLPrintf(client, "<tr><td>%lld</td><td>", static_cast<long long>(record.seq));
  for (const std::string& cell :
       {time_text(record.time), record.event.type, record.event.actor, record.event.source,
        record.event.printer, record.event.job_id != 0 ? std::to_string(record.event.job_id) : std::string(),
        details_text(record.event)}) {
    put_text(client, cell);
    papplClientHTMLPuts(client, "</td><td>");
  }
  papplClientHTMLPuts(client, "<code>");
  put_text(client, record.hash.substr(0, 16));
  papplClientHTMLPuts(client, "</code></td></tr>\n");
}

// The page: the audit key, the last checkpoint and the recent events, newest first.
bool audit_page(pappl_client_t* client, void* data) {
  auto* resources = static_cast<AuditResources*>(data);
  try {
    if (!papplClientHTMLAuthorize(client)) return true;
    // Unlike papplClientHTMLPrinterHeader, papplClientHTMLHeader sends no HTTP response header.
    if (!papplClientRespond(client, HTTP_STATUS_OK, nullptr, "text/html", 0, 0)) return false;
    papplClientHTMLHeader(client, "Audit log", 0);
    const AuditHead head = resources->store.audit_head();
    const std::int64_t first = head.seq > static_cast<std::int64_t>(kAuditPageEvents)
                                   ? head.seq - static_cast<std::int64_t>(kAuditPageEvents)
                                   : 0;
    const auto records = resources->store.audit_records(first, kAuditPageEvents);
    papplClientHTMLPuts(client, "<div class=\"content\"><h1 class=\"title\">Audit log</h1>\n<p>");
    put_text(client, std::to_string(head.seq) + " records; checkpoints are signed with audit key " +
                         trust::key_id_hex(resources->checkpointer.public_key().id) + ".");
    if (const auto last = resources->store.last_audit_checkpoint()) {
      put_text(client, " Last checkpoint: record " + std::to_string(last->seq) + " at " +
                           time_text(last->time) + ".");
    }
    papplClientHTMLPuts(
        client,
        " Check the chain with <code>ipp3d-server audit verify</code>; keep checkpoints "
        "off this host with <code>ipp3d audit checkpoint URI</code>.</p>\n"
        "<table class=\"list\"><thead><tr><th>#</th><th>Time</th><th>Event</th><th>Actor</th>"
        "<th>Source</th><th>Printer</th><th>Job</th><th>Details</th><th>Hash</th></tr></thead>"
        "<tbody>\n");
    for (auto record = records.rbegin(); record != records.rend(); ++record) record_row(client, *record);
    papplClientHTMLPuts(client, "</tbody></table></div>\n");
    papplClientHTMLFooter(client);
  } catch (const std::exception& e) {
    papplLogClient(client, PAPPL_LOGLEVEL_ERROR, "Audit page failed: %s", e.what());
  }
  return true;
}

// GET /ipp3d/audit/checkpoint: a fresh signed checkpoint as JSON; the fetch is itself an event.
bool checkpoint_resource(pappl_client_t* client, void* data) {
  auto* resources = static_cast<AuditResources*>(data);
  try {
    const http_status_t authorized = papplClientIsAuthorized(client);
    if (authorized != HTTP_STATUS_CONTINUE)
      return papplClientRespond(client, authorized, nullptr, nullptr, 0, 0);
    auto checkpoint = resources->checkpointer.checkpoint_now();
    if (!checkpoint) {
      papplLogClient(client, PAPPL_LOGLEVEL_ERROR, "Audit checkpoint: %s",
                     checkpoint.error().message.c_str());
      return papplClientRespond(client, HTTP_STATUS_SERVER_ERROR, nullptr, nullptr, 0, 0);
    }
    const Requester requester = requester_of(client);
    audit(resources->store,
          AuditEvent{"audit-checkpoint-fetched",
                     requester.user,
                     requester.address,
                     "",
                     0,
                     {{"seq", std::to_string(checkpoint->seq)}, {"hash", checkpoint->hash}}});
    const std::string json = trust::audit_checkpoint_json(*checkpoint);
    if (!papplClientRespond(client, HTTP_STATUS_OK, nullptr, "application/json", 0, json.size()))
      return false;
    return httpWrite2(papplClientGetHTTP(client), json.data(), json.size()) >= 0;
  } catch (const std::exception& e) {
    papplLogClient(client, PAPPL_LOGLEVEL_ERROR, "Audit checkpoint failed: %s", e.what());
    return false;
  }
}

}  // namespace

void add_audit_resources(pappl_system_t* system, const std::vector<pappl_printer_t*>& printers,
                         AuditResources& resources) {
  papplSystemAddResourceCallback(system, kAuditCheckpointPath, "application/json", checkpoint_resource,
                                 &resources);
  papplSystemAddResourceCallback(system, kAuditPagePath, "text/html", audit_page, &resources);
  papplSystemAddLink(system, "Audit log", kAuditPagePath,
                     PAPPL_LOPTIONS_NAVIGATION | PAPPL_LOPTIONS_SECURITY);
  for (pappl_printer_t* printer : printers) {
    papplPrinterAddLink(printer, "Audit log", kAuditPagePath,
                        PAPPL_LOPTIONS_NAVIGATION | PAPPL_LOPTIONS_STATUS);
  }
}

}  // namespace ipp3d::server
