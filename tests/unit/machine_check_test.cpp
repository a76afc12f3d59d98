// Tests of the machine checks' pure parts (machine_check.hpp): trusted_clients
// classification, Moonraker's access rules and accept_risks, our limits
// against Klipper's, macros replacing standard commands, the verdict text;
// the size decisions of the intake (upload_capacity.hpp); Moonraker's answers
// parsed into a MachineReport; and the accept_risks configuration key.
#include "machine_check.hpp"

#include "ipp3d/config/config.hpp"

#include "backend/moonraker_backend.hpp"
#include "backend/virtual_backend.hpp"
#include "intake/upload_capacity.hpp"
#include "printer_keys.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <unistd.h>
#include <vector>

namespace ipp3d::server {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using Severity = MachineFinding::Severity;

// The built-in virtual printer (hotend 280 °C, bed 110 °C, 220 x 220 x 250 mm,
// max_velocity 500, max_accel 10000) as a Moonraker printer.
config::PrinterConfig moonraker_printer(std::vector<std::string> accepted = {}) {
  config::PrinterConfig printer = config::default_config().printers.front();
  printer.backend = "moonraker";
  printer.moonraker = config::MoonrakerConfig{"http://127.0.0.1:7125", "/k", 10, true, std::move(accepted)};
  return printer;
}

// A report of a machine that passes every check for moonraker_printer().
MachineReport clean_report() {
  MachineReport report;
  report.trusted_clients = {"127.0.0.1", "::1"};
  report.hotend_max_temp = 300;
  report.bed_max_temp = 120;
  report.axis_min[0] = report.axis_min[1] = report.axis_min[2] = 0;
  report.axis_max[0] = report.axis_max[1] = 235;
  report.axis_max[2] = 250;
  report.max_velocity = 500;
  report.max_accel = 10000;
  return report;
}

TEST(TrustedClients, LoopbackOnlyEntriesAreAccepted) {
  for (const char* entry :
       {"127.0.0.1", "127.0.0.0/8", "127.1.2.3/32", "127.0.0.0/24", "::1", "::1/128", "localhost"}) {
    EXPECT_TRUE(is_loopback_client(entry)) << entry;
  }
}

TEST(TrustedClients, AnythingWiderIsNot) {
  for (const char* entry : {"192.168.1.0/24", "0.0.0.0/0", "10.0.0.1", "127.0.0.0/7", "127.0.0.1/33",
                            "127.0.0.1/", "printer.local", "example.com", "::/0", "fe80::1", "", "*"}) {
    EXPECT_FALSE(is_loopback_client(entry)) << entry;
  }
}

TEST(AccessFindings, ACleanMachineHasNone) { EXPECT_THAT(access_findings(clean_report(), {}), IsEmpty()); }

TEST(AccessFindings, EachRiskBlocksUnlessAccepted) {
  MachineReport report = clean_report();
  report.trusted_clients = {"127.0.0.1", "192.168.1.0/24", "printer.local"};
  report.users_exist = true;
  report.force_logins = false;
  report.config_write_access = true;
  const auto blocking = access_findings(report, {});
  ASSERT_EQ(blocking.size(), 3U);
  EXPECT_EQ(blocking[0].risk, "trusted-clients");
  EXPECT_THAT(blocking[0].text, HasSubstr("192.168.1.0/24, printer.local"));
  EXPECT_EQ(blocking[1].risk, "force-logins-off");
  EXPECT_EQ(blocking[2].risk, "config-write-access");
  for (const auto& finding : blocking) EXPECT_EQ(finding.severity, Severity::kBlocking) << finding.text;

  const auto accepted = access_findings(report, {"config-write-access", "trusted-clients"});
  ASSERT_EQ(accepted.size(), 3U);
  EXPECT_EQ(accepted[0].severity, Severity::kAccepted);
  EXPECT_EQ(accepted[1].severity, Severity::kBlocking);
  EXPECT_EQ(accepted[2].severity, Severity::kAccepted);
  EXPECT_THAT(accepted[2].text, HasSubstr("accepted by accept_risks"));
}

TEST(AccessFindings, ForceLoginsOffWithoutUsersIsFine) {
  MachineReport report = clean_report();
  report.force_logins = false;
  report.users_exist = false;
  EXPECT_THAT(access_findings(report, {}), IsEmpty());
  report.users_exist = true;
  report.force_logins = true;
  EXPECT_THAT(access_findings(report, {}), IsEmpty());
}

TEST(LimitFindings, NoneWhenOursAreWithinKlippers) {
  EXPECT_THAT(limit_findings(gcode::limits_for(moonraker_printer()), clean_report()), IsEmpty());
  // Klipper reporting nothing compares nothing.
  EXPECT_THAT(limit_findings(gcode::limits_for(moonraker_printer()), MachineReport{}), IsEmpty());
}

TEST(LimitFindings, EachExcessNamesTheSettingAndBothValues) {
  MachineReport report = clean_report();
  report.hotend_max_temp = 250;
  report.bed_max_temp = 100;
  report.axis_min[1] = 5;
  report.axis_max[0] = 200;
  report.max_velocity = 300;
  report.max_accel = 3000;
  const auto findings = limit_findings(gcode::limits_for(moonraker_printer()), report);
  std::vector<std::string> texts;
  for (const auto& finding : findings) {
    EXPECT_EQ(finding.severity, Severity::kBlocking);
    texts.push_back(finding.text);
  }
  EXPECT_THAT(
      texts, ::testing::ElementsAre(
                 "[printer.hotend] max_temp 280 °C is above Klipper's [extruder] max_temp 250 °C",
                 "[printer.bed] max_temp 110 °C is above Klipper's [heater_bed] max_temp 100 °C",
                 "[printer.volume] x.max 220 mm is above Klipper's [stepper_x] position_max 200 mm",
                 "[printer.volume] y.min 0 mm is below Klipper's [stepper_y] position_min 5 mm",
                 "[printer.limits] max_velocity 500 mm/s is above Klipper's [printer] max_velocity 300 mm/s",
                 "[printer.limits] max_accel 10000 mm/s² is above Klipper's [printer] max_accel 3000 mm/s²"));
}

TEST(MacroFindings, RenamedStandardCommandsGoToTheGate) {
  MachineReport report = clean_report();
  report.renamed_commands = {{"M109", "M109.1"}, {"PRINT_START", "_PS"}, {"PAUSE", "BASE_PAUSE"}};
  std::set<std::string> overridden;
  const auto findings = macro_findings(moonraker_printer(), report, overridden);
  EXPECT_EQ(overridden, (std::set<std::string>{"M109"}));
  ASSERT_EQ(findings.size(), 1U);
  EXPECT_EQ(findings[0].severity, Severity::kBlocking);
  EXPECT_THAT(findings[0].text, HasSubstr("[gcode_macro M109] replaces the standard command M109"));
  EXPECT_THAT(findings[0].text, HasSubstr("rename_existing: M109.1"));
  EXPECT_THAT(findings[0].text, HasSubstr("[[printer.macro]] name = \"M109\""));
}

TEST(MacroFindings, ADeclaredOverrideIsANote) {
  config::PrinterConfig printer = moonraker_printer();
  printer.macros.push_back(config::Macro{"M109", {"S"}, {}, {}, false});
  MachineReport report = clean_report();
  report.renamed_commands = {{"M109", "M109.1"}};
  std::set<std::string> overridden;
  const auto findings = macro_findings(printer, report, overridden);
  EXPECT_EQ(overridden, (std::set<std::string>{"M109"}));
  ASSERT_EQ(findings.size(), 1U);
  EXPECT_EQ(findings[0].severity, Severity::kNote);
}

TEST(StandardCommands, LetterAndDigitsOnly) {
  EXPECT_TRUE(is_standard_command("M109"));
  EXPECT_TRUE(is_standard_command("G28"));
  EXPECT_FALSE(is_standard_command("M"));
  EXPECT_FALSE(is_standard_command("PAUSE"));
  EXPECT_FALSE(is_standard_command("M109.1"));
  EXPECT_FALSE(is_standard_command("m109"));
}

TEST(EvaluateMachine, ACleanMachineMayPrint) {
  const MachineVerdict verdict = evaluate_machine(moonraker_printer(), clean_report());
  EXPECT_THAT(verdict.findings, IsEmpty());
  EXPECT_THAT(verdict.problem, IsEmpty());
  EXPECT_THAT(verdict.overridden_commands, IsEmpty());
}

TEST(EvaluateMachine, TheProblemListsEveryBlockingFinding) {
  MachineReport report = clean_report();
  report.config_write_access = true;
  report.trusted_clients = {"0.0.0.0/0"};
  report.max_accel = 3000;
  report.renamed_commands = {{"M190", "M190.1"}};
  const MachineVerdict verdict = evaluate_machine(moonraker_printer({"trusted-clients"}), report);
  EXPECT_EQ(verdict.problem.rfind("Not printing: ", 0), 0U) << verdict.problem;
  EXPECT_THAT(verdict.problem, HasSubstr("enable_config_write_access"));
  EXPECT_THAT(verdict.problem,
              HasSubstr("max_accel 10000 mm/s² is above Klipper's [printer] max_accel 3000"));
  EXPECT_THAT(verdict.problem, HasSubstr("M190"));
  EXPECT_THAT(verdict.problem, ::testing::Not(HasSubstr("0.0.0.0/0")));  // accepted: logged only
  EXPECT_EQ(verdict.overridden_commands, (std::set<std::string>{"M190"}));
}

TEST(EvaluateMachine, AcceptedRisksAloneLetItPrint) {
  MachineReport report = clean_report();
  report.config_write_access = true;
  const MachineVerdict verdict = evaluate_machine(moonraker_printer({"config-write-access"}), report);
  ASSERT_EQ(verdict.findings.size(), 1U);
  EXPECT_EQ(verdict.findings[0].severity, Severity::kAccepted);
  EXPECT_THAT(verdict.problem, IsEmpty());
}

TEST(UploadRefusal, LargerThanMaxUploadSizeOrFreeSpace) {
  constexpr std::uint64_t kMiB = 1024 * 1024;
  EXPECT_THAT(upload_refusal(5 * kMiB, UploadCapacity{}), IsEmpty());
  EXPECT_THAT(upload_refusal(kMiB, UploadCapacity{kMiB, kMiB}), IsEmpty());
  EXPECT_EQ(
      upload_refusal(kMiB + 1, UploadCapacity{kMiB, std::nullopt}),
      "Refused (too-large): the document is 1.00 MiB (1048577 bytes), but Moonraker accepts uploads of at "
      "most 1.00 MiB (1048576 bytes) ([server] max_upload_size)");
  EXPECT_THAT(
      upload_refusal(3 * kMiB, UploadCapacity{10 * kMiB, 2 * kMiB}),
      HasSubstr("the document is 3.00 MiB (3145728 bytes), but the printer's gcodes folder has only 2.00 MiB "
                "(2097152 bytes) free"));
}

TEST(LocalSpaceRefusal, TheVerifiedCopyMustFit) {
  EXPECT_THAT(local_space_refusal(1000, std::nullopt), IsEmpty());
  EXPECT_THAT(local_space_refusal(1000, 1000), IsEmpty());
  EXPECT_EQ(local_space_refusal(1001, 1000),
            "Refused (no-space): the document needs about 1001 bytes for its verified copy, but the "
            "printer's state directory has only 1000 bytes free");
  EXPECT_TRUE(free_space("/").has_value());
}

// Moonraker's answers as the emulator (and a real Moonraker) sends them.
MoonrakerAnswers answers() {
  MoonrakerAnswers a;
  a.server_config = R"({"result":{"config":{"server":{"max_upload_size":2},
      "authorization":{"trusted_clients":["127.0.0.1","192.168.1.0/24"],"force_logins":false},
      "file_manager":{"enable_config_write_access":false}}}})";
  a.users = R"({"result":{"users":[{"username":"operator","source":"moonraker"}]}})";
  a.configfile = R"({"result":{"eventtime":1.0,"status":{"configfile":{"settings":{
      "printer":{"max_velocity":300.0,"max_accel":3000.0},
      "stepper_x":{"position_min":-5.0,"position_max":235.0},"stepper_z":{"position_max":250.0},
      "extruder":{"max_temp":250.0},"heater_bed":{"max_temp":120.0},
      "gcode_macro m109":{"rename_existing":"M109.1","gcode":"M109.1 {rawparams}"},
      "gcode_macro print_start":{"gcode":"G28"}}}}}})";
  a.directory = R"({"result":{"dirs":[],"files":[],"disk_usage":{"total":100,"used":40,"free":60}}})";
  a.webcams = R"({"result":{"webcams":[{"name":"front","snapshot_url":"/webcam/?action=snapshot"}]}})";
  return a;
}

