// libipp3d's C++ API against the real server: capabilities through the
// attributes/ codec (the 3D attributes and the printer's key really come
// back), submit + watch with layer progress, a refused ticket as an Error
// naming the attribute, job() of an unknown job, trust decisions.
#include "ipp3d/client/known_printers.hpp"
#include "ipp3d/client/printer.hpp"

#include "ipp_client.hpp"
#include "server_process.hpp"
#include "signing.hpp"

#include <gtest/gtest.h>

#include <set>

namespace ipp3d::testing {
namespace {

class ClientLibrary : public ::testing::Test {
 protected:
  explicit ClientLibrary(double seconds_per_layer = 0.05)
      : config_(seconds_per_layer, /*auto_start_next=*/true), server_(IPP3D_SERVER_BINARY, config_.args()) {}

  client::OpenOptions options() const {
    client::OpenOptions o;
    o.known_printers = dir_.path() / "known_printers";
    o.user_name = kTestUser;
    // Printing needs an account: the test user's, when the server asks.
    o.credentials = [] {
      return std::optional<client::Credentials>(client::Credentials{kTestUser, kTestUserPassword});
    };
    return o;
  }
  std::string uri() const { return server_.printer_uri(kPrinterName); }

  TempDir dir_;
  TestConfig config_;
  ServerProcess server_;
};

TEST_F(ClientLibrary, TrustOnFirstContactThenPinned) {
  std::string told;
  auto o = options();
  o.on_first_contact = [&](const std::string& host_port, const std::string& fingerprint) {
    told = host_port + " " + fingerprint;
  };
  auto first = client::Printer::open(uri(), o);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->trust_decision(), client::TrustDecision::kFirstContact);
  EXPECT_EQ(told, "127.0.0.1:" + std::to_string(server_.port()) + " " + first->fingerprint());
  auto second = client::Printer::open(uri(), options());
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(second->trust_decision(), client::TrustDecision::kPinned);
  EXPECT_EQ(second->fingerprint(), first->fingerprint());
}

TEST_F(ClientLibrary, AMismatchIsAPkiErrorShowingBothFingerprints) {
  auto pins = client::KnownPrinters::load(dir_.path() / "known_printers");
  ASSERT_TRUE(pins);
  std::string fake;
  for (int i = 0; i < 32; ++i) fake += (i > 0 ? ":" : "") + std::string("AA");
  ASSERT_TRUE(pins->pin("127.0.0.1:" + std::to_string(server_.port()), fake));
  auto printer = client::Printer::open(uri(), options());
  ASSERT_FALSE(printer);
  EXPECT_EQ(printer.error().status, IPP_STATUS_ERROR_CUPS_PKI);
  EXPECT_NE(printer.error().message.find(fake), std::string::npos) << printer.error().message;
}

TEST_F(ClientLibrary, CapabilitiesReturnTheThreeDimensionalModelAndTheKey) {
  auto printer = client::Printer::open(uri(), options());
  ASSERT_TRUE(printer) << printer.error().message;
  auto caps = printer->capabilities();
  ASSERT_TRUE(caps) << caps.error().message;
  EXPECT_GT(caps->model.printer_volume_supported.x_dimension, 0);
  EXPECT_EQ(caps->model.materials_col_database.size(), 2U);
  ASSERT_EQ(caps->model.materials_col_ready.size(), 1U);
  EXPECT_EQ(caps->model.materials_col_ready[0].material_key, "pla-generic");
  EXPECT_FALSE(caps->model.platform_temperature_supported.empty());
  ASSERT_TRUE(caps->encryption_key);
  EXPECT_EQ(trust::key_id_hex(caps->encryption_key->id), caps->key_id);
  EXPECT_TRUE(caps->signature_required);
  EXPECT_TRUE(caps->policy_digest.starts_with("sha256:"));
}

TEST_F(ClientLibrary, SubmitAndWatchToCompletionWithLayerProgress) {
  auto printer = client::Printer::open(uri(), options());
  ASSERT_TRUE(printer) << printer.error().message;
  client::SubmitOptions submit;
  submit.signer = &test_signer();
  auto job = printer->submit(torus_path(), {}, submit);
  ASSERT_TRUE(job) << job.error().message;
  int most_layers = -1;
  int calls = 0;
  auto final = printer->watch(
      job->job_id,
      [&](const client::JobInfo& info, bool /*changed*/) {
        ++calls;
        most_layers = std::max(most_layers, info.impressions_completed);
        return true;
      },
      std::chrono::milliseconds(100));
  ASSERT_TRUE(final) << final.error().message;
  EXPECT_EQ(final->state, IPP_JSTATE_COMPLETED) << final->message;
  EXPECT_EQ(final->impressions, kTorusLayers);
  EXPECT_EQ(most_layers, kTorusLayers);
  EXPECT_GT(calls, 2);
}

// Watches a new torus job with `options`; the layers seen, the final status
// and how many notifications came.
struct Watched {
  std::set<int> layers;
  client::JobInfo final;
  int notifications = 0;
  int waits = 0;
};

Watched submit_and_watch(client::Printer& printer, client::WatchOptions options) {
  client::SubmitOptions submit;
  submit.signer = &test_signer();
  auto job = printer.submit(torus_path(), {}, submit);
  EXPECT_TRUE(job) << job.error().message;
  Watched watched;
  if (!job) return watched;
  options.on_notifications = [&](int events) {
    ++watched.waits;
    watched.notifications += events;
  };
  auto final = printer.watch(
      job->job_id,
      [&](const client::JobInfo& info, bool /*changed*/) {
        if (info.impressions_completed > 0) watched.layers.insert(info.impressions_completed);
        return true;
      },
      options);
  EXPECT_TRUE(final) << final.error().message;
  if (final) watched.final = *final;
  return watched;
}

// A printer of 0.2 s per layer: the torus prints in about 6 s.
class ClientLibraryWatch : public ClientLibrary {
 protected:
  ClientLibraryWatch() : ClientLibrary(0.2) {}
};

TEST_F(ClientLibraryWatch, WatchLearnsOfProgressFromNotifications) {
  auto printer = client::Printer::open(uri(), options());
  ASSERT_TRUE(printer) << printer.error().message;
  client::WatchOptions options;
  options.interval = std::chrono::seconds(2);  // polls alone would show at most 3 or 4 layers
  const Watched watched = submit_and_watch(*printer, options);
  EXPECT_EQ(watched.final.state, IPP_JSTATE_COMPLETED) << watched.final.message;
  EXPECT_EQ(watched.final.impressions_completed, kTorusLayers);
  EXPECT_GT(watched.notifications, 0);
  EXPECT_GE(watched.layers.size(), 10U) << "the job-progress events did not wake the watch";
  // Polling only: no subscription, the same end.
  options.notifications = false;
  options.interval = std::chrono::milliseconds(100);
  const Watched polled = submit_and_watch(*printer, options);
  EXPECT_EQ(polled.final.state, IPP_JSTATE_COMPLETED) << polled.final.message;
  EXPECT_EQ(polled.waits, 0);
  EXPECT_FALSE(polled.layers.empty());
}

TEST_F(ClientLibrary, ARefusedTicketIsAnErrorNamingTheAttribute) {
  auto printer = client::Printer::open(uri(), options());
  ASSERT_TRUE(printer) << printer.error().message;
  attributes::JobTicket ticket;
  ticket.platform_temperature = 999;
  client::SubmitOptions submit;
  submit.signer = &test_signer();
  auto job = printer->submit(torus_path(), ticket, submit);
  ASSERT_FALSE(job);
  EXPECT_EQ(job.error().status, IPP_STATUS_ERROR_ATTRIBUTES_OR_VALUES);
  EXPECT_EQ(job.error().attribute, "platform-temperature");
  EXPECT_NE(job.error().message.find("999"), std::string::npos) << job.error().message;
  // A request of one's own through new_request()/send(): a vendor operation (ipp3d-Get-Job-Facts).
  IppPtr facts = printer->new_request(static_cast<ipp_op_t>(0x4104));
  ippAddInteger(facts.get(), IPP_TAG_OPERATION, IPP_TAG_INTEGER, "job-id", 4242);
  auto no_facts = printer->send(std::move(facts));
  ASSERT_FALSE(no_facts);
  EXPECT_EQ(no_facts.error().status, IPP_STATUS_ERROR_NOT_FOUND) << no_facts.error().message;
  auto unknown = printer->job(4242);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().status, IPP_STATUS_ERROR_NOT_FOUND) << unknown.error().message;
  // The connection is still usable after the refusals.
  auto jobs = printer->jobs(true);
  ASSERT_TRUE(jobs) << jobs.error().message;
  EXPECT_TRUE(jobs->empty());
}

TEST_F(ClientLibrary, LocalProblemsAreRefusedBeforeAnyJobExists) {
  auto printer = client::Printer::open(uri(), options());
  ASSERT_TRUE(printer) << printer.error().message;
  client::SubmitOptions unsigned_job;
  EXPECT_FALSE(printer->submit(torus_path(), {}, unsigned_job));
  client::SubmitOptions submit;
  submit.signer = &test_signer();
  EXPECT_FALSE(printer->submit(dir_.path() / "missing.gcode", {}, submit));
  EXPECT_FALSE(printer->submit(dir_.path(), {}, submit));  // not a regular file
  auto jobs = printer->jobs(true);
  ASSERT_TRUE(jobs);
  EXPECT_TRUE(jobs->empty());
}

}  // namespace
}  // namespace ipp3d::testing
