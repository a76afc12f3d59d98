// Semantic checks of the configuration schema: ranges, name syntax,
// uniqueness and cross references. Structural checks (types, unknown and
// missing keys) are the TOML reader's job (config_loader.cpp).
#include "diagnostics.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <string_view>

namespace ipp3d::config {
namespace internal {
namespace {

constexpr double kMaxDiameterMm = 5.0;          // nozzle, filament and material diameters
constexpr double kMaxAxisMm = 10000.0;          // |volume bound|
constexpr int kMaxTemperature = 1000;           // °C, any heater
constexpr double kMaxShellThicknessMm = 100.0;  // material shell_thickness
constexpr std::size_t kMaxTextLength = 127;     // IPP text(127): make-and-model, location, info
constexpr std::size_t kMaxNameLength = 255;     // IPP name(MAX) and keyword(255)
constexpr double kMaxRate = 1e6;                // [printer.limits] speeds and accelerations
constexpr int kMaxFactor = 1000;                // [printer.limits] speed_factor / flow_factor, percent
constexpr double kMaxVolumeTolerance = 10.0;    // mm
constexpr int kMinLineLength = 80;              // [printer.limits] max_line_length, bytes
constexpr int kMaxLineLength = 65536;

// Formats a number the short way: 220, 0.4, -4.
std::string number(double value) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

// True when `value` is finite and within [low, high] (false for NaN).
bool within(double value, double low, double high) {
  return std::isfinite(value) && value >= low && value <= high;
}

// True when every character satisfies `allowed` and the text is not too long or empty.
template <class Predicate>
bool all_chars(std::string_view text, std::size_t max_length, Predicate allowed) {
  return !text.empty() && text.size() <= max_length && std::all_of(text.begin(), text.end(), allowed);
}

// An IPP-style keyword as the schema allows it: [a-z0-9._-]+.
bool is_keyword(std::string_view text) {
  return all_chars(text, kMaxNameLength, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
  });
}

// A printer (queue) name: [A-Za-z0-9_-]{1,63}.
bool is_printer_name(std::string_view text) {
  return all_chars(text, 63, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

// A Klipper macro or parameter name: [A-Z0-9_]+.
bool is_upper_name(std::string_view text) {
  return all_chars(text, kMaxNameLength,
                   [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; });
}

// True when HOST:PORT (or [V6]:PORT) has a non-empty host and a port 1-65535.
bool is_listen_address(std::string_view text) {
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') return false;
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.find(':');
    if (colon == std::string_view::npos || text.find(':', colon + 1) != std::string_view::npos) return false;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  int value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  return !host.empty() && ec == std::errc{} && end == port.data() + port.size() && value >= 1 &&
         value <= 65535;
}

// Checks that `value` of server.login.KEY lies in [min, max].
void check_login_range(int value, const char* key, int min, int max, Diagnostics& d) {
  if (value >= min && value <= max) return;
  d.check(std::string("server.login.") + key,
          std::to_string(value) + " is outside " + std::to_string(min) + "-" + std::to_string(max));
}

// Checks the [server.login] table.
void validate_login(const LoginConfig& login, Diagnostics& d) {
  constexpr int kDay = 86400;
  check_login_range(login.max_failed_logins, "max_failed_logins", 1, 1000, d);
  check_login_range(login.lockout_seconds, "lockout_seconds", 1, kDay, d);
  check_login_range(login.max_lockout_seconds, "max_lockout_seconds", 1, 30 * kDay, d);
  if (login.max_lockout_seconds < login.lockout_seconds) {
    d.check("server.login.max_lockout_seconds",
            "must not be less than lockout_seconds (" + std::to_string(login.lockout_seconds) + ")");
  }
  check_login_range(login.max_address_failures, "max_address_failures", 1, 100000, d);
  check_login_range(login.address_window_seconds, "address_window_seconds", 1, kDay, d);
  check_login_range(login.max_concurrent_hashes, "max_concurrent_hashes", 1, 64, d);
  check_login_range(login.hash_queue_length, "hash_queue_length", 0, 1024, d);
  check_login_range(login.hash_wait_seconds, "hash_wait_seconds", 0, 600, d);
  check_login_range(login.credential_cache_seconds, "credential_cache_seconds", 0, 300, d);
}

// Checks the [server] table.
void validate_server(const ServerConfig& server, Diagnostics& d) {
  validate_login(server.login, d);
  if (!is_listen_address(server.listen)) {
    d.check("server.listen", "\"" + server.listen +
                                 "\" is not HOST:PORT with a port from 1 to 65535 (IPv6 as \"[::1]:8631\")");
  }
  if (server.state_dir && server.state_dir->empty()) d.check("server.state_dir", "must not be empty");
  if (server.log_file && server.log_file->empty()) d.check("server.log_file", "must not be empty");
  if (server.key_passphrase_file && server.key_passphrase_file->empty()) {
    d.check("server.key_passphrase_file", "must not be empty");
  }
  const auto& level = server.log_level;
  if (level != "debug" && level != "info" && level != "warn" && level != "error") {
    d.check("server.log_level", "\"" + level + "\" is not one of debug, info, warn, error");
  }
}

// Checks one heater's limits: 0 <= min_temp < max_temp <= 1000.
void validate_heater(const HeaterLimits& heater, const std::string& path, Diagnostics& d) {
  if (heater.min_temp < 0 || heater.min_temp > kMaxTemperature) {
    d.check(join_path(path, "min_temp"), std::to_string(heater.min_temp) + " °C is outside 0-1000 °C");
  }
  if (heater.max_temp < 0 || heater.max_temp > kMaxTemperature) {
    d.check(join_path(path, "max_temp"), std::to_string(heater.max_temp) + " °C is outside 0-1000 °C");
  } else if (heater.max_temp <= heater.min_temp) {
    d.check(join_path(path, "max_temp"), std::to_string(heater.max_temp) +
                                             " °C must be greater than min_temp (" +
                                             std::to_string(heater.min_temp) + " °C)");
  }
}

// True when the heater's limits pass validate_heater().
bool heater_ok(const HeaterLimits& heater) {
  return heater.min_temp >= 0 && heater.min_temp < heater.max_temp && heater.max_temp <= kMaxTemperature;
}

// Checks one axis of the build volume; returns true when it is usable.
bool validate_axis(const AxisRange& axis, const std::string& path, Diagnostics& d) {
  bool ok = true;
  for (const auto& [key, value] : {std::pair{"min", axis.min}, std::pair{"max", axis.max}}) {
    if (!within(value, -kMaxAxisMm, kMaxAxisMm)) {
      d.check(join_path(path, key), number(value) + " mm is outside -10000 to 10000 mm");
      ok = false;
    }
  }
  if (ok && axis.max <= axis.min) {
    d.check(join_path(path, "max"),
            number(axis.max) + " mm must be greater than min (" + number(axis.min) + " mm)");
    ok = false;
  }
  return ok && !d.is_bad(path);
}

// Checks the build volume and that the home position lies inside it.
void validate_volume_and_home(const PrinterConfig& p, const std::string& path, Diagnostics& d) {
  const std::string volume = join_path(path, "volume");
  const std::string home = join_path(path, "home");
  const std::pair<const AxisRange*, double> axes[] = {
      {&p.volume.x, p.home.x}, {&p.volume.y, p.home.y}, {&p.volume.z, p.home.z}};
  const char* names[] = {"x", "y", "z"};
  for (std::size_t i = 0; i < 3; ++i) {
    const auto& [axis, position] = axes[i];
    if (!validate_axis(*axis, join_path(volume, names[i]), d)) continue;
    if (!(position >= axis->min && position <= axis->max)) {
      d.check(join_path(home, names[i]), number(position) + " mm is outside the volume (" +
                                             number(axis->min) + " to " + number(axis->max) + " mm)");
    }
  }
}

// Checks a material's [min, max] temperature range against a heater's limits.
void validate_material_range(int low, int high, const HeaterLimits& heater, const std::string& path,
                             const std::string& heater_name, Diagnostics& d) {
  const std::string shown = "[" + std::to_string(low) + ", " + std::to_string(high) + "]";
  if (low > high) {
    d.check(path, shown + ": min must not be greater than max");
  } else if (low < heater.min_temp || high > heater.max_temp) {
    d.check(path, shown + " °C is outside the printer's " + heater_name + " limits (" +
                      std::to_string(heater.min_temp) + "-" + std::to_string(heater.max_temp) + " °C)");
  }
}

// Checks a material's names and keywords.
void validate_material_names(const MaterialConfig& m, const std::string& path, Diagnostics& d) {
  if (!is_keyword(m.key)) {
    d.check(join_path(path, "key"), "\"" + m.key + "\" is not a keyword (a-z, 0-9, '.', '_', '-')");
  }
  if (m.name.empty() || m.name.size() > kMaxNameLength) {
    d.check(join_path(path, "name"), "must be 1 to 255 characters");
  }
  if (!is_keyword(m.type)) {
    d.check(join_path(path, "type"), "\"" + m.type + "\" is not a keyword (a-z, 0-9, '.', '_', '-')");
  }
  if (m.color && !is_keyword(*m.color)) {
    d.check(join_path(path, "color"), "\"" + *m.color + "\" is not a keyword (a-z, 0-9, '.', '_', '-')");
  }
}

// Checks a material's lengths and percentages.
void validate_material_numbers(const MaterialConfig& m, const PrinterConfig& p, const std::string& path,
                               Diagnostics& d) {
  if (m.diameter_mm && !(within(*m.diameter_mm, 0, kMaxDiameterMm) && *m.diameter_mm > 0)) {
    d.check(join_path(path, "diameter"),
            number(*m.diameter_mm) + " mm must be greater than 0 and at most 5 mm");
  }
  const double diameter = m.diameter_mm.value_or(p.filament_diameter_mm);
  if (m.diameter_tolerance_mm &&
      !(within(*m.diameter_tolerance_mm, 0, kMaxDiameterMm) && *m.diameter_tolerance_mm < diameter)) {
    d.check(join_path(path, "diameter_tolerance"),
            number(*m.diameter_tolerance_mm) + " mm must be at least 0 and smaller than the diameter");
  }
  if (m.fill_density && (*m.fill_density < 0 || *m.fill_density > 100)) {
    d.check(join_path(path, "fill_density"), std::to_string(*m.fill_density) + " is outside 0-100 percent");
  }
  if (m.shell_thickness_mm && !within(*m.shell_thickness_mm, 0, kMaxShellThicknessMm)) {
    d.check(join_path(path, "shell_thickness"), number(*m.shell_thickness_mm) + " mm is outside 0-100 mm");
  }
}

// Checks a material's temperatures against the printer's heaters.
void validate_material_temperatures(const MaterialConfig& m, const PrinterConfig& p, const std::string& path,
                                    const std::string& printer_path, Diagnostics& d) {
  if (!d.is_bad(join_path(printer_path, "hotend")) && heater_ok(p.hotend)) {
    validate_material_range(m.hotend_min_temp, m.hotend_max_temp, p.hotend, join_path(path, "hotend_temp"),
                            "hotend", d);
  }
  if (m.bed_min_temp.has_value() != m.bed_max_temp.has_value()) {
    d.check(join_path(path, "bed_temp"), "needs both a minimum and a maximum");
  } else if (m.bed_min_temp && !p.bed) {
    d.check(join_path(path, "bed_temp"), "is set but the printer has no heated bed ([printer.bed])");
  } else if (m.bed_min_temp && !d.is_bad(join_path(printer_path, "bed")) && heater_ok(*p.bed)) {
    validate_material_range(*m.bed_min_temp, *m.bed_max_temp, *p.bed, join_path(path, "bed_temp"), "bed", d);
  }
}

// Checks the material database: entries, unique keys, the loaded key.
void validate_materials(const PrinterConfig& p, const std::string& path, Diagnostics& d) {
  const std::string list = join_path(path, "material");
  if (p.materials.empty()) d.check(list, "at least one [[printer.material]] table is required");
  std::map<std::string, std::size_t> keys;
  for (std::size_t i = 0; i < p.materials.size(); ++i) {
    const auto& m = p.materials[i];
    const std::string item = index_path(list, i);
    validate_material_names(m, item, d);
    validate_material_numbers(m, p, item, d);
    validate_material_temperatures(m, p, item, path, d);
    if (const auto [first, added] = keys.emplace(m.key, i); !added) {
      d.check(join_path(item, "key"),
              "duplicate material key \"" + m.key + "\" (also " + index_path(list, first->second) + ")");
    }
  }
  // Only a database whose keys all were read can prove a key absent.
  bool keys_read = !p.materials.empty();
  for (std::size_t i = 0; i < p.materials.size(); ++i) {
    keys_read = keys_read && !d.is_bad(join_path(index_path(list, i), "key"));
  }
  if (p.loaded_material && keys_read && !keys.contains(*p.loaded_material)) {
    d.check(join_path(path, "loaded_material"),
            "\"" + *p.loaded_material + "\" is not the key of a [[printer.material]] of this printer");
  }
}

// Checks the macro list: upper-case names and parameters, no duplicates.
void validate_macros(const PrinterConfig& p, const std::string& path, Diagnostics& d) {
  std::set<std::string> names;
  for (std::size_t i = 0; i < p.macros.size(); ++i) {
    const auto& macro = p.macros[i];
    const std::string item = index_path(join_path(path, "macro"), i);
    if (!is_upper_name(macro.name)) {
      d.check(join_path(item, "name"), "\"" + macro.name + "\" is not an upper-case name (A-Z, 0-9, '_')");
    } else if (!names.insert(macro.name).second) {
      d.check(join_path(item, "name"), "duplicate macro name \"" + macro.name + "\"");
    }
    const std::pair<const char*, const std::vector<std::string>*> lists[] = {
        {"hotend_temperature_params", &macro.hotend_temperature_params},
        {"bed_temperature_params", &macro.bed_temperature_params},
        {"chamber_temperature_params", &macro.chamber_temperature_params}};
    for (const auto& [key, params] : lists) {
      for (std::size_t j = 0; j < params->size(); ++j) {
        if (!is_upper_name((*params)[j])) {
          d.check(index_path(join_path(item, key), j),
                  "\"" + (*params)[j] + "\" is not an upper-case parameter name (A-Z, 0-9, '_')");
        }
      }
    }
  }
}

// Checks one positive speed or acceleration of [printer.limits] (0 < value <= 1e6).
void validate_rate(double value, const std::string& path, const std::string& unit, Diagnostics& d) {
  if (!(within(value, 0, kMaxRate) && value > 0)) {
    d.check(path, number(value) + " " + unit + " must be greater than 0 and at most 1000000");
  }
}

// Checks a [min, max] percentage pair of [printer.limits] (1 <= min <= max <= 1000).
void validate_factor(int low, int high, const std::string& path, Diagnostics& d) {
  if (low < 1 || high > kMaxFactor || low > high) {
    d.check(path, "[" + std::to_string(low) + ", " + std::to_string(high) +
                      "] must satisfy 1 <= min <= max <= 1000 percent");
  }
}

// Checks the speeds and accelerations of [printer.limits].
void validate_limit_rates(const GcodeLimits& l, const std::string& path, Diagnostics& d) {
  const std::pair<const char*, double> speeds[] = {
      {"max_velocity", l.max_velocity},
      {"max_z_velocity", l.max_z_velocity},
      {"max_extrude_velocity", l.max_extrude_velocity},
      {"max_jerk", l.max_jerk},
      {"max_square_corner_velocity", l.max_square_corner_velocity},
      {"square_corner_velocity", l.square_corner_velocity}};
  for (const auto& [key, value] : speeds) validate_rate(value, join_path(path, key), "mm/s", d);
  validate_rate(l.max_accel, join_path(path, "max_accel"), "mm/s²", d);
  validate_rate(l.acceleration, join_path(path, "acceleration"), "mm/s²", d);
  validate_rate(l.max_junction_deviation, join_path(path, "max_junction_deviation"), "mm", d);
  if (l.acceleration > l.max_accel && within(l.max_accel, 0, kMaxRate)) {
    d.check(join_path(path, "acceleration"),
            number(l.acceleration) + " mm/s² must not exceed max_accel (" + number(l.max_accel) + " mm/s²)");
  }
  if (l.square_corner_velocity > l.max_square_corner_velocity) {
    d.check(join_path(path, "square_corner_velocity"),
            number(l.square_corner_velocity) + " mm/s must not exceed max_square_corner_velocity (" +
                number(l.max_square_corner_velocity) + " mm/s)");
  }
}

// Checks the [printer.limits] table.
void validate_limits(const GcodeLimits& l, const std::string& printer_path, Diagnostics& d) {
  const std::string path = join_path(printer_path, "limits");
  validate_limit_rates(l, path, d);
  validate_factor(l.speed_factor_min, l.speed_factor_max, join_path(path, "speed_factor"), d);
  validate_factor(l.flow_factor_min, l.flow_factor_max, join_path(path, "flow_factor"), d);
  if (!within(l.volume_tolerance, 0, kMaxVolumeTolerance)) {
    d.check(join_path(path, "volume_tolerance"), number(l.volume_tolerance) + " mm is outside 0-10 mm");
  }
  if (l.max_line_length < kMinLineLength || l.max_line_length > kMaxLineLength) {
    d.check(join_path(path, "max_line_length"),
            std::to_string(l.max_line_length) + " bytes is outside 80-65536 bytes");
  }
  if (l.min_extrude_temp < 0 || l.min_extrude_temp > kMaxTemperature) {
    d.check(join_path(path, "min_extrude_temp"),
            std::to_string(l.min_extrude_temp) + " °C is outside 0-1000 °C");
  }
  for (std::size_t i = 0; i < l.overridden_commands.size(); ++i) {
    if (!is_upper_name(l.overridden_commands[i])) {
      d.check(index_path(join_path(path, "overridden_commands"), i),
              "\"" + l.overridden_commands[i] + "\" is not an upper-case command name (A-Z, 0-9, '_')");
    }
  }
}

// Checks the printer's identity, backend and text attributes.
void validate_identity(const PrinterConfig& p, const std::string& path, Diagnostics& d) {
  if (!is_printer_name(p.name)) {
    d.check(join_path(path, "name"), "\"" + p.name + "\" must be 1 to 63 letters, digits, '-' or '_'");
  }
  if (p.backend != "virtual" && p.backend != "moonraker") {
    d.check(join_path(path, "backend"), "unknown backend \"" + p.backend + "\"; allowed: virtual, moonraker");
  }
  for (const auto& [key, text] : {std::pair{"make_and_model", &p.make_and_model},
                                  std::pair{"location", &p.location}, std::pair{"info", &p.info}}) {
    if (text->size() > kMaxTextLength) d.check(join_path(path, key), "must be at most 127 bytes");
  }
  if (p.platform_shape != "rectangle" && p.platform_shape != "ellipse") {
    d.check(join_path(path, "platform_shape"),
            "\"" + p.platform_shape + "\" is not one of rectangle, ellipse");
  }
}

// True when `host` is a loopback name or address: localhost, ::1 or 127.x.y.z.
bool is_loopback_host(std::string_view host) {
  std::string lower(host);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "localhost" || lower == "::1") return true;
  int octets[4] = {0, 0, 0, 0};
  std::string_view rest = host;
  for (int i = 0; i < 4; ++i) {
    const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), octets[i]);
    if (ec != std::errc{} || end == rest.data() || octets[i] < 0 || octets[i] > 255) return false;
    rest.remove_prefix(static_cast<std::size_t>(end - rest.data()));
    if (i < 3) {
      if (rest.empty() || rest.front() != '.') return false;
      rest.remove_prefix(1);
    }
  }
  return rest.empty() && octets[0] == 127;
}

// Checks [printer.moonraker] against the printer's backend.
void validate_moonraker(const PrinterConfig& p, const std::string& path, Diagnostics& d) {
  const std::string table = join_path(path, "moonraker");
  if (p.backend == "moonraker" && !p.moonraker) {
    d.check(table,
            "a [printer.moonraker] table with url and api_key_file is required for backend \"moonraker\"");
  }
  if (!p.moonraker) return;
  if (p.backend == "virtual") {
    d.check(table,
            "[printer.moonraker] is only allowed with backend = \"moonraker\" (backend is \"virtual\")");
  }
  if (const std::string problem = moonraker_url_problem(p.moonraker->url); !problem.empty()) {
    d.check(join_path(table, "url"), "\"" + p.moonraker->url + "\" is refused: " + problem);
  }
  if (p.moonraker->api_key_file.empty()) d.check(join_path(table, "api_key_file"), "must not be empty");
  if (p.moonraker->timeout_seconds < 1 || p.moonraker->timeout_seconds > 600) {
    d.check(join_path(table, "timeout_seconds"),
            std::to_string(p.moonraker->timeout_seconds) + " must be 1 to 600 seconds");
  }
  const auto& risks = p.moonraker->accept_risks;
  for (std::size_t i = 0; i < risks.size(); ++i) {
    if (std::find(kMoonrakerRisks.begin(), kMoonrakerRisks.end(), risks[i]) == kMoonrakerRisks.end()) {
      std::string known;
      for (const auto name : kMoonrakerRisks) known += (known.empty() ? "" : ", ") + std::string(name);
      d.check(index_path(join_path(table, "accept_risks"), i),
              "unknown risk \"" + risks[i] + "\" (known: " + known + ")");
    }
  }
}

// Checks one [[printer]] table.
void validate_printer(const PrinterConfig& p, const std::string& path, Diagnostics& d) {
  validate_identity(p, path, d);
  for (const auto& [key, value] : {std::pair{"nozzle_diameter", p.nozzle_diameter_mm},
                                   std::pair{"filament_diameter", p.filament_diameter_mm}}) {
    if (!(within(value, 0, kMaxDiameterMm) && value > 0)) {
      d.check(join_path(path, key), number(value) + " mm must be greater than 0 and at most 5 mm");
    }
  }
  validate_volume_and_home(p, path, d);
  validate_heater(p.hotend, join_path(path, "hotend"), d);
  if (p.bed) validate_heater(*p.bed, join_path(path, "bed"), d);
  if (p.chamber) validate_heater(*p.chamber, join_path(path, "chamber"), d);
  if (!within(p.virtual_seconds_per_layer, 0, 1e9)) {
    d.check(join_path(path, "virtual.seconds_per_layer"),
            number(p.virtual_seconds_per_layer) + " must be a finite number of seconds, at least 0");
  }
  validate_moonraker(p, path, d);
  validate_macros(p, path, d);
  validate_materials(p, path, d);
  validate_limits(p.limits, path, d);
  if (p.security.max_envelope_lifetime_days < 1 || p.security.max_envelope_lifetime_days > 3650) {
    d.check(join_path(path, "security.max_envelope_lifetime_days"),
            std::to_string(p.security.max_envelope_lifetime_days) + " must be 1 to 3650 days");
  }
  if (p.security.max_document_size_mb < 1 || p.security.max_document_size_mb > 1048576) {
    d.check(join_path(path, "security.max_document_size_mb"),
            std::to_string(p.security.max_document_size_mb) + " must be 1 to 1048576 MiB");
  }
}

}  // namespace