TEST(ParseMachineReport, ReadsEveryPart) {
  const auto report = parse_machine_report(answers(), "http://127.0.0.1:7125");
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->trusted_clients, (std::vector<std::string>{"127.0.0.1", "192.168.1.0/24"}));
  EXPECT_FALSE(report->force_logins);
  EXPECT_TRUE(report->users_exist);
  EXPECT_FALSE(report->config_write_access);
  EXPECT_EQ(report->max_upload_bytes, std::uint64_t{2} * 1024 * 1024);
  EXPECT_EQ(report->free_bytes, 60U);
  EXPECT_EQ(report->hotend_max_temp, 250);
  EXPECT_EQ(report->bed_max_temp, 120);
  EXPECT_EQ(report->axis_min[0], -5);
  EXPECT_EQ(report->axis_max[0], 235);
  EXPECT_FALSE(report->axis_min[1].has_value());
  EXPECT_EQ(report->axis_max[2], 250);
  EXPECT_EQ(report->max_velocity, 300);
  EXPECT_EQ(report->max_accel, 3000);
  EXPECT_EQ(report->renamed_commands, (std::vector<RenamedCommand>{{"M109", "M109.1"}}));
  EXPECT_EQ(report->camera_snapshot_url, "http://127.0.0.1:7125/webcam/?action=snapshot");
}

