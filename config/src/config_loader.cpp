// The configuration loader: TOML text -> Config. Reading (types, unknown and
// missing keys) happens here; the value checks are in config_validate.cpp.
// Every error is collected; toml++ exceptions never leave this file.
#include "ipp3d/config/config.hpp"

#include "diagnostics.hpp"
#include "toml_reader.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <system_error>
#include <tuple>
#include <utility>

namespace ipp3d::config {
namespace internal {
namespace {

constexpr std::uintmax_t kMaxFileBytes =
    std::uintmax_t{4} * 1024 * 1024;  // a configuration larger than this is a mistake

// Reads the [server.login] table.
void read_login(TableReader& server, LoginConfig& login) {
  const toml::table* table = server.table("login");
  if (table == nullptr) return;
  TableReader reader(*table, join_path(server.path(), "login"), server.diagnostics());
  reader.read("max_failed_logins", login.max_failed_logins);
  reader.read("lockout_seconds", login.lockout_seconds);
  reader.read("max_lockout_seconds", login.max_lockout_seconds);
  reader.read("max_address_failures", login.max_address_failures);
  reader.read("address_window_seconds", login.address_window_seconds);
  reader.read("max_concurrent_hashes", login.max_concurrent_hashes);
  reader.read("hash_queue_length", login.hash_queue_length);
  reader.read("hash_wait_seconds", login.hash_wait_seconds);
  reader.read("credential_cache_seconds", login.credential_cache_seconds);
  reader.finish();
}

// Reads the [server] table.
void read_server(TableReader& reader, ServerConfig& server) {
  reader.read("listen", server.listen);
  reader.read("state_dir", server.state_dir);
  reader.read("log_level", server.log_level);
  reader.read("log_file", server.log_file);
  reader.read("key_passphrase_file", server.key_passphrase_file);
  read_login(reader, server.login);
  reader.finish();
}

// Reads one {min = ..., max = ...} axis of [printer.volume].
void read_axis(TableReader& volume, std::string_view key, AxisRange& axis) {
  const toml::table* table = volume.table(key, Need::kRequired);
  if (table == nullptr) return;
  TableReader reader(*table, join_path(volume.path(), key), volume.diagnostics());
  reader.read("min", axis.min, Need::kRequired);
  reader.read("max", axis.max, Need::kRequired);
  reader.finish();
}

// Reads [printer.volume] (required) and [printer.home] (optional).
void read_geometry(TableReader& printer, PrinterConfig& p) {
  if (const toml::table* table = printer.table("volume", Need::kRequired)) {
    TableReader volume(*table, join_path(printer.path(), "volume"), printer.diagnostics());
    read_axis(volume, "x", p.volume.x);
    read_axis(volume, "y", p.volume.y);
    read_axis(volume, "z", p.volume.z);
    volume.finish();
  }
  if (const toml::table* table = printer.table("home")) {
    TableReader home(*table, join_path(printer.path(), "home"), printer.diagnostics());
    home.read("x", p.home.x);
    home.read("y", p.home.y);
    home.read("z", p.home.z);
    home.finish();
  }
}

// Reads a heater table ([printer.hotend], [printer.bed], [printer.chamber]).
std::optional<HeaterLimits> read_heater(TableReader& printer, std::string_view key, Need need) {
  const toml::table* table = printer.table(key, need);
  if (table == nullptr) return std::nullopt;
  TableReader reader(*table, join_path(printer.path(), key), printer.diagnostics());
  HeaterLimits limits;
  reader.read("min_temp", limits.min_temp, Need::kRequired);
  reader.read("max_temp", limits.max_temp, Need::kRequired);
  reader.finish();
  return limits;
}

// Reads one [[printer.macro]] table.
Macro read_macro(TableReader& reader) {
  Macro macro;
  reader.read("name", macro.name, Need::kRequired);
  reader.read("hotend_temperature_params", macro.hotend_temperature_params);
  reader.read("bed_temperature_params", macro.bed_temperature_params);
  reader.read("chamber_temperature_params", macro.chamber_temperature_params);
  reader.read("heats_to_material", macro.heats_to_material);
  reader.finish();
  return macro;
}

// Reads one [[printer.material]] table.
MaterialConfig read_material(TableReader& reader) {
  MaterialConfig m;
  reader.read("key", m.key, Need::kRequired);
  reader.read("name", m.name, Need::kRequired);
  reader.read("type", m.type, Need::kRequired);
  reader.read("color", m.color);
  reader.read("diameter", m.diameter_mm);
  reader.read("diameter_tolerance", m.diameter_tolerance_mm);
  IntPair hotend{};
  if (reader.read("hotend_temp", hotend, Need::kRequired))
    std::tie(m.hotend_min_temp, m.hotend_max_temp) = hotend;
  IntPair bed{};
  if (reader.read("bed_temp", bed)) std::tie(m.bed_min_temp, m.bed_max_temp) = bed;
  reader.read("fill_density", m.fill_density);
  reader.read("shell_thickness", m.shell_thickness_mm);
  reader.read("retraction", m.retraction);
  reader.finish();
  return m;
}

// Reads every table of an array of tables with `read_one`.
template <class T, class ReadOne>
std::vector<T> read_tables(TableReader& parent, std::string_view key, Need need, ReadOne read_one) {
  std::vector<T> items;
  const toml::array* array = parent.table_array(key, need);
  if (array == nullptr) return items;
  const std::string path = join_path(parent.path(), key);
  parent.diagnostics().record_line(path, line_of(*array));
  for (std::size_t i = 0; i < array->size(); ++i) {
    TableReader reader(*array->get(i)->as_table(), index_path(path, i), parent.diagnostics());
    items.push_back(read_one(reader));
  }
  return items;
}

// Reads the [printer.virtual] table.
void read_virtual(TableReader& printer, PrinterConfig& p) {
  const toml::table* table = printer.table("virtual");
  if (table == nullptr) return;
  TableReader reader(*table, join_path(printer.path(), "virtual"), printer.diagnostics());
  reader.read("seconds_per_layer", p.virtual_seconds_per_layer);
  reader.finish();
}

// Reads the [printer.moonraker] table (settings of the "moonraker" backend).
void read_moonraker(TableReader& printer, PrinterConfig& p) {
  const toml::table* table = printer.table("moonraker");
  if (table == nullptr) return;
  TableReader reader(*table, join_path(printer.path(), "moonraker"), printer.diagnostics());
  MoonrakerConfig moonraker;
  reader.read("url", moonraker.url, Need::kRequired);
  reader.read("api_key_file", moonraker.api_key_file, Need::kRequired);
  reader.read("timeout_seconds", moonraker.timeout_seconds);
  reader.read("delete_after_job", moonraker.delete_after_job);
  reader.read("accept_risks", moonraker.accept_risks);
  reader.finish();
  p.moonraker = std::move(moonraker);
}

// Reads the optional [printer.limits] table (the G-code gate's limits).
void read_limits(TableReader& printer, GcodeLimits& l) {
  const toml::table* table = printer.table("limits");
  if (table == nullptr) return;
  TableReader reader(*table, join_path(printer.path(), "limits"), printer.diagnostics());
  reader.read("max_velocity", l.max_velocity);
  reader.read("max_z_velocity", l.max_z_velocity);
  reader.read("max_extrude_velocity", l.max_extrude_velocity);
  reader.read("max_accel", l.max_accel);
  reader.read("max_jerk", l.max_jerk);
  reader.read("max_square_corner_velocity", l.max_square_corner_velocity);
  reader.read("max_junction_deviation", l.max_junction_deviation);
  reader.read("acceleration", l.acceleration);
  reader.read("square_corner_velocity", l.square_corner_velocity);
  IntPair factor{};
  if (reader.read("speed_factor", factor)) std::tie(l.speed_factor_min, l.speed_factor_max) = factor;
  if (reader.read("flow_factor", factor)) std::tie(l.flow_factor_min, l.flow_factor_max) = factor;
  reader.read("volume_tolerance", l.volume_tolerance);
  reader.read("max_line_length", l.max_line_length);
  reader.read("min_extrude_temp", l.min_extrude_temp);
  reader.read("overridden_commands", l.overridden_commands);
  reader.finish();
}

// Reads the optional [printer.security] table.
void read_security(TableReader& printer, SecurityConfig& security) {
  const toml::table* table = printer.table("security");
  if (table == nullptr) return;
  TableReader reader(*table, join_path(printer.path(), "security"), printer.diagnostics());
  reader.read("require_signature", security.require_signature);
  reader.read("accept_unaddressed", security.accept_unaddressed);
  reader.read("max_envelope_lifetime_days", security.max_envelope_lifetime_days);
  reader.read("max_document_size_mb", security.max_document_size_mb);
  reader.finish();
}

// Reads one [[printer]] table.
PrinterConfig read_printer(TableReader& reader) {
  PrinterConfig p;
  reader.read("name", p.name, Need::kRequired);
  reader.read("backend", p.backend);
  reader.read("make_and_model", p.make_and_model);
  reader.read("location", p.location);
  reader.read("info", p.info);
  reader.read("platform_shape", p.platform_shape);
  reader.read("auto_start_next", p.auto_start_next);
  reader.read("nozzle_diameter", p.nozzle_diameter_mm);
  reader.read("filament_diameter", p.filament_diameter_mm);
  reader.read("loaded_material", p.loaded_material);
  read_geometry(reader, p);
  p.hotend = read_heater(reader, "hotend", Need::kRequired).value_or(HeaterLimits{});
  p.bed = read_heater(reader, "bed", Need::kOptional);
  p.chamber = read_heater(reader, "chamber", Need::kOptional);
  read_virtual(reader, p);
  read_moonraker(reader, p);
  read_limits(reader, p.limits);
  read_security(reader, p.security);
  p.macros = read_tables<Macro>(reader, "macro", Need::kOptional, read_macro);
  p.materials = read_tables<MaterialConfig>(reader, "material", Need::kRequired, read_material);
  reader.finish();
  return p;
}

// Reads the whole document into `config`.
void read_document(const toml::table& root, Config& config, Diagnostics& diagnostics) {
  TableReader reader(root, "", diagnostics);
  if (const toml::table* server = reader.table("server")) {
    TableReader server_reader(*server, "server", diagnostics);
    read_server(server_reader, config.server);
  }
  config.printers = read_tables<PrinterConfig>(reader, "printer", Need::kOptional, read_printer);
  reader.finish();
}

}  // namespace
}  // namespace internal

Result<Config, ConfigErrors> parse_config(std::string_view toml_text, const std::string& source_name) {
  internal::Diagnostics diagnostics(source_name);
  Config config;
  try {
    const toml::table root = toml::parse(toml_text, source_name);
    internal::read_document(root, config, diagnostics);
  } catch (const toml::parse_error& error) {
    diagnostics.report("", static_cast<long>(error.source().begin.line),
                       "syntax error: " + std::string(error.description()));
    return diagnostics.errors();
  }
  internal::validate(config, diagnostics);
  if (diagnostics.errors().empty()) return config;
  // Reading and checking run one after the other; report in file order.
  ConfigErrors errors = diagnostics.errors();
  std::stable_sort(errors.begin(), errors.end(),
                   [](const Error& a, const Error& b) { return a.line < b.line; });
  return errors;
}

Result<Config, ConfigErrors> load_config(const std::filesystem::path& path) {
  const std::string name = path.string();
  auto failure = [&](const std::string& reason) {
    return ConfigErrors{Error{IPP_STATUS_ERROR_INTERNAL, name + ": " + reason, "", 0}};
  };
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return failure(ec ? "cannot read: " + ec.message() : "cannot read: not a regular file");
  }
  if (std::filesystem::file_size(path, ec) > internal::kMaxFileBytes && !ec) {
    return failure("cannot read: larger than 4 MiB");
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) return failure("cannot read: " + std::string(std::strerror(errno)));
  const std::string text{std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
  if (file.bad()) return failure("cannot read: I/O error");
  return parse_config(text, name);
}

std::string format_errors(const ConfigErrors& errors) {
  std::string text;
  for (const auto& error : errors) {
    if (!text.empty()) text += '\n';
    text += error.message;
  }
  return text;
}

}  // namespace ipp3d::config
