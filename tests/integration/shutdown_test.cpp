// SIGTERM stops the server within 5 s even with jobs queued (PAPPL alone
// waits up to 60 s for active jobs, held ones included).
#include "ipp_client.hpp"
#include "server_process.hpp"
#include "signing.hpp"

#include <gtest/gtest.h>

namespace ipp3d::testing {
namespace {

using namespace std::chrono_literals;

TEST(Shutdown, SigtermExitsWithinFiveSecondsWithJobsQueued) {
  const TestConfig config(0.5);
  ServerProcess server(IPP3D_SERVER_BINARY, config.args());
  ASSERT_GT(server.pid(), 0);
  HttpPtr http = connect_tls(server.port());
  ASSERT_TRUE(http) << cupsLastErrorString();
  const std::string uri = server.printer_uri(kPrinterName);

  const int printing = print_job(http.get(), uri, signed_torus(), kEnvelopeFormat);
  const int queued = print_job(http.get(), uri, signed_torus(), kEnvelopeFormat);
  IppPtr create = new_printer_request(IPP_OP_CREATE_JOB, uri);
  IppPtr waiting_for_document = send_request(http.get(), std::move(create));
  ASSERT_EQ(status_of(waiting_for_document), IPP_STATUS_OK) << cupsLastErrorString();
  ASSERT_GT(queued, printing);
  bool reached = false;
  const JobStatus status = wait_for_job(
      http.get(), uri, printing, [](const JobStatus& s) { return s.state == IPP_JSTATE_PROCESSING; }, 10s,
      reached);
  ASSERT_TRUE(reached) << describe(status);
  http.reset();

  const auto start = std::chrono::steady_clock::now();
  const int exit_status = server.stop();
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(exit_status, 0) << "-1: still running 10 s after SIGTERM\n" << server.output();
  EXPECT_LT(took, 5s) << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";
}

}  // namespace
}  // namespace ipp3d::testing
