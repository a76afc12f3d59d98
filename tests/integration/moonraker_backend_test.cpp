// Tests of MoonrakerBackend against the Moonraker emulator (tests/moonraker/):
// each method, the checks made before print control (pause while idle is
// refused here, not sent), authorization, checksum, Klippy not ready,
// timeouts reported as "unknown" within the configured limit, connection
// refused, the fixed heaters-off script; and one end-to-end print of a signed
// job through the real server with a "moonraker" printer. Each fixture starts
// its own emulator on a free loopback port and stops it by PID.
#include "backend/moonraker_backend.hpp"

#include "ipp3d/trust/keys.hpp"
#include "ipp3d/trust/sha256.hpp"

#include "backend/moonraker_http.hpp"
#include "emulator_process.hpp"
#include "ipp_client.hpp"
#include "server_process.hpp"
#include "signing.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <fcntl.h>
#include <fstream>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <string>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace ipp3d::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using server::MoonrakerBackend;
using server::MoonrakerOptions;
using server::PrintState;
using server::PrintStatus;
using server::UploadRequest;
using ::testing::HasSubstr;

constexpr const char* kKey = kEmulatorKey;

// A small job: two layers reported through SET_PRINT_STATS_INFO.
constexpr const char* kTwoLayers =
    "G28\n"
    "SET_PRINT_STATS_INFO TOTAL_LAYER=2\n"
    "SET_PRINT_STATS_INFO CURRENT_LAYER=1\n"
    "G1 X10 Y10 Z0.2 F3000\n"
    "SET_PRINT_STATS_INFO CURRENT_LAYER=2\n"
    "G1 X20 Y20 Z0.4 F3000\n";

// The lowercase SHA-256 of `bytes`.
std::string sha256_hex(const std::string& bytes) {
  const auto digest = trust::Sha256::of({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
  return digest ? trust::hex_text(*digest) : std::string();
}

class MoonrakerBackendTest : public ::testing::Test {
 protected:
  // Starts an emulator whose prints take `bytes_per_second`.
  explicit MoonrakerBackendTest(double bytes_per_second = 1e6)
      : emulator_(json{{"timeline", {{"bytes_per_second", bytes_per_second}}}}) {}

  void SetUp() override { ASSERT_GT(emulator_.port(), 0); }

  // Writes `gcode` to a local file and uploads it as `remote`.
  ipp3d::Status upload(MoonrakerBackend& backend, const std::string& remote, const std::string& gcode,
                       const std::string& sha = "") {
    const auto local = dir_.path() / "local.gcode";
    write_bytes(local, gcode);
    return backend.upload(UploadRequest{local, remote, sha.empty() ? sha256_hex(gcode) : sha, 0});
  }

  // Polls status() until `done` holds (at most `timeout`); the last status.
  PrintStatus wait_status(MoonrakerBackend& backend, const std::function<bool(const PrintStatus&)>& done,
                          std::chrono::milliseconds timeout = 20s) {
    PrintStatus last;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto status = backend.status();
      if (status) {
        last = *status;
        if (done(last)) return last;
      }
      std::this_thread::sleep_for(50ms);
    }
    ADD_FAILURE() << "condition not reached; state " << server::print_state_name(last.state) << " "
                  << last.file;
    return last;
  }

  TempDir dir_;
  Emulator emulator_;
};

// The same with prints that crawl (a line every few seconds), to catch them mid-print.
class MoonrakerSlowPrintTest : public MoonrakerBackendTest {
 protected:
  MoonrakerSlowPrintTest() : MoonrakerBackendTest(4) {}
};

TEST_F(MoonrakerBackendTest, StatusOfAReadyIdlePrinter) {
  MoonrakerBackend backend(emulator_.options());
  const auto status = backend.status();
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_TRUE(status->ready);
  EXPECT_EQ(status->ready_message, "Printer is ready");
  EXPECT_EQ(status->state, PrintState::kStandby);
  EXPECT_TRUE(status->file.empty());
  EXPECT_NEAR(status->hotend_temperature, 25, 1);
  EXPECT_NEAR(status->bed_temperature, 25, 1);
}

TEST_F(MoonrakerBackendTest, WithoutTheApiKeyEveryCallIsRefusedWith401) {
  MoonrakerOptions options = emulator_.options();
  options.api_key.clear();
  MoonrakerBackend backend(options);
  const auto status = backend.status();
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.error().message, HasSubstr("refused the API key (HTTP 401)"));
  EXPECT_THAT(status.error().message, HasSubstr("api_key_file"));
  EXPECT_FALSE(upload(backend, "ipp/a.gcode", kTwoLayers).ok());
  EXPECT_TRUE(emulator_.state()["uploads"].empty());
}

