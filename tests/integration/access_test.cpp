// Access rules: a Print-Job over plain HTTP gets 426 Upgrade Required and
// creates no job (tested with a raw HTTP client, since libcups clients
// upgrade and retry); the operator operations need the admin password; users
// cannot Hold-Job/Release-Job their way past the scheduler.
#include "ipp_client.hpp"
#include "server_process.hpp"
#include "signing.hpp"

#include <gtest/gtest.h>

namespace ipp3d::testing {
namespace {

using namespace std::chrono_literals;

TEST(Access, PlainHttpPrintJobGets426AndCreatesNoJob) {
  const TestConfig config(0.02);
  ServerProcess server(IPP3D_SERVER_BINARY, config.args());
  ASSERT_GT(server.pid(), 0);
  const std::string plain_uri = server.printer_uri(kPrinterName, /*tls=*/false);

  IppPtr request = new_printer_request(IPP_OP_PRINT_JOB, plain_uri);
  ippAddString(request.get(), IPP_TAG_OPERATION, IPP_TAG_NAME, "job-name", nullptr, "plain");
  ippAddString(request.get(), IPP_TAG_OPERATION, IPP_TAG_MIMETYPE, "document-format", nullptr,
               kEnvelopeFormat);
  EXPECT_EQ(plain_http_post(server.port(), request.get(), signed_torus()), 426);

  HttpPtr http = connect_tls(server.port());
  ASSERT_TRUE(http) << cupsLastErrorString();
  EXPECT_TRUE(job_ids(http.get(), server.printer_uri(kPrinterName)).empty()) << "the plain-HTTP job exists";
}

// The status libcups reports when the server kept answering 401 and the
// client gave up (no password, or a refused one).
bool refused_unauthenticated(ipp_status_t status) {
  return status == IPP_STATUS_ERROR_NOT_AUTHENTICATED ||
         status == IPP_STATUS_ERROR_CUPS_AUTHENTICATION_CANCELED;
}

// The vendor operations start at 0x4101: 0x4001-0x4029 are CUPS operations
// that PAPPL 1.3.1 partly answers itself (0x4001 = CUPS-Get-Default).
TEST(Access, OperatorOperationsNeedTheAdminPassword) {
  const TestConfig config(0.02);
  ServerProcess server(IPP3D_SERVER_BINARY, config.args());
  ASSERT_GT(server.pid(), 0);
  HttpPtr http = connect_tls(server.port());
  ASSERT_TRUE(http) << cupsLastErrorString();
  const std::string uri = server.printer_uri(kPrinterName);

  struct Operation {
    ipp_op_t op;
    const char* material_key;
  };
  for (const Operation operation : {Operation{kOpLoadMaterial, "petg-generic"},
                                    Operation{kOpUnloadMaterial, ""}, Operation{kOpConfirmPlateClear, ""}}) {
    SCOPED_TRACE("operation 0x" + std::to_string(static_cast<int>(operation.op)));
    const AuthOutcome anonymous =
        operator_operation(server, operation.op, Credentials::kNone, operation.material_key);
    EXPECT_TRUE(refused_unauthenticated(anonymous.status)) << ippErrorString(anonymous.status);
    EXPECT_EQ(anonymous.challenges, std::vector<http_status_t>{HTTP_STATUS_UNAUTHORIZED})
        << "no 401 challenge without credentials";

    const AuthOutcome wrong =
        operator_operation(server, operation.op, Credentials::kWrongPassword, operation.material_key);
    EXPECT_TRUE(refused_unauthenticated(wrong.status)) << ippErrorString(wrong.status);
    EXPECT_EQ(wrong.challenges,
              (std::vector<http_status_t>{HTTP_STATUS_UNAUTHORIZED, HTTP_STATUS_UNAUTHORIZED}))
        << "the wrong password was not answered with 401";
  }
  // Nothing changed: PLA is still loaded.
  EXPECT_EQ(ready_material_keys(http.get(), uri), std::vector<std::string>{"pla-generic"});

  // With the admin password the operations work.
  const AuthOutcome loaded = operator_operation(server, kOpLoadMaterial, Credentials::kAdmin, "petg-generic");
  EXPECT_EQ(loaded.status, IPP_STATUS_OK) << ippErrorString(loaded.status);
  EXPECT_EQ(ready_material_keys(http.get(), uri), std::vector<std::string>{"petg-generic"});
  const AuthOutcome unloaded = operator_operation(server, kOpUnloadMaterial, Credentials::kAdmin);
  EXPECT_EQ(unloaded.status, IPP_STATUS_OK) << ippErrorString(unloaded.status);
  EXPECT_TRUE(ready_material_keys(http.get(), uri).empty());
  const AuthOutcome confirmed = operator_operation(server, kOpConfirmPlateClear, Credentials::kAdmin);
  EXPECT_EQ(confirmed.status, IPP_STATUS_OK) << ippErrorString(confirmed.status);
  const AuthOutcome unknown = operator_operation(server, kOpLoadMaterial, Credentials::kAdmin, "unobtainium");
  EXPECT_EQ(unknown.status, IPP_STATUS_ERROR_ATTRIBUTES_OR_VALUES) << ippErrorString(unknown.status);
}

TEST(Access, UsersCannotHoldOrReleaseJobs) {
  const TestConfig config(0.5);
  ServerProcess server(IPP3D_SERVER_BINARY, config.args());
  ASSERT_GT(server.pid(), 0);
  HttpPtr http = connect_tls(server.port());
  ASSERT_TRUE(http) << cupsLastErrorString();
  const std::string uri = server.printer_uri(kPrinterName);

  const int printing = print_job(http.get(), uri, signed_torus(), kEnvelopeFormat);
  const int queued = print_job(http.get(), uri, signed_torus(), kEnvelopeFormat);
  ASSERT_GT(printing, 0);
  ASSERT_GT(queued, printing);
  bool reached = false;
  const JobStatus first = wait_for_job(
      http.get(), uri, printing, [](const JobStatus& s) { return s.state == IPP_JSTATE_PROCESSING; }, 10s,
      reached);
  ASSERT_TRUE(reached) << describe(first);

  // The owner of the queued job tries to release it past the scheduler, and
  // to hold the printing one; each on a fresh connection.
  for (const auto& [op, job] : {std::pair{IPP_OP_RELEASE_JOB, queued}, std::pair{IPP_OP_HOLD_JOB, queued},
                                std::pair{IPP_OP_HOLD_JOB, printing}}) {
    SCOPED_TRACE(std::string(ippOpString(op)) + " job " + std::to_string(job));
    HttpPtr user_http = connect_tls(server.port());
    ASSERT_TRUE(user_http);
    IppPtr response = send_request(user_http.get(), new_job_request(op, uri, job));
    EXPECT_GT(status_of(response), IPP_STATUS_OK_CONFLICTING) << "a user's " << ippOpString(op) << " worked";
  }
  EXPECT_EQ(get_job(http.get(), uri, queued).state, IPP_JSTATE_HELD);
  EXPECT_EQ(get_job(http.get(), uri, printing).state, IPP_JSTATE_PROCESSING);
  // The connection used for jobs still works after the refusals.
  EXPECT_EQ(job_ids(http.get(), uri), (std::vector<int>{printing, queued}));
  // Stop the print quickly so the server stops fast.
  EXPECT_EQ(status_of(send_request(http.get(), new_job_request(IPP_OP_CANCEL_JOB, uri, printing))),
            IPP_STATUS_OK);
}

}  // namespace
}  // namespace ipp3d::testing
