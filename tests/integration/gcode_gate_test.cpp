// The G-code gate in the real server (docs/gcode-policy.md): it runs in the
// same pass as the signature check when a document arrives, refuses unsafe
// G-code at once with document-unprintable-error and the first violation,
// publishes the facts of accepted jobs through ipp3d-Get-Job-Facts, and
// checks a job again when the loaded material changed before it starts.
#include "ipp3d/trust/sha256.hpp"

#include "ipp_client.hpp"
#include "server_process.hpp"
#include "signing.hpp"

#include <gtest/gtest.h>

namespace ipp3d::testing {
namespace {

using namespace std::chrono_literals;

constexpr auto kOpGetJobFacts = static_cast<ipp_op_t>(0x4104);

// The torus with a line that heats the hotend far beyond the printer's limit.
std::string overheating_torus() {
  std::string gcode = read_file(torus_path());
  const auto second_line = gcode.find('\n') + 1;
  gcode.insert(second_line, "M104 S400 ; a typo\n");
  return gcode;
}

TEST(GcodeGate, UnsafeGcodeIsRefusedAtArrivalWithTheFirstViolation) {
  const TestConfig config(0.02, /*auto_start_next=*/true);
  ServerProcess server(IPP3D_SERVER_BINARY, config.args());
  ASSERT_GT(server.pid(), 0);
  HttpPtr http = connect_tls(server.port());
  const std::string uri = server.printer_uri(kPrinterName);
  const int job_id = print_job(http.get(), uri, sign_document(overheating_torus()), kEnvelopeFormat);
  ASSERT_GT(job_id, 0);
  bool ended = false;
  const JobStatus status = wait_for_job(
      http.get(), uri, job_id, [](const JobStatus& s) { return s.terminal(); }, 10s, ended);
  ASSERT_TRUE(ended) << describe(status);
  EXPECT_EQ(status.state, IPP_JSTATE_CANCELED) << describe(status);
  EXPECT_TRUE(status.has_reason("document-unprintable-error")) << describe(status);
  EXPECT_NE(status.message.find("Unprintable: line 2: M104"), std::string::npos) << describe(status);
  EXPECT_NE(status.message.find("temperature.printer-limit"), std::string::npos) << describe(status);
  EXPECT_LT(status.time_at_processing, 0) << "the refused job reached the print callback";
}

TEST(GcodeGate, FactsOfAVerifiedJobAreAVendorOperation) {
  const TestConfig config(0.02);
  ServerProcess server(IPP3D_SERVER_BINARY, config.args());
  ASSERT_GT(server.pid(), 0);
  HttpPtr http = connect_tls(server.port());
  const std::string uri = server.printer_uri(kPrinterName);
  const int job_id = print_job(http.get(), uri, signed_torus(), kEnvelopeFormat, [](ipp_t* request) {
    ippAddString(request, IPP_TAG_JOB, IPP_TAG_KEYWORD, "job-hold-until", nullptr, "indefinite");
  });
  ASSERT_GT(job_id, 0);
  bool verified = false;
  wait_for_job(
      http.get(), uri, job_id,
      [](const JobStatus& s) { return s.message.find("Held as requested") != std::string::npos; }, 10s,
      verified);
  ASSERT_TRUE(verified);

  IppPtr request = new_job_request(kOpGetJobFacts, uri, job_id);
  IppPtr response = send_request(http.get(), std::move(request));
  ASSERT_EQ(status_of(response), IPP_STATUS_OK) << response_text(response, "detailed-status-message");
  EXPECT_EQ(ippGetInteger(ippFindAttribute(response.get(), "ipp3d-layers", IPP_TAG_INTEGER), 0),
            kTorusLayers);
  EXPECT_GT(ippGetInteger(ippFindAttribute(response.get(), "ipp3d-estimated-seconds", IPP_TAG_INTEGER), 0),
            0);
  EXPECT_EQ(
      ippGetInteger(ippFindAttribute(response.get(), "ipp3d-max-hotend-temperature", IPP_TAG_INTEGER), 0),
      215);
  EXPECT_STREQ(ippGetString(ippFindAttribute(response.get(), "ipp3d-signer-name", IPP_TAG_NAME), 0, nullptr),
               kTestSignerName);
  EXPECT_NE(ippFindAttribute(response.get(), "ipp3d-extrusion-box", IPP_TAG_BEGIN_COLLECTION), nullptr);

  IppPtr unknown = send_request(http.get(), new_job_request(kOpGetJobFacts, uri, job_id + 100));
  EXPECT_EQ(status_of(unknown), IPP_STATUS_ERROR_NOT_FOUND);
}

TEST(GcodeGate, AJobIsCheckedAgainWhenTheLoadedMaterialChangedBeforeItStarts) {
  const TestConfig config(0.3);  // the plate gate holds the second job until confirmed
  ServerProcess server(IPP3D_SERVER_BINARY, config.args());
  ASSERT_GT(server.pid(), 0);
  HttpPtr http = connect_tls(server.port());
  const std::string uri = server.printer_uri(kPrinterName);
  const int first = print_job(http.get(), uri, signed_torus(), kEnvelopeFormat);
  const int second = print_job(http.get(), uri, signed_torus(), kEnvelopeFormat);  // PLA, the loaded material
  bool done = false;
  const JobStatus first_end = wait_for_job(
      http.get(), uri, first, [](const JobStatus& s) { return s.terminal(); }, 30s, done);
  ASSERT_EQ(first_end.state, IPP_JSTATE_COMPLETED) << describe(first_end);
  // The torus prints at 210-215 °C: too cold for PETG (220-250 °C).
  ASSERT_EQ(operator_operation(server, kOpLoadMaterial, Credentials::kAdmin, "petg-generic").status,
            IPP_STATUS_OK);
  ASSERT_EQ(operator_operation(server, kOpConfirmPlateClear, Credentials::kAdmin).status, IPP_STATUS_OK);
  bool ended = false;
  const JobStatus status = wait_for_job(
      http.get(), uri, second, [](const JobStatus& s) { return s.terminal(); }, 10s, ended);
  ASSERT_TRUE(ended) << describe(status);
  EXPECT_EQ(status.state, IPP_JSTATE_CANCELED) << describe(status);
  EXPECT_TRUE(status.has_reason("document-unprintable-error")) << describe(status);
  EXPECT_NE(status.message.find("temperature.material-range"), std::string::npos) << describe(status);
}

TEST(GcodeGate, ThePublishedPolicyMatchesItsAdvertisedDigest) {
  const TestConfig config(0.02);
  ServerProcess server(IPP3D_SERVER_BINARY, config.args());
  ASSERT_GT(server.pid(), 0);
  HttpPtr http = connect_tls(server.port());
  IppPtr request = new_printer_request(IPP_OP_GET_PRINTER_ATTRIBUTES, server.printer_uri(kPrinterName));
  IppPtr response = send_request(http.get(), std::move(request));
  const char* digest =
      ippGetString(ippFindAttribute(response.get(), "ipp3d-gcode-policy-digest", IPP_TAG_TEXT), 0, nullptr);
  const char* resource =
      ippGetString(ippFindAttribute(response.get(), "ipp3d-gcode-policy-resource", IPP_TAG_TEXT), 0, nullptr);
  ASSERT_NE(digest, nullptr);
  ASSERT_NE(resource, nullptr);
  std::string policy;
  ASSERT_EQ(
      run_command({"curl", "-sS", "-k", "https://127.0.0.1:" + std::to_string(server.port()) + resource},
                  policy),
      0)
      << policy;
  EXPECT_EQ(policy.rfind("{\"allowed_commands\"", 0), 0U) << policy.substr(0, 200);
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(policy.data());
  const auto sha = trust::Sha256::of({bytes, policy.size()});
  ASSERT_TRUE(sha.has_value());
  EXPECT_EQ("sha256:" + trust::hex_text(*sha), digest);
}

}  // namespace
}  // namespace ipp3d::testing
