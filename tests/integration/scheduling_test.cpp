// The scheduler: jobs run one at a time in arrival order, each behind the
// plate-clear gate; a job for a material that is not loaded waits without
// blocking the jobs behind it and prints once the material is loaded (which
// persists across restarts); copies = 2 prints twice with the gate between.
#include "ipp_client.hpp"
#include "server_process.hpp"
#include "signing.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace ipp3d::testing {
namespace {

using namespace std::chrono_literals;

bool mentions_plate(const JobStatus& s) { return s.message.find("build plate") != std::string::npos; }

class Scheduling : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_GT(server_->pid(), 0);
    http_ = connect_tls(server_->port());
    ASSERT_TRUE(http_) << cupsLastErrorString();
  }

  // Cancels what is left so that a failed test does not wait for the server
  // to shut down with jobs queued.
  void TearDown() override {
    if (http_) cancel_unfinished(http_.get(), uri());
  }

  static void cancel_unfinished(http_t* http, const std::string& printer_uri) {
    for (const int id : job_ids(http, printer_uri, "not-completed")) {
      (void)send_request(http, new_job_request(IPP_OP_CANCEL_JOB, printer_uri, id));
    }
  }

  int submit_torus(const std::function<void(ipp_t*)>& add = {}) {
    return print_job(http_.get(), uri(), signed_torus(), kEnvelopeFormat, add);
  }

  std::string uri() const { return server_->printer_uri(kPrinterName); }

  // Waits until `done` holds for the job (failing the test otherwise).
  JobStatus wait(int job_id, const std::function<bool(const JobStatus&)>& done,
                 std::chrono::milliseconds timeout = 30s,
                 const std::function<void(const JobStatus&)>& observe = {}) {
    bool reached = false;
    JobStatus status = wait_for_job(http_.get(), uri(), job_id, done, timeout, reached, observe);
    EXPECT_TRUE(reached) << "job " << job_id << ": " << describe(status);
    return status;
  }

  JobStatus wait_completed(int job_id, const std::function<void(const JobStatus&)>& observe = {}) {
    JobStatus status = wait(
        job_id, [](const JobStatus& s) { return s.terminal(); }, 30s, observe);
    EXPECT_EQ(status.state, IPP_JSTATE_COMPLETED) << "job " << job_id << ": " << describe(status);
    return status;
  }

  // Checks that the job stays held, waiting for the plate, for a while.
  void expect_waits_for_plate(int job_id) {
    const JobStatus held = wait(
        job_id, [](const JobStatus& s) { return s.state == IPP_JSTATE_HELD && mentions_plate(s); }, 5s);
    const auto until = std::chrono::steady_clock::now() + 1500ms;
    while (std::chrono::steady_clock::now() < until) {
      const JobStatus now = get_job(http_.get(), uri(), job_id);
      ASSERT_EQ(now.state, IPP_JSTATE_HELD)
          << "job " << job_id << " started without plate confirmation: " << describe(now);
      std::this_thread::sleep_for(100ms);
    }
  }

  void confirm_plate() {
    const AuthOutcome confirmed = operator_operation(*server_, kOpConfirmPlateClear, Credentials::kAdmin);
    ASSERT_EQ(confirmed.status, IPP_STATUS_OK) << ippErrorString(confirmed.status);
  }

  // Fails when `other` has left the held state.
  std::function<void(const JobStatus&)> keep_held(int other) {
    return [this, other](const JobStatus&) {
      const JobStatus s = get_job(http_.get(), uri(), other);
      EXPECT_EQ(s.state, IPP_JSTATE_HELD) << "job " << other << " jumped the queue: " << describe(s);
    };
  }

  const TestConfig config_{0.05};
  std::unique_ptr<ServerProcess> server_ =
      std::make_unique<ServerProcess>(IPP3D_SERVER_BINARY, config_.args());
  HttpPtr http_;
};

TEST_F(Scheduling, ThreeJobsRunInArrivalOrderBehindThePlateGate) {
  const int j1 = submit_torus();
  const int j2 = submit_torus();
  const int j3 = submit_torus();
  ASSERT_GT(j1, 0);
  ASSERT_EQ(j2, j1 + 1);
  ASSERT_EQ(j3, j2 + 1);

  const JobStatus s1 = wait_completed(j1, [&](const JobStatus&) {
    keep_held(j2)({});
    keep_held(j3)({});
  });
  expect_waits_for_plate(j2);
  EXPECT_EQ(get_job(http_.get(), uri(), j3).state, IPP_JSTATE_HELD);

  confirm_plate();
  const JobStatus s2 = wait_completed(j2, keep_held(j3));
  expect_waits_for_plate(j3);

  confirm_plate();
  const JobStatus s3 = wait_completed(j3);
  EXPECT_LE(s1.time_at_completed, s2.time_at_processing);
  EXPECT_LE(s2.time_at_completed, s3.time_at_processing);
}

