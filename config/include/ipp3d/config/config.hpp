// The ipp3d-server configuration: one TOML schema, one loader.
// The schema is documented in docs/configuration.md; an annotated example is
// docs/examples/ipp3d-server.toml. Lengths in the file are millimetres and
// temperatures °C; the attribute model's units are derived from them.
#pragma once

#include "ipp3d/attributes/capabilities.hpp"
#include "ipp3d/attributes/material.hpp"
#include "ipp3d/result.hpp"

#include <array>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ipp3d::config {

// One axis of the build volume, in millimetres (minimum may be negative).
struct AxisRange {
  double min = 0.0;
  double max = 0.0;
  bool operator==(const AxisRange&) const = default;
};

// Build volume per axis, in millimetres.
struct Volume {
  AxisRange x, y, z;
  bool operator==(const Volume&) const = default;
};

// Position after homing (G28), in millimetres.
struct Position {
  double x = 0.0, y = 0.0, z = 0.0;
  bool operator==(const Position&) const = default;
};

// A heater's allowed target range in °C; 0 (off) is always allowed.
struct HeaterLimits {
  int min_temp = 0;
  int max_temp = 0;
  bool operator==(const HeaterLimits&) const = default;
};

// A Klipper macro a job may call, and which of its parameters carry
// temperatures (so the G-code gate can check them).
struct Macro {
  std::string name;                                    // upper case, e.g. "PRINT_START"
  std::vector<std::string> hotend_temperature_params;  // e.g. {"EXTRUDER"}
  std::vector<std::string> bed_temperature_params;     // e.g. {"BED"}
  std::vector<std::string> chamber_temperature_params;
  bool heats_to_material = false;  // heats the hotend to the material's temperature by itself
  bool operator==(const Macro&) const = default;
};

// A material of the printer's database, in configuration units.
struct MaterialConfig {
  std::string key;                    // material-key (keyword)
  std::string name;                   // material-name
  std::string type;                   // material-type (keyword, e.g. "pla")
  std::optional<std::string> color;   // material-color keyword
  std::optional<double> diameter_mm;  // default: printer filament_diameter
  std::optional<double> diameter_tolerance_mm;
  int hotend_min_temp = 0;  // material-temperature range, °C
  int hotend_max_temp = 0;
  std::optional<int> bed_min_temp;  // bed range recommended for the material, °C
  std::optional<int> bed_max_temp;
  std::optional<int> fill_density;  // percent
  std::optional<double> shell_thickness_mm;
  std::optional<bool> retraction;
  bool operator==(const MaterialConfig&) const = default;
};

// The [printer.limits] table: what the G-code gate (ipp3d::gcode) enforces
// besides the build volume and heater limits. Speeds are mm/s, accelerations
// mm/s², factors percent. Every key has a default, so a file without the table
// stays valid. docs/gcode-policy.md explains each rule.
struct GcodeLimits {
  double max_velocity = 500.0;               // G0/G1 F (as mm/s), M203 X/Y, SET_VELOCITY_LIMIT VELOCITY
  double max_z_velocity = 50.0;              // M203 Z
  double max_extrude_velocity = 120.0;       // M203 E
  double max_accel = 10000.0;                // M201, M204, SET_VELOCITY_LIMIT ACCEL/ACCEL_TO_DECEL
  double max_jerk = 20.0;                    // M205 X/Y/Z/E (mm/s)
  double max_square_corner_velocity = 20.0;  // SET_VELOCITY_LIMIT SQUARE_CORNER_VELOCITY
  double max_junction_deviation = 0.5;       // M205 J (mm)
  double acceleration = 1500.0;              // the printer's own acceleration (print-time estimate)
  double square_corner_velocity = 5.0;       // the printer's own corner speed (print-time estimate)
  int speed_factor_min = 10;                 // M220 S, percent
  int speed_factor_max = 200;
  int flow_factor_min = 50;  // M221 S, percent
  int flow_factor_max = 150;
  double volume_tolerance = 0.5;                 // mm a position may lie outside [printer.volume]
  int max_line_length = 1024;                    // bytes per line, without the line end
  int min_extrude_temp = 170;                    // °C; cold-extrusion limit when the job has no material
  std::vector<std::string> overridden_commands;  // standard commands a Klipper macro replaces
  bool operator==(const GcodeLimits&) const = default;
};

// The [printer.security] table: what a printer requires of job documents
// (docs/security.md, docs/envelope.md).
struct SecurityConfig {
  bool require_signature = true;        // plain G-code is refused; only signed envelopes print
  bool accept_unaddressed = true;       // accept envelopes that name no printer (mode 0 only)
  int max_envelope_lifetime_days = 30;  // not-after - created may be at most this
  int max_document_size_mb = 1024;      // largest plaintext document, MiB
  bool operator==(const SecurityConfig&) const = default;
};

// The names accept_risks may hold: a trusted_clients entry beyond loopback,
// force_logins off while Moonraker has users, and enable_config_write_access on
// (docs/security.md "Moonraker must not be a way around ipp3d").
inline constexpr std::array<std::string_view, 3> kMoonrakerRisks = {"trusted-clients", "force-logins-off",
                                                                    "config-write-access"};

// The [printer.moonraker] table: how the "moonraker" backend reaches
// Moonraker (docs/configuration.md). The key file is read when the server
// starts, not by the loader.
struct MoonrakerConfig {
  std::string url;               // "http://" + loopback host (127.0.0.0/8, ::1, localhost) or "https://"
  std::string api_key_file;      // file holding Moonraker's API key; must not be readable by group or others
  int timeout_seconds = 10;      // limit of status queries; print-control calls wait max(120, this) seconds
  bool delete_after_job = true;  // remove the job's file from Moonraker when the job ends
  // Unsafe Moonraker settings the operator accepts (kMoonrakerRisks names):
  // logged, but they do not keep the printer from printing.
  std::vector<std::string> accept_risks;
  bool operator==(const MoonrakerConfig&) const = default;
};

