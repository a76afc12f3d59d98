// Printing on Klipper through the real server and the Moonraker emulator,
// checked with ipptool (conformance/ipp3d-print.test, ipp3d-job-outcome.test)
// and libcups: layer progress from the file position, cancel with heaters
// off, each fault of the physical print ending as docs/architecture.md says
// ("Following a print"), a server that keeps answering while Moonraker is
// slow or gone, and kill -9 of the server mid-print followed by a restart
// (still printing, and finished meanwhile).
#include "backend/moonraker_backend.hpp"
#include "emulator_process.hpp"
#include "ipp_client.hpp"
#include "server_process.hpp"
#include "signing.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace ipp3d::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using ::testing::HasSubstr;

constexpr int kTorusLayers = 28;

// Bytes per second of the emulated print: the torus (572 KB) takes about
// 10 s at kBrisk and crawls at kCrawl until a test speeds it up.
constexpr double kBrisk = 60000;
constexpr double kCrawl = 3000;

// The emulator's scenario with prints at `bytes_per_second` and a filament sensor.
json scenario(double bytes_per_second) {
  return clean_scenario(json{{"timeline", {{"bytes_per_second", bytes_per_second}}},
                             {"printer_cfg",
                              {{"filament_switch_sensor runout",
                                {{"pause_on_runout", true}, {"runout_gcode", "M117 Filament runout"}}}}}});
}

// The file name the server gives job `job_id` on the machine.
std::string remote_name(int job_id) {
  return "ipp/" + std::string(kPrinterName) + "-job-" + std::to_string(job_id) + ".gcode";
}

// Runs a conformance file with ipptool against `uri`; true when every test passed.
void expect_ipptool_passes(const std::string& uri, const char* file, std::vector<std::string> defines) {
  const std::string path = std::string(IPP3D_SOURCE_DIR) + "/conformance/" + file;
  std::vector<std::string> args = {"ipptool", "-t", "-V", "2.0"};
  for (const auto& define : defines) {
    args.push_back(define.rfind("-f", 0) == 0 ? "-f" : "-d");
    args.push_back(define.rfind("-f", 0) == 0 ? define.substr(2) : define);
  }
  args.push_back(uri);
  args.push_back(path);
  std::string out;
  const int status = run_command(args, out);
  EXPECT_EQ(status, 0) << out;
  EXPECT_THAT(out, ::testing::Not(HasSubstr("[FAIL]"))) << out;
}

// ipptool waits until job `job_id` is in `state` with a message matching
// `regex` (as the admin: only the owner or an operator may read a job).
void expect_outcome(const ServerProcess& server, int job_id, int state, const std::string& regex) {
  expect_ipptool_passes(
      server.admin_uri(kPrinterName), "ipp3d-job-outcome.test",
      {"job_id=" + std::to_string(job_id), "state=" + std::to_string(state), "message=/" + regex + "/"});
}

// G-code scripts the server sent to Moonraker (the fixed ones only).
std::vector<std::string> scripts(const json& state) {
  std::vector<std::string> sent;
  for (const json& entry : state.value("gcode_scripts", json::array()))
    sent.push_back(entry.value("script", ""));
  return sent;
}

class MoonrakerPrintTest : public ::testing::Test {
 protected:
  explicit MoonrakerPrintTest(double bytes_per_second = kCrawl, const std::string& moonraker_lines = "")
      : emulator_(scenario(bytes_per_second)),
        config_(emulator_.url(), emulator_.key_file(), true, moonraker_lines),
        server_(IPP3D_SERVER_BINARY, config_.args()) {}

  void SetUp() override {
    ASSERT_GT(emulator_.port(), 0);
    ASSERT_GT(server_.pid(), 0);
    http_ = connect_tls(server_.port());
    ASSERT_TRUE(http_) << cupsLastErrorString();
    uri_ = server_.printer_uri(kPrinterName);
  }

  // Submits the signed torus; its job id.
  int submit() {
    const int job_id = print_job(http_.get(), uri_, signed_torus(), kEnvelopeFormat);
    EXPECT_GT(job_id, 0) << cupsLastErrorString();
    return job_id;
  }

  // Waits until the job prints layer 1 or later on the machine.
  JobStatus wait_printing(int job_id) {
    bool reached = false;
    const JobStatus status = wait_for_job(
        http_.get(), uri_, job_id,
        [](const JobStatus& s) { return s.state == IPP_JSTATE_PROCESSING && s.impressions_completed >= 1; },
        60s, reached);
    EXPECT_TRUE(reached) << describe(status) << server_.output();
    return status;
  }