void validate(const Config& config, Diagnostics& d) {
  validate_server(config.server, d);
  if (config.printers.empty() && !d.is_bad("printer")) {
    d.check("printer", "at least one [[printer]] table is required");
  }
  std::map<std::string, std::size_t> names;
  for (std::size_t i = 0; i < config.printers.size(); ++i) {
    const auto& printer = config.printers[i];
    const std::string path = index_path("printer", i);
    validate_printer(printer, path, d);
    if (const auto [first, added] = names.emplace(printer.name, i); !added) {
      d.check(join_path(path, "name"), "duplicate printer name \"" + printer.name + "\" (also " +
                                           index_path("printer", first->second) + ")");
    }
  }
}

}  // namespace internal

std::string moonraker_url_problem(std::string_view url) {
  const bool https = url.starts_with("https://");
  if (!https && !url.starts_with("http://")) return "it must start with http:// or https://";
  std::string_view rest = url.substr(https ? 8 : 7);
  const std::size_t authority_end = std::min(rest.find_first_of("/?#"), rest.size());
  const std::string_view authority = rest.substr(0, authority_end);
  const std::string_view tail = rest.substr(authority_end);
  if (!tail.empty() && tail != "/") {
    return "give only scheme, host and port (e.g. http://127.0.0.1:7125), no path, query or fragment";
  }
  if (authority.find('@') != std::string_view::npos) {
    return "it must not contain user information (the API key belongs in api_key_file)";
  }
  std::string_view host = authority;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return "the IPv6 address lacks its closing ']'";
    host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty() && after.front() != ':') return "unexpected text after the IPv6 address";
    if (!after.empty()) port = after.substr(1);
  } else if (const std::size_t colon = authority.find(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (authority.find(':', colon + 1) != std::string_view::npos) return "an IPv6 address goes in brackets";
  }
  if (host.empty()) return "it has no host";
  if (!port.empty() || authority.ends_with(':')) {
    int value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc{} || end != port.data() + port.size() || value < 1 || value > 65535) {
      return "the port must be 1 to 65535";
    }
  }
  if (!https && !internal::is_loopback_host(host)) {
    return "plain http:// is accepted only to a loopback address (127.0.0.0/8, [::1], localhost), since the "
           "API "
           "key and every job would cross the network unencrypted; use https:// for a remote Moonraker";
  }
  return "";
}

ConfigErrors validate_config(const Config& config) {
  internal::Diagnostics diagnostics("");
  internal::validate(config, diagnostics);
  return diagnostics.errors();
}

}  // namespace ipp3d::config
