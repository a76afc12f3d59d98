// The built-in configuration: one virtual 220 x 220 x 250 mm FDM printer that
// matches the shared sample G-code (0.4 mm nozzle, 1.75 mm filament, Klipper
// PRINT_START/PRINT_END macros, PLA loaded).
#include "ipp3d/config/config.hpp"

namespace ipp3d::config {
namespace {

// A material of the default database.
MaterialConfig default_material(std::string key, std::string name, std::string type, int hotend_min,
                                int hotend_max, int bed_min, int bed_max) {
  MaterialConfig material;
  material.key = std::move(key);
  material.name = std::move(name);
  material.type = std::move(type);
  material.hotend_min_temp = hotend_min;
  material.hotend_max_temp = hotend_max;
  material.bed_min_temp = bed_min;
  material.bed_max_temp = bed_max;
  return material;
}

// The Klipper macros the sample G-code calls.
std::vector<Macro> default_macros() {
  Macro start;
  start.name = "PRINT_START";
  start.hotend_temperature_params = {"EXTRUDER"};
  start.bed_temperature_params = {"BED"};
  Macro end;
  end.name = "PRINT_END";
  return {start, end};
}

}  // namespace

Config default_config() {
  PrinterConfig printer;
  printer.name = "virtual-fdm";
  printer.backend = "virtual";
  printer.volume = Volume{{0.0, 220.0}, {0.0, 220.0}, {0.0, 250.0}};
  printer.home = Position{};
  printer.platform_shape = "rectangle";
  printer.hotend = HeaterLimits{0, 280};
  printer.bed = HeaterLimits{0, 110};
  printer.chamber = std::nullopt;
  printer.nozzle_diameter_mm = 0.4;
  printer.filament_diameter_mm = 1.75;
  printer.macros = default_macros();
  printer.materials = {default_material("pla-generic", "Generic PLA", "pla", 190, 230, 50, 70),
                       default_material("petg-generic", "Generic PETG", "pet", 220, 250, 70, 90)};
  printer.loaded_material = "pla-generic";

  Config config;
  config.server.listen = "127.0.0.1:8631";
  config.printers.push_back(std::move(printer));
  return config;
}

}  // namespace ipp3d::config
