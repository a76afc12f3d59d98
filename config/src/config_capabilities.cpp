// From one configured printer to the PWG 5100.21 attribute model: millimetres
// become nanometres (diameters, thickness) or hundredths of a millimetre (build
// volume); temperatures stay °C.
#include "ipp3d/attributes/job_ticket.hpp"
#include "ipp3d/attributes/units.hpp"
#include "ipp3d/config/config.hpp"

#include <algorithm>
#include <cmath>

namespace ipp3d::config {
namespace {

using attributes::IntegerOrRange;

constexpr int kMaxShellThicknessNm = 10'000'000;  // material-shell-thickness-supported: 0-10 mm
constexpr int kZAccuracyUm = 50;                  // print-accuracy-supported z-accuracy

// Millimetres to nanometres; 0 for values the loader would have refused.
int nanometres(double mm) { return attributes::millimetres_to_nanometres(mm).value_or(0); }

// An axis extent (max - min) in hundredths of a millimetre.
int extent(const AxisRange& axis) {
  return attributes::millimetres_to_hundredths(axis.max - axis.min).value_or(0);
}

// A heater's supported set: 0 (off) plus the usable range, which starts at 1 °C when min_temp is 0.
std::vector<IntegerOrRange> heater_supported(const HeaterLimits& heater) {
  return {IntegerOrRange::single(0), IntegerOrRange::range(std::max(heater.min_temp, 1), heater.max_temp)};
}

// The configured material with key `key`, or nullptr.
const MaterialConfig* find_material(const PrinterConfig& printer, const std::optional<std::string>& key) {
  if (!key) return nullptr;
  const auto found = std::find_if(printer.materials.begin(), printer.materials.end(),
                                  [&](const MaterialConfig& m) { return m.key == *key; });
  return found == printer.materials.end() ? nullptr : &*found;
}

// The sorted, unique material types of the database.
std::vector<std::string> material_types(const PrinterConfig& printer) {
  std::vector<std::string> types;
  for (const auto& m : printer.materials) {
    if (!m.type.empty()) types.push_back(m.type);
  }
  std::sort(types.begin(), types.end());
  types.erase(std::unique(types.begin(), types.end()), types.end());
  return types;
}

// Fills the heated bed and chamber attributes (left empty without the heater).
void fill_heaters(const PrinterConfig& printer, const MaterialConfig* loaded,
                  attributes::PrinterCapabilities& caps) {
  if (printer.bed) {
    caps.platform_temperature_supported = heater_supported(*printer.bed);
    caps.platform_temperature_default = loaded != nullptr ? loaded->bed_min_temp.value_or(0) : 0;
  }
  if (printer.chamber) {
    caps.chamber_temperature_supported = heater_supported(*printer.chamber);
    caps.chamber_temperature_default = 0;
  }
}

// Fills the materials-col and material-*-supported attributes.
void fill_materials(const PrinterConfig& printer, const MaterialConfig* loaded,
                    attributes::PrinterCapabilities& caps) {
  for (const auto& m : printer.materials) caps.materials_col_database.push_back(material_for(printer, m));
  if (loaded != nullptr) caps.materials_col_ready.push_back(material_for(printer, *loaded));
  if (loaded != nullptr) {
    caps.materials_col_default = caps.materials_col_ready;
  } else if (!caps.materials_col_database.empty()) {
    caps.materials_col_default.push_back(caps.materials_col_database.front());
  }
  caps.materials_col_supported = attributes::materials_col_member_names();
  caps.max_materials_col_supported = 1;
  caps.material_diameter_supported = {IntegerOrRange::single(nanometres(printer.filament_diameter_mm))};
  caps.material_nozzle_diameter_supported = {IntegerOrRange::single(nanometres(printer.nozzle_diameter_mm))};
  caps.material_temperature_supported = heater_supported(printer.hotend);
  caps.material_shell_thickness_supported = {IntegerOrRange::range(0, kMaxShellThicknessNm)};
  caps.material_purpose_supported = attributes::known_material_purposes();
  caps.material_type_supported = material_types(printer);
}

// Fills print-accuracy (x/y: a quarter of the nozzle, z: 50 um), base, supports and quality.
void fill_quality(const PrinterConfig& printer, attributes::PrinterCapabilities& caps) {
  const int xy_um = static_cast<int>(std::lround(printer.nozzle_diameter_mm * 1000.0 / 4.0));
  caps.accuracy_units_supported = attributes::known_accuracy_units();
  caps.print_accuracy_supported = attributes::PrintAccuracy{"um", xy_um, xy_um, kZAccuracyUm};
  caps.print_accuracy_default = caps.print_accuracy_supported;
  caps.print_base_supported = attributes::known_print_base_keywords();
  caps.print_base_default = "none";
  caps.print_supports_supported = attributes::known_print_supports_keywords();
  caps.print_supports_default = "none";
  caps.print_quality_supported = {3, 4, 5};
  caps.print_quality_default = 4;
}

}  // namespace

attributes::PrinterCapabilities capabilities_for(const PrinterConfig& printer,
                                                 const std::optional<std::string>& loaded) {
  attributes::PrinterCapabilities caps;
  caps.printer_volume_supported = {extent(printer.volume.x), extent(printer.volume.y),
                                   extent(printer.volume.z)};
  caps.platform_shape = printer.platform_shape;
  const MaterialConfig* loaded_material = find_material(printer, loaded);
  fill_heaters(printer, loaded_material, caps);
  fill_materials(printer, loaded_material, caps);
  fill_quality(printer, caps);
  caps.ipp_features_supported = {"ipp-3d"};
  caps.document_format_supported = {"text/x-gcode"};
  caps.document_format_default = "text/x-gcode";
  caps.color_supported = false;
  caps.multiple_document_jobs_supported = false;
  caps.job_creation_attributes_supported = attributes::job_ticket_attribute_names();
  return caps;
}

attributes::Material material_for(const PrinterConfig& printer, const MaterialConfig& material) {
  attributes::Material m;
  m.material_key = material.key;
  if (!material.name.empty()) m.material_name = material.name;
  if (!material.type.empty()) m.material_type = material.type;
  m.material_color = material.color;
  m.material_diameter = nanometres(material.diameter_mm.value_or(printer.filament_diameter_mm));
  if (material.diameter_tolerance_mm)
    m.material_diameter_tolerance = nanometres(*material.diameter_tolerance_mm);
  m.material_temperature = IntegerOrRange::range(material.hotend_min_temp, material.hotend_max_temp);
  m.material_fill_density = material.fill_density;
  if (material.shell_thickness_mm) m.material_shell_thickness = nanometres(*material.shell_thickness_mm);
  m.material_nozzle_diameter = nanometres(printer.nozzle_diameter_mm);
  m.material_retraction = material.retraction;
  return m;
}

}  // namespace ipp3d::config
