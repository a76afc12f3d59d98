// Tests of the configuration schema: every error path (key path, line and
// message), a full round trip, unit conversion into the attribute model, the
// default configuration and the shipped example file.
#include "ipp3d/config/config.hpp"

#include "ipp3d/attributes/capabilities.hpp"
#include "ipp3d/attributes/job_ticket.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace ipp3d::config {
namespace {

using attributes::IntegerOrRange;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// Lines 1-3.
constexpr std::string_view kServer =
    "[server]\n"
    "listen = \"127.0.0.1:8631\"\n"
    "\n";

// Lines 4-26 when it follows kServer.
constexpr std::string_view kPrinter =
    "[[printer]]\n"                 // 4
    "name = \"p1\"\n"               // 5
    "nozzle_diameter = 0.4\n"       // 6
    "filament_diameter = 1.75\n"    // 7
    "loaded_material = \"pla\"\n"   // 8
    "[printer.volume]\n"            // 9
    "x = { min = 0, max = 220 }\n"  // 10
    "y = { min = 0, max = 220 }\n"  // 11
    "z = { min = 0, max = 250 }\n"  // 12
    "[printer.hotend]\n"            // 13
    "min_temp = 0\n"                // 14
    "max_temp = 280\n"              // 15
    "[printer.bed]\n"               // 16
    "min_temp = 0\n"                // 17
    "max_temp = 110\n"              // 18
    "[[printer.macro]]\n"           // 19
    "name = \"PRINT_START\"\n"      // 20
    "[[printer.material]]\n"        // 21
    "key = \"pla\"\n"               // 22
    "name = \"PLA\"\n"              // 23
    "type = \"pla\"\n"              // 24
    "hotend_temp = [190, 230]\n"    // 25
    "bed_temp = [50, 70]\n";        // 26

// A second material, lines 27-31 when appended to kServer + kPrinter.
constexpr std::string_view kSecondPla =
    "[[printer.material]]\n"
    "key = \"pla\"\n"
    "name = \"PLA again\"\n"
    "type = \"pla\"\n"
    "hotend_temp = [190, 230]\n";

// The minimal valid file: one printer, one material.
std::string minimal() { return std::string(kServer) + std::string(kPrinter); }

// Text replacements: the first occurrence of .first becomes .second.
using Edits = std::vector<std::pair<std::string, std::string>>;

// One error case: edits applied to the minimal file and the one error expected.
struct ErrorCase {
  std::string name;       // test name suffix
  Edits edits;            // applied to minimal()
  std::string attribute;  // expected key path
  long line;              // expected line
  std::string message;    // expected message (a prefix of it for syntax errors and long key lists)
};

// Names the case in failure messages (instead of a byte dump).
void PrintTo(const ErrorCase& c, std::ostream* os) { *os << c.name; }

// An ErrorCase (a function, so that the table below stays compact).
ErrorCase error_case(std::string name, Edits edits, std::string attribute, long line, std::string message) {
  return ErrorCase{std::move(name), std::move(edits), std::move(attribute), line, std::move(message)};
}

// An edit that adds `text` after the last line of the minimal file.
Edits append(std::string_view text) {
  const std::string last = "bed_temp = [50, 70]\n";
  return {{last, last + std::string(text)}};
}

// The minimal file with the case's edits applied.
std::string build(const ErrorCase& c) {
  std::string text = minimal();
  for (const auto& [from, to] : c.edits) {
    const auto at = text.find(from);
    EXPECT_NE(at, std::string::npos) << "edit target not found: " << from;
    if (at != std::string::npos) text.replace(at, from.size(), to);
  }
  return text;
}

class ConfigError : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(ConfigError, NamesKeyLineAndReason) {
  const ErrorCase& c = GetParam();
  const auto result = parse_config(build(c), "t.toml");
  ASSERT_FALSE(result.ok()) << "accepted:\n" << build(c);
  const auto& errors = result.error();
  ASSERT_EQ(errors.size(), 1u) << format_errors(errors);
  EXPECT_EQ(errors[0].attribute, c.attribute) << errors[0].message;
  EXPECT_EQ(errors[0].line, c.line) << errors[0].message;
  EXPECT_THAT(errors[0].message, StartsWith(c.message));
}

// Cases for the TOML reader: syntax, unknown keys, types, missing keys.
const ErrorCase kReaderCases[] = {
    error_case("SyntaxError", {{"name = \"p1\"", "name = \"p1"}}, "", 5, "t.toml:5: syntax error: "),
    error_case("SyntaxErrorDuplicateKey", {{"max_temp = 280", "max_temp = 280\nmax_temp = 290"}}, "", 16,
               "t.toml:16: syntax error: "),
    error_case("UnknownTopLevelKey", {{"[server]", "bogus = 1\n[server]"}}, "bogus", 1,
               "t.toml:1: bogus: unknown key (allowed here: server, printer)"),
    error_case("UnknownServerKey", {{"8631\"\n", "8631\"\nport = 8631\n"}}, "server.port", 3,
               "t.toml:3: server.port: unknown key (allowed here: listen, state_dir, log_level, log_file, "
               "key_passphrase_file, login)"),
    error_case("UnknownPrinterKey", {{"nozzle_diameter", "nozle_diameter"}}, "printer[0].nozle_diameter", 6,
               "t.toml:6: printer[0].nozle_diameter: unknown key (allowed here: name, backend,"),
    error_case("UnknownVolumeKey", {{"[printer.volume]", "[printer.volume]\nw = { min = 0, max = 1 }"}},
               "printer[0].volume.w", 10,
               "t.toml:10: printer[0].volume.w: unknown key (allowed here: x, y, z)"),
    error_case("UnknownAxisKey", {{"max = 220 }", "max = 220, mid = 110 }"}}, "printer[0].volume.x.mid", 10,
               "t.toml:10: printer[0].volume.x.mid: unknown key (allowed here: min, max)"),
    error_case(
        "UnknownMaterialKey", {{"type = \"pla\"", "type = \"pla\"\ncolour = \"red\""}},
        "printer[0].material[0].colour", 25,
        "t.toml:25: printer[0].material[0].colour: unknown key (allowed here: key, name, type, color,"),
    error_case("UnknownMacroKey", {{"\"PRINT_START\"", "\"PRINT_START\"\nparams = []"}},
               "printer[0].macro[0].params", 21,
               "t.toml:21: printer[0].macro[0].params: unknown key (allowed here: name, "
               "hotend_temperature_params, bed_temperature_params, chamber_temperature_params, "
               "heats_to_material)"),
    error_case("WrongTypeNumber", {{"nozzle_diameter = 0.4", "nozzle_diameter = \"0.4\""}},
               "printer[0].nozzle_diameter", 6,
               "t.toml:6: printer[0].nozzle_diameter: expected a number, got a string"),
    error_case("WrongTypeString", {{"name = \"p1\"", "name = 1"}}, "printer[0].name", 5,
               "t.toml:5: printer[0].name: expected a string, got an integer"),
    error_case("WrongTypeInteger", {{"max_temp = 280", "max_temp = 280.5"}}, "printer[0].hotend.max_temp", 15,
               "t.toml:15: printer[0].hotend.max_temp: expected an integer, got a float"),
    error_case("WrongTypeParamList",
               {{"\"PRINT_START\"", "\"PRINT_START\"\nbed_temperature_params = [\"BED\", 1]"}},
               "printer[0].macro[0].bed_temperature_params[1]", 21,
               "t.toml:21: printer[0].macro[0].bed_temperature_params[1]: expected a string, got an integer"),
    error_case("WrongTypeTemperaturePair", {{"hotend_temp = [190, 230]", "hotend_temp = 210"}},
               "printer[0].material[0].hotend_temp", 25,
               "t.toml:25: printer[0].material[0].hotend_temp: expected an array of two integers [min, max], "
               "got an integer"),
    error_case("PrinterIsNotAnArrayOfTables", {{"[[printer]]", "[printer]"}}, "printer", 4,
               "t.toml:4: printer: expected an array of tables ([[printer]]), got a table"),
    error_case("MissingRequiredKey", {{"max_temp = 280\n", ""}}, "printer[0].hotend.max_temp", 13,
               "t.toml:13: printer[0].hotend.max_temp: required key is missing"),
    error_case("MissingVolumeAxis", {{"y = { min = 0, max = 220 }\n", ""}}, "printer[0].volume.y", 9,
               "t.toml:9: printer[0].volume.y: required key is missing"),
    error_case("MissingPrinter", {{std::string(kPrinter), ""}}, "printer", 0,
               "t.toml: printer: at least one [[printer]] table is required"),
    error_case("MissingMaterial",
               {{"[[printer.material]]\nkey = \"pla\"\nname = \"PLA\"\ntype = \"pla\"\n"
                 "hotend_temp = [190, 230]\nbed_temp = [50, 70]\n",
                 ""},
                {"loaded_material = \"pla\"\n", ""}},
               "printer[0].material", 4, "t.toml:4: printer[0].material: required key is missing"),
};

// Cases for the value checks: ranges, names, uniqueness, cross references.
const ErrorCase kValueCases[] = {
    error_case("MaxNotAboveMin", {{"z = { min = 0, max = 250 }", "z = { min = 10, max = 10 }"}},
               "printer[0].volume.z.max", 12,
               "t.toml:12: printer[0].volume.z.max: 10 mm must be greater than min (10 mm)"),
    error_case("AxisTooLarge", {{"max = 250 }", "max = 25000 }"}}, "printer[0].volume.z.max", 12,
               "t.toml:12: printer[0].volume.z.max: 25000 mm is outside -10000 to 10000 mm"),
    error_case("HomeOutsideVolume", {{"max = 250 }\n", "max = 250 }\n[printer.home]\nx = 230\n"}},
               "printer[0].home.x", 14,
               "t.toml:14: printer[0].home.x: 230 mm is outside the volume (0 to 220 mm)"),
    error_case("HeaterMaxNotAboveMin", {{"min_temp = 0\nmax_temp = 280", "min_temp = 300\nmax_temp = 280"}},
               "printer[0].hotend.max_temp", 15,
               "t.toml:15: printer[0].hotend.max_temp: 280 °C must be greater than min_temp (300 °C)"),
    error_case("HeaterAbove1000", {{"max_temp = 110", "max_temp = 1100"}}, "printer[0].bed.max_temp", 18,
               "t.toml:18: printer[0].bed.max_temp: 1100 °C is outside 0-1000 °C"),
    error_case("BadPrinterName", {{"name = \"p1\"", "name = \"p 1\""}}, "printer[0].name", 5,
               "t.toml:5: printer[0].name: \"p 1\" must be 1 to 63 letters, digits, '-' or '_'"),
    error_case("DuplicatePrinterName", append(kPrinter), "printer[1].name", 28,
               "t.toml:28: printer[1].name: duplicate printer name \"p1\" (also printer[0])"),
    error_case("DuplicateMaterialKey", append(kSecondPla), "printer[0].material[1].key", 28,
               "t.toml:28: printer[0].material[1].key: duplicate material key \"pla\" (also "
               "printer[0].material[0])"),
    error_case(
        "LoadedMaterialNotInDatabase", {{"loaded_material = \"pla\"", "loaded_material = \"abs\""}},
        "printer[0].loaded_material", 8,
        "t.toml:8: printer[0].loaded_material: \"abs\" is not the key of a [[printer.material]] of this "
        "printer"),
    error_case("MaterialHotendOutsidePrinterLimits", {{"[190, 230]", "[190, 300]"}},
               "printer[0].material[0].hotend_temp", 25,
               "t.toml:25: printer[0].material[0].hotend_temp: [190, 300] °C is outside the printer's hotend "
               "limits (0-280 °C)"),
    error_case("MaterialBedOutsideBedLimits", {{"[50, 70]", "[50, 120]"}}, "printer[0].material[0].bed_temp",
               26,
               "t.toml:26: printer[0].material[0].bed_temp: [50, 120] °C is outside the printer's bed limits "
               "(0-110 °C)"),
    error_case("MaterialRangeReversed", {{"[190, 230]", "[230, 190]"}}, "printer[0].material[0].hotend_temp",
               25,
               "t.toml:25: printer[0].material[0].hotend_temp: [230, 190]: min must not be greater than max"),
    error_case("BedTempWithoutBed", {{"[printer.bed]\nmin_temp = 0\nmax_temp = 110\n", ""}},
               "printer[0].material[0].bed_temp", 23,
               "t.toml:23: printer[0].material[0].bed_temp: is set but the printer has no heated bed "
               "([printer.bed])"),
    error_case("UnknownBackend", {{"name = \"p1\"", "name = \"p1\"\nbackend = \"octoprint\""}},
               "printer[0].backend", 6,
               "t.toml:6: printer[0].backend: unknown backend \"octoprint\"; allowed: virtual, moonraker"),
    error_case("ListenWithoutPort", {{"\"127.0.0.1:8631\"", "\"localhost\""}}, "server.listen", 2,
               "t.toml:2: server.listen: \"localhost\" is not HOST:PORT with a port from 1 to 65535 (IPv6 as "
               "\"[::1]:8631\")"),
    error_case("ListenPortZero", {{"\"127.0.0.1:8631\"", "\"127.0.0.1:0\""}}, "server.listen", 2,
               "t.toml:2: server.listen: \"127.0.0.1:0\" is not HOST:PORT"),
    error_case("ListenUnbracketedIpv6", {{"\"127.0.0.1:8631\"", "\"::1:8631\""}}, "server.listen", 2,
               "t.toml:2: server.listen: \"::1:8631\" is not HOST:PORT"),
    error_case("ListenEmptyHost", {{"\"127.0.0.1:8631\"", "\":8631\""}}, "server.listen", 2,
               "t.toml:2: server.listen: \":8631\" is not HOST:PORT"),
    error_case("LoginZeroFailures", append("[server.login]\nmax_failed_logins = 0\n"),
               "server.login.max_failed_logins", 28,
               "t.toml:28: server.login.max_failed_logins: 0 is outside 1-1000"),
    error_case("LoginCapBelowBase",
               append("[server.login]\nlockout_seconds = 600\nmax_lockout_seconds = 60\n"),
               "server.login.max_lockout_seconds", 29,
               "t.toml:29: server.login.max_lockout_seconds: must not be less than lockout_seconds (600)"),
    error_case("LoginUnknownKey", append("[server.login]\nmax_failures = 3\n"), "server.login.max_failures",
               28, "t.toml:28: server.login.max_failures: unknown key (allowed here: max_failed_logins,"),
    error_case("BadLogLevel", {{"listen = \"127.0.0.1:8631\"", "log_level = \"loud\""}}, "server.log_level",
               2, "t.toml:2: server.log_level: \"loud\" is not one of debug, info, warn, error"),
    error_case("BadMaterialKey", {{"key = \"pla\"", "key = \"PLA\""}, {"= \"pla\"\n[", "= \"PLA\"\n["}},
               "printer[0].material[0].key", 22,
               "t.toml:22: printer[0].material[0].key: \"PLA\" is not a keyword (a-z, 0-9, '.', '_', '-')"),
    error_case(
        "NegativeDiameter", {{"type = \"pla\"", "type = \"pla\"\ndiameter = -1.75"}},
        "printer[0].material[0].diameter", 25,
        "t.toml:25: printer[0].material[0].diameter: -1.75 mm must be greater than 0 and at most 5 mm"),
    error_case("NozzleTooLarge", {{"nozzle_diameter = 0.4", "nozzle_diameter = 6"}},
               "printer[0].nozzle_diameter", 6,
               "t.toml:6: printer[0].nozzle_diameter: 6 mm must be greater than 0 and at most 5 mm"),
    error_case("InfiniteFilament", {{"filament_diameter = 1.75", "filament_diameter = inf"}},
               "printer[0].filament_diameter", 7,
               "t.toml:7: printer[0].filament_diameter: inf mm must be greater than 0 and at most 5 mm"),
    error_case("FillDensityAbove100", {{"type = \"pla\"", "type = \"pla\"\nfill_density = 150"}},
               "printer[0].material[0].fill_density", 25,
               "t.toml:25: printer[0].material[0].fill_density: 150 is outside 0-100 percent"),
    error_case(
        "LowerCaseMacro", {{"name = \"PRINT_START\"", "name = \"print_start\""}}, "printer[0].macro[0].name",
        20, "t.toml:20: printer[0].macro[0].name: \"print_start\" is not an upper-case name (A-Z, 0-9, '_')"),
    error_case("NegativeSecondsPerLayer",
               {{"[printer.bed]", "[printer.virtual]\nseconds_per_layer = -1\n[printer.bed]"}},
               "printer[0].virtual.seconds_per_layer", 17,
               "t.toml:17: printer[0].virtual.seconds_per_layer: -1 must be a finite number of seconds"),
    error_case(
        "ZeroMaxVelocity", {{"[printer.bed]", "[printer.limits]\nmax_velocity = 0\n[printer.bed]"}},
        "printer[0].limits.max_velocity", 17,
        "t.toml:17: printer[0].limits.max_velocity: 0 mm/s must be greater than 0 and at most 1000000"),
    error_case(
        "SpeedFactorReversed",
        {{"[printer.bed]", "[printer.limits]\nspeed_factor = [200, 10]\n[printer.bed]"}},
        "printer[0].limits.speed_factor", 17,
        "t.toml:17: printer[0].limits.speed_factor: [200, 10] must satisfy 1 <= min <= max <= 1000 percent"),
    error_case(
        "AccelerationAboveMax",
        {{"[printer.bed]", "[printer.limits]\nmax_accel = 3000\nacceleration = 5000\n[printer.bed]"}},
        "printer[0].limits.acceleration", 18,
        "t.toml:18: printer[0].limits.acceleration: 5000 mm/s² must not exceed max_accel (3000 mm/s²)"),
    error_case("LineLengthTooSmall",
               {{"[printer.bed]", "[printer.limits]\nmax_line_length = 10\n[printer.bed]"}},
               "printer[0].limits.max_line_length", 17,
               "t.toml:17: printer[0].limits.max_line_length: 10 bytes is outside 80-65536 bytes"),
    error_case(
        "LowerCaseOverride",
        {{"[printer.bed]", "[printer.limits]\noverridden_commands = [\"m109\"]\n[printer.bed]"}},
        "printer[0].limits.overridden_commands[0]", 17,
        "t.toml:17: printer[0].limits.overridden_commands[0]: \"m109\" is not an upper-case command name"),
    error_case("BadPlatformShape", {{"name = \"p1\"", "name = \"p1\"\nplatform_shape = \"round\""}},
               "printer[0].platform_shape", 6,
               "t.toml:6: printer[0].platform_shape: \"round\" is not one of rectangle, ellipse"),
};

// The generated test names.
std::string case_name(const ::testing::TestParamInfo<ErrorCase>& test) { return test.param.name; }

INSTANTIATE_TEST_SUITE_P(Reader, ConfigError, ::testing::ValuesIn(kReaderCases), case_name);
INSTANTIATE_TEST_SUITE_P(Values, ConfigError, ::testing::ValuesIn(kValueCases), case_name);

TEST(ConfigErrors, ReportsEveryError) {
  std::string text = minimal();
  text.replace(text.find("name = \"p1\""), 11, "name = \"bad name\"\nspeed = 3");  // bad name + unknown key
  text.replace(text.find("[190, 230]"), 10, "[190, 900]");                         // outside hotend limits
  text.replace(text.find("max = 220 }"), 11, "max = -1 }");                        // x max below min
  const auto result = parse_config(text, "t.toml");
  ASSERT_FALSE(result.ok());
  std::vector<std::string> attributes;
  for (const auto& error : result.error()) attributes.push_back(error.attribute);
  EXPECT_THAT(attributes, ::testing::UnorderedElementsAre("printer[0].speed", "printer[0].name",
                                                          "printer[0].volume.x.max",
                                                          "printer[0].material[0].hotend_temp"));
  const std::string joined = format_errors(result.error());
  EXPECT_EQ(std::count(joined.begin(), joined.end(), '\n'), 3);
  EXPECT_THAT(joined, HasSubstr("t.toml:6: printer[0].speed: unknown key"));
}

TEST(ConfigErrors, OneMistakeGivesOneMessage) {
  // A missing [printer.hotend] must not also make every material "outside the hotend limits".
  std::string text = minimal();
  text.replace(text.find("[printer.hotend]\nmin_temp = 0\nmax_temp = 280\n"), 44, "");
  const auto result = parse_config(text, "t.toml");
  ASSERT_FALSE(result.ok());
  ASSERT_EQ(result.error().size(), 1u) << format_errors(result.error());
  EXPECT_EQ(result.error()[0].attribute, "printer[0].hotend");
}

TEST(ConfigErrors, UnreadableFileIsOneError) {
  const auto result = load_config("/nonexistent/ipp3d.toml");
  ASSERT_FALSE(result.ok());
  ASSERT_EQ(result.error().size(), 1u);
  EXPECT_THAT(result.error()[0].message, StartsWith("/nonexistent/ipp3d.toml: cannot read: "));
  EXPECT_EQ(result.error()[0].line, 0);
}

TEST(ConfigErrors, FormatJoinsWithNewlines) {
  const ConfigErrors errors = {Error{IPP_STATUS_ERROR_INTERNAL, "a:1: x: bad", "x", 1},
                               Error{IPP_STATUS_ERROR_INTERNAL, "a:2: y: bad", "y", 2}};
  EXPECT_EQ(format_errors(errors), "a:1: x: bad\na:2: y: bad");
  EXPECT_EQ(format_errors({}), "");
}

// A file that sets every key, and the Config it must produce.
constexpr std::string_view kFull = R"(
[server]
listen = "[::1]:9000"
state_dir = "/tmp/state"
log_level = "debug"
log_file = "/tmp/ipp3d.log"
key_passphrase_file = "/etc/ipp3d/key-passphrase"

[[printer]]
name = "Big_Box-2"
backend = "virtual"
make_and_model = "Acme Box"
location = "Lab"
info = "The big one"
platform_shape = "ellipse"
auto_start_next = true
nozzle_diameter = 0.6
filament_diameter = 2.85
loaded_material = "petg"
volume = { x = { min = -10.5, max = 300 }, y = { min = -4, max = 300 }, z = { min = 0, max = 400 } }
home = { x = -10.5, y = 300, z = 5 }
hotend = { min_temp = 170, max_temp = 300 }
bed = { min_temp = 0, max_temp = 120 }
chamber = { min_temp = 20, max_temp = 70 }
virtual = { seconds_per_layer = 0 }

[[printer.macro]]
name = "START_PRINT"
hotend_temperature_params = ["HOTEND", "T0"]
bed_temperature_params = ["BED"]
chamber_temperature_params = ["CHAMBER"]
heats_to_material = true

[[printer.material]]
key = "petg"
name = "PETG Black"
type = "pet"
color = "black"
diameter = 2.85
diameter_tolerance = 0.05
hotend_temp = [230, 250]
bed_temp = [75, 85]
fill_density = 15
shell_thickness = 1.2
retraction = false

[[printer.material]]
key = "pla.2"
name = "PLA"
type = "pla"
hotend_temp = [200, 200]
)";