TEST_F(Scheduling, AJobForAnUnloadedMaterialWaitsLetsOthersPassAndPrintsAfterLoading) {
  // The box sample is sliced for a PETG-like material (240-245 °C, bed 80 °C).
  const int a =
      print_job(http_.get(), uri(), sign_document(read_file(sample_path("box-prusaslicer-marlin.gcode"))),
                kEnvelopeFormat, [](ipp_t* r) { add_material_key(r, "petg-generic"); });
  const int b = submit_torus();
  ASSERT_GT(a, 0);
  ASSERT_EQ(b, a + 1);

  // A waits for PETG and says so; B (PLA, loaded) passes it.
  const JobStatus waiting = wait(a, [](const JobStatus& s) {
    return s.state == IPP_JSTATE_HELD && s.message.find("Waiting for material") != std::string::npos;
  });
  EXPECT_NE(waiting.message.find("PETG"), std::string::npos) << waiting.message;
  wait_completed(b, keep_held(a));

  const AuthOutcome loaded =
      operator_operation(*server_, kOpLoadMaterial, Credentials::kAdmin, "petg-generic");
  ASSERT_EQ(loaded.status, IPP_STATUS_OK) << ippErrorString(loaded.status);
  ASSERT_EQ(ready_material_keys(http_.get(), uri()), std::vector<std::string>{"petg-generic"});
  // PETG is loaded, but B's part is still on the plate.
  expect_waits_for_plate(a);
  confirm_plate();
  wait_completed(a);
  EXPECT_EQ(ready_material_keys(http_.get(), uri()), std::vector<std::string>{"petg-generic"});

  // Restart on the same state directory: the loaded material, the plate flag
  // and the finished jobs are still there.
  http_.reset();
  ASSERT_EQ(server_->stop(), 0) << server_->output();
  ServerProcess restarted(IPP3D_SERVER_BINARY, config_.args(), server_->state_dir());
  ASSERT_GT(restarted.pid(), 0);
  HttpPtr http = connect_tls(restarted.port());
  ASSERT_TRUE(http) << cupsLastErrorString();
  const std::string restarted_uri = restarted.printer_uri(kPrinterName);
  EXPECT_EQ(ready_material_keys(http.get(), restarted_uri), std::vector<std::string>{"petg-generic"})
      << restarted.output();
  const std::vector<int> completed = job_ids(http.get(), restarted_uri, "completed");
  EXPECT_EQ(completed, (std::vector<int>{a, b})) << "completed jobs are not listed after the restart";

  const int c = print_job(http.get(), restarted_uri,
                          sign_document(read_file(sample_path("box-prusaslicer-marlin.gcode"))),
                          kEnvelopeFormat, [](ipp_t* r) { add_material_key(r, "petg-generic"); });
  EXPECT_GT(c, b) << "job-id reused after the restart";
  bool reached = false;
  const JobStatus after_restart = wait_for_job(
      http.get(), restarted_uri, c,
      [](const JobStatus& s) { return s.state == IPP_JSTATE_HELD && mentions_plate(s); }, 5s, reached);
  EXPECT_TRUE(reached) << "the plate flag did not survive the restart: " << describe(after_restart);
  cancel_unfinished(http.get(), restarted_uri);
}

TEST_F(Scheduling, TwoCopiesPrintOneAfterTheOtherWithThePlateGateBetween) {
  const int job = submit_torus([](ipp_t* r) { ippAddInteger(r, IPP_TAG_JOB, IPP_TAG_INTEGER, "copies", 2); });
  ASSERT_GT(job, 0);

  // Copy 1 prints, then the job waits (still processing) for the plate.
  const JobStatus between = wait(job, [](const JobStatus& s) {
    return s.state == IPP_JSTATE_PROCESSING && s.impressions_completed == kTorusLayers && mentions_plate(s);
  });
  EXPECT_EQ(between.impressions, 2 * kTorusLayers) << describe(between);
  const auto until = std::chrono::steady_clock::now() + 1500ms;
  while (std::chrono::steady_clock::now() < until) {
    const JobStatus now = get_job(http_.get(), uri(), job);
    ASSERT_EQ(now.state, IPP_JSTATE_PROCESSING) << describe(now);
    ASSERT_EQ(now.impressions_completed, kTorusLayers) << "copy 2 started without plate confirmation";
    std::this_thread::sleep_for(100ms);
  }

  confirm_plate();
  bool saw_copy_2 = false;
  const JobStatus done = wait_completed(job, [&](const JobStatus& s) {
    saw_copy_2 = saw_copy_2 || s.message.find("Copy 2 of 2") != std::string::npos;
  });
  EXPECT_TRUE(saw_copy_2) << "no \"Copy 2 of 2\" progress message seen";
  EXPECT_EQ(done.impressions, 2 * kTorusLayers);
  EXPECT_EQ(done.impressions_completed, 2 * kTorusLayers);
}

}  // namespace
}  // namespace ipp3d::testing
