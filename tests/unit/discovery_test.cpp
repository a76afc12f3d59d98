// libipp3d's DNS-SD discovery: TXT parsing, the printer URI assembled from a
// resolved instance, finding an instance by name, and the clear error when
// avahi-daemon cannot be reached (the D-Bus system bus is pointed at a socket
// that does not exist, so no test reaches a real daemon).
#include "ipp3d/client/discovery.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>

namespace ipp3d::client {
namespace {

// Read by libdbus once per process, before any connection.
const bool kNoSystemBus = [] {
  return ::setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/ipp3d-discovery-test-bus", 1) == 0;
}();

// The TXT record ipp3d-server advertises (server/dnssd.cpp txt_records).
std::map<std::string, std::string> server_txt() {
  return parse_txt({"txtvers=1", "qtotal=1", "rp=ipp/print/virtual-fdm", "ty=Virtual FDM",
                    "adminurl=https://printhost:8631/virtual-fdm/", "pdl=text/x-gcode",
                    "UUID=6a1b3c5e-8f02-4d6b-9c1e-2f3a4b5c6d7e"});
}

TEST(DiscoveryTxt, ParsesKeysValuesAndEdgeCases) {
  const auto txt = server_txt();
  EXPECT_EQ(txt.at("rp"), "ipp/print/virtual-fdm");
  EXPECT_EQ(txt.at("adminurl"), "https://printhost:8631/virtual-fdm/");
  EXPECT_EQ(txt.at("UUID"), "6a1b3c5e-8f02-4d6b-9c1e-2f3a4b5c6d7e");
  const auto odd = parse_txt({"flag", "note=a=b", "note=second", "=nokey", "empty="});
  EXPECT_EQ(odd.at("flag"), "");     // a key alone: empty value
  EXPECT_EQ(odd.at("note"), "a=b");  // the first '=' splits; the first value wins
  EXPECT_EQ(odd.count(""), 0U);      // no key: ignored
  EXPECT_EQ(odd.at("empty"), "");
}

TEST(DiscoveryUri, FromAddressPortAndRp) {
  const auto txt = server_txt();
  EXPECT_EQ(*printer_uri_for("p", "192.168.1.20", 8631, "eth0", txt),
            "ipps://192.168.1.20:8631/ipp/print/virtual-fdm");
  EXPECT_EQ(*printer_uri_for("p", "2001:db8::5", 631, "eth0", txt),
            "ipps://[2001:db8::5]:631/ipp/print/virtual-fdm");
  EXPECT_EQ(*printer_uri_for("p", "fe80::1", 8631, "eth0", txt),
            "ipps://[fe80::1%25eth0]:8631/ipp/print/virtual-fdm");
  EXPECT_EQ(*printer_uri_for("p", "127.0.0.1", 8631, "lo", parse_txt({"rp=/ipp/print/x"})),
            "ipps://127.0.0.1:8631/ipp/print/x");  // a leading '/' is not doubled
}

TEST(DiscoveryUri, RefusesWhatCannotBeReached) {
  const auto txt = server_txt();
  auto no_rp = printer_uri_for("shelf", "10.0.0.2", 8631, "eth0", parse_txt({"txtvers=1"}));
  ASSERT_FALSE(no_rp);
  EXPECT_NE(no_rp.error().message.find("\"shelf\""), std::string::npos) << no_rp.error().message;
  EXPECT_FALSE(printer_uri_for("p", "", 8631, "eth0", txt));
  EXPECT_FALSE(printer_uri_for("p", "10.0.0.2", 0, "eth0", txt));
  EXPECT_FALSE(printer_uri_for("p", "10.0.0.2", 70000, "eth0", txt));
}

TEST(DiscoveryFind, ExactThenIgnoringCase) {
  std::vector<DiscoveredPrinter> found(3);
  found[0].name = "Bench (Prusa MK4)";
  found[0].uri = "ipps://10.0.0.2:8631/ipp/print/bench";
  found[1].name = "shelf";
  found[2].name = "SHELF";
  EXPECT_EQ(find_discovered(found, "Bench (Prusa MK4)")->uri, found[0].uri);
  EXPECT_EQ(find_discovered(found, "bench (prusa mk4)")->uri, found[0].uri);
  EXPECT_EQ(find_discovered(found, "shelf")->name, "shelf");  // exact wins
  auto ambiguous = find_discovered(found, "Shelf");
  ASSERT_FALSE(ambiguous);
  EXPECT_NE(ambiguous.error().message.find("more than one"), std::string::npos);
  auto missing = find_discovered(found, "attic");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().status, IPP_STATUS_ERROR_NOT_FOUND);
  EXPECT_NE(missing.error().message.find("found: \"Bench (Prusa MK4)\", \"shelf\", \"SHELF\""),
            std::string::npos)
      << missing.error().message;
}

TEST(Discovery, WithoutAvahiDaemonSaysSoPromptly) {
  ASSERT_TRUE(kNoSystemBus);
  const auto started = std::chrono::steady_clock::now();
  auto found = discover(std::chrono::seconds(5));
  ASSERT_FALSE(found);
  EXPECT_EQ(found.error().status, IPP_STATUS_ERROR_SERVICE_UNAVAILABLE);
  EXPECT_EQ(found.error().message, "avahi-daemon is not running: give the printer's URI");
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
}

}  // namespace
}  // namespace ipp3d::client
