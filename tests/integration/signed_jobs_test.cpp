// Signed and encrypted jobs through the real server (docs/security.md): each
// refusal reason ends its job at once — canceled, document-permission-error,
// the reason in job-state-message — without the job ever reaching the print
// callback (the only path to the backend), also while another job prints;
// a job re-checked after a restart is not a replay; licences count copies.
#include "ipp_client.hpp"
#include "server_process.hpp"
#include "signing.hpp"

#include <gtest/gtest.h>

#include <ctime>

namespace ipp3d::testing {
namespace {

using namespace std::chrono_literals;

std::int64_t now() { return static_cast<std::int64_t>(std::time(nullptr)); }

class SignedJobs : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_GT(server_.pid(), 0);
    http_ = connect_tls(server_.port());
    ASSERT_TRUE(http_) << cupsLastErrorString();
  }

  // Waits for the job to end and returns its status.
  JobStatus wait_end(int job_id, std::chrono::milliseconds timeout = 30s) {
    bool ended = false;
    JobStatus status = wait_for_job(
        http_.get(), uri_, job_id, [](const JobStatus& s) { return s.terminal(); }, timeout, ended);
    EXPECT_TRUE(ended) << describe(status);
    return status;
  }

  // Submits `document` and expects the job refused for `reason`.
  void expect_refused(const std::string& document, const std::string& reason,
                      const std::function<void(ipp_t*)>& add = {}) {
    SCOPED_TRACE(reason);
    const int job_id = print_job(http_.get(), uri_, document, kEnvelopeFormat, add);
    ASSERT_GT(job_id, 0) << cupsLastErrorString();
    const JobStatus status = wait_end(job_id, 10s);
    EXPECT_EQ(status.state, IPP_JSTATE_CANCELED) << describe(status);
    EXPECT_TRUE(status.has_reason("document-permission-error")) << describe(status);
    EXPECT_NE(status.message.find("Refused (" + reason + ")"), std::string::npos) << describe(status);
    EXPECT_LT(status.time_at_processing, 0)
        << "the refused job reached the print callback: " << describe(status);
  }

  std::string torus() const { return read_file(torus_path()); }

  const TestConfig config_{0.02, /*auto_start_next=*/true};
  ServerProcess server_{IPP3D_SERVER_BINARY, config_.args()};
  const std::string uri_ = server_.printer_uri(kPrinterName);
  HttpPtr http_;
};

TEST_F(SignedJobs, EveryRefusalReasonEndsTheJobAtOnceWithoutPrinting) {
  const auto printer_key = printer_public_key(http_.get(), uri_);
  ASSERT_TRUE(printer_key.has_value());
  const auto stranger = trust::SecretKey::generate(trust::KeyAlgorithm::kEd25519);
  const auto other_printer = trust::SecretKey::generate(trust::KeyAlgorithm::kX25519);
  const std::string gcode = torus();

  expect_refused(sign_document(gcode, {}, &stranger), "unknown-signer");
  {
    std::string bytes = sign_document(gcode);
    const std::size_t manifest =
        (static_cast<unsigned char>(bytes[12]) << 8) | static_cast<unsigned char>(bytes[13]);
    bytes[14 + manifest] = static_cast<char>(bytes[14 + manifest] ^ 0x01);
    expect_refused(bytes, "bad-signature");
  }
  {
    std::string bytes = sign_document(gcode);
    bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x04);
    expect_refused(bytes, "digest-mismatch");
  }
  const std::string good = sign_document(gcode);
  expect_refused(good.substr(0, good.size() - 100), "truncated");
  expect_refused(good + "; appended\n", "trailing-data");
  {
    std::string bytes = sign_document(gcode, [&](trust::SignOptions& o) { o.encrypt_to = *printer_key; });
    bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x10);
    expect_refused(bytes, "tampered");
  }
  {
    std::string bytes = sign_document(gcode, [&](trust::SignOptions& o) { o.encrypt_to = *printer_key; });
    bytes[12 + 40] = static_cast<char>(bytes[12 + 40] ^ 0x01);  // inside the sealed content key
    expect_refused(bytes, "cannot-decrypt");
  }
  expect_refused(sign_document(gcode,
                               [](trust::SignOptions& o) {
                                 o.created = now() - 7200;
                                 o.not_after = now() - 60;
                               }),
                 "expired");
  expect_refused(sign_document(gcode,
                               [](trust::SignOptions& o) {
                                 o.created = now() + 3600;
                                 o.not_after = now() + 7200;
                               }),
                 "not-yet-valid");
  expect_refused(sign_document(gcode, [](trust::SignOptions& o) { o.not_after = o.created + 90 * 86400; }),
                 "lifetime-too-long");
  expect_refused(sign_document(gcode, [&](trust::SignOptions& o) { o.recipients = {other_printer.id()}; }),
                 "wrong-recipient");
  expect_refused(
      sign_document(gcode, [&](trust::SignOptions& o) { o.encrypt_to = other_printer.public_key(); }),
      "wrong-recipient");
  expect_refused(sign_document(gcode, [](trust::SignOptions& o) { o.content_type = "model/3mf"; }),
                 "unsupported-content");
  {
    std::string bytes = sign_document(gcode);
    bytes[9] = 7;  // an unknown mode
    expect_refused(bytes, "malformed");
  }
  expect_refused(sign_document(gcode,
                               [](trust::SignOptions& o) {
                                 o.licence = trust::Licence{"one", 1};
                               }),
                 "licence-used-up",
                 [](ipp_t* request) { ippAddInteger(request, IPP_TAG_JOB, IPP_TAG_INTEGER, "copies", 2); });
  // After all that, a good job still prints.
  const int job_id = print_job(http_.get(), uri_, good, kEnvelopeFormat);
  EXPECT_EQ(wait_end(job_id).state, IPP_JSTATE_COMPLETED);
}

