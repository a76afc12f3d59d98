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

// A material as far as the gate needs it (°C): the job's, or one of the
// printer's database.
struct MaterialRange {
  std::string label;           // key or name, for messages
  int hotend_min = 0;          // inclusive
  int hotend_max = 0;          // inclusive
  std::optional<int> bed_min;  // absent: the material does not restrict the bed
  std::optional<int> bed_max;
  bool operator==(const MaterialRange&) const = default;
};

// Everything about the printer the gate enforces, and its materials database
// (the ranges a job's material brings). Built from a config::PrinterConfig
// with limits_for(), in a normal form (lists sorted, overridden commands
// folded into macro_commands) that the published policy carries exactly; a
// backend may add commands that a Klipper macro replaces (rename_existing)
// to `macro_commands`.
struct Limits {
  config::Volume volume;                        // mm, machine coordinates
  config::Position home;                        // position after G28, mm
  config::HeaterLimits hotend;                  // °C
  std::optional<config::HeaterLimits> bed;      // absent: no heated bed
  std::optional<config::HeaterLimits> chamber;  // absent: no heated chamber
  config::GcodeLimits gcode;                    // [printer.limits] (overridden_commands empty)
  std::vector<config::Macro> macros;            // allowed macros, by name, parameters sorted
  std::set<std::string> macro_commands;         // upper-case commands replaced by macros
  std::vector<MaterialRange> materials;         // the printer's materials database, by key (label = key)
  double filament_diameter_mm = 1.75;
  bool operator==(const Limits&) const = default;
};

// What the job declares: its material (requested, else loaded; absent when
// neither is known) and the platform-temperature of its ticket, if any.
struct Job {
  std::optional<MaterialRange> material;
  std::optional<int> platform_temperature;  // °C the ticket asks for (after actual_platform_temperature)
  bool operator==(const Job&) const = default;
};

// Derives the gate's limits from a printer's configuration; the configured
// macros and [printer.limits].overridden_commands become `macro_commands`
// when they shadow a standard command; macros are sorted by name (their
// parameters too) and materials by key. Never fails (the config is validated).
Limits limits_for(const config::PrinterConfig& printer);

// The range of a configured material.
MaterialRange material_range(const config::MaterialConfig& material);

// The range of a materials-col value; an error when it has no
// material-temperature (the gate cannot check a material without one).
Result<MaterialRange> material_range(const attributes::Material& material);

// Finds a material of the printer's database by key; an error naming the key
// and the known keys when there is none.
Result<MaterialRange> find_material(const config::PrinterConfig& printer, const std::string& key);

// The same in the limits' copy of the database (as a client reads it from
// the published policy); the error (status client-error-bad-request,
// attribute material-key) names the key and the known keys.
Result<MaterialRange> find_material(const Limits& limits, const std::string& key);

// The platform-temperature a job will use when its ticket requests
// `requested` °C: clamped into the bed range of `material` — the ticket's
// material, else the printer's materials-col-default (the loaded one, else
// the first of the database) —, 0 (heater off) kept, unchanged when the
// material has no bed range. ipp3d-server records it as
// platform-temperature-actual and the gate compares the G-code's bed
// temperature with it.
int actual_platform_temperature(int requested, const MaterialRange& material);

}  // namespace ipp3d::gcode