// The Config kFull describes.
Config full_expected() {
  Config c;
  c.server = ServerConfig{"[::1]:9000", "/tmp/state", "debug", "/tmp/ipp3d.log", "/etc/ipp3d/key-passphrase",
                          LoginConfig{}};
  PrinterConfig p;
  p.name = "Big_Box-2";
  p.backend = "virtual";
  p.make_and_model = "Acme Box";
  p.location = "Lab";
  p.info = "The big one";
  p.volume = Volume{{-10.5, 300}, {-4, 300}, {0, 400}};
  p.home = Position{-10.5, 300, 5};
  p.platform_shape = "ellipse";
  p.hotend = HeaterLimits{170, 300};
  p.bed = HeaterLimits{0, 120};
  p.chamber = HeaterLimits{20, 70};
  p.nozzle_diameter_mm = 0.6;
  p.filament_diameter_mm = 2.85;
  p.auto_start_next = true;
  p.macros = {Macro{"START_PRINT", {"HOTEND", "T0"}, {"BED"}, {"CHAMBER"}, true}};
  MaterialConfig petg;
  petg.key = "petg";
  petg.name = "PETG Black";
  petg.type = "pet";
  petg.color = "black";
  petg.diameter_mm = 2.85;
  petg.diameter_tolerance_mm = 0.05;
  petg.hotend_min_temp = 230;
  petg.hotend_max_temp = 250;
  petg.bed_min_temp = 75;
  petg.bed_max_temp = 85;
  petg.fill_density = 15;
  petg.shell_thickness_mm = 1.2;
  petg.retraction = false;
  MaterialConfig pla;
  pla.key = "pla.2";
  pla.name = "PLA";
  pla.type = "pla";
  pla.hotend_min_temp = 200;
  pla.hotend_max_temp = 200;
  p.materials = {petg, pla};
  p.loaded_material = "petg";
  p.virtual_seconds_per_layer = 0.0;
  c.printers = {p};
  return c;
}