TEST(ParseMachineReport, MoonrakersDefaultsApplyToMissingOptions) {
  MoonrakerAnswers a = answers();
  a.server_config = R"({"result":{"config":{"server":{}}}})";
  a.users = "";
  a.directory = "";
  a.webcams = R"({"result":{"webcams":[{"name":"a","snapshot_url":"javascript:x"},
      {"name":"b","snapshot_url":"https://cam.example/snap.jpg"}]}})";
  const auto report = parse_machine_report(a, "http://127.0.0.1:7125");
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_TRUE(report->config_write_access);  // Moonraker's default
  EXPECT_EQ(report->max_upload_bytes, std::uint64_t{1024} * 1024 * 1024);
  EXPECT_FALSE(report->users_exist);
  EXPECT_FALSE(report->free_bytes.has_value());
  EXPECT_THAT(report->trusted_clients, IsEmpty());
  EXPECT_EQ(report->camera_snapshot_url, "https://cam.example/snap.jpg");
}

TEST(ParseMachineReport, MissingConfigurationIsAnError) {
  MoonrakerAnswers a = answers();
  a.configfile = R"({"result":{"status":{}}})";
  EXPECT_FALSE(parse_machine_report(a, "http://127.0.0.1:7125").ok());
  a = answers();
  a.server_config = "not json";
  EXPECT_FALSE(parse_machine_report(a, "http://127.0.0.1:7125").ok());
}

