// Command dispatch: the allow-list and deny-list, and the commands that set
// motion limits (M201-M205, M220, M221, SET_VELOCITY_LIMIT).
#include "ipp3d/gcode/policy.hpp"

#include "format.hpp"
#include "machine.hpp"

#include <algorithm>

namespace ipp3d::gcode {

using internal::Line;

namespace {

constexpr std::size_t kMaxName = 64;  // longer extended names are unknown

// Built-in extended commands the gate allows without checks of their own.
constexpr std::string_view kHarmlessExtended[] = {
    "SET_FAN_SPEED",
    "SET_PRINT_STATS_INFO",
    "EXCLUDE_OBJECT_DEFINE",
    "EXCLUDE_OBJECT_START",
    "EXCLUDE_OBJECT_END",
    "EXCLUDE_OBJECT",
    "RESPOND",
    "SET_PRESSURE_ADVANCE",
    "SET_RETRACTION",
    "BED_MESH_CALIBRATE",
    "BED_MESH_CLEAR",
    "SET_IDLE_TIMEOUT",
    "M117",
    "M118",
};

// True when `name` is in `names`.
template <std::size_t N>
bool contains(const std::string_view (&names)[N], std::string_view name) {
  return std::find(std::begin(names), std::end(names), name) != std::end(names);
}

}  // namespace

const std::vector<AllowedCommand>& allowed_commands() {
  static const std::vector<AllowedCommand> list = {
      {"G0", "move: volume (with tolerance), feed rate, cold extrusion"},
      {"G1", "move: volume (with tolerance), feed rate, cold extrusion"},
      {"G2", "clockwise arc (I/J or R): the whole arc stays in the volume; feed rate, cold extrusion"},
      {"G3", "counter-clockwise arc: as G2"},
      {"G4", "dwell: P (ms) / S (s) not negative"},
      {"G10", "firmware retract; refused with L, P, X, Y, Z or R (offset setting)"},
      {"G11", "firmware unretract"},
      {"G17", "XY plane (the only plane arcs may use)"},
      {"G20", "inch units: later values are converted to mm"},
      {"G21", "millimetre units"},
      {"G28", "home: the named axes (all by default) are at [printer.home]"},
      {"G29", "bed levelling probe"},
      {"G80", "mesh bed levelling (Prusa)"},
      {"G90", "absolute positioning"},
      {"G91", "relative positioning"},
      {"G92", "set position: needs at least one axis; offsets are tracked"},
      {"M17", "motors on"},
      {"M18", "motors off: the named axes (all by default) lose their position"},
      {"M73", "progress"},
      {"M75", "print timer start"},
      {"M76", "print timer pause"},
      {"M77", "print timer stop"},
      {"M82", "absolute extrusion"},
      {"M83", "relative extrusion"},
      {"M84", "motors off: as M18 (M84 S only sets the timeout)"},
      {"M104", "hotend target S/R: printer and material range, T0 only"},
      {"M105", "report temperatures"},
      {"M106", "fan speed"},
      {"M107", "fan off"},
      {"M109", "hotend target and wait: as M104"},
      {"M114", "report position"},
      {"M115", "report firmware"},
      {"M117", "display message"},
      {"M118", "echo message"},
      {"M140", "bed target S/R: bed limits and the material's bed range"},
      {"M141", "chamber target S/R: chamber limits"},
      {"M155", "temperature auto-report"},
      {"M190", "bed target and wait: as M140"},
      {"M191", "chamber target and wait: as M141"},
      {"M201", "max acceleration X/Y/Z/E <= max_accel"},
      {"M203", "max feed rate X/Y <= max_velocity, Z <= max_z_velocity, E <= max_extrude_velocity"},
      {"M204", "acceleration S/P/R/T <= max_accel"},
      {"M205", "jerk X/Y/Z/E <= max_jerk, J <= max_junction_deviation, S/T <= max_velocity"},
      {"M220", "speed factor S within speed_factor"},
      {"M221", "flow factor S within flow_factor"},
      {"M300", "beep"},
      {"M400", "wait for moves"},
      {"M420", "bed levelling on/off"},
      {"M486", "object labels"},
      {"M862", "printer/nozzle checks (Prusa, any sub-code)"},
      {"M900", "linear advance factor"},
      {"T0", "select the (only) extruder"},
      {"SET_HEATER_TEMPERATURE", "HEATER extruder/heater_bed/chamber, TARGET: as M104/M140/M141"},
      {"TEMPERATURE_WAIT", "MINIMUM/MAXIMUM within the heater's limits"},
      {"SET_VELOCITY_LIMIT",
       "VELOCITY, ACCEL, ACCEL_TO_DECEL, SQUARE_CORNER_VELOCITY within limits; MINIMUM_CRUISE_RATIO 0-1"},
      {"BED_MESH_PROFILE", "LOAD only (SAVE and REMOVE are denied)"},
  };
  return list;
}

const std::vector<DeniedCommand>& denied_commands() {
  static const std::vector<DeniedCommand> list = {
      {"SAVE_CONFIG", "rewrites printer.cfg and restarts Klipper"},
      {"RESTART", "restarts the host software and ends the print"},
      {"FIRMWARE_RESTART", "restarts the firmware and ends the print"},
      {"M112", "emergency stop: ends the print and needs a restart"},
      {"M500", "saves settings to EEPROM"},
      {"M501", "reloads settings from EEPROM, discarding the configured ones"},
      {"M502", "resets settings to firmware defaults"},
      {"M503", "reports settings (a configuration dump, not part of a print)"},
      {"M997", "starts a firmware update"},
      {"M999", "restarts the firmware after an error"},
      {"M303", "PID autotune: heats outside the job's control"},
      {"PID_CALIBRATE", "PID autotune: heats and then offers SAVE_CONFIG"},
      {"M301", "changes the hotend PID parameters"},
      {"M304", "changes the bed PID parameters"},
      {"M302", "allows cold extrusion"},
      {"M92", "changes steps per mm (calibration)"},
      {"M906", "changes stepper motor currents"},
      {"M907", "changes stepper motor currents (digipot)"},
      {"M211", "disables software endstops"},
      {"M121", "disables endstops"},
      {"M206", "changes the home offsets"},
      {"M428", "changes the home offsets"},
      {"M851", "changes the probe Z offset"},
      {"M42", "sets a pin"},
      {"M81", "switches the power supply off"},
      {"SET_PIN", "sets an output pin"},
      {"SET_STEPPER_ENABLE", "switches single steppers and loses the position"},
      {"FORCE_MOVE", "moves a stepper without limits"},
      {"SET_KINEMATIC_POSITION", "declares a position without homing: defeats the volume limits"},
      {"SET_GCODE_OFFSET", "shifts coordinates (Z offset): can drive the nozzle into the bed"},
      {"SAVE_VARIABLE", "writes the persistent variables file"},
      {"BED_MESH_PROFILE SAVE", "stores a bed mesh in the configuration"},
      {"BED_MESH_PROFILE REMOVE", "deletes a bed mesh from the configuration"},
      {"Z_OFFSET_APPLY_*", "writes the Z offset into the configuration"},
      {"SDCARD_*", "starts or resets another file on the virtual SD card"},
      {"M20-M34", "SD card operations (M28-M30: write or delete files)"},
      {"RUN_SHELL_COMMAND", "runs a host shell command (gcode_shell_command extension)"},
      {"G53-G59", "machine and work coordinate systems the gate does not model"},
  };
  return list;
}

void Machine::execute(const Line& line, std::uint64_t number, std::uint64_t offset) {
  number_ = number;
  offset_ = offset;
  line_ = &line;
  switch (line.kind) {
    case Line::Kind::kBlank:
      if (!line.comment.empty()) comment(line.comment);
      return;
    case Line::Kind::kError:
      line_ = nullptr;
      violate(line.rule, line.detail, "", "the line cannot be read safely");
      return;
    case Line::Kind::kClassic:
      if (line.letter == 'G' && line.code <= 1 && line.sub < 0 && overridden_.empty()) {
        move(line);
        return;
      }
      classic(line);
      return;
    case Line::Kind::kExtended:
      extended(line);
      return;
  }
}

// A classic (letter and number) command.
void Machine::classic(const Line& line) {
  if (!overridden_.empty()) {
    const std::string name = command_name();
    if (std::binary_search(overridden_.begin(), overridden_.end(), name)) {
      if (!macro(name, line)) {
        violate(rule::kUnknown, name, "a declared [[printer.macro]]",
                "command is replaced by a Klipper macro that the configuration does not declare");
      }
      return;
    }
  }
  if (line.letter == 'G') {
    g_code(line);
  } else if (line.letter == 'M') {
    m_code(line);
  } else if (line.letter == 'T' && line.sub < 0) {
    if (line.code != 0) violate(rule::kParameter, command_name(), "T0", "the printer has one extruder");
  } else {
    denied_or_unknown(command_name(), line);
  }
}

// G codes.
void Machine::g_code(const Line& line) {
  if (line.sub >= 0) return denied_or_unknown(command_name(), line);
  switch (line.code) {
    case 0:
    case 1:
      return move(line);
    case 2:
    case 3:
      return arc(line);
    case 4:
      return dwell(line);
    case 10:
      if (line.has('L') || line.has('P') || line.has('X') || line.has('Y') || line.has('Z') ||
          line.has('R')) {
        violate(rule::kParameter, "G10 with L/P/X/Y/Z/R", "G10 [S]", "G10 with these words sets offsets");
      }
      return;
    case 11:
    case 17:
    case 29:
    case 80:
      return;
    case 20:
      inches_ = true;
      return;
    case 21:
      inches_ = false;
      return;
    case 28:
      return home(line);
    case 90:
      absolute_ = true;
      return;
    case 91:
      absolute_ = false;
      return;
    case 92:
      return set_position(line);
    default:
      return denied_or_unknown(command_name(), line);
  }
}

// M codes.
void Machine::m_code(const Line& line) {
  if (line.sub >= 0 && line.code != 862) return denied_or_unknown(command_name(), line);
  switch (line.code) {
    case 17:
    case 73:
    case 75:
    case 76:
    case 77:
    case 105:
    case 106:
    case 107:
    case 114:
    case 115:
    case 117:
    case 118:
    case 155:
    case 300:
    case 400:
    case 420:
    case 486:
    case 862:
    case 900:
      return;
    case 18:
    case 84:
      return motors_off(line);
    case 82:
      absolute_e_ = true;
      return;
    case 83:
      absolute_e_ = false;
      return;
    case 104:
    case 109:
      return heater_command(line, Heater::kHotend);
    case 140:
    case 190:
      return heater_command(line, Heater::kBed);
    case 141:
    case 191:
      return heater_command(line, Heater::kChamber);
    case 201:
      return acceleration_limits(line, "XYZE");
    case 203:
      return velocity_limits(line);
    case 204:
      return acceleration_limits(line, "SPRT");
    case 205:
      return jerk_limits(line);
    case 220:
      return factor(line, true);
    case 221:
      return factor(line, false);
    default:
      return denied_or_unknown(command_name(), line);
  }
}

// A Klipper extended command (NAME KEY=VALUE ...).
void Machine::extended(const Line& line) {
  char buffer[kMaxName];
  const std::string_view name = internal::upper(line.name, buffer, sizeof buffer);
  if (name.empty()) return denied_or_unknown(std::string(line.name.substr(0, kMaxName)) + "...", line);
  if (!overridden_.empty() && std::binary_search(overridden_.begin(), overridden_.end(), name)) {
    if (!macro(name, line)) {
      violate(rule::kUnknown, std::string(name), "a declared [[printer.macro]]",
              "command is replaced by a Klipper macro that the configuration does not declare");
    }
    return;
  }
  if (builtin_extended(name, line) || macro(name, line)) return;
  denied_or_unknown(std::string(name), line);
}

// Checks a built-in extended command; false when `name` is not one.
bool Machine::builtin_extended(std::string_view name, const Line& line) {
  if (contains(kHarmlessExtended, name)) return true;
  if (name == "SET_HEATER_TEMPERATURE") {
    set_heater_temperature(line);
  } else if (name == "TEMPERATURE_WAIT") {
    temperature_wait(line);
  } else if (name == "SET_VELOCITY_LIMIT") {
    set_velocity_limit(line);
  } else if (name == "BED_MESH_PROFILE") {
    for (int i = 0; i < line.param_count; ++i) {
      char key[kMaxName];
      const std::string_view k = internal::upper(line.params[i].key, key, sizeof key);
      if (k == "SAVE" || k == "REMOVE") {
        violate(rule::kDenied, "BED_MESH_PROFILE " + std::string(k), "not allowed",
                "BED_MESH_PROFILE " + std::string(k) + " changes the printer's configuration");
      }
    }
  } else {
    return false;
  }
  return true;
}

// Refuses a command: with the deny-list's reason when it has one.
void Machine::denied_or_unknown(std::string_view name, const Line& line) {
  std::string_view reason;
  for (const auto& denied : denied_commands()) {
    const std::string_view pattern = denied.name;
    const bool prefix = pattern.ends_with('*');
    if (prefix ? name.starts_with(pattern.substr(0, pattern.size() - 1)) : name == pattern)
      reason = denied.reason;
  }
  if (reason.empty() && line.kind == Line::Kind::kClassic && line.letter == 'M' && line.code >= 20 &&
      line.code <= 34) {
    reason = "SD card operations (M28-M30: write or delete files)";
  }
  if (reason.empty() && line.kind == Line::Kind::kClassic && line.letter == 'G' && line.code >= 53 &&
      line.code <= 59) {
    reason = "machine and work coordinate systems the gate does not model";
  }
  if (!reason.empty()) {
    violate(rule::kDenied, std::string(name), "not allowed", std::string(reason));
  } else {
    violate(rule::kUnknown, std::string(name), "allow-list", "command is not on the allow-list");
  }
}

// Reports `value` above `limit` (or negative) under `rule`.
void Machine::check_max(double value, double limit, std::string_view rule, std::string_view what,
                        std::string_view unit) {
  const std::string shown = std::string(what) + " " + fmt::number(value) + " " + std::string(unit);
  if (!(value >= 0)) {
    violate(rule::kParameter, shown, ">= 0", "negative limit");
  } else if (!(value <= limit)) {
    violate(rule, shown, "<= " + fmt::number(limit) + " " + std::string(unit),
            "exceeds the printer's configured maximum");
  }
}

// M203: maximum feed rates per axis (mm/s).
void Machine::velocity_limits(const Line& line) {
  const auto& g = limits_.gcode;
  const std::pair<char, double> words[] = {
      {'X', g.max_velocity}, {'Y', g.max_velocity}, {'Z', g.max_z_velocity}, {'E', g.max_extrude_velocity}};
  for (const auto& [word, limit] : words) {
    if (line.has_value(word)) check_max(line.get(word), limit, rule::kVelocity, std::string(1, word), "mm/s");
  }
}

// M201 (XYZE) and M204 (SPRT): accelerations (mm/s²).
void Machine::acceleration_limits(const Line& line, std::string_view words) {
  for (const char word : words) {
    if (!line.has_value(word)) continue;
    const double value = line.get(word);
    check_max(value, limits_.gcode.max_accel, rule::kAcceleration, std::string(1, word), "mm/s²");
  }
}

// M205: jerk (X/Y/Z/E), junction deviation (J), minimum feed rates (S/T).
void Machine::jerk_limits(const Line& line) {
  const auto& g = limits_.gcode;
  for (const char word : {'X', 'Y', 'Z', 'E'}) {
    if (line.has_value(word))
      check_max(line.get(word), g.max_jerk, rule::kJerk, std::string(1, word), "mm/s");
  }
  if (line.has_value('J')) check_max(line.get('J'), g.max_junction_deviation, rule::kJerk, "J", "mm");
  for (const char word : {'S', 'T'}) {
    if (line.has_value(word))
      check_max(line.get(word), g.max_velocity, rule::kVelocity, std::string(1, word), "mm/s");
  }
  if (line.has_value('B') && !(line.get('B') >= 0)) {
    violate(rule::kParameter, "B " + fmt::number(line.get('B')), ">= 0", "negative segment time");
  }
}

// M220 (speed factor) and M221 (flow factor): S in percent.
void Machine::factor(const Line& line, bool speed) {
  if (!line.has_value('S')) return;
  const double value = line.get('S');
  const auto& g = limits_.gcode;
  const int low = speed ? g.speed_factor_min : g.flow_factor_min;
  const int high = speed ? g.speed_factor_max : g.flow_factor_max;
  if (!(value >= low && value <= high)) {
    violate(
        speed ? rule::kSpeedFactor : rule::kFlowFactor, fmt::percent(value),
        std::to_string(low) + "-" + std::to_string(high) + " %",
        speed ? "speed factor outside the configured bounds" : "flow factor outside the configured bounds");
  }
}

// SET_VELOCITY_LIMIT: Klipper's run-time velocity and acceleration limits.
void Machine::set_velocity_limit(const Line& line) {
  const auto& g = limits_.gcode;
  for (int i = 0; i < line.param_count; ++i) {
    char buffer[kMaxName];
    const std::string_view key = internal::upper(line.params[i].key, buffer, sizeof buffer);
    double value = 0.0;
    if (!param_number(line.params[i], value)) continue;
    if (key == "VELOCITY") {
      check_max(value, g.max_velocity, rule::kVelocity, key, "mm/s");
    } else if (key == "ACCEL" || key == "ACCEL_TO_DECEL") {
      check_max(value, g.max_accel, rule::kAcceleration, key, "mm/s²");
    } else if (key == "SQUARE_CORNER_VELOCITY") {
      check_max(value, g.max_square_corner_velocity, rule::kJerk, key, "mm/s");
    } else if (key == "MINIMUM_CRUISE_RATIO") {
      check_max(value, 1.0, rule::kParameter, key, "");
    }
  }
}

void Machine::violate(std::string_view rule, std::string value, std::string limit, std::string message) {
  ++report_.violation_count;
  if (report_.violations.size() >= kMaxViolations) return;
  report_.violations.push_back(Violation{number_, line_ != nullptr ? command_name() : std::string(),
                                         std::string(rule), std::move(value), std::move(limit),
                                         std::move(message)});
}

std::string Machine::command_name() const {
  if (line_ == nullptr) return {};
  if (line_->kind == Line::Kind::kExtended) {
    char buffer[kMaxName];
    const std::string_view name = internal::upper(line_->name, buffer, sizeof buffer);
    return name.empty() ? std::string(line_->name.substr(0, kMaxName)) : std::string(name);
  }
  std::string name(1, line_->letter);
  name += std::to_string(line_->code);
  if (line_->sub >= 0) name += "." + std::to_string(line_->sub);
  return name;
}

}  // namespace ipp3d::gcode