TEST_F(SignedJobs, AnEnvelopePrintsOnceAndItsReplayIsRefused) {
  const std::string envelope = signed_torus();
  const int first = print_job(http_.get(), uri_, envelope, kEnvelopeFormat);
  EXPECT_EQ(wait_end(first).state, IPP_JSTATE_COMPLETED);
  expect_refused(envelope, "replayed");
}

TEST_F(SignedJobs, SendDocumentOfABadEnvelopeEndsTheJob) {
  IppPtr create = new_printer_request(IPP_OP_CREATE_JOB, uri_);
  IppPtr created = send_request(http_.get(), std::move(create));
  ASSERT_EQ(status_of(created), IPP_STATUS_OK);
  const int job_id = ippGetInteger(ippFindAttribute(created.get(), "job-id", IPP_TAG_INTEGER), 0);
  const auto stranger = trust::SecretKey::generate(trust::KeyAlgorithm::kEd25519);
  IppPtr send = new_job_request(IPP_OP_SEND_DOCUMENT, uri_, job_id);
  ippAddString(send.get(), IPP_TAG_OPERATION, IPP_TAG_MIMETYPE, "document-format", nullptr, kEnvelopeFormat);
  ippAddBoolean(send.get(), IPP_TAG_OPERATION, "last-document", 1);
  IppPtr sent =
      send_request_with_document(http_.get(), std::move(send), sign_document(torus(), {}, &stranger));
  ASSERT_EQ(status_of(sent), IPP_STATUS_OK);
  const JobStatus status = wait_end(job_id, 10s);
  EXPECT_EQ(status.state, IPP_JSTATE_CANCELED) << describe(status);
  EXPECT_TRUE(status.has_reason("document-permission-error")) << describe(status);
  EXPECT_NE(status.message.find("Refused (unknown-signer)"), std::string::npos) << describe(status);
}

TEST_F(SignedJobs, ALicenceCountsCopiesAcrossJobs) {
  const std::string envelope = sign_document(torus(), [](trust::SignOptions& o) {
    o.licence = trust::Licence{"three", 3};
  });
  const int two = print_job(http_.get(), uri_, envelope, kEnvelopeFormat,
                            [](ipp_t* r) { ippAddInteger(r, IPP_TAG_JOB, IPP_TAG_INTEGER, "copies", 2); });
  EXPECT_EQ(wait_end(two, 60s).state, IPP_JSTATE_COMPLETED);
  const int one = print_job(http_.get(), uri_, envelope, kEnvelopeFormat);
  EXPECT_EQ(wait_end(one).state, IPP_JSTATE_COMPLETED);
  expect_refused(envelope, "licence-used-up");
}

TEST_F(SignedJobs, ARemovedSignerIsNoLongerAccepted) {
  const auto colleague = trust::SecretKey::generate(trust::KeyAlgorithm::kEd25519);
  const TempDir dir;
  const auto key_file = dir.path() / "colleague.pub";
  ASSERT_TRUE(trust::write_public_key_file(key_file, colleague.public_key()).ok());
  std::string out;
  const std::string state = server_.state_dir().string();
  ASSERT_EQ(run_command({IPP3D_SERVER_BINARY, "trust", "add", key_file.string(), "--name", "colleague",
                         "--state-dir", state},
                        out),
            0)
      << out;
  ASSERT_EQ(run_command({IPP3D_SERVER_BINARY, "trust", "list", "--state-dir", state}, out), 0);
  EXPECT_NE(out.find("colleague"), std::string::npos) << out;
  const int accepted = print_job(http_.get(), uri_, sign_document(torus(), {}, &colleague), kEnvelopeFormat);
  EXPECT_EQ(wait_end(accepted).state, IPP_JSTATE_COMPLETED);
  ASSERT_EQ(run_command({IPP3D_SERVER_BINARY, "trust", "remove", "colleague", "--state-dir", state}, out), 0)
      << out;
  expect_refused(sign_document(torus(), {}, &colleague), "unknown-signer");
}

TEST(SignedJobsQueue, ABadJobIsRefusedWhileAnotherPrints) {
  const TestConfig config(0.5, /*auto_start_next=*/true);  // 28 layers: 14 s
  ServerProcess server(IPP3D_SERVER_BINARY, config.args());
  ASSERT_GT(server.pid(), 0);
  HttpPtr http = connect_tls(server.port());
  const std::string uri = server.printer_uri(kPrinterName);
  const int printing = print_job(http.get(), uri, signed_torus(), kEnvelopeFormat);
  bool started = false;
  wait_for_job(
      http.get(), uri, printing, [](const JobStatus& s) { return s.state == IPP_JSTATE_PROCESSING; }, 10s,
      started);
  ASSERT_TRUE(started);
  const auto stranger = trust::SecretKey::generate(trust::KeyAlgorithm::kEd25519);
  const int bad =
      print_job(http.get(), uri, sign_document(read_file(torus_path()), {}, &stranger), kEnvelopeFormat);
  bool ended = false;
  const JobStatus status = wait_for_job(
      http.get(), uri, bad, [](const JobStatus& s) { return s.terminal(); }, 5s, ended);
  ASSERT_TRUE(ended) << "the bad job waited behind the print: " << describe(status);
  EXPECT_EQ(status.state, IPP_JSTATE_CANCELED);
  EXPECT_EQ(get_job(http.get(), uri, printing).state, IPP_JSTATE_PROCESSING) << "the first job still prints";
}

}  // namespace
}  // namespace ipp3d::testing