TEST_F(MoonrakerBackendTest, UploadSendsChecksumWithoutPrintAndDoesNotStart) {
  MoonrakerBackend backend(emulator_.options());
  const auto uploaded = upload(backend, "ipp/job-1.gcode", kTwoLayers);
  ASSERT_TRUE(uploaded.ok()) << uploaded.error().message;
  const json state = emulator_.state();
  const auto ours = records(state, "uploads", "path", "ipp/job-1.gcode");
  ASSERT_EQ(ours.size(), 1u) << state["uploads"].dump();
  EXPECT_EQ(ours[0]["root"], "gcodes");
  EXPECT_EQ(ours[0]["sha256"], sha256_hex(kTwoLayers));
  EXPECT_EQ(ours[0]["checksum"], sha256_hex(kTwoLayers));
  EXPECT_TRUE(ours[0]["print"].is_null()) << ours[0].dump();
  EXPECT_EQ(ours[0]["print_started"], false);
  EXPECT_TRUE(state["printer_calls"].empty()) << state["printer_calls"].dump();
  EXPECT_EQ(backend.status()->state, PrintState::kStandby);
}

TEST_F(MoonrakerBackendTest, ChecksumMismatchIsRefusedWith422) {
  MoonrakerBackend backend(emulator_.options());
  const auto uploaded = upload(backend, "ipp/job-1.gcode", kTwoLayers, std::string(64, '0'));
  ASSERT_FALSE(uploaded.ok());
  EXPECT_THAT(uploaded.error().message, HasSubstr("checksum mismatch"));
  EXPECT_THAT(uploaded.error().message, ::testing::Not(HasSubstr("Traceback")));
  EXPECT_FALSE(backend.start("ipp/job-1.gcode").ok());  // nothing was stored
}

TEST_F(MoonrakerBackendTest, BadRemoteNamesAreRefusedBeforeAnyRequest) {
  MoonrakerBackend backend(emulator_.options());
  for (const char* name : {"", "/etc/x.gcode", "ipp/../../x.gcode", "ipp/x.sh", "ipp/a\nb.gcode"}) {
    EXPECT_FALSE(upload(backend, name, kTwoLayers).ok()) << name;
    EXPECT_FALSE(backend.start(name).ok()) << name;
    EXPECT_FALSE(backend.remove(name).ok()) << name;
  }
  EXPECT_TRUE(emulator_.state()["uploads"].empty());
}

TEST_F(MoonrakerBackendTest, StartPrintsToCompleteWithLayers) {
  MoonrakerBackend backend(emulator_.options());
  ASSERT_TRUE(upload(backend, "ipp/job 1.gcode", kTwoLayers).ok());
  const auto started = backend.start("ipp/job 1.gcode");
  ASSERT_TRUE(started.ok()) << started.error().message;
  int top_layer = 0;
  const PrintStatus done = wait_status(backend, [&](const PrintStatus& s) {
    top_layer = std::max(top_layer, s.current_layer);
    return s.state == PrintState::kComplete;
  });
  EXPECT_EQ(done.file, "ipp/job 1.gcode");
  EXPECT_EQ(done.total_layers, 2);
  EXPECT_EQ(done.current_layer, 2);
  EXPECT_DOUBLE_EQ(done.progress, 1.0);
  const auto calls = records(emulator_.state(), "printer_calls", "action", "print_start");
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_THAT(calls[0].dump(), HasSubstr("SDCARD_PRINT_FILE FILENAME=\\\"ipp/job 1.gcode\\\""));
}