  // The printer still answers Get-Printer-Attributes, promptly.
  void expect_printer_answers() {
    const auto asked = std::chrono::steady_clock::now();
    HttpPtr http = connect_tls(server_.port());
    ASSERT_TRUE(http);
    IppPtr response = send_request(http.get(), new_printer_request(IPP_OP_GET_PRINTER_ATTRIBUTES, uri_));
    EXPECT_EQ(status_of(response), IPP_STATUS_OK);
    EXPECT_LT(std::chrono::steady_clock::now() - asked, 5s) << "Get-Printer-Attributes took too long";
  }

  Emulator emulator_;
  MoonrakerTestConfig config_;
  ServerProcess server_;
  HttpPtr http_;
  std::string uri_;
};

class MoonrakerBriskPrintTest : public MoonrakerPrintTest {
 protected:
  MoonrakerBriskPrintTest() : MoonrakerPrintTest(kBrisk) {}
};

TEST_F(MoonrakerBriskPrintTest, PrintsToCompletionWithLayerProgressFromTheFilePosition) {
  const TempDir dir;
  const auto envelope = dir.path() / "torus.ipp3d";
  write_bytes(envelope, signed_torus());
  // The torus has no SET_PRINT_STATS_INFO: layers come from the gate's index.
  expect_ipptool_passes(server_.user_uri(kPrinterName), "ipp3d-print.test",
                        {"-f" + envelope.string(), "layers=" + std::to_string(kTorusLayers)});
  const json state = emulator_.state();
  const auto jobs = records(state, "uploads", "root", "gcodes");
  ASSERT_EQ(jobs.size(), 1u) << state.dump();
  const std::string remote = jobs[0].value("path", "");
  EXPECT_EQ(records(state, "printer_calls", "action", "print_start").size(), 1u);
  // The file is removed when the job ends; a finished print needs no heaters-off.
  EXPECT_THAT(state["deleted_files"].dump(), HasSubstr(remote));
  EXPECT_TRUE(scripts(state).empty()) << state["gcode_scripts"].dump();
}

TEST_F(MoonrakerPrintTest, CancelEndsCanceledWithinFiveSecondsAndTurnsTheHeatersOff) {
  const int job_id = submit();
  wait_printing(job_id);
  IppPtr cancel = send_request(http_.get(), new_job_request(IPP_OP_CANCEL_JOB, uri_, job_id));
  ASSERT_EQ(status_of(cancel), IPP_STATUS_OK) << cupsLastErrorString();
  bool ended = false;
  const JobStatus last = wait_for_job(
      http_.get(), uri_, job_id, [](const JobStatus& s) { return s.terminal(); }, 5s, ended);
  ASSERT_TRUE(ended) << describe(last);
  EXPECT_EQ(last.state, IPP_JSTATE_CANCELED) << describe(last);
  expect_outcome(server_, job_id, IPP_JSTATE_CANCELED, "^Canceled");
  const json state = emulator_.state();
  EXPECT_EQ(records(state, "printer_calls", "action", "print_cancel").size(), 1u)
      << state["printer_calls"].dump();
  EXPECT_THAT(scripts(state), ::testing::ElementsAre("TURN_OFF_HEATERS"));
  EXPECT_THAT(state["deleted_files"].dump(), HasSubstr(remote_name(job_id)));
}

// A fault injected mid-print and how the job must end.
struct Fault {
  const char* name;
  json action;
  int state;
  const char* message;  // regular expression for job-state-message
  bool heaters_off;     // a TURN_OFF_HEATERS is expected (Klipper answers again)
};

class MoonrakerFaultTest : public MoonrakerPrintTest, public ::testing::WithParamInterface<Fault> {};

TEST_P(MoonrakerFaultTest, EndsAsSpecifiedAndTheServerKeepsAnswering) {
  const Fault& fault = GetParam();
  const int job_id = submit();
  wait_printing(job_id);
  emulator_.control(fault.action);
  expect_printer_answers();
  expect_outcome(server_, job_id, fault.state, fault.message);
  expect_printer_answers();
  const json state = emulator_.state();
  if (fault.heaters_off) {
    EXPECT_THAT(scripts(state), ::testing::Contains("TURN_OFF_HEATERS")) << state["gcode_scripts"].dump();
  }
  for (const auto& script : scripts(state)) EXPECT_EQ(script, "TURN_OFF_HEATERS");
}