// A Moonraker printer whose [printer.moonraker] table has `extra` at line 7.
std::string config_with(const std::string& extra) {
  return "[[printer]]\n"
         "name = \"k1\"\n"
         "backend = \"moonraker\"\n"
         "[printer.moonraker]\n"
         "url = \"http://127.0.0.1:7125\"\n"
         "api_key_file = \"/etc/ipp3d/moonraker.key\"\n" +
         extra +
         "[printer.volume]\n"
         "x = { min = 0, max = 220 }\n"
         "y = { min = 0, max = 220 }\n"
         "z = { min = 0, max = 250 }\n"
         "[printer.hotend]\n"
         "min_temp = 0\n"
         "max_temp = 280\n"
         "[[printer.material]]\n"
         "key = \"pla\"\n"
         "name = \"PLA\"\n"
         "type = \"pla\"\n"
         "hotend_temp = [190, 230]\n";
}

TEST(AcceptRisksConfig, KnownNamesAreRead) {
  const auto parsed = config::parse_config(
      config_with("accept_risks = [\"config-write-access\", \"trusted-clients\"]\n"), "m.toml");
  ASSERT_TRUE(parsed.ok()) << config::format_errors(parsed.error());
  EXPECT_EQ(parsed->printers[0].moonraker->accept_risks,
            (std::vector<std::string>{"config-write-access", "trusted-clients"}));
}

