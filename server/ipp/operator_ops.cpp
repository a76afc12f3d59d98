#include "ipp/operator_ops.hpp"

#include "operator_actions.hpp"

#include <algorithm>
#include <cmath>
#include <exception>
#include <string>

namespace ipp3d::server {
namespace {

// Answers an operation with an error and its reason.
void refuse(pappl_client_t* client, ipp_status_t status, const std::string& message) {
  ipp_t* response = papplClientRespondIPP(client, status, "%s", message.c_str());
  ippAddString(response, IPP_TAG_OPERATION, IPP_TAG_TEXT, "detailed-status-message", nullptr,
               message.c_str());
}

// Asks the request gate (through PAPPL) whether the client's role may send
// this operation (ipp/role_policy.hpp); answers the HTTP status otherwise.
bool authorized(pappl_client_t* client) {
  const http_status_t status = papplClientIsAuthorized(client);
  if (status == HTTP_STATUS_CONTINUE) return true;
  papplClientRespond(client, status, nullptr, nullptr, 0, 0);
  return false;
}

// The authenticated user's name for logs and the pause origin.
std::string user_of(pappl_client_t* client) {
  const char* user = papplClientGetUsername(client);
  return user != nullptr && *user != '\0' ? user : "admin";
}

// The requester of an operator operation (for the audit log).
Requester requester(pappl_client_t* client) {
  Requester who = requester_of(client);
  who.user = user_of(client);
  return who;
}

// ipp3d-Load-Material.
void load_material(pappl_client_t* client, PrinterRuntime& printer) {
  ipp_attribute_t* key = ippFindAttribute(papplClientGetRequest(client), "material-key", IPP_TAG_ZERO);
  if (key == nullptr || ippGetCount(key) != 1 ||
      (ippGetValueTag(key) != IPP_TAG_KEYWORD && ippGetValueTag(key) != IPP_TAG_NAME)) {
    refuse(client, IPP_STATUS_ERROR_BAD_REQUEST, "ipp3d-Load-Material needs one material-key (keyword).");
    return;
  }
  if (auto loaded = load_material_for(printer, ippGetString(key, 0, nullptr), requester(client)); !loaded) {
    refuse(client, IPP_STATUS_ERROR_ATTRIBUTES_OR_VALUES, loaded.error().message);
    return;
  }
  papplLogPrinter(printer.printer(), PAPPL_LOGLEVEL_INFO, "Material \"%s\" loaded by \"%s\".",
                  ippGetString(key, 0, nullptr), papplClientGetUsername(client));
  papplClientRespondIPP(client, IPP_STATUS_OK, nullptr);
}

// ipp3d-Unload-Material.
void unload_material(pappl_client_t* client, PrinterRuntime& printer) {
  if (auto unloaded = unload_material_for(printer, requester(client)); !unloaded) {
    refuse(client, IPP_STATUS_ERROR_INTERNAL, unloaded.error().message);
    return;
  }
  papplClientRespondIPP(client, IPP_STATUS_OK, nullptr);
}

// ipp3d-Confirm-Plate-Clear.
void confirm_plate_clear(pappl_client_t* client, PrinterRuntime& printer) {
  if (auto confirmed = confirm_plate_clear_for(printer, requester(client)); !confirmed) {
    refuse(client, IPP_STATUS_ERROR_INTERNAL, confirmed.error().message);
    return;
  }
  papplLogPrinter(printer.printer(), PAPPL_LOGLEVEL_INFO, "Build plate confirmed clear by \"%s\".",
                  papplClientGetUsername(client));
  papplClientRespondIPP(client, IPP_STATUS_OK, nullptr);
}

// ipp3d-Get-Job-Facts.
void get_job_facts(pappl_client_t* client, PrinterRuntime& printer) {
  ipp_attribute_t* id = ippFindAttribute(papplClientGetRequest(client), "job-id", IPP_TAG_INTEGER);
  if (id == nullptr || ippGetCount(id) != 1) {
    refuse(client, IPP_STATUS_ERROR_BAD_REQUEST, "ipp3d-Get-Job-Facts needs one job-id (integer).");
    return;
  }
  const auto document = printer.intake().accepted(ippGetInteger(id, 0));
  if (!document) {
    refuse(client, IPP_STATUS_ERROR_NOT_FOUND,
           "No facts for job " + std::to_string(ippGetInteger(id, 0)) +
               ": they are known once its document is verified, until the job ends.");
    return;
  }
  papplClientRespondIPP(client, IPP_STATUS_OK, nullptr);
  ippAddInteger(papplClientGetResponse(client), IPP_TAG_JOB, IPP_TAG_INTEGER, "job-id", ippGetInteger(id, 0));
  add_job_facts(papplClientGetResponse(client), *document);
}

// Answers an operator action's outcome.
void respond(pappl_client_t* client, const Status& done) {
  if (!done) {
    refuse(client, done.error().status, done.error().message);
    return;
  }
  papplClientRespondIPP(client, IPP_STATUS_OK, nullptr);
}

// Suspend-Current-Job: pauses the printer's current print.
void suspend_current_job(pappl_client_t* client, PrinterRuntime& printer) {
  respond(client, suspend_current_print(printer, requester(client)));
}

// Resume-Job: resumes the printer's current print, which must be the job
// named by job-id or job-uri (PAPPL already found it, or answered not-found).
void resume_job(pappl_client_t* client, PrinterRuntime& printer) {
  pappl_job_t* job = papplClientGetJob(client);
  if (job == nullptr) {
    refuse(client, IPP_STATUS_ERROR_BAD_REQUEST, "Resume-Job needs job-id (with printer-uri) or job-uri.");
    return;
  }
  respond(client, resume_current_print(printer, papplJobGetID(job), requester(client)));
}

// ipp3d-Emergency-Stop.
void emergency_stop(pappl_client_t* client, PrinterRuntime& printer) {
  respond(client, emergency_stop_printer(printer, requester(client)));
}

// True for the operations handle_vendor_operation() serves.
bool handled_operation(int op) {
  switch (op) {
    case kOpLoadMaterial:
    case kOpUnloadMaterial:
    case kOpConfirmPlateClear:
    case kOpGetJobFacts:
    case kOpEmergencyStop:
    case IPP_OP_SUSPEND_CURRENT_JOB:
    case IPP_OP_RESUME_JOB:
      return true;
    default:
      return false;
  }
}

// A length in mm as an integer in hundredths of a millimetre (PWG 5100.21's unit).
int hundredths(double mm) { return static_cast<int>(std::lround(mm * 100.0)); }

}  // namespace

void add_job_facts(ipp_t* response, const VerifiedDocument& document) {
  const gcode::Facts& facts = document.facts;
  const auto add_integer = [response](const char* name, std::uint64_t value) {
    ippAddInteger(response, IPP_TAG_JOB, IPP_TAG_INTEGER, name,
                  static_cast<int>(std::min<std::uint64_t>(value, 2147483647)));
  };
  add_integer("ipp3d-layers", facts.layer_count);
  add_integer("ipp3d-lines", facts.lines);
  add_integer("ipp3d-document-size", document.size);
  add_integer("ipp3d-estimated-seconds", static_cast<std::uint64_t>(std::max(0.0, facts.estimate_s())));
  add_integer("ipp3d-filament-mm", static_cast<std::uint64_t>(std::max(0.0, facts.filament_mm)));
  add_integer("ipp3d-max-hotend-temperature", static_cast<std::uint64_t>(std::max(0, facts.max_hotend_temp)));
  add_integer("ipp3d-max-bed-temperature", static_cast<std::uint64_t>(std::max(0, facts.max_bed_temp)));
  if (facts.extrusion_box.valid) {
    IppPtr box = make_ipp();
    const gcode::Box& b = facts.extrusion_box;
    for (const auto& [name, value] :
         {std::pair{"x-min", b.min_x}, std::pair{"x-max", b.max_x}, std::pair{"y-min", b.min_y},
          std::pair{"y-max", b.max_y}, std::pair{"z-min", b.min_z}, std::pair{"z-max", b.max_z}}) {
      ippAddInteger(box.get(), IPP_TAG_ZERO, IPP_TAG_INTEGER, name, hundredths(value));
    }
    ippAddCollection(response, IPP_TAG_JOB, "ipp3d-extrusion-box", box.get());
  }
  if (!facts.slicer.empty()) {
    ippAddString(response, IPP_TAG_JOB, IPP_TAG_TEXT, "ipp3d-slicer", nullptr, facts.slicer.c_str());
  }
  ippAddString(response, IPP_TAG_JOB, IPP_TAG_KEYWORD, "ipp3d-document-sha256", nullptr,
               document.sha256.c_str());
  if (!document.signer_name.empty()) {
    ippAddString(response, IPP_TAG_JOB, IPP_TAG_NAME, "ipp3d-signer-name", nullptr,
                 document.signer_name.c_str());
    ippAddString(response, IPP_TAG_JOB, IPP_TAG_KEYWORD, "ipp3d-signer-key-id", nullptr,
                 document.signer_key_id.c_str());
    if (!document.signer_user.empty()) {
      ippAddString(response, IPP_TAG_JOB, IPP_TAG_NAME, "ipp3d-signer-user", nullptr,
                   document.signer_user.c_str());
    }
  }
  if (document.licence) {
    ippAddString(response, IPP_TAG_JOB, IPP_TAG_NAME, "ipp3d-licence-id", nullptr,
                 document.licence->id.c_str());
    add_integer("ipp3d-licence-copies", document.licence->copies);
  }
}

bool handle_vendor_operation(pappl_client_t* client,
                             const std::function<PrinterRuntime*(pappl_printer_t*)>& lookup) noexcept {
  try {
    const int op = papplClientGetOperation(client);
    if (!handled_operation(op)) return false;
    PrinterRuntime* printer = lookup(papplClientGetPrinter(client));
    if (printer == nullptr) {
      refuse(client, IPP_STATUS_ERROR_NOT_FOUND, "No such printer.");
      return true;
    }
    if (!authorized(client)) return true;
    if (op == kOpGetJobFacts) get_job_facts(client, *printer);
    if (op == kOpLoadMaterial) load_material(client, *printer);
    if (op == kOpUnloadMaterial) unload_material(client, *printer);
    if (op == kOpConfirmPlateClear) confirm_plate_clear(client, *printer);
    if (op == kOpEmergencyStop) emergency_stop(client, *printer);
    if (op == IPP_OP_SUSPEND_CURRENT_JOB) suspend_current_job(client, *printer);
    if (op == IPP_OP_RESUME_JOB) resume_job(client, *printer);
  } catch (const std::exception& e) {
    refuse(client, IPP_STATUS_ERROR_INTERNAL, std::string("Internal error: ") + e.what());
  } catch (...) {
    refuse(client, IPP_STATUS_ERROR_INTERNAL, "Internal error.");
  }
  return true;
}

}  // namespace ipp3d::server