INSTANTIATE_TEST_SUITE_P(
    Faults, MoonrakerFaultTest,
    ::testing::Values(
        Fault{"klippy_shutdown", json{{"action", "klippy_shutdown"}}, IPP_JSTATE_ABORTED,
              "^The print failed: Klipper shut down during the print", false},
        Fault{
            "print_error",
            json{{"action", "print_error"}, {"message", "Move out of range: 500.000 20.000 1.000 [10.500]"}},
            IPP_JSTATE_ABORTED, "^The print failed: Move out of range: 500.000 20.000 1.000", true},
        Fault{"klippy_disconnect", json{{"action", "klippy_disconnect"}}, IPP_JSTATE_ABORTED,
              "^The print failed: Klipper disconnected from Moonraker during the print", false}),
    [](const ::testing::TestParamInfo<Fault>& param) { return std::string(param.param.name); });

TEST_F(MoonrakerPrintTest, ARunoutPauseKeepsTheJobProcessingAndSaysWhy) {
  const int job_id = submit();
  wait_printing(job_id);
  emulator_.control(json{{"action", "filament_runout"}});
  bool paused = false;
  const JobStatus status = wait_for_job(
      http_.get(), uri_, job_id,
      [](const JobStatus& s) { return s.message.find("Paused by the printer") != std::string::npos; }, 15s,
      paused);
  ASSERT_TRUE(paused) << describe(status);
  EXPECT_EQ(status.state, IPP_JSTATE_PROCESSING);
  EXPECT_THAT(status.message, HasSubstr("Filament runout"));
  // Canceling a paused print works too.
  IppPtr cancel = send_request(http_.get(), new_job_request(IPP_OP_CANCEL_JOB, uri_, job_id));
  ASSERT_EQ(status_of(cancel), IPP_STATUS_OK);
  expect_outcome(server_, job_id, IPP_JSTATE_CANCELED, "^Canceled");
}

TEST_F(MoonrakerPrintTest, AnEmergencyStopMidPrintAbortsTheJobWithKlippersReason) {
  const int job_id = submit();
  wait_printing(job_id);
  expect_ipptool_passes(server_.admin_uri(kPrinterName), "ipp3d-emergency-stop.test", {});
  expect_outcome(server_, job_id, IPP_JSTATE_ABORTED,
                 "^The print failed: Klipper shut down during the print");
  EXPECT_EQ(records(emulator_.state(), "printer_calls", "action", "emergency_stop").size(), 1u);
  expect_printer_answers();
}

TEST_F(MoonrakerPrintTest, AFileRemovedBehindMoonrakersBackStillPrints) {
  const int job_id = submit();
  wait_printing(job_id);
  emulator_.control(json{{"action", "remove_file"}, {"path", remote_name(job_id)}});
  emulator_.control(json{{"action", "set_timeline"}, {"values", {{"bytes_per_second", kBrisk * 4}}}});
  expect_outcome(server_, job_id, IPP_JSTATE_COMPLETED, "^Printed");
}

class MoonrakerSlowAnswersTest : public MoonrakerPrintTest {
 protected:
  MoonrakerSlowAnswersTest() : MoonrakerPrintTest(kCrawl, "timeout_seconds = 2\n") {}
};

TEST_F(MoonrakerSlowAnswersTest, TimeoutsAndRefusedConnectionsNeverFailThePrint) {
  const int job_id = submit();
  wait_printing(job_id);
  // Status queries hang beyond the 2 s timeout, then Moonraker goes away for a while.
  emulator_.control(
      json{{"action", "delay"}, {"path", "/printer/objects/query"}, {"seconds", 4}, {"count", 3}});
  bool lost = false;
  const JobStatus status = wait_for_job(
      http_.get(), uri_, job_id,
      [](const JobStatus& s) { return s.message.find("Lost contact with the printer") != std::string::npos; },
      20s, lost);
  EXPECT_TRUE(lost) << describe(status);
  EXPECT_EQ(status.state, IPP_JSTATE_PROCESSING);
  expect_printer_answers();
  emulator_.control(json{{"action", "refuse_connections"}, {"seconds", 3}});
  expect_printer_answers();
  std::this_thread::sleep_for(4s);
  emulator_.control(json{{"action", "set_timeline"}, {"values", {{"bytes_per_second", kBrisk * 4}}}});
  expect_outcome(server_, job_id, IPP_JSTATE_COMPLETED, "^Printed");
  EXPECT_EQ(records(emulator_.state(), "printer_calls", "action", "print_start").size(), 1u);
}

