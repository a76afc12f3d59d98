// Tests of the DNS-SD advertising: the TXT record (PWG 5100.21 §5), instance
// names, the loopback scope, and an advertiser that neither blocks nor fails
// without avahi-daemon (no daemon is needed: the D-Bus system bus is pointed
// at a socket that does not exist).
#include "dnssd.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <mutex>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <utility>
#include <vector>

namespace ipp3d::server {
namespace {

using ::testing::Each;
using ::testing::ElementsAre;
using ::testing::SizeIs;

constexpr std::string_view kNotRunning = "DNS-SD: avahi-daemon is not running; _ipps-3d._tcp not advertised";

// Points libdbus (read once per process, before any connection) at a missing
// system bus, so that no test ever reaches a real avahi-daemon.
const bool kNoSystemBus = [] {
  return ::setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/ipp3d-dnssd-test-bus", 1) == 0;
}();

// `text` `times` times over.
std::string repeat(std::string_view text, int times) {
  std::string out;
  for (int i = 0; i < times; ++i) out += text;
  return out;
}

// A printer's service as the application would describe it.
DnssdService sample_service() {
  DnssdService service;
  service.instance_name = "workshop-mk4 (Prusa MK4)";
  service.port = 8631;
  service.resource_path = "ipp/print/workshop-mk4";
  service.uuid = "urn:uuid:6a1b3c5e-8f02-4d6b-9c1e-2f3a4b5c6d7e";
  service.admin_url = "https://printhost.local:8631/";
  service.note = "Workshop, bench 2";
  service.make_and_model = "Prusa MK4";
  service.pdl = "text/x-gcode";
  service.listen_host = "0.0.0.0";
  return service;
}

TEST(TxtRecords, FullServiceInSpecOrder) {
  EXPECT_THAT(txt_records(sample_service()),
              ElementsAre("txtvers=1", "qtotal=1", "rp=ipp/print/workshop-mk4", "ty=Prusa MK4",
                          "adminurl=https://printhost.local:8631/", "note=Workshop, bench 2",
                          "pdl=text/x-gcode", "UUID=6a1b3c5e-8f02-4d6b-9c1e-2f3a4b5c6d7e"));
}

TEST(TxtRecords, BareUuidIsKeptAndUrnPrefixIsCaseInsensitive) {
  DnssdService service = sample_service();
  service.uuid = "6a1b3c5e-8f02-4d6b-9c1e-2f3a4b5c6d7e";
  EXPECT_EQ(txt_records(service).back(), "UUID=6a1b3c5e-8f02-4d6b-9c1e-2f3a4b5c6d7e");
  service.uuid = "URN:UUID:6a1b3c5e-8f02-4d6b-9c1e-2f3a4b5c6d7e";
  EXPECT_EQ(txt_records(service).back(), "UUID=6a1b3c5e-8f02-4d6b-9c1e-2f3a4b5c6d7e");
}

TEST(TxtRecords, EmptyOptionalKeysAreOmittedAndRequiredKeysKept) {
  DnssdService service = sample_service();
  service.note.clear();
  service.make_and_model.clear();
  service.pdl.clear();
  service.resource_path = "/ipp/print/a";  // a leading slash is dropped
  EXPECT_THAT(txt_records(service),
              ElementsAre("txtvers=1", "qtotal=1", "rp=ipp/print/a", "adminurl=https://printhost.local:8631/",
                          "UUID=6a1b3c5e-8f02-4d6b-9c1e-2f3a4b5c6d7e"));
}

TEST(TxtRecords, LongFreeTextIsCutOnUtf8BoundaryToFit255Bytes) {
  DnssdService service = sample_service();
  const std::string location = repeat("\xC3\xA9", 200);  // "é", 2 bytes each
  service.note = location;
  service.make_and_model = std::string(300, 'M');
  const auto txt = txt_records(service);
  for (const auto& text : txt) EXPECT_LE(text.size(), 255U) << text.substr(0, 20);
  EXPECT_EQ(txt[3], "ty=" + std::string(252, 'M'));
  // "note=" is 5 bytes: 250 bytes would end inside no character, 125 "é" fit.
  EXPECT_EQ(txt[5].size(), 5U + 250U);
  EXPECT_EQ(txt[5].substr(5), location.substr(0, 250));
  service.note = "x" + location;  // now byte 250 starts a character's second half: cut before it
  EXPECT_EQ(txt_records(service)[5].size(), 5U + 249U);
}

// One instance-name case: printer name, make and model, expected name.
struct NameCase {
  std::string printer_name;
  std::string make_and_model;
  std::string expected;
};

class InstanceName : public ::testing::TestWithParam<NameCase> {};

TEST_P(InstanceName, Follows) {
  const auto& c = GetParam();
  const std::string name = instance_name_for(c.printer_name, c.make_and_model);
  EXPECT_EQ(name, c.expected) << "name '" << c.printer_name << "', model '" << c.make_and_model << "'";
  EXPECT_LE(name.size(), 63U);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, InstanceName,
    ::testing::Values(NameCase{"workshop-mk4", "Prusa MK4", "workshop-mk4 (Prusa MK4)"},
                      NameCase{"", "Prusa MK4", "Prusa MK4"}, NameCase{"workshop-mk4", "", "workshop-mk4"},
                      NameCase{"Prusa MK4", "prusa mk4", "Prusa MK4"}, NameCase{"", "", "3D Printer"},
                      NameCase{"  a\tb\n", " M ", "a b (M)"},
                      // Too long together: the model goes first, then the name is cut.
                      NameCase{std::string(40, 'n'), std::string(30, 'm'), std::string(40, 'n')},
                      NameCase{std::string(70, 'n'), "M", std::string(63, 'n')},
                      // 2 + 31 two-byte characters = 64 bytes: byte 63 is inside a character.
                      NameCase{"xy" + repeat("\xC3\xA9", 31), "", "xy" + repeat("\xC3\xA9", 30)}));

TEST(InstanceName, HasNoUniqueIdOfItsOwn) {
  // Two printers of one model with the same configured name get the same
  // default name (avahi renames the second on collision), never a serial,
  // MAC or UUID suffix.
  EXPECT_EQ(instance_name_for("mk4", "Prusa MK4"), instance_name_for("mk4", "Prusa MK4"));
  EXPECT_EQ(instance_name_for("mk4", "Prusa MK4"), "mk4 (Prusa MK4)");
}

// One listen-host case: host, loopback only, address family.
struct ScopeCase {
  std::string host;
  bool loopback_only;
  int family;
};

class Scope : public ::testing::TestWithParam<ScopeCase> {};

TEST_P(Scope, Follows) {
  const auto& c = GetParam();
  const DnssdScope scope = dnssd_scope_for(c.host);
  EXPECT_EQ(scope.loopback_only, c.loopback_only) << c.host;
  EXPECT_EQ(scope.address_family, c.family) << c.host;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, Scope,
    ::testing::Values(ScopeCase{"127.0.0.1", true, AF_INET}, ScopeCase{"127.8.9.10", true, AF_INET},
                      ScopeCase{"::1", true, AF_INET6}, ScopeCase{"[::1]", true, AF_INET6},
                      ScopeCase{"::ffff:127.0.0.1", true, AF_INET6}, ScopeCase{"localhost", true, AF_UNSPEC},
                      ScopeCase{"LocalHost.", true, AF_UNSPEC}, ScopeCase{"0.0.0.0", false, AF_INET},
                      ScopeCase{"::", false, AF_UNSPEC}, ScopeCase{"192.168.1.5", false, AF_INET},
                      ScopeCase{"fe80::1%eth0", false, AF_INET6},
                      ScopeCase{"printhost.example", false, AF_UNSPEC}, ScopeCase{"", false, AF_UNSPEC}));

// Collects the advertiser's messages (called from avahi's thread).
class LogSink {
 public:
  // The log function to hand to DnssdAdvertiser::start.
  DnssdLogFn fn() {
    return [this](DnssdLogLevel, const std::string& message) {
      const std::lock_guard lock(mutex_);
      messages_.push_back(message);
    };
  }
  // How many messages equal `text` so far.
  int count(std::string_view text) const {
    const std::lock_guard lock(mutex_);
    int n = 0;
    for (const auto& m : messages_) n += m == text ? 1 : 0;
    return n;
  }
  // Waits up to `limit` for a message equal to `text`.
  bool wait_for(std::string_view text, std::chrono::milliseconds limit) const {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (count(text) > 0) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> messages_;
};

TEST(DnssdAdvertiser, NothingToAdvertiseGivesNull) {
  EXPECT_EQ(DnssdAdvertiser::start({}, nullptr), nullptr);
}

TEST(DnssdAdvertiser, WithoutDaemonStartsAtOnceLogsOnceAndStopsCleanly) {
  ASSERT_TRUE(kNoSystemBus);
  LogSink sink;
  DnssdService second = sample_service();
  second.instance_name = "spare (Prusa MK4)";
  second.resource_path = "ipp/print/spare";
  second.listen_host = "127.0.0.1";

  const auto before = std::chrono::steady_clock::now();
  auto advertiser = DnssdAdvertiser::start({sample_service(), second}, sink.fn());
  const auto started_in = std::chrono::steady_clock::now() - before;
  ASSERT_NE(advertiser, nullptr);
  EXPECT_LT(started_in, std::chrono::milliseconds(500));
  EXPECT_EQ(advertiser->service_count(), 2U);
  EXPECT_THAT(advertiser->instance_names(), ElementsAre("workshop-mk4 (Prusa MK4)", "spare (Prusa MK4)"));
  EXPECT_FALSE(advertiser->established());

  EXPECT_TRUE(sink.wait_for(kNotRunning, std::chrono::seconds(5)));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(sink.count(kNotRunning), 1);

  const auto stopping = std::chrono::steady_clock::now();
  advertiser.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - stopping, std::chrono::seconds(2));
}

TEST(DnssdAdvertiser, StartStopCyclesAndBadEntriesDoNotFail) {
  for (int i = 0; i < 5; ++i) {
    DnssdService bad_port = sample_service();
    bad_port.port = 0;
    DnssdService unnamed = sample_service();
    unnamed.instance_name = " \t";
    LogSink sink;
    auto advertiser = DnssdAdvertiser::start({bad_port, unnamed}, sink.fn());
    ASSERT_NE(advertiser, nullptr);
    EXPECT_THAT(advertiser->instance_names(), SizeIs(2));
    EXPECT_EQ(advertiser->instance_names()[1], "Prusa MK4");
    EXPECT_EQ(sink.count("DNS-SD: \"workshop-mk4 (Prusa MK4)\" has no valid port; not advertised"), 1);
    if (i % 2 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));  // let the thread connect
  }
}

TEST(DnssdAdvertiser, EmptyLogFunctionIsAllowed) {
  auto advertiser = DnssdAdvertiser::start({sample_service()}, nullptr);
  ASSERT_NE(advertiser, nullptr);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_THAT(advertiser->instance_names(), Each(std::string("workshop-mk4 (Prusa MK4)")));
}

}  // namespace
}  // namespace ipp3d::server
