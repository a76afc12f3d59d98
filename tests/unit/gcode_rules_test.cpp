// Adversarial G-code: every case is refused for the right rule, and feeding
// it byte by byte gives the same report as feeding it in one piece.
#include "ipp3d/config/config.hpp"
#include "ipp3d/gcode/checker.hpp"
#include "ipp3d/gcode/policy.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

namespace ipp3d::gcode {
namespace {

// The README's printer: 220 x 220 x 250 mm, hotend 0-280 °C, bed 0-110 °C.
config::PrinterConfig base_printer() { return config::default_config().printers.front(); }

// "N.. line*checksum" with the XOR checksum of the text before '*'.
std::string checksummed(const std::string& text, int tweak = 0) {
  int sum = 0;
  for (const char c : text) sum ^= static_cast<unsigned char>(c);
  return text + "*" + std::to_string(sum ^ tweak) + "\n";
}

// One adversarial case.
struct Case {
  std::string name;
  std::string gcode;
  std::string rule;                      // expected rule of the first violation
  std::string material = "pla-generic";  // empty: no material
  std::function<void(config::PrinterConfig&, Job&)> setup = nullptr;
};

// Homed, heated for PLA, absolute positioning.
const std::string kStart = "G28\nM104 S200\nM140 S60\nG90\nM82\n";

std::vector<Case> cases() {
  std::vector<Case> list = {
      {"lower_case_temperature", "m104 s300\n", "temperature.printer-limit"},
      {"lower_case_move", "g28\ng1 x10 y300\n", "position.out-of-volume"},
      {"space_free_move", "G28\nG1X300Y10\n", "position.out-of-volume"},
      {"space_free_cold_extrusion", "G28\nG1X10Y10E.5\n", "extrusion.cold"},
      {"bad_checksum", checksummed("N1 G28", 1), "syntax.checksum"},
      {"good_checksum_bad_move", checksummed("N1 G28") + checksummed("N2 G1 X500"), "position.out-of-volume"},
      {"checksum_without_digits", "N1 G28*\n", "syntax.checksum"},
      {"relative_walk_out", kStart + "G91\nG1 X50\nG1 X50\nG1 X50\nG1 X50\nG1 X50\n",
       "position.out-of-volume"},
      {"relative_e_walk_with_g91", kStart + "G91\nG1 Z100\nG1 Z100\nG1 Z100\n", "position.out-of-volume"},
      {"relative_before_homing", "G91\nG1 X10\n", "position.unknown"},
      {"relative_after_motors_off", kStart + "M84\nG91\nG1 X10\n", "position.unknown"},
      {"g92_shift", kStart + "G1 X200\nG92 X0\nG1 X100\n", "position.out-of-volume"},
      {"g92_negative_z", kStart + "G1 Z5\nG92 Z50\nG1 Z-20\n", "position.out-of-volume"},
      {"g92_before_homing", "G92 X-100\nG28\nG1 X150\n", "position.unknown"},
      {"g92_without_axes", kStart + "G92\n", "command.parameter"},
      {"arc_full_circle_out", kStart + "G1 X200 Y110\nG2 X200 Y110 I15 J0\n", "position.out-of-volume"},
      {"arc_bulges_out_ij", kStart + "G1 X210 Y95\nG3 X210 Y125 I0 J15\n", "position.out-of-volume"},
      {"arc_bulges_out_r", kStart + "G1 X210 Y95\nG3 X210 Y125 R15\n", "position.out-of-volume"},
      {"arc_large_r_negative", kStart + "G1 X100 Y100\nG2 X120 Y100 R-150\n", "position.out-of-volume"},
      {"arc_radius_too_small", kStart + "G1 X10 Y10\nG2 X100 Y100 R1\n", "arc.invalid"},
      {"arc_without_centre", kStart + "G1 X10 Y10\nG2 X20 Y20\n", "arc.invalid"},
      {"inch_mode", kStart + "G20\nG1 X9\n", "position.out-of-volume"},
      {"inch_mode_feed", kStart + "G20\nG1 X1 F1500\n", "motion.feed-rate"},
      {"set_heater_temperature", "SET_HEATER_TEMPERATURE HEATER=extruder TARGET=300\n",
       "temperature.printer-limit"},
      {"set_heater_lower_case_material", "set_heater_temperature heater=extruder target=240\n",
       "temperature.material-range"},
      {"set_heater_quoted", "SET_HEATER_TEMPERATURE HEATER=\"heater_bed\" TARGET=\"150\"\n",
       "temperature.printer-limit"},
      {"set_heater_unknown", "SET_HEATER_TEMPERATURE HEATER=extruder1 TARGET=200\n", "temperature.no-heater"},
      {"macro_bed_too_hot", "PRINT_START BED=150 EXTRUDER=200\n", "temperature.printer-limit"},
      {"macro_material_range", "print_start bed=60 extruder=245\n", "temperature.material-range"},
      {"macro_non_numeric", "PRINT_START EXTRUDER=hot\n", "syntax.bad-number"},
      {"material_range_within_printer", "M104 S250\n", "temperature.material-range"},
      {"material_bed_range", "M190 S100\n", "temperature.material-range"},
      {"wait_hotter_than_printer", "TEMPERATURE_WAIT SENSOR=extruder MINIMUM=400\n",
       "temperature.printer-limit"},
      {"cold_extrusion", "G28\nM109 S0\nG1 X10 Y10 E1\n", "extrusion.cold"},
      {"cold_after_heater_off", kStart + "G1 X10 Y10 E1\nM104 S0\nG1 X20 E2\n", "extrusion.cold"},
      {"nan_word", "G28\nG1 Xnan\n", "syntax.not-finite"},
      {"inf_word", "M104 S-inf\n", "syntax.not-finite"},
      {"inf_param", "SET_HEATER_TEMPERATURE HEATER=extruder TARGET=inf\n", "syntax.not-finite"},
      {"huge_number", "G28\nG1 X" + std::string(400, '9') + "\n", "syntax.not-finite"},
      {"comma_number", "G28\nG1 X1,5\n", "syntax.bad-number"},
      {"double_sign", "G28\nG1 X--1\n", "syntax.bad-number"},
      {"missing_value", "G28\nG1 X\n", "syntax.bad-number"},
      {"duplicate_word", "G28\nG1 X10 X300\n", "syntax.duplicate-word"},
      {"overlong_line", "G28\n;" + std::string(2000, 'a') + "\n", "syntax.line-too-long"},
      {"overlong_last_line", "G28\nG1 X1" + std::string(3000, ' ') + "Y2", "syntax.line-too-long"},
      {"nul_byte", std::string("G28\nG1 X1\0 Y1\n", 14), "syntax.nul-byte"},
      {"nul_in_comment", std::string("G28 ; a\0b\n", 10), "syntax.nul-byte"},
      {"binary_byte", "G28\nG1 X1 \x01\n", "syntax.binary"},
      {"high_byte_in_command", "G28\nG1 X1 \xc3\xa9\n", "syntax.binary"},
      {"unterminated_paren", "G28 (home\n", "syntax.malformed"},
      {"unterminated_quote", "RESPOND MSG=\"hello\n", "syntax.malformed"},
      {"param_without_value", "SET_HEATER_TEMPERATURE HEATER=extruder TARGET\n", "syntax.malformed"},
      {"feed_rate", kStart + "G1 X10 F60000\n", "motion.feed-rate"},
      {"zero_feed_rate", kStart + "G1 X10 F0\n", "command.parameter"},
      {"m203", "M203 X1000\n", "motion.velocity-limit"},
      {"m201", "M201 X20000\n", "motion.acceleration-limit"},
      {"m204", "M204 S20000\n", "motion.acceleration-limit"},
      {"m205_jerk", "M205 X50\n", "motion.jerk-limit"},
      {"velocity_limit", "SET_VELOCITY_LIMIT VELOCITY=2000\n", "motion.velocity-limit"},
      {"velocity_limit_accel", "SET_VELOCITY_LIMIT ACCEL=50000\n", "motion.acceleration-limit"},
      {"velocity_limit_corner", "SET_VELOCITY_LIMIT SQUARE_CORNER_VELOCITY=100\n", "motion.jerk-limit"},
      {"speed_factor", "M220 S500\n", "motion.speed-factor"},
      {"flow_factor", "M221 S10\n", "extrusion.flow-factor"},
      {"second_tool", "T1\n", "command.parameter"},
      {"second_hotend", "M104 T1 S200\n", "command.parameter"},
      {"g10_offsets", "G10 L2 P1 X10\n", "command.parameter"},
      {"unknown_command", "M600\n", "command.unknown"},
      {"unknown_extended", "MY_SECRET_MACRO\n", "command.unknown"},
      {"workspace", "G54\n", "command.denied"},
      {"lower_case_denied", "save_config\n", "command.denied"},
      {"ticket_platform_temperature", "M140 S60\n", "ticket.platform-temperature", "pla-generic",
       [](config::PrinterConfig&, Job& job) { job.platform_temperature = 65; }},
      {"no_bed", "M140 S60\n", "temperature.no-heater", "",
       [](config::PrinterConfig& p, Job&) {
         p.bed.reset();
         for (auto& m : p.materials) m.bed_min_temp.reset(), m.bed_max_temp.reset();
       }},
      {"overridden_undeclared", "M109 S200\n", "command.unknown", "pla-generic",
       [](config::PrinterConfig& p, Job&) { p.limits.overridden_commands = {"M109"}; }},
      {"overridden_declared", "M109 S300\n", "temperature.printer-limit", "pla-generic",
       [](config::PrinterConfig& p, Job&) {
         config::Macro m;
         m.name = "M109";
         m.hotend_temperature_params = {"S"};
         p.macros.push_back(m);
       }},
      {"no_material_cold_limit", "G28\nM104 S160\nG1 X10 E1\n", "extrusion.cold", ""},
  };
  // Every command of the deny-list.
  for (const char* denied : {"SAVE_CONFIG",
                             "RESTART",
                             "FIRMWARE_RESTART",
                             "M112",
                             "M500",
                             "M501",
                             "M502",
                             "M503",
                             "M997",
                             "M999",
                             "M303 E0 S200",
                             "PID_CALIBRATE HEATER=extruder TARGET=200",
                             "M92 X80",
                             "M906 X800",
                             "M907 X1000",
                             "SET_PIN PIN=led VALUE=1",
                             "SET_STEPPER_ENABLE STEPPER=stepper_x ENABLE=0",
                             "FORCE_MOVE STEPPER=stepper_x DISTANCE=10 VELOCITY=5",
                             "SET_KINEMATIC_POSITION X=0 Y=0 Z=0",
                             "SAVE_VARIABLE VARIABLE=a VALUE=1",
                             "BED_MESH_PROFILE SAVE=default",
                             "BED_MESH_PROFILE REMOVE=default",
                             "Z_OFFSET_APPLY_ENDSTOP",
                             "Z_OFFSET_APPLY_PROBE",
                             "SDCARD_PRINT_FILE FILENAME=x.gcode",
                             "SDCARD_RESET_FILE",
                             "M28 x.gcode",
                             "M29",
                             "M30 x.gcode",
                             "RUN_SHELL_COMMAND CMD=hello",
                             "SET_GCODE_OFFSET Z=-5",
                             "M302 P1",
                             "M211 S0"}) {
    std::string name = std::string("denied_") + denied;
    for (char& c : name) c = (std::isalnum(static_cast<unsigned char>(c)) != 0) ? c : '_';
    list.push_back({name, std::string(denied) + "\n", "command.denied"});
  }
  return list;
}

class Adversarial : public ::testing::TestWithParam<Case> {};

// Runs a case: one chunk, then byte by byte; both reports must be equal.
TEST_P(Adversarial, IsRefusedForTheRightRule) {
  const Case& c = GetParam();
  auto printer = base_printer();
  Job job;
  if (c.setup) c.setup(printer, job);
  if (!c.material.empty()) {
    const auto material = find_material(printer, c.material);
    ASSERT_TRUE(material.ok());
    job.material = *material;
  }
  const Limits limits = limits_for(printer);
  const Report report = check_text(c.gcode, limits, job);
  ASSERT_FALSE(report.accepted) << c.gcode;
  ASSERT_FALSE(report.violations.empty());
  EXPECT_EQ(report.violations.front().rule, c.rule) << describe(report.violations.front());
  EXPECT_EQ(report.violation_count, report.violations.size());

  Checker bytewise(limits, job);
  for (const char ch : c.gcode) bytewise.feed(std::string_view(&ch, 1));
  EXPECT_EQ(bytewise.finish(), report);
}

INSTANTIATE_TEST_SUITE_P(Gate, Adversarial, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& param) { return param.param.name; });

// Legitimate forms that must not be refused.
TEST(GateAccepts, ParserForms) {
  const std::string text =
      checksummed("N1 G28") + checksummed("N2 M104 S200") +
      "M109 S200 ; wait\r\n"
      "\r\n"
      "   \n"
      "(paren comment) G1 X10 (inline) Y10 F3000\n"
      "g1 x20 y20 e.5\n"
      "G1X30Y30E.5\n"
      "G0 F9000 X100 Y100\n"
      "G1 X+10 Y-.0 E0.5\n"
      "RESPOND MSG=\"hello world\"\n"
      "EXCLUDE_OBJECT_DEFINE NAME=part_1 CENTER=110,110 POLYGON=[[100,100],[120,100],[120,120]]\n"
      "EXCLUDE_OBJECT_START NAME=part_1\n"
      "M117 Layer 1; 50% (done)\n"
      "SET_VELOCITY_LIMIT ACCEL=3000 SQUARE_CORNER_VELOCITY=5\n"
      "M204 P1500 T3000\n"
      "G20\nG1 X4 Y4\nG21\n"
      "G1 X110 Y110\nG2 X130 Y110 I10 J0 E1\nG3 X110 Y110 R10 E1\n"
      "G4 P500\nG10\nG11\nT0\nM106 S255\nM107\nM73 P50 R10\nM400\nM84\n"
      "G1 X5 Y5";
  const auto limits = limits_for(base_printer());
  const Report report =
      check_text(text, limits, Job{find_material(base_printer(), "pla-generic").value(), {}});
  for (const auto& v : report.violations) ADD_FAILURE() << describe(v);
  EXPECT_TRUE(report.accepted);
  EXPECT_EQ(report.facts.lines, 32U);
}

TEST(GateAccepts, HeatsToMaterialMacroAllowsExtrusion) {
  auto printer = base_printer();
  printer.macros[0].heats_to_material = true;
  const Job job{find_material(printer, "pla-generic").value(), {}};
  const Report report = check_text("PRINT_START\nG28\nG1 X10 Y10 E1\n", limits_for(printer), job);
  EXPECT_TRUE(report.accepted) << (report.violations.empty() ? "" : describe(report.violations.front()));
}

TEST(GateReport, CapsViolationsAndCountsAll) {
  std::string text;
  for (int i = 0; i < 500; ++i) text += "M112\n";
  const Report report = check_text(text, limits_for(base_printer()), Job{});
  EXPECT_EQ(report.violation_count, 500U);
  EXPECT_EQ(report.violations.size(), kMaxViolations);
  EXPECT_EQ(report.violations.back().line, kMaxViolations);
  EXPECT_EQ(report.violations.front().command, "M112");
}

TEST(GateReport, ViolationNamesLineCommandValueAndLimit) {
  const Report report = check_text("G28\n\nM104 S300\n", limits_for(base_printer()), Job{});
  ASSERT_EQ(report.violations.size(), 1U);
  const Violation& v = report.violations.front();
  EXPECT_EQ(v.line, 3U);
  EXPECT_EQ(v.command, "M104");
  EXPECT_EQ(v.value, "S 300 °C");
  EXPECT_EQ(v.limit, "0-280 °C");
  EXPECT_EQ(describe(v),
            "line 3: M104: temperature.printer-limit: hotend temperature outside the printer's limits "
            "(S 300 °C, limit 0-280 °C)");
}

TEST(GateReport, OverlongLinesKeepMemoryBounded) {
  const auto limits = limits_for(base_printer());
  Checker checker(limits, Job{});
  const std::string block(1 << 20, 'x');
  for (int i = 0; i < 64; ++i) checker.feed(block);  // 64 MiB without a newline
  checker.feed("\nG28\n");
  const Report report = checker.finish();
  ASSERT_EQ(report.violation_count, 1U);
  EXPECT_EQ(report.violations.front().rule, "syntax.line-too-long");
  EXPECT_EQ(report.facts.lines, 2U);
  EXPECT_EQ(report.facts.bytes, 64U * (1U << 20) + 5U);
}

TEST(GatePolicy, DigestIsStableAndFollowsTheLimits) {
  const auto printer = base_printer();
  const Limits limits = limits_for(printer);
  const auto a = policy_digest(limits);
  const auto b = policy_digest(limits_for(printer));
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(a->size(), 7U + 64U);
  EXPECT_EQ(a->rfind("sha256:", 0), 0U);
  Limits changed = limits;
  changed.gcode.max_velocity = 499;
  EXPECT_NE(*policy_digest(changed), *a);
  Limits overridden = limits;
  overridden.macro_commands.insert("M109");
  EXPECT_NE(*policy_digest(overridden), *a);
  const std::string json = policy_json(limits);
  EXPECT_EQ(json.front(), '{');
  EXPECT_NE(json.find("\"version\":\"ipp3d-gcode-policy/2\""), std::string::npos);
  EXPECT_NE(json.find("\"materials\":[{\"bed\":{\"max\":90,\"min\":70},\"hotend\":{\"max\":250,\"min\":220},"
                      "\"key\":\"petg-generic\"},"),
            std::string::npos)
      << json;
  Limits other_material = limits;
  other_material.materials.back().bed_max = 65;
  EXPECT_NE(*policy_digest(other_material), *a);
  EXPECT_NE(json.find("\"SAVE_CONFIG\""), std::string::npos);
  EXPECT_NE(json.find("\"max_velocity\":500"), std::string::npos);
  EXPECT_EQ(json.find(' ', json.find("\"limits\"")), json.find(' ', json.find("\"limits\"")));
}

TEST(GateMaterial, FromMaterialsCol) {
  attributes::Material m;
  m.material_key = "pla";
  EXPECT_FALSE(material_range(m).ok());
  m.material_temperature = attributes::IntegerOrRange::range(190, 230);
  const auto range = material_range(m);
  ASSERT_TRUE(range.ok());
  EXPECT_EQ(range->hotend_min, 190);
  EXPECT_EQ(range->hotend_max, 230);
  EXPECT_FALSE(find_material(base_printer(), "nylon").ok());
}

}  // namespace
}  // namespace ipp3d::gcode
