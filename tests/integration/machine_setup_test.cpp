// The machine checks through the real server and the Moonraker emulator:
// each unsafe Moonraker or Klipper setup keeps a signed job waiting, with the
// reason as its job-state-message and in the server's log, and nothing is
// started on the printer; accept_risks lets it print; a document larger than
// Moonraker's max_upload_size is refused at arrival; a renamed M109 reaches the
// published G-code policy; the webcam's snapshot URL is advertised once as
// printer-camera-image-uri.
#include "emulator_process.hpp"
#include "ipp_client.hpp"
#include "server_process.hpp"
#include "signing.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <string>
#include <thread>

namespace ipp3d::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using ::testing::HasSubstr;

// An emulator with `scenario` and the real server with a Moonraker printer
// (`moonraker_extra` in its [printer.moonraker] table), connected over TLS.
class MachineCheckTest : public ::testing::Test {
 protected:
  void start(const json& scenario, const std::string& moonraker_extra = "") {
    emulator_ = std::make_unique<Emulator>(scenario);
    ASSERT_GT(emulator_->port(), 0);
    config_ =
        std::make_unique<MoonrakerTestConfig>(emulator_->url(), emulator_->key_file(), true, moonraker_extra);
    server_ = std::make_unique<ServerProcess>(IPP3D_SERVER_BINARY, config_->args());
    ASSERT_GT(server_->pid(), 0);
    http_ = connect_tls(server_->port());
    ASSERT_TRUE(http_) << cupsLastErrorString();
    uri_ = server_->printer_uri(kPrinterName);
  }

  // Submits the signed torus; its job-id.
  int submit() {
    const int job_id = print_job(http_.get(), uri_, signed_torus(), kEnvelopeFormat);
    EXPECT_GT(job_id, 0) << cupsLastErrorString();
    return job_id;
  }

  // Waits until the job's message contains `text`; the last status.
  JobStatus wait_for_message(int job_id, const std::string& text) {
    bool reached = false;
    return wait_for_job(
        http_.get(), uri_, job_id,
        [&text](const JobStatus& s) { return s.message.find(text) != std::string::npos || s.terminal(); },
        60s, reached);
  }

  // Every value of the printer attribute `name` (text, keyword or uri), once per occurrence.
  std::vector<std::string> printer_values(const char* name) {
    IppPtr request = new_printer_request(IPP_OP_GET_PRINTER_ATTRIBUTES, uri_);
    IppPtr response = send_request(http_.get(), std::move(request));
    EXPECT_EQ(status_of(response), IPP_STATUS_OK) << cupsLastErrorString();
    std::vector<std::string> values;
    for (ipp_attribute_t* attr = ippFirstAttribute(response.get()); attr != nullptr;
         attr = ippNextAttribute(response.get())) {
      const char* attr_name = ippGetName(attr);
      if (attr_name == nullptr || std::string(attr_name) != name) continue;
      const char* value = ippGetString(attr, 0, nullptr);
      values.emplace_back(value != nullptr ? value : "");
    }
    return values;
  }

  // GET `path` from the server over TLS; the body ("" on failure).
  std::string http_get(const std::string& path) {
    const HttpPtr http = connect_tls(server_->port());
    if (!http) return {};
    httpClearFields(http.get());
    if (httpGet(http.get(), path.c_str()) != 0) return {};
    http_status_t status = HTTP_STATUS_CONTINUE;
    while ((status = httpUpdate(http.get())) == HTTP_STATUS_CONTINUE) {
    }
    if (status != HTTP_STATUS_OK) return {};
    std::string body;
    char buffer[4096];
    ssize_t got = 0;
    while ((got = httpRead2(http.get(), buffer, sizeof buffer)) > 0)
      body.append(buffer, static_cast<std::size_t>(got));
    return body;
  }

  // Expects that the job waits (held) with `reason` in its message and in the
  // log, and that nothing was started on the printer.
  void expect_waiting_with(const std::string& reason) {
    const int job_id = submit();
    ASSERT_GT(job_id, 0);
    const JobStatus status = wait_for_message(job_id, reason);
    EXPECT_THAT(status.message, HasSubstr(reason)) << describe(status);
    EXPECT_THAT(status.message, HasSubstr("Not printing: "));
    EXPECT_EQ(status.state, IPP_JSTATE_HELD) << describe(status);
    std::this_thread::sleep_for(2s);  // a few scheduler ticks: still waiting
    EXPECT_EQ(get_job(http_.get(), uri_, job_id).state, IPP_JSTATE_HELD);
    EXPECT_TRUE(records(emulator_->state(), "printer_calls", "action", "print_start").empty());
    EXPECT_TRUE(emulator_->state()["uploads"].empty());
    EXPECT_THAT(server_->output(), HasSubstr("Machine check: "));
    std::string logged = reason;  // PAPPL's log escapes quotes
    for (std::size_t at = logged.find('\''); at != std::string::npos; at = logged.find('\'', at + 2)) {
      logged.insert(at, "\\");
    }
    EXPECT_THAT(server_->output(), HasSubstr(logged));
  }

  std::unique_ptr<Emulator> emulator_;
  std::unique_ptr<MoonrakerTestConfig> config_;
  std::unique_ptr<ServerProcess> server_;
  HttpPtr http_;
  std::string uri_;
};

