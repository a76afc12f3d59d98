// limits_from_policy: the inverse of gcode::policy_json (limits, macros,
// materials), checked by round trip.
#include "ipp3d/client/policy_limits.hpp"

#include "ipp3d/gcode/policy.hpp"

#include <nlohmann/json.hpp>

namespace ipp3d::client {
namespace {

using nlohmann::json;

Error policy_error(const std::string& message) {
  return Error{IPP_STATUS_ERROR_INTERNAL, message, "policy", 0};
}

// {"min": a, "max": b} into two numbers.
template <class T>
void read_range(const json& range, T& low, T& high) {
  low = range.at("min").get<T>();
  high = range.at("max").get<T>();
}

config::HeaterLimits heater(const json& range) {
  config::HeaterLimits limits;
  read_range(range, limits.min_temp, limits.max_temp);
  return limits;
}

// The [printer.limits] members of the limits object.
config::GcodeLimits gcode_limits(const json& l) {
  config::GcodeLimits g;
  g.acceleration = l.at("acceleration").get<double>();
  read_range(l.at("flow_factor"), g.flow_factor_min, g.flow_factor_max);
  g.max_accel = l.at("max_accel").get<double>();
  g.max_extrude_velocity = l.at("max_extrude_velocity").get<double>();
  g.max_jerk = l.at("max_jerk").get<double>();
  g.max_junction_deviation = l.at("max_junction_deviation").get<double>();
  g.max_line_length = l.at("max_line_length").get<int>();
  g.max_square_corner_velocity = l.at("max_square_corner_velocity").get<double>();
  g.max_velocity = l.at("max_velocity").get<double>();
  g.max_z_velocity = l.at("max_z_velocity").get<double>();
  g.min_extrude_temp = l.at("min_extrude_temp").get<int>();
  read_range(l.at("speed_factor"), g.speed_factor_min, g.speed_factor_max);
  g.square_corner_velocity = l.at("square_corner_velocity").get<double>();
  g.volume_tolerance = l.at("volume_tolerance").get<double>();
  return g;
}

// One material of the database: its key (the label), hotend and bed ranges.
gcode::MaterialRange material(const json& m) {
  gcode::MaterialRange range;
  range.label = m.at("key").get<std::string>();
  read_range(m.at("hotend"), range.hotend_min, range.hotend_max);
  if (!m.at("bed").is_null()) {
    int low = 0;
    int high = 0;
    read_range(m.at("bed"), low, high);
    range.bed_min = low;
    range.bed_max = high;
  }
  return range;
}

// The whole Limits of a parsed policy document (throws json errors).
gcode::Limits limits_of(const json& policy) {
  const json& l = policy.at("limits");
  gcode::Limits limits;
  read_range(l.at("volume").at("x"), limits.volume.x.min, limits.volume.x.max);
  read_range(l.at("volume").at("y"), limits.volume.y.min, limits.volume.y.max);
  read_range(l.at("volume").at("z"), limits.volume.z.min, limits.volume.z.max);
  limits.home.x = l.at("home").at("x").get<double>();
  limits.home.y = l.at("home").at("y").get<double>();
  limits.home.z = l.at("home").at("z").get<double>();
  limits.hotend = heater(l.at("hotend"));
  if (!l.at("bed").is_null()) limits.bed = heater(l.at("bed"));
  if (!l.at("chamber").is_null()) limits.chamber = heater(l.at("chamber"));
  limits.filament_diameter_mm = l.at("filament_diameter").get<double>();
  limits.gcode = gcode_limits(l);
  for (const json& m : policy.at("macros")) {
    config::Macro macro;
    macro.name = m.at("name").get<std::string>();
    macro.hotend_temperature_params = m.at("hotend_temperature_params").get<std::vector<std::string>>();
    macro.bed_temperature_params = m.at("bed_temperature_params").get<std::vector<std::string>>();
    macro.chamber_temperature_params = m.at("chamber_temperature_params").get<std::vector<std::string>>();
    macro.heats_to_material = m.at("heats_to_material").get<bool>();
    limits.macros.push_back(std::move(macro));
  }
  for (const json& command : policy.at("macro_commands"))
    limits.macro_commands.insert(command.get<std::string>());
  for (const json& m : policy.at("materials")) limits.materials.push_back(material(m));
  return limits;
}

}  // namespace

Result<gcode::Limits> limits_from_policy(const std::string& text) {
  const json policy = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (policy.is_discarded() || !policy.is_object())
    return policy_error("the printer's G-code policy is not JSON");
  const std::string version = policy.value("version", "");
  if (version != gcode::kPolicyVersion) {
    return policy_error("the printer's G-code policy is version \"" + version + "\", this ipp3d knows \"" +
                        std::string(gcode::kPolicyVersion) + "\": use the ipp3d of the server's release");
  }
  gcode::Limits limits;
  try {
    limits = limits_of(policy);
  } catch (const json::exception& e) {
    return policy_error(std::string("the printer's G-code policy is malformed: ") + e.what());
  }
  if (gcode::policy_json(limits) != text) {
    return policy_error(
        "the printer's G-code policy differs from what this ipp3d reproduces (its allow-list, deny-list or "
        "rules differ): use the ipp3d of the server's release");
  }
  return limits;
}

}  // namespace ipp3d::client
