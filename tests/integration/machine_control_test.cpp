// The printer monitor and the operator actions on a "moonraker" printer
// (Moonraker emulator, tests/moonraker/) through the real server: ipptool
// runs Suspend-Current-Job/Resume-Job on a running print, the refusals while
// idle and ipp3d-Emergency-Stop (conformance/ipp3d-*.test); libcups checks
// Resume-Job by job-uri with Klipper's print_stats paused in between,
// offline after a Klippy disconnect and back, the temperatures, and that
// accounts without operator rights are refused; curl posts the Operator
// page's buttons with and without the CSRF token.
#include "emulator_process.hpp"
#include "ipp_client.hpp"
#include "server_process.hpp"
#include "signing.hpp"
#include "state/state_store.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>
#include <thread>

namespace ipp3d::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using ::testing::HasSubstr;

// The Suspend-Current-Job and ipp3d-Emergency-Stop operations.
constexpr auto kOpEmergencyStop = static_cast<ipp_op_t>(0x4105);

// How often `needle` occurs in `text`.
std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++n;
  return n;
}

// Runs a conformance file with ipptool as the admin; checks that every test passed.
void expect_ipptool_passes(const ServerProcess& server, const char* file,
                           std::vector<std::string> args = {}) {
  const std::string path = std::string(IPP3D_SOURCE_DIR) + "/conformance/" + file;
  args.insert(args.begin(), {"ipptool", "-t", "-V", "2.0"});
  args.push_back(server.admin_uri(kPrinterName));
  args.push_back(path);
  std::string out;
  EXPECT_EQ(run_command(args, out), 0) << out << server.output();
  EXPECT_EQ(count(out, "[PASS]"), count(read_file(path), "\n  NAME \"")) << "not every test passed:\n" << out;
}

// What Get-Printer-Attributes says about the machine.
struct MachineAttributes {
  std::vector<std::string> reasons;  // printer-state-reasons
  std::string state;                 // ipp3d-machine-state
  std::string message;               // ipp3d-printer-status-message
  ipp_tag_t temperatures_tag = IPP_TAG_ZERO;
  int hotend = -1000, bed = -1000;  // ipp3d-temperatures current values
  int hotend_target = -1000;

  [[nodiscard]] bool offline() const {
    return std::find(reasons.begin(), reasons.end(), "offline") != reasons.end();
  }
};

MachineAttributes machine_attributes(http_t* http, const std::string& uri) {
  IppPtr request = new_printer_request(IPP_OP_GET_PRINTER_ATTRIBUTES, uri);
  static const char* const kNames[] = {"printer-state-reasons", "ipp3d-machine-state",
                                       "ipp3d-printer-status-message", "ipp3d-temperatures"};
  ippAddStrings(request.get(), IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "requested-attributes", 4, nullptr,
                kNames);
  IppPtr response = send_request(http, std::move(request));
  MachineAttributes result;
  if (!response) return result;
  ipp_attribute_t* reasons = ippFindAttribute(response.get(), "printer-state-reasons", IPP_TAG_KEYWORD);
  for (int i = 0; i < ippGetCount(reasons); ++i)
    result.reasons.emplace_back(ippGetString(reasons, i, nullptr));
  result.state = response_text(response, "ipp3d-machine-state");
  const char* message = ippGetString(
      ippFindAttribute(response.get(), "ipp3d-printer-status-message", IPP_TAG_TEXT), 0, nullptr);
  result.message = message != nullptr ? message : "";
  if (ipp_attribute_t* temperatures = ippFindAttribute(response.get(), "ipp3d-temperatures", IPP_TAG_ZERO)) {
    result.temperatures_tag = ippGetValueTag(temperatures);
    if (result.temperatures_tag == IPP_TAG_BEGIN_COLLECTION) {
      ipp_t* collection = ippGetCollection(temperatures, 0);
      result.hotend = ippGetInteger(ippFindAttribute(collection, "hotend-current", IPP_TAG_INTEGER), 0);
      result.bed = ippGetInteger(ippFindAttribute(collection, "bed-current", IPP_TAG_INTEGER), 0);
      result.hotend_target = ippGetInteger(ippFindAttribute(collection, "hotend-target", IPP_TAG_INTEGER), 0);
    }
  }
  return result;
}

