// The publishable policy: canonical JSON (sorted keys, shortest numbers) and
// its SHA-256 digest (OpenSSL EVP).
#include "ipp3d/gcode/policy.hpp"

#include "ipp3d/gcode/report.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <charconv>
#include <map>

namespace ipp3d::gcode {
namespace {

// A JSON string literal; non-ASCII and control bytes as \u00XX.
std::string quote(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20 || byte >= 0x7F) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\u00";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xFU];
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// A number in shortest round-trip form.
std::string number(double value) {
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

// An object from already-encoded members, keys sorted (std::map order is bytewise).
std::string object(const std::map<std::string, std::string>& members) {
  std::string out = "{";
  for (const auto& [key, value] : members) {
    if (out.size() > 1) out += ',';
    out += quote(key) + ":" + value;
  }
  return out + "}";
}

// An array of already-encoded values, in the given order.
std::string array(const std::vector<std::string>& values) {
  std::string out = "[";
  for (const auto& value : values) {
    if (out.size() > 1) out += ',';
    out += value;
  }
  return out + "]";
}

// An array of strings, sorted.
std::string string_array(std::vector<std::string> values) {
  std::sort(values.begin(), values.end());
  for (auto& value : values) value = quote(value);
  return array(values);
}

// {"max": ..., "min": ...}
std::string range(double low, double high) { return object({{"min", number(low)}, {"max", number(high)}}); }

// The [printer.limits] members.
std::map<std::string, std::string> gcode_members(const config::GcodeLimits& g) {
  return {{"acceleration", number(g.acceleration)},
          {"flow_factor", range(g.flow_factor_min, g.flow_factor_max)},
          {"max_accel", number(g.max_accel)},
          {"max_extrude_velocity", number(g.max_extrude_velocity)},
          {"max_jerk", number(g.max_jerk)},
          {"max_junction_deviation", number(g.max_junction_deviation)},
          {"max_line_length", number(g.max_line_length)},
          {"max_square_corner_velocity", number(g.max_square_corner_velocity)},
          {"max_velocity", number(g.max_velocity)},
          {"max_z_velocity", number(g.max_z_velocity)},
          {"min_extrude_temp", number(g.min_extrude_temp)},
          {"speed_factor", range(g.speed_factor_min, g.speed_factor_max)},
          {"square_corner_velocity", number(g.square_corner_velocity)},
          {"volume_tolerance", number(g.volume_tolerance)}};
}

// The limits object: volume, home, heaters and [printer.limits].
std::string limits_object(const Limits& l) {
  auto members = gcode_members(l.gcode);
  members["volume"] = object({{"x", range(l.volume.x.min, l.volume.x.max)},
                              {"y", range(l.volume.y.min, l.volume.y.max)},
                              {"z", range(l.volume.z.min, l.volume.z.max)}});
  members["home"] = object({{"x", number(l.home.x)}, {"y", number(l.home.y)}, {"z", number(l.home.z)}});
  members["hotend"] = range(l.hotend.min_temp, l.hotend.max_temp);
  members["bed"] = l.bed ? range(l.bed->min_temp, l.bed->max_temp) : "null";
  members["chamber"] = l.chamber ? range(l.chamber->min_temp, l.chamber->max_temp) : "null";
  members["filament_diameter"] = number(l.filament_diameter_mm);
  return object(members);
}

// The configured macros, sorted by name.
std::string macros_array(const Limits& l) {
  std::vector<config::Macro> macros = l.macros;
  std::sort(macros.begin(), macros.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  std::vector<std::string> values;
  values.reserve(macros.size());
  for (const auto& m : macros) {
    values.push_back(object({{"name", quote(m.name)},
                             {"hotend_temperature_params", string_array(m.hotend_temperature_params)},
                             {"bed_temperature_params", string_array(m.bed_temperature_params)},
                             {"chamber_temperature_params", string_array(m.chamber_temperature_params)},
                             {"heats_to_material", m.heats_to_material ? "true" : "false"}}));
  }
  return array(values);
}

// The printer's materials database, sorted by key: the ranges a job's
// material brings to the gate.
std::string materials_array(const Limits& l) {
  std::vector<MaterialRange> materials = l.materials;
  std::sort(materials.begin(), materials.end(),
            [](const auto& a, const auto& b) { return a.label < b.label; });
  std::vector<std::string> values;
  values.reserve(materials.size());
  for (const auto& m : materials) {
    const bool has_bed = m.bed_min && m.bed_max;
    values.push_back(object({{"key", quote(m.label)},
                             {"hotend", range(m.hotend_min, m.hotend_max)},
                             {"bed", has_bed ? range(*m.bed_min, *m.bed_max) : "null"}}));
  }
  return array(values);
}

}  // namespace

std::string policy_json(const Limits& limits) {
  std::vector<std::string> allowed;
  for (const auto& command : allowed_commands()) allowed.emplace_back(command.name);
  std::vector<std::string> denied;
  for (const auto& command : denied_commands()) {
    denied.push_back(object({{"name", quote(command.name)}, {"reason", quote(command.reason)}}));
  }
  std::sort(denied.begin(), denied.end());
  std::vector<std::string> rules;
  for (const auto& r : all_rules()) rules.emplace_back(r);
  return object(
      {{"version", quote(kPolicyVersion)},
       {"limits", limits_object(limits)},
       {"allowed_commands", string_array(allowed)},
       {"denied_commands", array(denied)},
       {"macros", macros_array(limits)},
       {"materials", materials_array(limits)},
       {"macro_commands", string_array({limits.macro_commands.begin(), limits.macro_commands.end()})},
       {"rules", string_array(rules)}});
}

Result<std::string> policy_digest(const Limits& limits) {
  const std::string text = policy_json(limits);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &size, EVP_sha256(), nullptr) != 1) {
    return Error{IPP_STATUS_ERROR_INTERNAL, "SHA-256 of the G-code policy failed", "", 0};
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "sha256:";
  for (unsigned int i = 0; i < size; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xFU];
  }
  return out;
}

}  // namespace ipp3d::gcode