TEST(ConfigParse, FullFileRoundTrip) {
  const auto result = parse_config(kFull, "full.toml");
  ASSERT_TRUE(result.ok()) << format_errors(result.error());
  EXPECT_EQ(result.value(), full_expected());
}

TEST(ConfigParse, ServerLoginLimits) {
  const std::string text =
      minimal() +
      "[server.login]\nmax_failed_logins = 3\nlockout_seconds = 2\nmax_lockout_seconds = 8\n"
      "max_address_failures = 7\naddress_window_seconds = 30\nmax_concurrent_hashes = 1\n"
      "hash_queue_length = 0\nhash_wait_seconds = 1\ncredential_cache_seconds = 0\n";
  const auto result = parse_config(text, "t.toml");
  ASSERT_TRUE(result.ok()) << format_errors(result.error());
  EXPECT_EQ(result->server.login, (LoginConfig{3, 2, 8, 7, 30, 1, 0, 1, 0}));
}

TEST(ConfigParse, MinimalFileUsesDefaults) {
  const auto result = parse_config(minimal(), "t.toml");
  ASSERT_TRUE(result.ok()) << format_errors(result.error());
  const PrinterConfig& p = result->printers.at(0);
  EXPECT_EQ(result->server, ServerConfig{});
  EXPECT_EQ(p.backend, "virtual");
  EXPECT_EQ(p.make_and_model, "ipp3d Virtual FDM Printer");
  EXPECT_EQ(p.platform_shape, "rectangle");
  EXPECT_EQ(p.home, Position{});
  EXPECT_EQ(p.chamber, std::nullopt);
  EXPECT_FALSE(p.auto_start_next);
  EXPECT_DOUBLE_EQ(p.virtual_seconds_per_layer, 0.5);
  EXPECT_EQ(p.materials.at(0).diameter_mm, std::nullopt);
  EXPECT_EQ(p.limits, GcodeLimits{});
}

