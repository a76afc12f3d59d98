// Heater targets: M104/M109/M140/M190/M141/M191, SET_HEATER_TEMPERATURE,
// TEMPERATURE_WAIT and the temperature parameters of configured macros. Every
// target must lie within the printer's heater limits and the job's material
// range; 0 (off) is always allowed.
#include "format.hpp"
#include "machine.hpp"
#include "number.hpp"

#include <algorithm>
#include <cmath>

namespace ipp3d::gcode {

using internal::Line;
using internal::Param;

namespace {

constexpr std::size_t kMaxName = 64;

// "hotend", "bed" or "chamber".
std::string_view heater_name(Heater heater) {
  switch (heater) {
    case Heater::kHotend:
      return "hotend";
    case Heater::kBed:
      return "bed";
    case Heater::kChamber:
      return "chamber";
  }
  return "heater";
}

// The Klipper heater behind a HEATER=/SENSOR= name, if the gate knows it.
std::optional<Heater> klipper_heater(std::string_view name) {
  char buffer[kMaxName];
  const std::string_view upper = internal::upper(name, buffer, sizeof buffer);
  if (upper == "EXTRUDER") return Heater::kHotend;
  if (upper == "HEATER_BED") return Heater::kBed;
  if (upper == "CHAMBER" || upper == "HEATER_CHAMBER") return Heater::kChamber;
  return std::nullopt;
}

// True when `name` equals `upper_name` ignoring case.
bool same_name(std::string_view name, std::string_view upper_name) {
  char buffer[kMaxName];
  return internal::upper(name, buffer, sizeof buffer) == upper_name;
}

// True when `list` holds `name` (the list is upper case, `name` any case).
bool listed(const std::vector<std::string>& list, std::string_view name) {
  return std::any_of(list.begin(), list.end(),
                     [&](const std::string& item) { return same_name(name, item); });
}

}  // namespace

// Reports a value outside the heater's limits (or a missing heater); false then.
bool Machine::check_printer_range(Heater heater, double value, std::string_view source) {
  if (value == 0.0) return true;
  const config::HeaterLimits* limits = heater == Heater::kHotend ? &limits_.hotend
                                       : heater == Heater::kBed
                                           ? (limits_.bed ? &*limits_.bed : nullptr)
                                           : (limits_.chamber ? &*limits_.chamber : nullptr);
  const std::string shown = std::string(source) + " " + fmt::celsius(value);
  if (limits == nullptr) {
    violate(rule::kNoHeater, shown, "0 °C", "the printer has no heated " + std::string(heater_name(heater)));
    return false;
  }
  if (!(value >= limits->min_temp && value <= limits->max_temp)) {
    violate(rule::kPrinterTemperature, shown,
            std::to_string(limits->min_temp) + "-" + std::to_string(limits->max_temp) + " °C",
            std::string(heater_name(heater)) + " temperature outside the printer's limits");
    return false;
  }
  return true;
}

// Sets a heater target after checking it against the printer and the material.
void Machine::set_target(Heater heater, double value, std::string_view source) {
  if (check_printer_range(heater, value, source) && value != 0.0 && job_.material) {
    const MaterialRange& m = *job_.material;
    std::optional<std::pair<int, int>> range;
    if (heater == Heater::kHotend) range = std::pair{m.hotend_min, m.hotend_max};
    if (heater == Heater::kBed && m.bed_min && m.bed_max) range = std::pair{*m.bed_min, *m.bed_max};
    if (range && !(value >= range->first && value <= range->second)) {
      violate(rule::kMaterialTemperature, std::string(source) + " " + fmt::celsius(value),
              std::to_string(range->first) + "-" + std::to_string(range->second) + " °C (" + m.label + ")",
              std::string(heater_name(heater)) + " temperature outside the job's material range");
    }
  }
  const int rounded = static_cast<int>(std::lround(std::clamp(value, -1e6, 1e6)));
  Facts& f = report_.facts;
  switch (heater) {
    case Heater::kHotend:
      hotend_target_ = value;
      f.max_hotend_temp = std::max(f.max_hotend_temp, rounded);
      break;
    case Heater::kBed:
      f.max_bed_temp = std::max(f.max_bed_temp, rounded);
      break;
    case Heater::kChamber:
      f.max_chamber_temp = std::max(f.max_chamber_temp, rounded);
      break;
  }
}

// M104/M109 (hotend), M140/M190 (bed), M141/M191 (chamber): targets S and R.
void Machine::heater_command(const Line& line, Heater heater) {
  if (heater == Heater::kHotend && line.has('T') && !(line.has_value('T') && line.get('T') == 0.0)) {
    violate(rule::kParameter, "T" + (line.has_value('T') ? fmt::number(line.get('T')) : std::string()), "T0",
            "the printer has one hotend");
    return;
  }
  for (const char word : {'S', 'R'}) {
    if (!line.has(word)) continue;
    if (!line.has_value(word)) {
      violate(rule::kBadNumber, std::string(1, word), "a number", std::string(1, word) + " has no value");
      continue;
    }
    set_target(heater, line.get(word), std::string(1, word));
  }
}

// Reads a parameter's value as a number; reports and returns false when it is not one.
bool Machine::param_number(const Param& param, double& value) {
  const char* p = param.value.data();
  const char* end = p + param.value.size();
  const internal::NumberStatus status = internal::parse_number(p, end, value);
  if (status == internal::NumberStatus::kOk && p == end) return true;
  const std::string shown = std::string(param.key) + "=" + std::string(param.value.substr(0, 32));
  if (status == internal::NumberStatus::kNotFinite && p == end) {
    violate(rule::kNotFinite, shown, "a finite number", "value is not finite");
  } else {
    violate(rule::kBadNumber, shown, "a number", "value is not a number");
  }
  return false;
}

// SET_HEATER_TEMPERATURE HEATER=name [TARGET=°C] (TARGET defaults to 0).
void Machine::set_heater_temperature(const Line& line) {
  const Param* heater = nullptr;
  double target = 0.0;
  for (int i = 0; i < line.param_count; ++i) {
    const Param& p = line.params[i];
    if (same_name(p.key, "HEATER")) heater = &p;
    if (same_name(p.key, "TARGET") && !param_number(p, target)) return;
  }
  if (heater == nullptr) {
    violate(rule::kParameter, "no HEATER", "HEATER=name", "SET_HEATER_TEMPERATURE needs HEATER");
    return;
  }
  const std::optional<Heater> known = klipper_heater(heater->value);
  if (!known) {
    violate(rule::kNoHeater, "HEATER=" + std::string(heater->value.substr(0, 32)),
            "extruder, heater_bed, chamber", "unknown heater");
    return;
  }
  set_target(*known, target, "TARGET");
}

// TEMPERATURE_WAIT SENSOR=name MINIMUM=°C MAXIMUM=°C: a wait outside the
// heater's limits never ends.
void Machine::temperature_wait(const Line& line) {
  std::optional<Heater> heater;
  for (int i = 0; i < line.param_count; ++i) {
    if (same_name(line.params[i].key, "SENSOR")) heater = klipper_heater(line.params[i].value);
  }
  for (int i = 0; i < line.param_count; ++i) {
    const Param& p = line.params[i];
    if (!same_name(p.key, "MINIMUM") && !same_name(p.key, "MAXIMUM")) continue;
    double value = 0.0;
    if (param_number(p, value) && heater) check_printer_range(*heater, value, p.key);
  }
}

// A configured macro (or a command a macro replaces): checks its declared
// temperature parameters. False when `name` is not a configured macro.
bool Machine::macro(std::string_view name, const Line& line) {
  const auto found = std::find_if(limits_.macros.begin(), limits_.macros.end(),
                                  [&](const config::Macro& m) { return m.name == name; });
  if (found == limits_.macros.end()) return false;
  const std::pair<const std::vector<std::string>*, Heater> lists[] = {
      {&found->hotend_temperature_params, Heater::kHotend},
      {&found->bed_temperature_params, Heater::kBed},
      {&found->chamber_temperature_params, Heater::kChamber}};
  if (line.kind == Line::Kind::kExtended) {
    for (int i = 0; i < line.param_count; ++i) {
      for (const auto& [params, heater] : lists) {
        double value = 0.0;
        if (listed(*params, line.params[i].key) && param_number(line.params[i], value)) {
          set_target(heater, value, line.params[i].key);
        }
      }
    }
  } else {
    for (const auto& [params, heater] : lists) {
      for (const std::string& param : *params) {
        if (param.size() == 1 && line.has_value(param[0])) set_target(heater, line.get(param[0]), param);
      }
    }
  }
  if (found->heats_to_material) hotend_target_ = std::max(hotend_target_, cold_limit_);
  return true;
}

}  // namespace ipp3d::gcode
