#include "ipp/operator_ops.hpp"

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

// Requires the admin account; answers the HTTP challenge otherwise.
bool authorized_as_admin(pappl_client_t* client) {
  const http_status_t status = papplClientIsAuthorized(client);
  if (status == HTTP_STATUS_CONTINUE) return true;
  papplClientRespond(client, status, nullptr, nullptr, 0, 0);
  return false;
}

// ipp3d-Load-Material.
void load_material(pappl_client_t* client, PrinterRuntime& printer) {
  ipp_attribute_t* key = ippFindAttribute(papplClientGetRequest(client), "material-key", IPP_TAG_ZERO);
  if (key == nullptr || ippGetCount(key) != 1 ||
      (ippGetValueTag(key) != IPP_TAG_KEYWORD && ippGetValueTag(key) != IPP_TAG_NAME)) {
    refuse(client, IPP_STATUS_ERROR_BAD_REQUEST, "ipp3d-Load-Material needs one material-key (keyword).");
    return;
  }
  if (auto loaded = printer.load_material(ippGetString(key, 0, nullptr)); !loaded) {
    refuse(client, IPP_STATUS_ERROR_ATTRIBUTES_OR_VALUES, loaded.error().message);
    return;
  }
  papplLogPrinter(printer.printer(), PAPPL_LOGLEVEL_INFO, "Material \"%s\" loaded by \"%s\".",
                  ippGetString(key, 0, nullptr), papplClientGetUsername(client));
  papplClientRespondIPP(client, IPP_STATUS_OK, nullptr);
}

// ipp3d-Unload-Material.
void unload_material(pappl_client_t* client, PrinterRuntime& printer) {
  if (auto unloaded = printer.unload_material(); !unloaded) {
    refuse(client, IPP_STATUS_ERROR_INTERNAL, unloaded.error().message);
    return;
  }
  papplClientRespondIPP(client, IPP_STATUS_OK, nullptr);
}

// ipp3d-Confirm-Plate-Clear.
void confirm_plate_clear(pappl_client_t* client, PrinterRuntime& printer) {
  if (auto confirmed = printer.confirm_plate_clear(); !confirmed) {
    refuse(client, IPP_STATUS_ERROR_INTERNAL, confirmed.error().message);
    return;
  }
  papplLogPrinter(printer.printer(), PAPPL_LOGLEVEL_INFO, "Build plate confirmed clear by \"%s\".",
                  papplClientGetUsername(client));
  papplClientRespondIPP(client, IPP_STATUS_OK, nullptr);
}

}  // namespace

bool handle_vendor_operation(pappl_client_t* client,
                             const std::function<PrinterRuntime*(pappl_printer_t*)>& lookup) noexcept {
  try {
    const int op = papplClientGetOperation(client);
    if (op != kOpLoadMaterial && op != kOpUnloadMaterial && op != kOpConfirmPlateClear) return false;
    PrinterRuntime* printer = lookup(papplClientGetPrinter(client));
    if (printer == nullptr) {
      refuse(client, IPP_STATUS_ERROR_NOT_FOUND, "No such printer.");
      return true;
    }
    if (!authorized_as_admin(client)) return true;
    if (op == kOpLoadMaterial) load_material(client, *printer);
    if (op == kOpUnloadMaterial) unload_material(client, *printer);
    if (op == kOpConfirmPlateClear) confirm_plate_clear(client, *printer);
  } catch (const std::exception& e) {
    refuse(client, IPP_STATUS_ERROR_INTERNAL, std::string("Internal error: ") + e.what());
  } catch (...) {
    refuse(client, IPP_STATUS_ERROR_INTERNAL, "Internal error.");
  }
  return true;
}

}  // namespace ipp3d::server