TEST_F(MachineCheckTest, LooseTrustedClientsKeepJobsWaiting) {
  start(clean_scenario({{"moonraker_conf", {{"authorization", {{"trusted_clients", {"192.168.1.0/24"}}}}}}}));
  expect_waiting_with("trusted_clients admits 192.168.1.0/24 without a key");
}

TEST_F(MachineCheckTest, ForceLoginsOffWithUsersKeepsJobsWaiting) {
  start(clean_scenario({{"users", {{{"username", "operator"}, {"password", "secret"}}}}}));
  expect_waiting_with("Moonraker has users but [authorization] force_logins is off");
}

TEST_F(MachineCheckTest, ConfigWriteAccessKeepsJobsWaiting) {
  start(clean_scenario({{"moonraker_conf", {{"file_manager", {{"enable_config_write_access", true}}}}}}));
  expect_waiting_with("enable_config_write_access is on");
}

TEST_F(MachineCheckTest, LimitsAboveKlippersKeepJobsWaiting) {
  start(clean_scenario({{"printer_cfg", {{"extruder", {{"max_temp", 250}}}}}}));
  expect_waiting_with("[printer.hotend] max_temp 280 °C is above Klipper's [extruder] max_temp 250 °C");
}

TEST_F(MachineCheckTest, ARenamedM109KeepsJobsWaitingAndReachesThePolicy) {
  start(
      clean_scenario({{"printer_cfg",
                       {{"gcode_macro M109",
                         {{"rename_existing", "M109.1"}, {"gcode", "M117 heating\nM109.1 {rawparams}"}}}}}}));
  expect_waiting_with("[gcode_macro M109] replaces the standard command M109 (rename_existing: M109.1)");
  const json policy = json::parse(http_get("/virtual-fdm/gcode-policy.json"), nullptr, false);
  ASSERT_TRUE(policy.is_object()) << policy.dump();
  EXPECT_THAT(policy.dump(), HasSubstr("\"macro_commands\":[\"M109\"]"));
  const auto digest = printer_values("ipp3d-gcode-policy-digest");
  ASSERT_EQ(digest.size(), 1U);
  EXPECT_THAT(server_->output(), HasSubstr("the G-code policy is now " + digest[0]));
}

TEST_F(MachineCheckTest, AcceptedRiskIsLoggedAndTheJobPrints) {
  start(clean_scenario({{"moonraker_conf", {{"file_manager", {{"enable_config_write_access", true}}}}},
                        {"timeline", {{"bytes_per_second", 5e6}}}}),
        "accept_risks = [\"config-write-access\"]\n");
  const int job_id = submit();
  ASSERT_GT(job_id, 0);
  bool ended = false;
  const JobStatus status = wait_for_job(
      http_.get(), uri_, job_id, [](const JobStatus& s) { return s.terminal(); }, 120s, ended);
  ASSERT_TRUE(ended) << describe(status);
  EXPECT_EQ(status.state, IPP_JSTATE_COMPLETED) << describe(status) << server_->output();
  EXPECT_THAT(server_->output(), HasSubstr("enable_config_write_access is on"));
  EXPECT_THAT(server_->output(), HasSubstr("(accepted by accept_risks)"));
}

TEST_F(MachineCheckTest, ADocumentLargerThanMaxUploadSizeIsRefusedAtArrival) {
  start(clean_scenario({{"moonraker_conf", {{"server", {{"max_upload_size", 0.5}}}}}}));
  const int job_id = submit();
  ASSERT_GT(job_id, 0);
  bool ended = false;
  const JobStatus status = wait_for_job(
      http_.get(), uri_, job_id, [](const JobStatus& s) { return s.terminal(); }, 60s, ended);
  ASSERT_TRUE(ended) << describe(status);
  EXPECT_EQ(status.state, IPP_JSTATE_CANCELED) << describe(status);
  EXPECT_TRUE(status.has_reason("document-unprintable-error")) << describe(status);
  EXPECT_THAT(
      status.message,
      HasSubstr("Refused (too-large): the document is " + std::to_string(read_file(torus_path()).size()) +
                " bytes, but Moonraker accepts uploads of at most 524288 bytes ([server] "
                "max_upload_size)"));
  EXPECT_TRUE(emulator_->state()["uploads"].empty());
}

TEST_F(MachineCheckTest, TheWebcamIsAdvertisedOnceAsPrinterCameraImageUri) {
  start(clean_scenario());
  std::vector<std::string> camera;
  for (int i = 0; i < 100 && camera.empty(); ++i) {
    camera = printer_values("printer-camera-image-uri");
    if (camera.empty()) std::this_thread::sleep_for(100ms);
  }
  ASSERT_EQ(camera.size(), 1U);  // a duplicate would break ipptool
  EXPECT_EQ(camera[0], emulator_->url() + "/webcam/?action=snapshot");
  // ipptool fails a response with a duplicate attribute.
  std::string out;
  EXPECT_EQ(
      run_command({"ipptool", "-t", "-V", "2.0", uri_, "/usr/share/cups/ipptool/get-printer-attributes.test"},
                  out),
      0)
      << out;
  EXPECT_THAT(out, ::testing::Not(HasSubstr("Duplicate"))) << out;
}

}  // namespace
}  // namespace ipp3d::testing