TEST(AcceptRisksConfig, UnknownNamesAreRefusedWithFileAndLine) {
  const auto parsed =
      config::parse_config(config_with("accept_risks = [\"force-logins-off\", \"everything\"]\n"), "m.toml");
  ASSERT_FALSE(parsed.ok());
  ASSERT_EQ(parsed.error().size(), 1U);
  EXPECT_EQ(parsed.error()[0].message,
            "m.toml:7: printer[0].moonraker.accept_risks[1]: unknown risk \"everything\" (known: "
            "trusted-clients, force-logins-off, config-write-access)");
}

// The runtime's gate policy is replaced whole: a snapshot taken before stays
// as it was, the published JSON and digest follow the new limits.
TEST(PrinterRuntimePolicy, MachineOverridesReplaceTheLimitsAndThePublishedPolicy) {
  std::string dir_template = (std::filesystem::temp_directory_path() / "ipp3d-rt-XXXXXX").string();
  ASSERT_NE(::mkdtemp(dir_template.data()), nullptr);
  const std::filesystem::path dir = dir_template;
  {
    auto store = StateStore::open(dir / "ipp3d.db");
    ASSERT_TRUE(store.ok()) << store.error().message;
    auto keys = load_or_create_printer_keys(dir, "virtual-fdm", KeyPassphrase{});
    ASSERT_TRUE(keys.ok()) << keys.error().message;
    VirtualBackendOptions options;
    options.storage_dir = dir / "virtual";
    PrinterRuntime runtime(config::default_config().printers.front(), **store,
                           std::make_unique<VirtualBackend>(options), std::move(keys).value(),
                           dir / "verified");
    EXPECT_THAT(runtime.config_problem(), HasSubstr("not been checked yet"));
    const auto before = runtime.limits();
    const std::string digest = runtime.policy_digest();
    EXPECT_FALSE(runtime.set_machine_overrides({}));  // nothing new
    EXPECT_TRUE(runtime.set_machine_overrides({"M109"}));
    EXPECT_FALSE(runtime.set_machine_overrides({"M109"}));
    EXPECT_THAT(before->macro_commands, IsEmpty());
    EXPECT_EQ(runtime.limits()->macro_commands, (std::set<std::string>{"M109"}));
    EXPECT_NE(runtime.policy_digest(), digest);
    EXPECT_THAT(runtime.policy_json(), HasSubstr("\"macro_commands\":[\"M109\"]"));
    EXPECT_TRUE(runtime.set_machine_overrides({}));  // the machine no longer renames it
    EXPECT_EQ(runtime.policy_digest(), digest);
    runtime.set_camera_image_uri("http://127.0.0.1:7125/webcam/?action=snapshot");
    EXPECT_EQ(runtime.camera_image_uri(), "http://127.0.0.1:7125/webcam/?action=snapshot");
    EXPECT_TRUE(check_machine(runtime));  // the virtual machine's report is clean
    EXPECT_THAT(runtime.config_problem(), IsEmpty());
    EXPECT_THAT(runtime.camera_image_uri(), IsEmpty());
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ipp3d::server
