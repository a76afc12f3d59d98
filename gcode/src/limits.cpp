// Building the gate's limits from the printer configuration and the job's material.
#include "ipp3d/gcode/limits.hpp"

#include <algorithm>

namespace ipp3d::gcode {
namespace {

// True for a standard command name: one letter followed by digits ("M109", "G28").
bool is_standard_command(const std::string& name) {
  return name.size() >= 2 && name[0] >= 'A' && name[0] <= 'Z' &&
         std::all_of(name.begin() + 1, name.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The macros in normal form: by name, each parameter list sorted.
std::vector<config::Macro> sorted_macros(std::vector<config::Macro> macros) {
  for (auto& macro : macros) {
    std::sort(macro.hotend_temperature_params.begin(), macro.hotend_temperature_params.end());
    std::sort(macro.bed_temperature_params.begin(), macro.bed_temperature_params.end());
    std::sort(macro.chamber_temperature_params.begin(), macro.chamber_temperature_params.end());
  }
  std::sort(macros.begin(), macros.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return macros;
}

// The keys of a materials list, "a, b, c", for messages.
std::string keys_of(const std::vector<MaterialRange>& materials) {
  std::string known;
  for (const auto& material : materials) known += (known.empty() ? "" : ", ") + material.label;
  return known;
}

}  // namespace

Limits limits_for(const config::PrinterConfig& printer) {
  Limits limits;
  limits.volume = printer.volume;
  limits.home = printer.home;
  limits.hotend = printer.hotend;
  limits.bed = printer.bed;
  limits.chamber = printer.chamber;
  limits.gcode = printer.limits;
  limits.gcode.overridden_commands.clear();  // carried by macro_commands
  limits.macros = sorted_macros(printer.macros);
  limits.filament_diameter_mm = printer.filament_diameter_mm;
  for (const auto& name : printer.limits.overridden_commands) limits.macro_commands.insert(name);
  for (const auto& macro : printer.macros) {
    if (is_standard_command(macro.name)) limits.macro_commands.insert(macro.name);
  }
  for (const auto& material : printer.materials) limits.materials.push_back(material_range(material));
  std::sort(limits.materials.begin(), limits.materials.end(),
            [](const auto& a, const auto& b) { return a.label < b.label; });
  return limits;
}

MaterialRange material_range(const config::MaterialConfig& material) {
  return MaterialRange{material.key, material.hotend_min_temp, material.hotend_max_temp,
                       material.bed_min_temp, material.bed_max_temp};
}

Result<MaterialRange> material_range(const attributes::Material& material) {
  if (!material.material_temperature) {
    return attribute_error("materials-col", "material \"" + material.label() +
                                                "\" has no material-temperature; the G-code check needs one");
  }
  MaterialRange range;
  range.label = material.material_key.value_or(material.label());
  range.hotend_min = material.material_temperature->lower;
  range.hotend_max = material.material_temperature->upper;
  return range;
}

Result<MaterialRange> find_material(const config::PrinterConfig& printer, const std::string& key) {
  std::string known;
  for (const auto& material : printer.materials) {
    if (material.key == key) return material_range(material);
    known += (known.empty() ? "" : ", ") + material.key;
  }
  return attribute_error("material-key", "printer \"" + printer.name + "\" has no material \"" + key +
                                             "\" (known: " + known + ")");
}

Result<MaterialRange> find_material(const Limits& limits, const std::string& key) {
  for (const auto& material : limits.materials) {
    if (material.label == key) return material;
  }
  return Error{IPP_STATUS_ERROR_BAD_REQUEST,
               "the printer has no material \"" + key + "\" (known: " + keys_of(limits.materials) + ")",
               "material-key", 0};
}

int actual_platform_temperature(int requested, const MaterialRange& material) {
  if (requested == 0 || !material.bed_min || !material.bed_max) return requested;
  return std::clamp(requested, *material.bed_min, *material.bed_max);
}

}  // namespace ipp3d::gcode
