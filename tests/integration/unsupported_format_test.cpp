// Documents the printer does not print are refused: pictures, text, and
// plain G-code where signatures are required (the default). Print-Job with
// client-error-document-format-not-supported and no job; Send-Document with
// the same error, its job ended at once with document-format-error.
#include "ipp_client.hpp"
#include "server_process.hpp"
#include "signing.hpp"

#include <gtest/gtest.h>

namespace ipp3d::testing {
namespace {

using namespace std::chrono_literals;

class DocumentFormat : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_GT(server_.pid(), 0);
    http_ = connect_tls(server_.port());
    ASSERT_TRUE(http_) << cupsLastErrorString();
  }

  // Print-Job of `document` declared as `format`; checks the refusal.
  void expect_print_job_refused(const std::string& document, const std::string& format,
                                const std::string& reason = "G-code") {
    SCOPED_TRACE("Print-Job declared as " + format);
    IppPtr request = new_printer_request(IPP_OP_PRINT_JOB, uri_);
    ippAddString(request.get(), IPP_TAG_OPERATION, IPP_TAG_MIMETYPE, "document-format", nullptr,
                 format.c_str());
    IppPtr response = send_request_with_document(http_.get(), std::move(request), document);
    ASSERT_TRUE(response) << cupsLastErrorString();
    EXPECT_EQ(ippGetStatusCode(response.get()), IPP_STATUS_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED)
        << ippErrorString(ippGetStatusCode(response.get()));
    EXPECT_NE(response_text(response, "detailed-status-message").find(reason), std::string::npos)
        << response_text(response, "detailed-status-message");
    const auto unsupported = unsupported_attribute_names(response);
    EXPECT_NE(std::find(unsupported.begin(), unsupported.end(), "document-format"), unsupported.end());
    EXPECT_EQ(ippFindAttribute(response.get(), "job-id", IPP_TAG_ZERO), nullptr);
  }

  // Create-Job, then Send-Document of `document` declared as `format`:
  // the refusal, and the job's end.
  void expect_send_document_refused(const std::string& document, const std::string& format) {
    SCOPED_TRACE("Send-Document declared as " + format);
    IppPtr create = new_printer_request(IPP_OP_CREATE_JOB, uri_);
    ippAddString(create.get(), IPP_TAG_OPERATION, IPP_TAG_NAME, "job-name", nullptr, "picture");
    IppPtr created = send_request(http_.get(), std::move(create));
    ASSERT_EQ(status_of(created), IPP_STATUS_OK) << cupsLastErrorString();
    const int job_id = ippGetInteger(ippFindAttribute(created.get(), "job-id", IPP_TAG_INTEGER), 0);
    ASSERT_GT(job_id, 0);

    IppPtr send = new_job_request(IPP_OP_SEND_DOCUMENT, uri_, job_id);
    ippAddString(send.get(), IPP_TAG_OPERATION, IPP_TAG_MIMETYPE, "document-format", nullptr, format.c_str());
    ippAddBoolean(send.get(), IPP_TAG_OPERATION, "last-document", 1);
    IppPtr response = send_request_with_document(http_.get(), std::move(send), document);
    ASSERT_TRUE(response) << cupsLastErrorString();
    EXPECT_EQ(ippGetStatusCode(response.get()), IPP_STATUS_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED)
        << ippErrorString(ippGetStatusCode(response.get()));

    bool ended = false;
    const JobStatus status = wait_for_job(
        http_.get(), uri_, job_id, [](const JobStatus& s) { return s.terminal(); }, 5s, ended);
    ASSERT_TRUE(ended) << describe(status);
    EXPECT_TRUE(status.state == IPP_JSTATE_CANCELED || status.state == IPP_JSTATE_ABORTED)
        << describe(status);
    EXPECT_TRUE(status.has_reason("document-format-error")) << describe(status);
  }

  const TestConfig config_{0.02};
  ServerProcess server_{IPP3D_SERVER_BINARY, config_.args()};
  const std::string uri_ = server_.printer_uri(kPrinterName);
  HttpPtr http_;
};