TEST_F(MoonrakerBackendTest, StartOfAMissingFileSaysSo) {
  MoonrakerBackend backend(emulator_.options());
  const auto started = backend.start("ipp/never-uploaded.gcode");
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.error().status, IPP_STATUS_ERROR_NOT_FOUND);
  EXPECT_THAT(started.error().message, HasSubstr("Unable to open file"));
}

TEST_F(MoonrakerBackendTest, PauseResumeAndCancelWhileIdleAreRefusedHereNotSent) {
  MoonrakerBackend backend(emulator_.options());
  for (const auto& action :
       {&MoonrakerBackend::pause, &MoonrakerBackend::resume, &MoonrakerBackend::cancel}) {
    const auto result = (backend.*action)("ipp/job-1.gcode");
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().status, IPP_STATUS_ERROR_NOT_POSSIBLE);
    EXPECT_THAT(result.error().message, HasSubstr("the printer is standby"));
  }
  const json state = emulator_.state();
  EXPECT_TRUE(state["printer_calls"].empty()) << state["printer_calls"].dump();
}

TEST_F(MoonrakerSlowPrintTest, PauseResumeCancelOfOurPrintOnly) {
  MoonrakerBackend backend(emulator_.options());
  ASSERT_TRUE(upload(backend, "ipp/job-1.gcode", kTwoLayers).ok());
  ASSERT_TRUE(backend.start("ipp/job-1.gcode").ok());
  // Another job's name is never paused or cancelled, nor is a second start sent.
  EXPECT_FALSE(backend.pause("ipp/job-2.gcode").ok());
  EXPECT_FALSE(backend.cancel("ipp/job-2.gcode").ok());
  const auto busy = backend.start("ipp/job-1.gcode");
  ASSERT_FALSE(busy.ok());
  EXPECT_EQ(busy.error().status, IPP_STATUS_ERROR_BUSY);
  EXPECT_FALSE(backend.resume("ipp/job-1.gcode").ok());  // not paused

  const auto paused = backend.pause("ipp/job-1.gcode");
  ASSERT_TRUE(paused.ok()) << paused.error().message;
  wait_status(backend, [](const PrintStatus& s) { return s.state == PrintState::kPaused; });
  EXPECT_FALSE(backend.pause("ipp/job-1.gcode").ok());  // already paused
  ASSERT_TRUE(backend.resume("ipp/job-1.gcode").ok());
  wait_status(backend, [](const PrintStatus& s) { return s.state == PrintState::kPrinting; });
  ASSERT_TRUE(backend.cancel("ipp/job-1.gcode").ok());
  const PrintStatus cancelled =
      wait_status(backend, [](const PrintStatus& s) { return s.state == PrintState::kCancelled; });
  EXPECT_EQ(cancelled.file, "ipp/job-1.gcode");
  const json state = emulator_.state();
  EXPECT_EQ(records(state, "printer_calls", "action", "print_start").size(), 1u);
  EXPECT_EQ(records(state, "printer_calls", "action", "print_pause").size(), 1u);
  EXPECT_EQ(records(state, "printer_calls", "action", "print_resume").size(), 1u);
  EXPECT_EQ(records(state, "printer_calls", "action", "print_cancel").size(), 1u);
}

TEST_F(MoonrakerSlowPrintTest, RemoveDeletesTheFileButNotWhilePrinting) {
  MoonrakerBackend backend(emulator_.options());
  ASSERT_TRUE(upload(backend, "ipp/job-1.gcode", kTwoLayers).ok());
  ASSERT_TRUE(upload(backend, "ipp/job-2.gcode", kTwoLayers).ok());
  ASSERT_TRUE(backend.start("ipp/job-1.gcode").ok());
  wait_status(backend, [](const PrintStatus& s) { return s.state == PrintState::kPrinting; });
  std::this_thread::sleep_for(400ms);  // Moonraker notices the print on its 250 ms tick
  const auto in_use = backend.remove("ipp/job-1.gcode");
  ASSERT_FALSE(in_use.ok());
  EXPECT_THAT(in_use.error().message, HasSubstr("in use"));
  const auto removed = backend.remove("ipp/job-2.gcode");
  ASSERT_TRUE(removed.ok()) << removed.error().message;
  const auto again = backend.remove("ipp/job-2.gcode");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().status, IPP_STATUS_ERROR_NOT_FOUND);
  EXPECT_THAT(emulator_.state()["deleted_files"].dump(), HasSubstr("ipp/job-2.gcode"));
}

