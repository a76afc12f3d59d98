// What the G-code gate checks a file against: the printer's limits (from its
// configuration) and the job's material. docs/gcode-policy.md explains each rule.
#pragma once

#include "ipp3d/attributes/material.hpp"
#include "ipp3d/config/config.hpp"
#include "ipp3d/result.hpp"

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace ipp3d::gcode {

// Everything about the printer the gate enforces. Built from a
// config::PrinterConfig with limits_for(); a backend may add commands that a
// Klipper macro replaces (rename_existing) to `macro_commands`.
struct Limits {
  config::Volume volume;                        // mm, machine coordinates
  config::Position home;                        // position after G28, mm
  config::HeaterLimits hotend;                  // °C
  std::optional<config::HeaterLimits> bed;      // absent: no heated bed
  std::optional<config::HeaterLimits> chamber;  // absent: no heated chamber
  config::GcodeLimits gcode;                    // [printer.limits]
  std::vector<config::Macro> macros;            // allowed macros with their temperature parameters
  std::set<std::string> macro_commands;         // upper-case commands replaced by macros
  double filament_diameter_mm = 1.75;
  bool operator==(const Limits&) const = default;
};

// The material a job prints with, as far as the gate needs it (°C).
struct MaterialRange {
  std::string label;           // key or name, for messages
  int hotend_min = 0;          // inclusive
  int hotend_max = 0;          // inclusive
  std::optional<int> bed_min;  // absent: the material does not restrict the bed
  std::optional<int> bed_max;
  bool operator==(const MaterialRange&) const = default;
};

// What the job declares: its material (requested, else loaded; absent when
// neither is known) and the platform-temperature of its ticket, if any.
struct Job {
  std::optional<MaterialRange> material;
  std::optional<int> platform_temperature;  // °C requested by the ticket
  bool operator==(const Job&) const = default;
};

// Derives the gate's limits from a printer's configuration; the configured
// macros and [printer.limits].overridden_commands become `macro_commands`
// when they shadow a standard command. Never fails (the config is validated).
Limits limits_for(const config::PrinterConfig& printer);

// The range of a configured material.
MaterialRange material_range(const config::MaterialConfig& material);

// The range of a materials-col value; an error when it has no
// material-temperature (the gate cannot check a material without one).
Result<MaterialRange> material_range(const attributes::Material& material);

// Finds a material of the printer's database by key; an error naming the key
// and the known keys when there is none.
Result<MaterialRange> find_material(const config::PrinterConfig& printer, const std::string& key);

}  // namespace ipp3d::gcode
