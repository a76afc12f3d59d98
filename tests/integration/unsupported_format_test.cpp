// Documents that are not G-code are refused: Print-Job with
// client-error-document-format-not-supported and no job; Send-Document with
// the same error, its job ended at once with document-format-error.
#include "ipp_client.hpp"
#include "server_process.hpp"

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
  void expect_print_job_refused(const std::string& document, const std::string& format) {
    SCOPED_TRACE("Print-Job declared as " + format);
    IppPtr request = new_printer_request(IPP_OP_PRINT_JOB, uri_);
    ippAddString(request.get(), IPP_TAG_OPERATION, IPP_TAG_MIMETYPE, "document-format", nullptr,
                 format.c_str());
    IppPtr response = send_request_with_document(http_.get(), std::move(request), document);
    ASSERT_TRUE(response) << cupsLastErrorString();
    EXPECT_EQ(ippGetStatusCode(response.get()), IPP_STATUS_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED)
        << ippErrorString(ippGetStatusCode(response.get()));
    EXPECT_NE(response_text(response, "detailed-status-message").find("G-code"), std::string::npos)
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
  const int job_id = print_job(http_.get(), uri_, read_file(torus_path()), "application/octet-stream");
  EXPECT_EQ(job_id, 1);
  bool done = false;
  const JobStatus status = wait_for_job(
      http_.get(), uri_, job_id, [](const JobStatus& s) { return s.terminal(); }, 30s, done);
  EXPECT_EQ(status.state, IPP_JSTATE_COMPLETED) << describe(status);
}

TEST_F(DocumentFormat, SendDocumentOfAPictureEndsTheJobWithDocumentFormatError) {
  expect_send_document_refused(tiny_png(), "application/octet-stream");
  expect_send_document_refused(tiny_png(), "image/png");
  // The connection stays usable and the printer still prints G-code.
  const int job_id = print_job(http_.get(), uri_, read_file(torus_path()), "text/x-gcode");
  ASSERT_GT(job_id, 0);
  bool done = false;
  const JobStatus status = wait_for_job(
      http_.get(), uri_, job_id, [](const JobStatus& s) { return s.terminal(); }, 30s, done);
  EXPECT_EQ(status.state, IPP_JSTATE_COMPLETED) << describe(status);
}

}  // namespace
}  // namespace ipp3d::testing