// One [[printer]] table.
struct PrinterConfig {
  std::string name;                 // queue name: letters, digits, '-' and '_'
  std::string backend = "virtual";  // "virtual" or "moonraker"
  std::string make_and_model = "ipp3d Virtual FDM Printer";
  std::string location;
  std::string info;
  Volume volume;  // mm
  Position home;  // mm
  std::string platform_shape = "rectangle";
  HeaterLimits hotend;                  // °C
  std::optional<HeaterLimits> bed;      // absent: no heated bed
  std::optional<HeaterLimits> chamber;  // absent: no heated chamber
  double nozzle_diameter_mm = 0.4;
  double filament_diameter_mm = 1.75;
  bool auto_start_next = false;                // start the next job without a plate-clear confirmation
  std::vector<Macro> macros;                   // allowed Klipper macros
  GcodeLimits limits;                          // the G-code gate's limits ([printer.limits])
  SecurityConfig security;                     // [printer.security]
  std::vector<MaterialConfig> materials;       // the material database
  std::optional<std::string> loaded_material;  // key loaded at first start
  // Virtual backend: simulated seconds per layer (0 = as fast as possible).
  double virtual_seconds_per_layer = 0.5;
  std::optional<MoonrakerConfig> moonraker;  // [printer.moonraker]; required for backend "moonraker"
  bool operator==(const PrinterConfig&) const = default;
};

// The [server.login] table: limits on password checking (docs/security.md,
// "Password guessing"; docs/configuration.md).
struct LoginConfig {
  int max_failed_logins = 5;          // failed logins of one account before it is locked
  int lockout_seconds = 60;           // the first lock; each further lock doubles it
  int max_lockout_seconds = 3600;     // the doubling stops here
  int max_address_failures = 20;      // failed logins from one address per window
  int address_window_seconds = 600;   // the per-address window; a blocked address waits until it ends
  int max_concurrent_hashes = 2;      // Argon2id verifications at once (64 MiB of memory each)
  int hash_queue_length = 8;          // requests that may wait for a hashing slot
  int hash_wait_seconds = 5;          // how long one waits at most
  int credential_cache_seconds = 30;  // lifetime of a verified credential; 0 = no cache
  bool operator==(const LoginConfig&) const = default;
};

// The [server] table.
struct ServerConfig {
  std::string listen = "127.0.0.1:8631";  // HOST:PORT
  std::optional<std::string> state_dir;   // default: $IPP3D_STATE_DIR or ~/.local/state/ipp3d
  std::string log_level = "info";         // debug, info, warn, error
  std::optional<std::string> log_file;    // default: stderr
  // File holding the passphrase of the server's private keys (docs/security.md
  // "Keys at rest"); default: $CREDENTIALS_DIRECTORY/ipp3d-key-passphrase when set.
  std::optional<std::string> key_passphrase_file;
  LoginConfig login;  // [server.login]
  bool operator==(const ServerConfig&) const = default;
};

// The whole file.
struct Config {
  ServerConfig server;
  std::vector<PrinterConfig> printers;
  bool operator==(const Config&) const = default;
};

// Every problem found in a configuration; each Error has `attribute` = the
// key path (e.g. "printer[0].volume.x.max"), `line` = the line in the file,
// and `message` = "FILE:LINE: KEY: REASON".
using ConfigErrors = std::vector<Error>;

// Parses and validates TOML text. `source_name` names the file in messages.
// Rejects unknown keys, wrong types, missing required keys, out-of-range
// values (e.g. max below min, temperature above 1000 °C), duplicate printer
// names and material keys, and a loaded_material that is not in the database.
// Reports every error found, not just the first.
Result<Config, ConfigErrors> parse_config(std::string_view toml_text, const std::string& source_name);

// Applies the value checks of parse_config() (ranges, names, uniqueness,
// cross references) to a Config built in code, e.g. default_config() or a
// file's Config after command-line overrides. Errors have `line` 0 and the
// message "KEY: REASON". Empty when the configuration is valid.
ConfigErrors validate_config(const Config& config);

// Reads `path` and parses it; an unreadable file is one error naming it.
Result<Config, ConfigErrors> load_config(const std::filesystem::path& path);

// The configuration used when no file is given: one virtual printer
// ("virtual-fdm", 220 x 220 x 250 mm, PLA and PETG, PLA loaded).
Config default_config();

// Derives the attribute model for one printer (units converted to PWG
// 5100.21's: nm, 1/100 mm; materials-col-ready from `loaded`, which is a
// material key or nullopt for nothing loaded).
attributes::PrinterCapabilities capabilities_for(const PrinterConfig& printer,
                                                 const std::optional<std::string>& loaded);

// Converts one configured material to a materials-col value.
attributes::Material material_for(const PrinterConfig& printer, const MaterialConfig& material);

// Why `url` is not acceptable as a Moonraker URL, or "" when it is: only
// "http://" to a loopback host (127.0.0.0/8, [::1], localhost) or "https://"
// to any host, with an optional port and nothing after it but "/".
std::string moonraker_url_problem(std::string_view url);

// Joins errors into one multi-line message (for printing to stderr).
std::string format_errors(const ConfigErrors& errors);

}  // namespace ipp3d::config