TEST_F(MoonrakerBackendTest, HeatersOffSendsExactlyTurnOffHeaters) {
  MoonrakerBackend backend(emulator_.options());
  const auto off = backend.heaters_off();
  ASSERT_TRUE(off.ok()) << off.error().message;
  const json scripts = emulator_.state()["gcode_scripts"];
  ASSERT_EQ(scripts.size(), 1u) << scripts.dump();
  EXPECT_EQ(scripts[0]["script"], "TURN_OFF_HEATERS");
}

TEST_F(MoonrakerBackendTest, EmergencyStopShutsKlipperDownAndStartIsRefused) {
  MoonrakerBackend backend(emulator_.options());
  ASSERT_TRUE(upload(backend, "ipp/job-1.gcode", kTwoLayers).ok());
  const auto stopped = backend.emergency_stop();
  ASSERT_TRUE(stopped.ok()) << stopped.error().message;
  EXPECT_EQ(records(emulator_.state(), "printer_calls", "action", "emergency_stop").size(), 1u);
  const PrintStatus status = wait_status(backend, [](const PrintStatus& s) { return !s.ready; });
  EXPECT_FALSE(status.ready_message.empty());
  const auto start = backend.start("ipp/job-1.gcode");
  ASSERT_FALSE(start.ok());
  EXPECT_THAT(start.error().message, HasSubstr("Klipper is not ready"));
  EXPECT_TRUE(records(emulator_.state(), "printer_calls", "action", "print_start").empty());
}

TEST_F(MoonrakerBackendTest, KlippyDisconnectedIs503AndNotReady) {
  MoonrakerBackend backend(emulator_.options());
  emulator_.control({{"action", "klippy_disconnect"}});
  const auto status = backend.status();
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_FALSE(status->ready);
  EXPECT_THAT(status->ready_message, HasSubstr("not connected"));
  EXPECT_THAT(backend.start("ipp/job-1.gcode").error().message, HasSubstr("not ready"));
  EXPECT_THAT(backend.heaters_off().error().message, HasSubstr("Klipper is not connected"));
}

TEST(MoonrakerBackendNotConnected, BeforeKlippyEverConnectedIs404AndNotReady) {
  Emulator emulator(json{{"klippy", {{"connected", false}}}});
  ASSERT_GT(emulator.port(), 0);
  MoonrakerBackend backend(emulator.options());
  const auto status = backend.status();
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_FALSE(status->ready);
  EXPECT_THAT(status->ready_message, HasSubstr("has not connected"));
  const auto start = backend.start("ipp/job-1.gcode");
  ASSERT_FALSE(start.ok());
  EXPECT_THAT(start.error().message, HasSubstr("not ready"));
}

TEST_F(MoonrakerBackendTest, ShutdownIsNotReadyWithKlippersReason) {
  MoonrakerBackend backend(emulator_.options());
  emulator_.control(
      {{"action", "klippy_shutdown"}, {"message", "Heater extruder not heating at expected rate"}});
  const PrintStatus status = wait_status(backend, [](const PrintStatus& s) { return !s.ready; });
  EXPECT_THAT(status.ready_message, HasSubstr("Heater extruder not heating"));
}

TEST_F(MoonrakerBackendTest, AQueryTimeoutIsUnknownWithinTheLimit) {
  MoonrakerBackend backend(emulator_.options(300ms, 600ms));
  emulator_.control({{"action", "delay"}, {"path", "/printer/objects/query"}, {"seconds", 3}, {"count", 0}});
  const auto began = std::chrono::steady_clock::now();
  const auto status = backend.status();
  const auto took = std::chrono::steady_clock::now() - began;
  ASSERT_FALSE(status.ok());
  EXPECT_TRUE(server::is_unknown_outcome(status.error()));
  EXPECT_THAT(status.error().message, HasSubstr("within 300 ms"));
  EXPECT_THAT(status.error().message, HasSubstr("unknown"));
  EXPECT_LT(took, 1500ms);
}