// Polls machine_attributes() every 100 ms until `done` (at most `timeout`).
MachineAttributes wait_for_machine(http_t* http, const std::string& uri,
                                   const std::function<bool(const MachineAttributes&)>& done,
                                   std::chrono::milliseconds timeout = 20s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  MachineAttributes last;
  while (std::chrono::steady_clock::now() < deadline) {
    last = machine_attributes(http, uri);
    if (done(last)) return last;
    std::this_thread::sleep_for(100ms);
  }
  ADD_FAILURE() << "condition not reached; machine " << last.state << ": " << last.message;
  return last;
}

// An emulator and a server with a "moonraker" printer on it; prints take
// `bytes_per_second` (the torus sample is 570 kB).
class MachineControl : public ::testing::Test {
 protected:
  explicit MachineControl(double bytes_per_second = 1e6)
      : emulator_(clean_scenario(json{{"timeline", {{"bytes_per_second", bytes_per_second}}}})),
        config_(emulator_.url(), emulator_.key_file()),
        server_(IPP3D_SERVER_BINARY, config_.args()) {}

  void SetUp() override {
    ASSERT_GT(emulator_.port(), 0);
    ASSERT_GT(server_.pid(), 0);
    http_ = connect_tls(server_.port());
    ASSERT_TRUE(http_) << cupsLastErrorString();
    uri_ = server_.printer_uri(kPrinterName);
  }

  // The number of `action` records in the emulator's printer_calls.
  std::size_t printer_calls(const std::string& action) const {
    return records(emulator_.state(), "printer_calls", "action", action).size();
  }

  Emulator emulator_;
  MoonrakerTestConfig config_;
  ServerProcess server_;
  HttpPtr http_;
  std::string uri_;
};

// The same with prints that last minutes.
class MachineControlSlowPrint : public MachineControl {
 protected:
  MachineControlSlowPrint() : MachineControl(2000) {}
};

