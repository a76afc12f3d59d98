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

}  // namespace

Limits limits_for(const config::PrinterConfig& printer) {
  Limits limits;
  limits.volume = printer.volume;
  limits.home = printer.home;
  limits.hotend = printer.hotend;
  limits.bed = printer.bed;
  limits.chamber = printer.chamber;
  limits.gcode = printer.limits;
  limits.macros = printer.macros;
  limits.filament_diameter_mm = printer.filament_diameter_mm;
  for (const auto& name : printer.limits.overridden_commands) limits.macro_commands.insert(name);
  for (const auto& macro : printer.macros) {
    if (is_standard_command(macro.name)) limits.macro_commands.insert(macro.name);
  }
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

}  // namespace ipp3d::gcode