TEST_F(MoonrakerBackendTest, AStartTimeoutIsUnknownNotFailed) {
  MoonrakerBackend backend(emulator_.options(5s, 500ms));
  ASSERT_TRUE(upload(backend, "ipp/job-1.gcode", kTwoLayers).ok());
  emulator_.control({{"action", "delay"}, {"path", "/printer/print/start"}, {"seconds", 2}});
  const auto began = std::chrono::steady_clock::now();
  const auto started = backend.start("ipp/job-1.gcode");
  EXPECT_LT(std::chrono::steady_clock::now() - began, 1500ms);
  ASSERT_FALSE(started.ok());
  EXPECT_TRUE(server::is_unknown_outcome(started.error()));
  EXPECT_THAT(started.error().message, HasSubstr("outcome is unknown"));
  // Moonraker handles the request anyway: asking again shows the print.
  const PrintStatus status =
      wait_status(backend, [](const PrintStatus& s) { return s.state == PrintState::kComplete; });
  EXPECT_EQ(status.file, "ipp/job-1.gcode");
}

TEST(MoonrakerBackendUnreachable, ConnectionRefusedIsAnErrorSayingSo) {
  // A port that was free a moment ago and has no listener.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  ::close(fd);
  const std::string url = "http://127.0.0.1:" + std::to_string(ntohs(address.sin_port));
  MoonrakerBackend backend(MoonrakerOptions{url, kKey, 2s, 2s});
  const auto began = std::chrono::steady_clock::now();
  const auto status = backend.status();
  EXPECT_LT(std::chrono::steady_clock::now() - began, 2s);
  ASSERT_FALSE(status.ok());
  EXPECT_FALSE(server::is_unknown_outcome(status.error()));
  EXPECT_THAT(status.error().message, HasSubstr("cannot connect to Moonraker at " + url));
  EXPECT_FALSE(backend.heaters_off().ok());
}

// The real server with a "moonraker" printer prints a signed job to completion.
TEST(MoonrakerEndToEnd, ASignedJobPrintsToCompletionOnMoonraker) {
  Emulator emulator(clean_scenario({{"timeline", {{"bytes_per_second", 5e6}}}}));
  ASSERT_GT(emulator.port(), 0);
  const MoonrakerTestConfig config(emulator.url(), emulator.key_file());
  ServerProcess server(IPP3D_SERVER_BINARY, config.args());
  ASSERT_GT(server.pid(), 0);
  const HttpPtr http = connect_tls(server.port());
  ASSERT_TRUE(http) << cupsLastErrorString();
  const std::string uri = server.printer_uri(kPrinterName);
  const int job_id = print_job(http.get(), uri, signed_torus(), kEnvelopeFormat);
  ASSERT_GT(job_id, 0) << cupsLastErrorString();
  bool ended = false;
  const JobStatus status = wait_for_job(
      http.get(), uri, job_id, [](const JobStatus& s) { return s.terminal(); }, 120s, ended);
  ASSERT_TRUE(ended) << describe(status);
  EXPECT_EQ(status.state, IPP_JSTATE_COMPLETED) << describe(status) << server.output();

  const std::string plaintext = read_file(torus_path());
  const json state = emulator.state();
  const std::string remote = "ipp/virtual-fdm-job-" + std::to_string(job_id) + ".gcode";
  const auto uploads = records(state, "uploads", "path", remote);
  ASSERT_EQ(uploads.size(), 1u) << state["uploads"].dump();
  EXPECT_EQ(uploads[0]["size"], plaintext.size());
  EXPECT_EQ(uploads[0]["sha256"], sha256_hex(plaintext));
  EXPECT_EQ(uploads[0]["checksum"], sha256_hex(plaintext));
  EXPECT_TRUE(uploads[0]["print"].is_null()) << uploads[0].dump();
  EXPECT_EQ(records(state, "printer_calls", "action", "print_start").size(), 1u);
  EXPECT_TRUE(state["gcode_scripts"].empty()) << state["gcode_scripts"].dump();
}

}  // namespace
}  // namespace ipp3d::testing