TEST_F(MachineControlSlowPrint, SuspendAndResumeARunningPrintWithIpptool) {
  const TempDir dir;
  const auto envelope = dir.path() / "torus.ipp3d";
  write_bytes(envelope, signed_torus());
  expect_ipptool_passes(server_, "ipp3d-suspend-resume.test", {"-f", envelope.string()});
  EXPECT_EQ(printer_calls("print_pause"), 1u);
  EXPECT_EQ(printer_calls("print_resume"), 1u);
  // Cancel-Job reaches the machine within the job thread's poll interval.
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (printer_calls("print_cancel") == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(printer_calls("print_cancel"), 1u);
  // While the machine was paused the printer stayed online.
  EXPECT_FALSE(machine_attributes(http_.get(), uri_).offline());
}

TEST_F(MachineControlSlowPrint, ResumeJobByJobUriWithLibcups) {
  const int job = print_job(http_.get(), uri_, signed_torus(), kEnvelopeFormat);
  ASSERT_GT(job, 0) << cupsLastErrorString();
  wait_for_machine(
      http_.get(), uri_, [](const MachineAttributes& m) { return m.message == "Printing."; }, 60s);
  const AuthOutcome suspended = send_with_credentials(
      server_.port(), new_printer_request(IPP_OP_SUSPEND_CURRENT_JOB, uri_, kAdminUser), Credentials::kAdmin);
  ASSERT_EQ(suspended.status, IPP_STATUS_OK) << ippErrorString(suspended.status);
  // Klipper's own print_stats says paused.
  server::MoonrakerBackend probe(emulator_.options());
  const auto status = probe.status();
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(status->state, server::PrintState::kPaused);
  EXPECT_EQ(status->file, "ipp/" + std::string(kPrinterName) + "-job-" + std::to_string(job) + ".gcode");

  // Resume-Job addressed by job-uri alone.
  IppPtr resume(ippNewRequest(IPP_OP_RESUME_JOB));
  const std::string job_uri = uri_ + "/" + std::to_string(job);
  ippAddString(resume.get(), IPP_TAG_OPERATION, IPP_TAG_URI, "job-uri", nullptr, job_uri.c_str());
  ippAddString(resume.get(), IPP_TAG_OPERATION, IPP_TAG_NAME, "requesting-user-name", nullptr, kAdminUser);
  const AuthOutcome resumed = send_with_credentials(server_.port(), std::move(resume), Credentials::kAdmin);
  ASSERT_EQ(resumed.status, IPP_STATUS_OK) << ippErrorString(resumed.status);
  EXPECT_EQ(printer_calls("print_resume"), 1u);
  EXPECT_EQ(probe.status()->state, server::PrintState::kPrinting);
  wait_for_machine(http_.get(), uri_, [](const MachineAttributes& m) { return m.message == "Printing."; });
}

TEST_F(MachineControl, IdleRefusalsTemperaturesAndStatusWithIpptool) {
  expect_ipptool_passes(server_, "ipp3d-operator-idle.test");
  const MachineAttributes machine = machine_attributes(http_.get(), uri_);
  EXPECT_FALSE(machine.offline());
  EXPECT_EQ(machine.state, "ready");
  EXPECT_EQ(machine.temperatures_tag, IPP_TAG_BEGIN_COLLECTION);
  EXPECT_NEAR(machine.hotend, 25, 2);  // the emulator's ambient temperature
  EXPECT_NEAR(machine.bed, 25, 2);
  EXPECT_EQ(printer_calls("print_pause"), 0u);  // the refusal never reached the machine
}

TEST_F(MachineControl, EmergencyStopShowsOfflineWithTheReason) {
  expect_ipptool_passes(server_, "ipp3d-emergency-stop.test");
  EXPECT_EQ(printer_calls("emergency_stop"), 1u);
  const MachineAttributes machine = machine_attributes(http_.get(), uri_);
  EXPECT_TRUE(machine.offline());
  EXPECT_EQ(machine.state, "shutdown");
  EXPECT_THAT(machine.message, HasSubstr("The printer is not ready: "));
}

TEST_F(MachineControl, OfflineWhileKlippyIsDisconnectedAndBackAfterwards) {
  wait_for_machine(http_.get(), uri_, [](const MachineAttributes& m) { return m.state == "ready"; });
  emulator_.control({{"action", "klippy_disconnect"}});
  const MachineAttributes gone =
      wait_for_machine(http_.get(), uri_, [](const MachineAttributes& m) { return m.offline(); });
  EXPECT_EQ(gone.state, "disconnected");
  EXPECT_THAT(gone.message, HasSubstr("Klipper is not connected"));
  EXPECT_EQ(gone.temperatures_tag, IPP_TAG_NOVALUE);

  emulator_.control({{"action", "klippy_connect"}, {"state", "ready"}});
  const MachineAttributes back =
      wait_for_machine(http_.get(), uri_, [](const MachineAttributes& m) { return !m.offline(); });
  EXPECT_EQ(back.state, "ready");
  EXPECT_EQ(back.message, "Ready.");
  EXPECT_EQ(back.temperatures_tag, IPP_TAG_BEGIN_COLLECTION);
}

TEST_F(MachineControl, UnreachableMoonrakerIsOfflineUntilItAnswers) {
  emulator_.control({{"action", "refuse_connections"}, {"seconds", 4}});
  const MachineAttributes gone =
      wait_for_machine(http_.get(), uri_, [](const MachineAttributes& m) { return m.offline(); });
  EXPECT_EQ(gone.state, "unreachable");
  EXPECT_THAT(gone.message, HasSubstr("cannot connect to Moonraker"));
  wait_for_machine(http_.get(), uri_, [](const MachineAttributes& m) { return !m.offline(); });
}

// Answers libcups' password prompt with the password in `data`, once.
const char* answer_once(const char*, http_t*, const char*, const char*, void* data) {
  auto** password = static_cast<const char**>(data);
  const char* answer = *password;
  *password = nullptr;
  return answer;
}

TEST_F(MachineControl, AccountsWithoutOperatorRightsAreRefused) {
  for (const ipp_op_t op : {IPP_OP_SUSPEND_CURRENT_JOB, kOpEmergencyStop}) {
    SCOPED_TRACE(ippOpString(op));
    const AuthOutcome anonymous =
        send_with_credentials(server_.port(), new_printer_request(op, uri_, kAdminUser), Credentials::kNone);
    EXPECT_TRUE(anonymous.status == IPP_STATUS_ERROR_NOT_AUTHENTICATED ||
                anonymous.status == IPP_STATUS_ERROR_CUPS_AUTHENTICATION_CANCELED)
        << ippErrorString(anonymous.status);
  }
  // A user account (no operator rights): 403 Forbidden.
  {
    auto store = server::StateStore::open(server_.state_dir() / "ipp3d.db");
    ASSERT_TRUE(store.ok()) << store.error().message;
    ASSERT_TRUE((*store)->set_password("bob", "bob-has-no-rights-42", server::Role::kUser).ok());
  }
  for (const ipp_op_t op : {IPP_OP_SUSPEND_CURRENT_JOB, kOpEmergencyStop}) {
    SCOPED_TRACE(ippOpString(op));
    HttpPtr http = connect_tls(server_.port());
    ASSERT_TRUE(http);
    const char* password = "bob-has-no-rights-42";
    cupsSetUser("bob");
    cupsSetPasswordCB2(answer_once, &password);
    IppPtr response = send_request(http.get(), new_printer_request(op, uri_, "bob"));
    cupsSetPasswordCB2(nullptr, nullptr);
    EXPECT_EQ(status_of(response), IPP_STATUS_ERROR_FORBIDDEN) << ippErrorString(status_of(response));
  }
  EXPECT_EQ(printer_calls("emergency_stop"), 0u);
  EXPECT_FALSE(machine_attributes(http_.get(), uri_).offline());
}

// curl on the Operator page as the admin, cookies kept in `jar`.
std::string operator_page(const ServerProcess& server, const std::string& jar, const std::string& form = "") {
  std::vector<std::string> args = {"curl", "-sk", "-c", jar,
                                   "-b",   jar,   "-u", std::string(kAdminUser) + ":" + kAdminPassword};
  if (!form.empty()) args.insert(args.end(), {"-d", form});
  args.push_back("https://127.0.0.1:" + std::to_string(server.port()) + "/" + kPrinterName + "/operator");
  std::string out;
  run_command(args, out);
  return out;
}

TEST_F(MachineControlSlowPrint, OperatorPageButtonsNeedTheFormToken) {
  const int job = print_job(http_.get(), uri_, signed_torus(), kEnvelopeFormat);
  ASSERT_GT(job, 0) << cupsLastErrorString();
  wait_for_machine(
      http_.get(), uri_, [](const MachineAttributes& m) { return m.message == "Printing."; }, 60s);

  const std::string jar = (server_.state_dir() / "cookies").string();
  const std::string page = operator_page(server_, jar);
  EXPECT_THAT(page, HasSubstr("Status: <b>Printing.</b> (ready)"));
  EXPECT_THAT(page, HasSubstr("<th>Hotend</th>"));
  EXPECT_THAT(page, HasSubstr("Printing job " + std::to_string(job) + "."));
  std::smatch token;
  ASSERT_TRUE(std::regex_search(page, token, std::regex("name=\"session\" value=\"([0-9a-f]+)\""))) << page;
  const std::string session = "session=" + token[1].str();

  EXPECT_THAT(operator_page(server_, jar, "action=pause"), HasSubstr("Invalid form submission."));
  EXPECT_THAT(operator_page(server_, jar, "action=emergency-stop"), HasSubstr("Invalid form submission."));
  EXPECT_EQ(printer_calls("print_pause"), 0u);

  EXPECT_THAT(operator_page(server_, jar, session + "&action=pause"), HasSubstr("Print paused."));
  EXPECT_EQ(printer_calls("print_pause"), 1u);
  wait_for_machine(http_.get(), uri_, [](const MachineAttributes& m) {
    return m.message == std::string("Paused by operator ") + kAdminUser + ".";
  });
  EXPECT_THAT(operator_page(server_, jar, session + "&action=pause"), HasSubstr("Cannot suspend the print"));
  EXPECT_THAT(operator_page(server_, jar, session + "&action=resume"), HasSubstr("Print resumed."));
  EXPECT_EQ(printer_calls("print_resume"), 1u);

  EXPECT_THAT(operator_page(server_, jar, session + "&action=emergency-stop"),
              HasSubstr("Emergency stop sent"));
  EXPECT_EQ(printer_calls("emergency_stop"), 1u);
  const MachineAttributes stopped =
      wait_for_machine(http_.get(), uri_, [](const MachineAttributes& m) { return m.offline(); });
  EXPECT_EQ(stopped.state, "shutdown");
}

}  // namespace
}  // namespace ipp3d::testing
