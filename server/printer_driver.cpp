#include "printer_driver.hpp"

#include "ipp3d/attributes/ipp_codec.hpp"

#include "job_print.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <exception>
#include <string_view>

namespace ipp3d::server {
namespace {

// Raster callbacks PAPPL insists on; ipp3d printers never receive raster
// data (raster formats are refused before they reach a job), so they fail.
bool no_raster_job(pappl_job_t*, pappl_pr_options_t*, pappl_device_t*) { return false; }
bool no_raster_page(pappl_job_t*, pappl_pr_options_t*, pappl_device_t*, unsigned) { return false; }
bool no_raster_line(pappl_job_t*, pappl_pr_options_t*, pappl_device_t*, unsigned, const unsigned char*) {
  return false;
}

// Copies `text` into a fixed-size C string field, truncating if needed.
template <std::size_t N>
void copy_field(char (&field)[N], std::string_view text) {
  const std::size_t length = std::min(text.size(), N - 1);
  std::memcpy(field, text.data(), length);
  field[length] = '\0';
}

// The fixed sheet-printer fields PAPPL's driver validation requires.
void fill_sheet_fields(pappl_pr_driver_data_t* d) {
  d->rendjob_cb = no_raster_job;
  d->rendpage_cb = no_raster_page;
  d->rstartjob_cb = no_raster_job;
  d->rstartpage_cb = no_raster_page;
  d->rwriteline_cb = no_raster_line;
  d->raster_types = PAPPL_PWG_RASTER_TYPE_BLACK_8;
  d->num_resolution = 1;
  d->x_resolution[0] = d->y_resolution[0] = 300;
  d->x_default = d->y_default = 300;
  d->ppm = 1;
  d->orient_default = IPP_ORIENT_PORTRAIT;  // meaningless in 3D, but IPP requires 3..6
  d->color_supported = PAPPL_COLOR_MODE_MONOCHROME;
  d->color_default = PAPPL_COLOR_MODE_MONOCHROME;
  d->num_media = 1;
  d->media[0] = "iso_a4_210x297mm";
  d->num_source = 1;
  d->source[0] = "main";
  d->num_type = 1;
  d->type[0] = "stationery";
  pappl_media_col_t media{};
  media.size_width = 21000;
  media.size_length = 29700;
  copy_field(media.size_name, "iso_a4_210x297mm");
  copy_field(media.source, "main");
  copy_field(media.type, "stationery");
  d->media_default = media;
  d->media_ready[0] = media;
}

}  // namespace

const std::set<std::string>& pappl_generated_attributes() {
  static const std::set<std::string> names = {"color-supported",
                                              "document-format-default",
                                              "document-format-supported",
                                              "ipp-features-supported",
                                              "job-creation-attributes-supported",
                                              "multiple-document-jobs-supported",
                                              "print-quality-default",
                                              "print-quality-supported"};
  return names;
}

void add_security_attributes(const PrinterRuntime& printer, ipp_t* attrs) {
  const trust::PublicKey& key = printer.keys().encryption.public_key();
  const std::string id = trust::key_id_hex(key.id);
  ippAddString(attrs, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "ipp3d-printer-key-id", nullptr, id.c_str());
  const std::string key_file = trust::format_public_key(key);
  ippAddString(attrs, IPP_TAG_PRINTER, IPP_TAG_TEXT, "ipp3d-printer-public-key", nullptr, key_file.c_str());
  const config::SecurityConfig& security = printer.config().security;
  ippAddBoolean(attrs, IPP_TAG_PRINTER, "ipp3d-signature-required", security.require_signature ? 1 : 0);
  ippAddBoolean(attrs, IPP_TAG_PRINTER, "ipp3d-unaddressed-envelopes-accepted",
                security.accept_unaddressed ? 1 : 0);
  ippAddInteger(attrs, IPP_TAG_PRINTER, IPP_TAG_INTEGER, "ipp3d-envelope-max-lifetime",
                security.max_envelope_lifetime_days * 86400);
  ippAddInteger(attrs, IPP_TAG_PRINTER, IPP_TAG_INTEGER, "ipp3d-document-max-size-mb",
                security.max_document_size_mb);
  ippAddString(attrs, IPP_TAG_PRINTER, IPP_TAG_TEXT, "ipp3d-gcode-policy-digest", nullptr,
               printer.policy_digest().c_str());
  ippAddString(attrs, IPP_TAG_PRINTER, IPP_TAG_TEXT, "ipp3d-gcode-policy-resource", nullptr,
               gcode_policy_path(printer).c_str());
}

void add_machine_attributes(const MachineView& view, ipp_t* attrs) {
  ippAddString(attrs, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "ipp3d-machine-state", nullptr, view.state.c_str());
  ippAddString(attrs, IPP_TAG_PRINTER, IPP_TAG_TEXT, "ipp3d-printer-status-message", nullptr,
               view.message.c_str());
  if (!view.temperatures) {
    ippAddOutOfBand(attrs, IPP_TAG_PRINTER, IPP_TAG_NOVALUE, "ipp3d-temperatures");
    return;
  }
  const Temperatures& t = *view.temperatures;
  IppPtr collection = make_ipp();
  for (const auto& [name, value] :
       {std::pair{"hotend-current", t.hotend}, std::pair{"hotend-target", t.hotend_target},
        std::pair{"bed-current", t.bed}, std::pair{"bed-target", t.bed_target}}) {
    ippAddInteger(collection.get(), IPP_TAG_ZERO, IPP_TAG_INTEGER, name,
                  static_cast<int>(std::lround(std::clamp(value, -300.0, 3000.0))));
  }
  ippAddCollection(attrs, IPP_TAG_PRINTER, "ipp3d-temperatures", collection.get());
}

std::string gcode_policy_path(const PrinterRuntime& printer) {
  return "/" + printer.name() + "/gcode-policy.json";
}

std::string driver_name_for(const std::string& printer_name) { return "ipp3d-" + printer_name; }

bool fill_driver_data(PrinterRuntime& printer, pappl_pr_driver_data_t* d, ipp_t** driver_attrs) {
  try {
    fill_sheet_fields(d);
    d->extension = &printer;
    d->printfile_cb = print_job_file;
    d->format = "text/x-gcode";
    copy_field(d->make_and_model, printer.config().make_and_model);
    d->quality_default = static_cast<ipp_quality_t>(printer.capabilities().print_quality_default);
    d->num_features = 1;
    d->features[0] = "ipp-3d";

    *driver_attrs = printer.driver_attributes().release();  // PAPPL takes ownership
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace ipp3d::server
