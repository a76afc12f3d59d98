// DNS-SD discovery against a real avahi-daemon: the server advertises
// `_ipps-3d._tcp` and libipp3d's discover() and `ipp3d discover` find it with
// the TXT keys it sends, and `ipp3d status NAME` reaches the printer by its
// instance name. Run through scripts/with-avahi (a private network namespace
// with its own D-Bus system bus and avahi-daemon; the server listens on
// 0.0.0.0 there, reached as 192.0.2.1 on the namespace's veth).
#include "ipp3d/client/discovery.hpp"

#include "ipp_client.hpp"
#include "server_process.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>

namespace ipp3d::testing {
namespace {

using namespace std::chrono_literals;

// The advertisement of the test's printer (rp ipp/print/virtual-fdm), waiting
// up to 20 s for avahi to announce it.
std::optional<client::DiscoveredPrinter> wait_for_printer() {
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto found = client::discover(3s);
    EXPECT_TRUE(found) << found.error().message;
    if (!found) return std::nullopt;
    for (const auto& printer : *found) {
      if (printer.txt.count("rp") != 0 && printer.txt.at("rp") == kPrinterResource + 1) return printer;
    }
    std::this_thread::sleep_for(200ms);
  }
  return std::nullopt;
}

class DiscoveryAvahi : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::getenv("IPP3D_AVAHI_NETNS") == nullptr) {
      GTEST_SKIP() << "run through scripts/with-avahi (a private avahi-daemon in a network namespace)";
    }
  }
};

TEST_F(DiscoveryAvahi, FindsTheServersPrinterAndReachesItByName) {
  const int port = free_loopback_port();
  const TestConfig config(0.05);
  std::vector<std::string> args = config.args();
  args.insert(args.end(), {"--listen", "0.0.0.0:" + std::to_string(port)});
  ServerProcess server(IPP3D_SERVER_BINARY, args);
  ASSERT_GT(server.pid(), 0);

  const auto printer = wait_for_printer();
  ASSERT_TRUE(printer) << server.output();
  EXPECT_EQ(printer->port, port);
  EXPECT_EQ(printer->address, "192.0.2.1");
  EXPECT_EQ(printer->interface, "veth0");
  EXPECT_EQ(printer->uri, "ipps://192.0.2.1:" + std::to_string(port) + kPrinterResource);
  EXPECT_EQ(printer->txt.at("pdl"), "text/x-gcode");
  EXPECT_FALSE(printer->txt.at("UUID").empty());
  EXPECT_EQ(printer->txt.at("adminurl").rfind("https://", 0), 0U) << printer->txt.at("adminurl");

  const TempDir home;
  const std::string config_dir = "IPP3D_CONFIG_DIR=" + home.path().string();
  std::string out;
  ASSERT_EQ(run_command({"env", config_dir, IPP3D_CLIENT_BINARY, "discover", "--json"}, out), 0) << out;
  const auto list = nlohmann::json::parse(out.substr(out.find('[')));
  ASSERT_EQ(list.size(), 1U) << out;
  EXPECT_EQ(list[0]["name"], printer->name);
  EXPECT_EQ(list[0]["uri"], printer->uri);
  EXPECT_EQ(list[0]["txt"]["rp"], "ipp/print/virtual-fdm");

  ASSERT_EQ(run_command({"env", config_dir, std::string("IPP3D_USER=") + kTestUser,
                         std::string("IPP3D_PASSWORD=") + kTestUserPassword, IPP3D_CLIENT_BINARY, "status",
                         printer->name},
                        out),
            0)
      << out;
  EXPECT_NE(out.find("found by DNS-SD"), std::string::npos) << out;
  EXPECT_NE(out.find("first contact with 192.0.2.1:" + std::to_string(port)), std::string::npos) << out;
  EXPECT_NE(out.find("virtual-fdm"), std::string::npos) << out;
}

}  // namespace
}  // namespace ipp3d::testing
