// Restart safety through the real server: a graceful stop and a kill -9 in
// the middle of a print, then a new server on the same state directory.
#include "ipp_client.hpp"
#include "server_process.hpp"
#include "signing.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace ipp3d::testing {
namespace {

using namespace std::chrono_literals;

// Waits until `job_id` satisfies `done` (or 30 s pass) and returns its status.
JobStatus wait_until(const ServerProcess& server, int job_id,
                     const std::function<bool(const JobStatus&)>& done) {
  HttpPtr http = connect_tls(server.port());
  bool reached = false;
  return wait_for_job(http.get(), server.printer_uri(kPrinterName), job_id, done, 30s, reached);
}

TEST(Restart, CompletedAndQueuedJobsSurviveAGracefulStopAndIdsAreNotReused) {
  const TestConfig config(0.02, /*auto_start_next=*/true);
  ServerProcess first(IPP3D_SERVER_BINARY, config.args());
  ASSERT_GT(first.pid(), 0);
  HttpPtr http = connect_tls(first.port());
  const std::string uri = first.printer_uri(kPrinterName);
  const int printed = print_job(http.get(), uri, signed_torus(), "application/octet-stream");
  ASSERT_GT(printed, 0);
  EXPECT_EQ(wait_until(first, printed, [](const JobStatus& s) { return s.terminal(); }).state,
            IPP_JSTATE_COMPLETED);
  // A job for a material that is not loaded stays queued.
  IppPtr request = new_printer_request(IPP_OP_PRINT_JOB, uri);
  add_material_key(request.get(), "petg-generic");
  IppPtr response = send_request_with_document(
      http.get(), std::move(request), sign_document(read_file(sample_path("box-prusaslicer-marlin.gcode"))));
  const int waiting = ippGetInteger(ippFindAttribute(response.get(), "job-id", IPP_TAG_INTEGER), 0);
  ASSERT_GT(waiting, printed);
  http.reset();
  ASSERT_EQ(first.stop(), 0) << first.output();

  ServerProcess second(IPP3D_SERVER_BINARY, config.args(), first.state_dir());
  ASSERT_GT(second.pid(), 0);
  const JobStatus done = wait_until(second, printed, [](const JobStatus& s) { return s.found; });
  EXPECT_EQ(done.state, IPP_JSTATE_COMPLETED);
  EXPECT_EQ(done.message, "Printed.");  // restored from the job ledger
  EXPECT_TRUE(done.has_reason("job-completed-successfully")) << describe(done);
  HttpPtr again = connect_tls(second.port());
  const auto completed = job_ids(again.get(), second.printer_uri(kPrinterName), "completed");
  EXPECT_NE(std::find(completed.begin(), completed.end(), printed), completed.end());
  // Checked again after the restart, its envelope is not a replay of itself.
  const JobStatus queued = wait_until(second, waiting, [](const JobStatus& s) {
    return s.message.find("Waiting for material") != std::string::npos;
  });
  EXPECT_EQ(queued.state, IPP_JSTATE_HELD) << describe(queued);
  const int next =
      print_job(again.get(), second.printer_uri(kPrinterName), signed_torus(), "application/octet-stream");
  EXPECT_GT(next, waiting) << "a job ID was reused";
}

TEST(Restart, AKillInTheMiddleOfAPrintEndsThatJobInterruptedAndClosesThePlateGate) {
  const TestConfig config(0.5);
  ServerProcess first(IPP3D_SERVER_BINARY, config.args());
  ASSERT_GT(first.pid(), 0);
  HttpPtr http = connect_tls(first.port());
  const int job =
      print_job(http.get(), first.printer_uri(kPrinterName), signed_torus(), "application/octet-stream");
  ASSERT_GT(job, 0);
  const JobStatus printing =
      wait_until(first, job, [](const JobStatus& s) { return s.impressions_completed > 0; });
  ASSERT_EQ(printing.state, IPP_JSTATE_PROCESSING) << describe(printing);
  http.reset();
  first.kill_hard();

  ServerProcess second(IPP3D_SERVER_BINARY, config.args(), first.state_dir());
  ASSERT_GT(second.pid(), 0);
  const JobStatus ended = wait_until(second, job, [](const JobStatus& s) { return s.found; });
  EXPECT_EQ(ended.state, IPP_JSTATE_ABORTED) << describe(ended);
  EXPECT_NE(ended.message.find("Interrupted"), std::string::npos) << describe(ended);
  EXPECT_TRUE(ended.has_reason("aborted-by-system")) << describe(ended);

  // The interrupted print left something on the plate: the next job waits.
  HttpPtr again = connect_tls(second.port());
  const int next =
      print_job(again.get(), second.printer_uri(kPrinterName), signed_torus(), "application/octet-stream");
  EXPECT_GT(next, job) << "a job ID was reused";
  const JobStatus waits = wait_until(
      second, next, [](const JobStatus& s) { return s.message.find("build plate") != std::string::npos; });
  EXPECT_EQ(waits.state, IPP_JSTATE_HELD) << describe(waits);
}

}  // namespace
}  // namespace ipp3d::testing
