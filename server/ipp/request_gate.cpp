#include "ipp/request_gate.hpp"

#include "ipp3d/attributes/ipp_codec.hpp"
#include "ipp3d/attributes/validation.hpp"
#include "ipp3d/gcode/limits.hpp"

#include "audit.hpp"
#include "document_format.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <exception>
#include <limits>
#include <string>

namespace ipp3d::server {
namespace {

// The top-level attribute name of an error path: "materials-col[0].x" -> "materials-col".
std::string top_level_name(const std::string& path) { return path.substr(0, path.find_first_of("[.")); }

// Sets an IPP error on the response with the reason in status-message and
// detailed-status-message (PAPPL may later overwrite status-message, never
// the detailed one).
void set_refusal(pappl_client_t* client, ipp_status_t status, const std::string& message) {
  ipp_t* response = papplClientRespondIPP(client, status, "%s", message.c_str());
  ippAddString(response, IPP_TAG_OPERATION, IPP_TAG_TEXT, "detailed-status-message", nullptr,
               message.c_str());
}

// Makes PAPPL give up on the request by itself after our refusal, without
// creating a job (see docs/ipp-extensions.md, "How requests are refused").
void make_pappl_give_up(pappl_client_t* client, ipp_op_t op) {
  if (op == IPP_OP_PRINT_JOB) {
    discard_request_body(client);  // PAPPL then finds no document and creates no job
  } else if (op == IPP_OP_CREATE_JOB) {
    ipp_t* request = papplClientGetRequest(client);
    if (ipp_attribute_t* fidelity = ippFindAttribute(request, "ipp-attribute-fidelity", IPP_TAG_ZERO)) {
      ippDeleteAttribute(request, fidelity);
    }
    // A wrongly typed ipp-attribute-fidelity makes PAPPL's own validation fail.
    ippAddInteger(request, IPP_TAG_OPERATION, IPP_TAG_INTEGER, "ipp-attribute-fidelity", 0);
  }
  // Validate-Job: PAPPL answers with the status already set.
}

// Peeks at the start of the document body without consuming it.
std::optional<std::string> peek_document_format(pappl_client_t* client) {
  std::array<unsigned char, 8192> header{};
  const ssize_t bytes =
      httpPeek(papplClientGetHTTP(client), reinterpret_cast<char*>(header.data()), header.size());
  if (bytes <= 0) return std::nullopt;
  return detect_format({header.data(), static_cast<std::size_t>(bytes)});
}

// The document format a request declares ("" when absent).
std::string declared_format(ipp_t* request) {
  const char* format =
      ippGetString(ippFindAttribute(request, "document-format", IPP_TAG_MIMETYPE), 0, nullptr);
  return format != nullptr ? format : "";
}

// What the printer prints, for messages.
std::string accepted_formats_text(bool signature_required) {
  return signature_required
             ? "this printer prints signed jobs only (application/vnd.ipp3d.envelope): sign the "
               "G-code with `ipp3d sign` and send the envelope"
             : "this printer prints signed jobs (application/vnd.ipp3d.envelope) and G-code "
               "(text/x-gcode)";
}

// Checks the declared and (when a document follows) detected format against
// what `printer` accepts. Returns an empty string when acceptable, else the reason.
std::string format_problem(pappl_client_t* client, const PrinterRuntime& printer, bool has_document) {
  const bool signature_required = printer.config().security.require_signature;
  const std::string declared = declared_format(papplClientGetRequest(client));
  if (!declared.empty() && declared != kOctetStream && !is_accepted_format(declared, signature_required)) {
    if (declared == kGcodeFormat) return "plain G-code is refused: " + accepted_formats_text(true);
    return "document-format '" + declared +
           "' is not supported: " + accepted_formats_text(signature_required);
  }
  if (!has_document) return {};
  const auto detected = peek_document_format(client);
  if (!detected) {
    return "the document is neither a signed envelope nor G-code: " +
           accepted_formats_text(signature_required);
  }
  if (!is_accepted_format(*detected, signature_required)) {
    return "the document is plain G-code: " + accepted_formats_text(true);
  }
  if (!declared.empty() && declared != kOctetStream && declared != *detected) {
    return "the document is " + *detected + " but was sent as " + declared;
  }
  return {};
}

// Adds the refused document-format to the unsupported-attributes group.
void report_unsupported_format(pappl_client_t* client) {
  const std::string declared = declared_format(papplClientGetRequest(client));
  ippAddString(papplClientGetResponse(client), IPP_TAG_UNSUPPORTED_GROUP, IPP_TAG_MIMETYPE, "document-format",
               nullptr, declared.empty() ? std::string(kOctetStream).c_str() : declared.c_str());
}

// Takes the client's job-hold-until/-time out of PAPPL's hands (PAPPL 1.3.1
// releases future holds at once) and keeps it in kRequestedHoldAttribute for
// the scheduler. Every printer is in PAPPL's hold-new-jobs mode, so the job
// is held on arrival anyway and released by the scheduler.
void hold_on_arrival(ipp_t* request) {
  std::string requested = "no-hold";
  if (ipp_attribute_t* hold = ippFindAttribute(request, "job-hold-until", IPP_TAG_ZERO)) {
    if (const char* value = ippGetString(hold, 0, nullptr)) requested = value;
    ippDeleteAttribute(request, hold);
  }
  if (ipp_attribute_t* hold_time = ippFindAttribute(request, "job-hold-until-time", IPP_TAG_ZERO)) {
    const ipp_uchar_t* date = ippGetValueTag(hold_time) == IPP_TAG_DATE ? ippGetDate(hold_time, 0) : nullptr;
    const std::time_t until = date != nullptr ? ippDateToTime(date) : 0;
    ippDeleteAttribute(request, hold_time);
    requested = "time";
    ippAddInteger(request, IPP_TAG_JOB, IPP_TAG_INTEGER, kRequestedHoldTimeAttribute,
                  static_cast<int>(std::min<std::time_t>(until, std::numeric_limits<int>::max())));
  }
  ippAddString(request, IPP_TAG_JOB, IPP_TAG_KEYWORD, kRequestedHoldAttribute, nullptr, requested.c_str());
}

// The configured material a validated materials-col value refers to.
const config::MaterialConfig* configured_material(const PrinterRuntime& printer,
                                                  const attributes::Material& material) {
  for (const auto& candidate : printer.config().materials) {
    if (material.material_key && candidate.key == *material.material_key) return &candidate;
  }
  return nullptr;
}

// The platform temperature the job will use: a requested value outside the
// material's configured bed range (but inside the printer's limits, already
// checked) is clamped into it; 0 (heater off) is kept.
std::optional<int> actual_platform_temperature(const attributes::JobTicket& ticket,
                                               const attributes::ValidatedTicket& validated,
                                               const PrinterRuntime& printer,
                                               std::vector<attributes::Substitution>& substitutions) {
  if (!ticket.platform_temperature) return std::nullopt;
  const int wanted = *ticket.platform_temperature;
  if (wanted == 0 || validated.materials.empty()) return wanted;
  const auto* material = configured_material(printer, validated.materials.front());
  if (material == nullptr) return wanted;
  // The same rule as the client's preflight (ipp3d check --printer).
  const int actual = gcode::actual_platform_temperature(wanted, gcode::material_range(*material));
  if (actual != wanted) {
    substitutions.push_back({"platform-temperature", "platform-temperature " + std::to_string(wanted) +
                                                         " was clamped to " + std::to_string(actual) +
                                                         " for " + material->name + " (" +
                                                         std::to_string(*material->bed_min_temp) + "-" +
                                                         std::to_string(*material->bed_max_temp) + ")"});
  }
  return actual;
}

// Reports clamped values (successful-ok-ignored-or-substituted-attributes,
// the originals in the unsupported-attributes group) and, for a job, records
// what it will really use as materials-col-actual / platform-temperature-actual.
void apply_substitutions(pappl_client_t* client, const attributes::JobTicket& ticket,
                         const attributes::ValidatedTicket& validated, const PrinterRuntime& printer) {
  ipp_t* request = papplClientGetRequest(client);
  std::vector<attributes::Substitution> substitutions = validated.substitutions;
  const auto platform = actual_platform_temperature(ticket, validated, printer, substitutions);
  if (!substitutions.empty()) {
    std::string message;
    for (const auto& substitution : substitutions)
      message += (message.empty() ? "" : "; ") + substitution.message;
    set_refusal(client, IPP_STATUS_OK_IGNORED_OR_SUBSTITUTED, message);
    for (const auto& substitution : substitutions) {
      const std::string name = top_level_name(substitution.attribute);
      if (ipp_attribute_t* original = ippFindAttribute(request, name.c_str(), IPP_TAG_ZERO)) {
        ipp_attribute_t* copy = ippCopyAttribute(papplClientGetResponse(client), original, 0);
        ippSetGroupTag(papplClientGetResponse(client), &copy, IPP_TAG_UNSUPPORTED_GROUP);
      }
    }
  }
  if (papplClientGetOperation(client) == IPP_OP_VALIDATE_JOB) return;
  // Job-group attributes of the request are copied into the new job.
  std::vector<IppPtr> collections;
  for (const auto& material : validated.materials)
    collections.push_back(attributes::encode_material(material));
  if (!collections.empty()) {
    ipp_attribute_t* actual =
        ippAddCollection(request, IPP_TAG_JOB, "materials-col-actual", collections[0].get());
    for (std::size_t i = 1; i < collections.size(); ++i) {
      ippSetCollection(request, &actual, static_cast<int>(i), collections[i].get());
    }
  }
  if (platform)
    ippAddInteger(request, IPP_TAG_JOB, IPP_TAG_INTEGER, "platform-temperature-actual", *platform);
}

// Records a Print-Job or Create-Job refused before any job exists (a
// Validate-Job is only a question and is not recorded).
void audit_request_refusal(pappl_client_t* client, PrinterRuntime& printer, const std::string& attribute,
                           const std::string& reason) {
  const ipp_op_t op = papplClientGetOperation(client);
  if (op == IPP_OP_VALIDATE_JOB) return;
  const Requester who = requester_of(client);
  audit(printer.store(),
        AuditEvent{"job-request-refused",
                   who.user,
                   who.address,
                   printer.name(),
                   0,
                   {{"operation", ippOpString(op)}, {"attribute", attribute}, {"reason", reason}}});
}

// Records a Set-Printer-Attributes request (admin, authorized) in the audit
// log with the attributes it sets; PAPPL then applies or refuses it.
void audit_configuration_request(pappl_client_t* client, PrinterRuntime& printer) {
  std::string names;
  for (ipp_attribute_t* attr = ippFirstAttribute(papplClientGetRequest(client)); attr != nullptr;
       attr = ippNextAttribute(papplClientGetRequest(client))) {
    if (ippGetGroupTag(attr) != IPP_TAG_PRINTER || ippGetName(attr) == nullptr) continue;
    std::array<char, 256> value{};
    ippAttributeString(attr, value.data(), value.size());
    names += (names.empty() ? "" : "; ") + std::string(ippGetName(attr)) + "=" + value.data();
  }
  const Requester who = requester_of(client);
  audit(printer.store(), AuditEvent{"printer-configuration-requested",
                                    who.user,
                                    who.address,
                                    printer.name(),
                                    0,
                                    {{"operation", "Set-Printer-Attributes"}, {"attributes", names}}});
}

// Narrows Get-Jobs to `user`'s jobs: my-jobs=true and requesting-user-name
// replaced by the authenticated name (PAPPL then lists only those jobs).
void show_only_own_jobs(ipp_t* request, const char* user) {
  for (const char* name : {"my-jobs", "requesting-user-name"}) {
    while (ipp_attribute_t* attr = ippFindAttribute(request, name, IPP_TAG_ZERO))
      ippDeleteAttribute(request, attr);
  }
  ippAddBoolean(request, IPP_TAG_OPERATION, "my-jobs", 1);
  ippAddString(request, IPP_TAG_OPERATION, IPP_TAG_NAME, "requesting-user-name", nullptr,
               user != nullptr ? user : "");
}

}  // namespace

void discard_request_body(pappl_client_t* client) {
  http_t* http = papplClientGetHTTP(client);
  if (httpGetState(http) != HTTP_STATE_POST_RECV) return;
  std::array<char, 65536> buffer{};
  while (httpRead2(http, buffer.data(), buffer.size()) > 0) {
  }
}

http_status_t RequestGate::authorize(pappl_client_t* client, const char* group) noexcept {
  try {
    if (!papplClientIsEncrypted(client)) {
      discard_request_body(client);
      return HTTP_STATUS_UPGRADE_REQUIRED;
    }
    const Identity identity = identify(client);
    if (identity.busy) {
      discard_request_body(client);
      return HTTP_STATUS_SERVICE_UNAVAILABLE;
    }
    const std::optional<Role>& role = identity.role;
    const Right right = required_right_of(client);
    switch (decide(role, right)) {
      case Decision::kNeedCredentials:
        discard_request_body(client);
        return HTTP_STATUS_UNAUTHORIZED;
      case Decision::kForbidden:
        papplLogClient(client, PAPPL_LOGLEVEL_WARN, "\"%s\" (%s) refused: the request needs the %s right.",
                       papplClientGetUsername(client), role_name(*role), right_name(right));
        // PAPPL would carry the request out after CONTINUE: only an HTTP
        // status stops it (the client sees client-error-forbidden).
        discard_request_body(client);
        return HTTP_STATUS_FORBIDDEN;
      case Decision::kAllow:
        break;
    }
    const ipp_op_t op = papplClientGetOperation(client);
    if (op == IPP_OP_SET_PRINTER_ATTRIBUTES) {
      if (PrinterRuntime* printer = lookup_(papplClientGetPrinter(client)))
        audit_configuration_request(client, *printer);
    }
    // PAPPL asks a second time, with the admin group, when the job is
    // another user's: the first call has screened the request already.
    if (group != nullptr && std::strcmp(group, kAdminGroup) == 0) return HTTP_STATUS_CONTINUE;
    if (papplClientGetRequest(client) == nullptr) return HTTP_STATUS_CONTINUE;  // a web page
    switch (op) {
      case IPP_OP_PRINT_JOB:
      case IPP_OP_VALIDATE_JOB:
      case IPP_OP_CREATE_JOB:
        if (PrinterRuntime* printer = lookup_(papplClientGetPrinter(client)))
          screen_job_request(client, *printer);
        break;
      case IPP_OP_SEND_DOCUMENT:
        if (PrinterRuntime* printer = lookup_(papplClientGetPrinter(client)))
          screen_send_document(client, *printer);
        break;
      case IPP_OP_GET_JOBS:
        if (!role_has_right(*role, Right::kManageJobs))
          show_only_own_jobs(papplClientGetRequest(client), papplClientGetUsername(client));
        break;
      default:
        break;
    }
    return HTTP_STATUS_CONTINUE;
  } catch (const std::exception& e) {
    papplLogClient(client, PAPPL_LOGLEVEL_ERROR, "Request refused after an internal error: %s", e.what());
    return HTTP_STATUS_SERVER_ERROR;
  } catch (...) {
    return HTTP_STATUS_SERVER_ERROR;
  }
}

RequestGate::Identity RequestGate::identify(pappl_client_t* client) {
  const char* header = httpGetField(papplClientGetHTTP(client), HTTP_FIELD_AUTHORIZATION);
  if (header == nullptr || *header == '\0') return {};
  const auto credentials = parse_basic_authorization(header);
  if (!credentials) return {};
  const LoginResult login = verifier_.verify(*credentials, client_address(papplClientGetHTTP(client)));
  if (!login.log_message.empty())
    papplLogClient(client, pappl_log_level(login.log_level), "%s", login.log_message.c_str());
  // Locks and throttling answer like a wrong password; only a full hashing queue differs.
  if (login.outcome == LoginOutcome::kBusy) return Identity{std::nullopt, true};
  if (!login.role) return {};
  // PAPPL records this name as the owner of new jobs and compares it with
  // the owner of the job a request names.
  papplClientSetUsername(client, credentials->user.c_str());
  return Identity{login.role, false};
}

Right RequestGate::required_right_of(pappl_client_t* client) const {
  if (papplClientGetRequest(client) == nullptr) {
    const char* path = papplClientGetURI(client);
    return required_web_right(path != nullptr && operator_pages_.count(path) != 0);
  }
  JobOwner owner = JobOwner::kNone;
  if (pappl_job_t* job = papplClientGetJob(client)) {
    const char* job_user = papplJobGetUsername(job);
    const char* user = papplClientGetUsername(client);
    if (job_user != nullptr && (user == nullptr || std::strcmp(job_user, user) != 0))
      owner = JobOwner::kOther;
  }
  return required_right(papplClientGetOperation(client), owner);
}

void RequestGate::screen_job_request(pappl_client_t* client, PrinterRuntime& printer) {
  ipp_t* request = papplClientGetRequest(client);
  const ipp_op_t op = papplClientGetOperation(client);

  if (const std::string problem = format_problem(client, printer, op == IPP_OP_PRINT_JOB); !problem.empty()) {
    set_refusal(client, IPP_STATUS_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED, problem);
    report_unsupported_format(client);
    make_pappl_give_up(client, op);
    audit_request_refusal(client, printer, "document-format", problem);
    return;
  }
  auto ticket = attributes::decode_job_ticket(request);
  Status verdict = ticket ? Status{} : Status{ticket.error()};
  std::optional<attributes::ValidatedTicket> accepted;
  if (ticket) {
    auto validated = attributes::validate_job_ticket(*ticket, printer.capabilities(),
                                                     attributes::LoadedMaterialPolicy::kMayWait);
    if (validated) {
      accepted = std::move(validated).value();
    } else {
      verdict = validated.error();
    }
  }
  if (!verdict) {
    set_refusal(client, IPP_STATUS_ERROR_ATTRIBUTES_OR_VALUES, verdict.error().message);
    const std::string name = top_level_name(verdict.error().attribute);
    if (ipp_attribute_t* offending = ippFindAttribute(request, name.c_str(), IPP_TAG_ZERO)) {
      ipp_attribute_t* copy = ippCopyAttribute(papplClientGetResponse(client), offending, 0);
      ippSetGroupTag(papplClientGetResponse(client), &copy, IPP_TAG_UNSUPPORTED_GROUP);
    }
    make_pappl_give_up(client, op);
    audit_request_refusal(client, printer, name, verdict.error().message);
    return;
  }
  apply_substitutions(client, *ticket, *accepted, printer);
  if (op != IPP_OP_VALIDATE_JOB) hold_on_arrival(request);
}

void RequestGate::screen_send_document(pappl_client_t* client, const PrinterRuntime& printer) {
  const std::string problem =
      format_problem(client, printer, httpGetState(papplClientGetHTTP(client)) == HTTP_STATE_POST_RECV);
  if (problem.empty()) return;
  set_refusal(client, IPP_STATUS_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED, problem);
  report_unsupported_format(client);
  discard_request_body(client);
  if (pappl_job_t* job = papplClientGetJob(client)) {
    papplJobSetReasons(job, PAPPL_JREASON_DOCUMENT_FORMAT_ERROR, PAPPL_JREASON_NONE);
    papplJobSetMessage(job, problem.c_str());
    papplJobCancel(job);
  }
}

}  // namespace ipp3d::server
