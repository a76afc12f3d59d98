// Validate-Job, Print-Job and Create-Job with invalid 3D job tickets get a
// real IPP refusal (client-error-attributes-or-values-not-supported, the
// reason in detailed-status-message, the offending attribute in the
// unsupported-attributes group), the connection stays usable, and no job is
// created: the job list and the next job-id are unchanged.
#include "ipp_client.hpp"
#include "server_process.hpp"
#include "signing.hpp"

#include <gtest/gtest.h>

namespace ipp3d::testing {
namespace {

// One invalid ticket.
struct InvalidTicket {
  const char* label;
  std::function<void(ipp_t*)> add;  // adds the invalid attribute(s)
  const char* unsupported;          // expected in the unsupported-attributes group
  std::vector<std::string> reason;  // substrings of detailed-status-message
};

std::vector<InvalidTicket> invalid_tickets() {
  return {
      {"platform-temperature 999 (bed limit 110)",
       [](ipp_t* r) { ippAddInteger(r, IPP_TAG_JOB, IPP_TAG_INTEGER, "platform-temperature", 999); },
       "platform-temperature",
       {"platform-temperature", "999", "outside"}},
      // 300 is beyond the hotend (0-280). A value inside the printer's limits
      // but outside PLA's 190-230 is clamped instead (PWG 5100.21 §12).
      {"material-temperature 300 (hotend limit 280)",
       [](ipp_t* r) {
         IppPtr material = make_ipp();
         ippAddString(material.get(), IPP_TAG_ZERO, IPP_TAG_KEYWORD, "material-key", nullptr, "pla-generic");
         ippAddInteger(material.get(), IPP_TAG_ZERO, IPP_TAG_INTEGER, "material-temperature", 300);
         ippAddCollection(r, IPP_TAG_JOB, "materials-col", material.get());
       },
       "materials-col",
       {"material-temperature", "300"}},
      {"unknown material-key",
       [](ipp_t* r) { add_material_key(r, "unobtainium"); },
       "materials-col",
       {"material-key", "unobtainium", "not in this printer's materials database"}},
      {"print-base lattice",
       [](ipp_t* r) { ippAddString(r, IPP_TAG_JOB, IPP_TAG_KEYWORD, "print-base", nullptr, "lattice"); },
       "print-base",
       {"print-base", "lattice", "not supported"}},
      {"platform-temperature as a keyword",
       [](ipp_t* r) {
         ippAddString(r, IPP_TAG_JOB, IPP_TAG_KEYWORD, "platform-temperature", nullptr, "hot");
       },
       "platform-temperature",
       {"platform-temperature"}},
  };
}

// A Create-Job with a valid ticket; its job-id (0 on failure).
int create_valid_job(http_t* http, const std::string& uri) {
  IppPtr request = new_printer_request(IPP_OP_CREATE_JOB, uri);
  ippAddString(request.get(), IPP_TAG_OPERATION, IPP_TAG_NAME, "job-name", nullptr, "valid");
  add_material_key(request.get(), "pla-generic");
  IppPtr response = send_request(http, std::move(request));
  EXPECT_EQ(status_of(response), IPP_STATUS_OK)
      << cupsLastErrorString() << " " << response_text(response, "detailed-status-message");
  ipp_attribute_t* id = ippFindAttribute(response.get(), "job-id", IPP_TAG_INTEGER);
  return id != nullptr ? ippGetInteger(id, 0) : 0;
}

// Sends `op` with the invalid ticket on `http`.
IppPtr send_invalid(http_t* http, const std::string& uri, ipp_op_t op, const InvalidTicket& ticket) {
  IppPtr request = new_printer_request(op, uri);
  ippAddString(request.get(), IPP_TAG_OPERATION, IPP_TAG_NAME, "job-name", nullptr, "invalid");
  ippAddString(request.get(), IPP_TAG_OPERATION, IPP_TAG_MIMETYPE, "document-format", nullptr,
               kEnvelopeFormat);
  ticket.add(request.get());
  if (op == IPP_OP_PRINT_JOB) return send_request_with_document(http, std::move(request), signed_torus());
  return send_request(http, std::move(request));
}

class JobValidation : public ::testing::TestWithParam<ipp_op_t> {};

TEST_P(JobValidation, InvalidTicketsAreRefusedWithoutCreatingJobs) {
  const ipp_op_t op = GetParam();
  const TestConfig config(0.02);
  ServerProcess server(IPP3D_SERVER_BINARY, config.args());
  ASSERT_GT(server.pid(), 0);
  HttpPtr http = connect_tls(server.port());
  ASSERT_TRUE(http) << cupsLastErrorString();
  const std::string uri = server.printer_uri(kPrinterName);

  const int first_id = create_valid_job(http.get(), uri);
  ASSERT_GT(first_id, 0);
  const std::vector<int> jobs_before = job_ids(http.get(), uri);
  ASSERT_EQ(jobs_before, std::vector<int>{first_id});

  for (const auto& ticket : invalid_tickets()) {
    SCOPED_TRACE(std::string(ippOpString(op)) + ": " + ticket.label);
    IppPtr response = send_invalid(http.get(), uri, op, ticket);
    ASSERT_TRUE(response) << "no IPP response: " << cupsLastErrorString();
    EXPECT_EQ(ippGetStatusCode(response.get()), IPP_STATUS_ERROR_ATTRIBUTES_OR_VALUES)
        << ippErrorString(ippGetStatusCode(response.get()));
    const std::string detail = response_text(response, "detailed-status-message");
    for (const auto& part : ticket.reason) {
      EXPECT_NE(detail.find(part), std::string::npos) << "\"" << part << "\" not in \"" << detail << "\"";
    }
    const auto unsupported = unsupported_attribute_names(response);
    EXPECT_NE(std::find(unsupported.begin(), unsupported.end(), ticket.unsupported), unsupported.end())
        << ticket.unsupported << " is not in the unsupported-attributes group";
    EXPECT_EQ(ippFindAttribute(response.get(), "job-id", IPP_TAG_ZERO), nullptr) << "a job-id was returned";

    // The next request on the same connection works.
    IppPtr next = new_printer_request(IPP_OP_VALIDATE_JOB, uri);
    add_material_key(next.get(), "pla-generic");
    ippAddInteger(next.get(), IPP_TAG_JOB, IPP_TAG_INTEGER, "platform-temperature", 60);
    IppPtr next_response = send_request(http.get(), std::move(next));
    EXPECT_EQ(status_of(next_response), IPP_STATUS_OK)
        << "next request on the same connection: " << cupsLastErrorString();
  }

  EXPECT_EQ(job_ids(http.get(), uri), jobs_before) << "the job list changed";
  const int next_id = create_valid_job(http.get(), uri);
  EXPECT_EQ(next_id, first_id + 1) << "a job-id was used up by a refused request";
  // The jobs wait for documents that never come: cancel them.
  for (const int id : {first_id, next_id}) {
    EXPECT_EQ(status_of(send_request(http.get(), new_job_request(IPP_OP_CANCEL_JOB, uri, id))),
              IPP_STATUS_OK);
  }
}

INSTANTIATE_TEST_SUITE_P(PerOperation, JobValidation,
                         ::testing::Values(IPP_OP_VALIDATE_JOB, IPP_OP_PRINT_JOB, IPP_OP_CREATE_JOB),
                         [](const ::testing::TestParamInfo<ipp_op_t>& param) {
                           std::string name = ippOpString(param.param);
                           std::erase(name, '-');
                           return name;
                         });

}  // namespace
}  // namespace ipp3d::testing