TEST(ConfigParse, GcodeLimitsTable) {
  std::string text = minimal();
  const std::string table =
      "[printer.limits]\nmax_velocity = 300\nmax_z_velocity = 15\nmax_extrude_velocity = 60\n"
      "max_accel = 5000\nmax_jerk = 10\nmax_square_corner_velocity = 8\nmax_junction_deviation = 0.1\n"
      "acceleration = 3000\nsquare_corner_velocity = 5.5\nspeed_factor = [50, 150]\nflow_factor = [80, 120]\n"
      "volume_tolerance = 0\nmax_line_length = 256\nmin_extrude_temp = 180\n"
      "overridden_commands = [\"M109\", \"M190\"]\n";
  text.replace(text.find("[printer.bed]"), 0, table);
  const auto result = parse_config(text, "t.toml");
  ASSERT_TRUE(result.ok()) << format_errors(result.error());
  const GcodeLimits& l = result->printers.at(0).limits;
  EXPECT_DOUBLE_EQ(l.max_velocity, 300);
  EXPECT_DOUBLE_EQ(l.max_z_velocity, 15);
  EXPECT_DOUBLE_EQ(l.max_extrude_velocity, 60);
  EXPECT_DOUBLE_EQ(l.max_accel, 5000);
  EXPECT_DOUBLE_EQ(l.max_jerk, 10);
  EXPECT_DOUBLE_EQ(l.max_square_corner_velocity, 8);
  EXPECT_DOUBLE_EQ(l.max_junction_deviation, 0.1);
  EXPECT_DOUBLE_EQ(l.acceleration, 3000);
  EXPECT_DOUBLE_EQ(l.square_corner_velocity, 5.5);
  EXPECT_EQ(l.speed_factor_min, 50);
  EXPECT_EQ(l.speed_factor_max, 150);
  EXPECT_EQ(l.flow_factor_min, 80);
  EXPECT_EQ(l.flow_factor_max, 120);
  EXPECT_DOUBLE_EQ(l.volume_tolerance, 0);
  EXPECT_EQ(l.max_line_length, 256);
  EXPECT_EQ(l.min_extrude_temp, 180);
  EXPECT_THAT(l.overridden_commands, ElementsAre("M109", "M190"));
}