TEST_F(DocumentFormat, PrintJobOfAPictureOrPlainTextIsRefusedWithoutAJob) {
  const std::vector<int> before = job_ids(http_.get(), uri_);
  ASSERT_TRUE(before.empty());
  expect_print_job_refused(tiny_png(), "application/octet-stream");
  expect_print_job_refused(tiny_png(), "image/png");
  expect_print_job_refused(read_file(torus_path()), "text/plain");
  EXPECT_EQ(job_ids(http_.get(), uri_), before) << "a refused Print-Job created a job";

  // The job-ids were not used up: the next job is job 1, and prints.
  const int job_id = print_job(http_.get(), uri_, signed_torus(), "application/octet-stream");
  EXPECT_EQ(job_id, 1);
  bool done = false;
  const JobStatus status = wait_for_job(
      http_.get(), uri_, job_id, [](const JobStatus& s) { return s.terminal(); }, 30s, done);
  EXPECT_EQ(status.state, IPP_JSTATE_COMPLETED) << describe(status);
}

TEST_F(DocumentFormat, SendDocumentOfAPictureEndsTheJobWithDocumentFormatError) {
  expect_send_document_refused(tiny_png(), "application/octet-stream");
  expect_send_document_refused(tiny_png(), "image/png");
  expect_send_document_refused(read_file(torus_path()), "application/octet-stream");
  // The connection stays usable and the printer still prints signed G-code.
  const int job_id = print_job(http_.get(), uri_, signed_torus(), kEnvelopeFormat);
  ASSERT_GT(job_id, 0);
  bool done = false;
  const JobStatus status = wait_for_job(
      http_.get(), uri_, job_id, [](const JobStatus& s) { return s.terminal(); }, 30s, done);
  EXPECT_EQ(status.state, IPP_JSTATE_COMPLETED) << describe(status);
}

TEST_F(DocumentFormat, PlainGcodeIsRefusedWhereSignaturesAreRequired) {
  const std::string plain = read_file(torus_path());
  expect_print_job_refused(plain, "text/x-gcode", "signed jobs only");
  expect_print_job_refused(plain, "application/octet-stream", "signed jobs only");
  // An envelope declared as G-code is refused too (it would not be verified).
  expect_print_job_refused(signed_torus(), "text/x-gcode", "signed jobs only");
  EXPECT_TRUE(job_ids(http_.get(), uri_).empty());
}

TEST_F(DocumentFormat, TheEnvelopeIsAnAdvertisedFormat) {
  IppPtr request = new_printer_request(IPP_OP_GET_PRINTER_ATTRIBUTES, uri_);
  IppPtr response = send_request(http_.get(), std::move(request));
  ipp_attribute_t* formats = ippFindAttribute(response.get(), "document-format-supported", IPP_TAG_MIMETYPE);
  ASSERT_NE(formats, nullptr);
  EXPECT_TRUE(ippContainsString(formats, kEnvelopeFormat));
  ipp_attribute_t* required = ippFindAttribute(response.get(), "ipp3d-signature-required", IPP_TAG_BOOLEAN);
  ASSERT_NE(required, nullptr);
  EXPECT_TRUE(ippGetBoolean(required, 0));
  const char* key_id =
      ippGetString(ippFindAttribute(response.get(), "ipp3d-printer-key-id", IPP_TAG_KEYWORD), 0, nullptr);
  ASSERT_NE(key_id, nullptr);
  const auto key = printer_public_key(http_.get(), uri_);
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(trust::key_id_hex(key->id), key_id);
  // The same key as the file in the state directory (`ipp3d-server printer-key`).
  std::string output;
  ASSERT_EQ(run_command({IPP3D_SERVER_BINARY, "printer-key", "--printer", kPrinterName, "--state-dir",
                         server_.state_dir().string()},
                        output),
            0)
      << output;
  EXPECT_NE(output.find(key_id), std::string::npos) << output;
}

}  // namespace
}  // namespace ipp3d::testing