TEST_F(MoonrakerPrintTest, TheFileStaysOnThePrinterWhenSoConfigured) {
  // (The fixture's server deletes files; this one keeps them.)
  const MoonrakerTestConfig keep(emulator_.url(), emulator_.key_file(), true, "delete_after_job = false\n");
  ServerProcess server(IPP3D_SERVER_BINARY, keep.args());
  ASSERT_GT(server.pid(), 0);
  HttpPtr http = connect_tls(server.port());
  const std::string uri = server.printer_uri(kPrinterName);
  emulator_.control(json{{"action", "set_timeline"}, {"values", {{"bytes_per_second", kBrisk * 4}}}});
  const int job_id = print_job(http.get(), uri, signed_torus(), kEnvelopeFormat);
  ASSERT_GT(job_id, 0);
  expect_outcome(server, job_id, IPP_JSTATE_COMPLETED, "^Printed");
  const json state = emulator_.state();
  EXPECT_THAT(state["deleted_files"].dump(), ::testing::Not(HasSubstr(remote_name(job_id))));
}

// kill -9 of the server mid-print, then a new server on the same state.
class MoonrakerRestartTest : public ::testing::Test {
 protected:
  MoonrakerRestartTest() : emulator_(scenario(kCrawl)), config_(emulator_.url(), emulator_.key_file()) {}

  // Starts a server, submits the torus, waits until it prints, kills the server.
  std::unique_ptr<ServerProcess> crash_mid_print(int& job_id) {
    auto first = std::make_unique<ServerProcess>(IPP3D_SERVER_BINARY, config_.args());
    EXPECT_GT(first->pid(), 0);
    HttpPtr http = connect_tls(first->port());
    const std::string uri = first->printer_uri(kPrinterName);
    job_id = print_job(http.get(), uri, signed_torus(), kEnvelopeFormat);
    EXPECT_GT(job_id, 0);
    bool printing = false;
    const JobStatus status = wait_for_job(
        http.get(), uri, job_id,
        [](const JobStatus& s) { return s.state == IPP_JSTATE_PROCESSING && s.impressions_completed >= 1; },
        60s, printing);
    EXPECT_TRUE(printing) << describe(status);
    first->kill_hard();
    return first;
  }

  Emulator emulator_;
  MoonrakerTestConfig config_;
};

TEST_F(MoonrakerRestartTest, AStillRunningPrintIsFollowedAgainToItsEnd) {
  int job_id = 0;
  const auto first = crash_mid_print(job_id);
  ServerProcess second(IPP3D_SERVER_BINARY, config_.args(), first->state_dir());
  ASSERT_GT(second.pid(), 0);
  HttpPtr http = connect_tls(second.port());
  const std::string uri = second.printer_uri(kPrinterName);
  // Re-attached: processing again with progress, not aborted.
  bool following = false;
  const JobStatus status = wait_for_job(
      http.get(), uri, job_id,
      [](const JobStatus& s) {
        return s.state == IPP_JSTATE_PROCESSING && s.message.find("layer") != std::string::npos;
      },
      30s, following);
  ASSERT_TRUE(following) << describe(status) << second.output();
  emulator_.control(json{{"action", "set_timeline"}, {"values", {{"bytes_per_second", kBrisk * 4}}}});
  expect_outcome(second, job_id, IPP_JSTATE_COMPLETED, "^Printed");
  const json state = emulator_.state();
  EXPECT_EQ(records(state, "printer_calls", "action", "print_start").size(), 1u)
      << "the print was started twice";
  EXPECT_EQ(records(state, "uploads", "path", remote_name(job_id)).size(), 1u);
  // A new job gets a new ID.
  const int next = print_job(http.get(), uri, signed_torus(), kEnvelopeFormat);
  EXPECT_GT(next, job_id);
}

TEST_F(MoonrakerRestartTest, APrintThatFinishedMeanwhileShowsItsTrueEnd) {
  int job_id = 0;
  const auto first = crash_mid_print(job_id);
  emulator_.control(json{{"action", "set_timeline"}, {"values", {{"bytes_per_second", kBrisk * 4}}}});
  server::MoonrakerBackend machine(emulator_.options());
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  for (;;) {
    auto status = machine.status();
    if (status && status->state == server::PrintState::kComplete) break;
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the emulated print did not finish";
    std::this_thread::sleep_for(200ms);
  }
  ServerProcess second(IPP3D_SERVER_BINARY, config_.args(), first->state_dir());
  ASSERT_GT(second.pid(), 0);
  const std::string uri = second.printer_uri(kPrinterName);
  expect_outcome(second, job_id, IPP_JSTATE_COMPLETED, "finished while ipp3d-server was restarting");
  EXPECT_EQ(records(emulator_.state(), "printer_calls", "action", "print_start").size(), 1u);
}

}  // namespace
}  // namespace ipp3d::testing