TEST(ConfigParse, EmptyTextHasNoPrinter) {
  const auto result = parse_config("", "empty.toml");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(format_errors(result.error()), "empty.toml: printer: at least one [[printer]] table is required");
}

TEST(ConfigCapabilities, VolumeStartingBelowZero) {
  std::string text = minimal();
  text.replace(text.find("y = { min = 0, max = 220 }"), 26, "y = { min = -4, max = 220 }");
  const auto result = parse_config(text, "t.toml");
  ASSERT_TRUE(result.ok()) << format_errors(result.error());
  EXPECT_EQ(result->printers[0].volume.y, (AxisRange{-4.0, 220.0}));
  const auto caps = capabilities_for(result->printers[0], "pla");
  EXPECT_EQ(caps.printer_volume_supported, (attributes::BuildVolume{22000, 22400, 25000}));
}

TEST(ConfigCapabilities, ConvertsToPwgUnits) {
  const auto result = parse_config(minimal(), "t.toml");
  ASSERT_TRUE(result.ok()) << format_errors(result.error());
  const PrinterConfig& p = result->printers[0];
  const auto caps = capabilities_for(p, p.loaded_material);
  EXPECT_THAT(caps.material_diameter_supported, ElementsAre(IntegerOrRange::single(1'750'000)));
  EXPECT_THAT(caps.material_nozzle_diameter_supported, ElementsAre(IntegerOrRange::single(400'000)));
  EXPECT_EQ(caps.printer_volume_supported, (attributes::BuildVolume{22000, 22000, 25000}));
  const auto material = material_for(p, p.materials[0]);
  EXPECT_EQ(material.material_diameter, 1'750'000);  // defaults to the printer's filament
  EXPECT_EQ(material.material_nozzle_diameter, 400'000);
  EXPECT_EQ(material.material_temperature, IntegerOrRange::range(190, 230));
}

TEST(ConfigCapabilities, MaterialMembers) {
  const auto config = parse_config(kFull, "full.toml");
  ASSERT_TRUE(config.ok()) << format_errors(config.error());
  const PrinterConfig& p = config->printers[0];
  attributes::Material expected;
  expected.material_key = "petg";
  expected.material_name = "PETG Black";
  expected.material_type = "pet";
  expected.material_color = "black";
  expected.material_diameter = 2'850'000;
  expected.material_diameter_tolerance = 50'000;
  expected.material_temperature = IntegerOrRange::range(230, 250);
  expected.material_fill_density = 15;
  expected.material_shell_thickness = 1'200'000;
  expected.material_nozzle_diameter = 600'000;
  expected.material_retraction = false;
  EXPECT_EQ(material_for(p, p.materials[0]), expected);
}

TEST(ConfigCapabilities, FullPrinter) {
  const auto config = parse_config(kFull, "full.toml");
  ASSERT_TRUE(config.ok()) << format_errors(config.error());
  const PrinterConfig& p = config->printers[0];
  const auto caps = capabilities_for(p, "petg");
  EXPECT_EQ(caps.printer_volume_supported, (attributes::BuildVolume{31050, 30400, 40000}));
  EXPECT_EQ(caps.platform_shape, "ellipse");
  EXPECT_THAT(caps.platform_temperature_supported,
              ElementsAre(IntegerOrRange::single(0), IntegerOrRange::range(1, 120)));
  EXPECT_EQ(caps.platform_temperature_default, 75);
  EXPECT_THAT(caps.chamber_temperature_supported,
              ElementsAre(IntegerOrRange::single(0), IntegerOrRange::range(20, 70)));
  EXPECT_EQ(caps.chamber_temperature_default, 0);
  EXPECT_THAT(caps.material_temperature_supported,
              ElementsAre(IntegerOrRange::single(0), IntegerOrRange::range(170, 300)));
  EXPECT_THAT(caps.material_type_supported, ElementsAre("pet", "pla"));
  EXPECT_EQ(caps.materials_col_database.size(), 2u);
  EXPECT_THAT(caps.materials_col_ready, ElementsAre(material_for(p, p.materials[0])));
  EXPECT_EQ(caps.materials_col_default, caps.materials_col_ready);
  EXPECT_EQ(caps.print_accuracy_supported, (attributes::PrintAccuracy{"um", 150, 150, 50}));
  EXPECT_EQ(caps.print_accuracy_default, caps.print_accuracy_supported);
}

TEST(ConfigCapabilities, NothingLoadedDefaultsToFirstMaterial) {
  const auto config = parse_config(kFull, "full.toml");
  ASSERT_TRUE(config.ok()) << format_errors(config.error());
  const PrinterConfig& p = config->printers[0];
  const auto caps = capabilities_for(p, std::nullopt);
  EXPECT_TRUE(caps.materials_col_ready.empty());
  EXPECT_THAT(caps.materials_col_default, ElementsAre(material_for(p, p.materials[0])));
  EXPECT_EQ(caps.platform_temperature_default, 0);
  // An unknown key counts as nothing loaded.
  EXPECT_TRUE(capabilities_for(p, "nylon").materials_col_ready.empty());
}

TEST(ConfigCapabilities, NoBedNoPlatformTemperature) {
  std::string text = minimal();
  text.replace(text.find("[printer.bed]\nmin_temp = 0\nmax_temp = 110\n"), 42, "");
  text.replace(text.find("bed_temp = [50, 70]\n"), 20, "");
  const auto result = parse_config(text, "t.toml");
  ASSERT_TRUE(result.ok()) << format_errors(result.error());
  const auto caps = capabilities_for(result->printers[0], "pla");
  EXPECT_TRUE(caps.platform_temperature_supported.empty());
  EXPECT_EQ(caps.platform_temperature_default, std::nullopt);
  EXPECT_TRUE(caps.chamber_temperature_supported.empty());
  EXPECT_EQ(caps.chamber_temperature_default, std::nullopt);
}

TEST(ConfigDefaults, DefaultConfigIsValid) {
  const Config config = default_config();
  EXPECT_THAT(validate_config(config), ::testing::IsEmpty()) << format_errors(validate_config(config));
  ASSERT_EQ(config.printers.size(), 1u);
  const PrinterConfig& p = config.printers[0];
  EXPECT_EQ(config.server.listen, "127.0.0.1:8631");
  EXPECT_EQ(p.name, "virtual-fdm");
  EXPECT_EQ(p.volume, (Volume{{0, 220}, {0, 220}, {0, 250}}));
  EXPECT_EQ(p.hotend, (HeaterLimits{0, 280}));
  EXPECT_EQ(p.bed, (HeaterLimits{0, 110}));
  EXPECT_EQ(p.chamber, std::nullopt);
  EXPECT_EQ(p.loaded_material, "pla-generic");
  ASSERT_EQ(p.macros.size(), 2u);
  EXPECT_EQ(p.macros[0], (Macro{"PRINT_START", {"EXTRUDER"}, {"BED"}, {}, false}));
  EXPECT_EQ(p.macros[1].name, "PRINT_END");
  ASSERT_EQ(p.materials.size(), 2u);
  EXPECT_EQ(p.materials[1].type, "pet");
  EXPECT_EQ(p.materials[1].hotend_max_temp, 250);
}

TEST(ConfigDefaults, DefaultCapabilities) {
  const Config config = default_config();
  const PrinterConfig& p = config.printers[0];
  const auto caps = capabilities_for(p, p.loaded_material);
  EXPECT_EQ(caps.printer_volume_supported, (attributes::BuildVolume{22000, 22000, 25000}));
  EXPECT_THAT(caps.platform_temperature_supported,
              ElementsAre(IntegerOrRange::single(0), IntegerOrRange::range(1, 110)));
  EXPECT_EQ(caps.platform_temperature_default, 50);
  EXPECT_THAT(caps.material_temperature_supported,
              ElementsAre(IntegerOrRange::single(0), IntegerOrRange::range(1, 280)));
  EXPECT_THAT(caps.material_type_supported, ElementsAre("pet", "pla"));
  EXPECT_EQ(caps.materials_col_ready.at(0).material_key, "pla-generic");
  EXPECT_EQ(caps.print_accuracy_supported, (attributes::PrintAccuracy{"um", 100, 100, 50}));
  EXPECT_THAT(caps.material_shell_thickness_supported, ElementsAre(IntegerOrRange::range(0, 10'000'000)));
  EXPECT_EQ(caps.material_purpose_supported, attributes::known_material_purposes());
  EXPECT_EQ(caps.materials_col_supported, attributes::materials_col_member_names());
  EXPECT_EQ(caps.max_materials_col_supported, 1);
  EXPECT_EQ(caps.accuracy_units_supported, attributes::known_accuracy_units());
  EXPECT_EQ(caps.print_base_supported, attributes::known_print_base_keywords());
  EXPECT_EQ(caps.print_base_default, "none");
  EXPECT_EQ(caps.print_supports_supported, attributes::known_print_supports_keywords());
  EXPECT_EQ(caps.print_supports_default, "none");
  EXPECT_THAT(caps.print_quality_supported, ElementsAre(3, 4, 5));
  EXPECT_EQ(caps.print_quality_default, 4);
  EXPECT_THAT(caps.ipp_features_supported, ElementsAre("ipp-3d"));
  EXPECT_THAT(caps.document_format_supported, ElementsAre("text/x-gcode"));
  EXPECT_EQ(caps.document_format_default, "text/x-gcode");
  EXPECT_FALSE(caps.color_supported);
  EXPECT_FALSE(caps.multiple_document_jobs_supported);
  EXPECT_EQ(caps.job_creation_attributes_supported, attributes::job_ticket_attribute_names());
}

TEST(ConfigDefaults, ValidateConfigFindsCodeErrors) {
  Config config = default_config();
  config.server.listen = "nowhere";
  config.printers[0].materials[0].hotend_max_temp = 400;
  const ConfigErrors errors = validate_config(config);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].attribute, "server.listen");
  EXPECT_EQ(errors[0].line, 0);
  EXPECT_THAT(errors[0].message, StartsWith("server.listen: \"nowhere\" is not HOST:PORT"));
  EXPECT_EQ(errors[1].attribute, "printer[0].material[0].hotend_temp");
}

TEST(ConfigExample, ShippedExampleLoads) {
  const std::filesystem::path path = IPP3D_SOURCE_DIR "/docs/examples/ipp3d-server.toml";
  const auto result = load_config(path);
  ASSERT_TRUE(result.ok()) << format_errors(result.error());
  ASSERT_EQ(result->printers.size(), 1u);
  const PrinterConfig& p = result->printers[0];
  EXPECT_EQ(p.volume, (Volume{{0, 220}, {-4, 220}, {0, 250}}));
  EXPECT_EQ(p.materials.size(), 2u);
  EXPECT_EQ(p.loaded_material, "pla-generic");
  const auto caps = capabilities_for(p, p.loaded_material);
  EXPECT_EQ(caps.printer_volume_supported, (attributes::BuildVolume{22000, 22400, 25000}));
}

}  // namespace
}  // namespace ipp3d::config
