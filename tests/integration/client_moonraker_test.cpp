// The `ipp3d` command against the real server on the Moonraker backend (the
// Klipper machine is the Moonraker emulator): a print followed to completion
// with layer progress from the machine, a print canceled with `ipp3d
// cancel` (the machine's print is canceled too), and a print the machine
// fails, which ends `ipp3d print` with exit status 1 and Klipper's reason.
#include "ipp3d/trust/keys.hpp"

#include "emulator_process.hpp"
#include "ipp_client.hpp"
#include "server_process.hpp"
#include "signing.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace ipp3d::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// Bytes per second of the emulated print: the torus (572 KB) takes about
// 10 s at kBrisk and crawls at kCrawl until a test speeds it up.
constexpr double kBrisk = 60000;
constexpr double kCrawl = 3000;

class ClientMoonraker : public ::testing::Test {
 protected:
  explicit ClientMoonraker(double bytes_per_second)
      : emulator_(clean_scenario(json{{"timeline", {{"bytes_per_second", bytes_per_second}}}})),
        config_(emulator_.url(), emulator_.key_file()),
        server_(IPP3D_SERVER_BINARY, config_.args()) {}

  void SetUp() override {
    ASSERT_GT(emulator_.port(), 0);
    ASSERT_GT(server_.pid(), 0);
    std::filesystem::create_directories(config_dir());
    ASSERT_TRUE(trust::write_secret_key_file(config_dir() / "key", test_signer()));
  }

  std::filesystem::path config_dir() const { return dir_.path() / "config"; }
  std::string uri() const { return server_.printer_uri(kPrinterName); }

  // Runs `ipp3d ARGS...` without a terminal as the test account,
  // IPP3D_CONFIG_DIR = config_dir().
  int ipp3d(const std::vector<std::string>& args, std::string& output) const {
    return run_client(IPP3D_CLIENT_BINARY, config_dir(), args, output);
  }

  // Starts `ipp3d print URI torus` in a thread; join() it before reading.
  std::thread print_in_background(int& status, std::string& output) const {
    return std::thread([this, &status, &output] {
      status = ipp3d({"print", uri(), torus_path().string()}, output);
    });
  }

  // Waits (with `ipp3d job --json`) until job 1 has printed a layer.
  bool wait_for_a_layer() const {
    std::string out;
    for (int i = 0; i < 600; ++i) {
      std::this_thread::sleep_for(100ms);
      if (ipp3d({"job", uri(), "1", "--json"}, out) != 0) continue;
      const auto job = json::parse(out.substr(out.find('{')), nullptr, false);
      if (!job.is_discarded() && job.value("layers_done", 0) >= 1) return true;
    }
    return false;
  }

  TempDir dir_;
  Emulator emulator_;
  MoonrakerTestConfig config_;
  ServerProcess server_;
};

class ClientMoonrakerBrisk : public ClientMoonraker {
 protected:
  ClientMoonrakerBrisk() : ClientMoonraker(kBrisk) {}
};

class ClientMoonrakerCrawl : public ClientMoonraker {
 protected:
  ClientMoonrakerCrawl() : ClientMoonraker(kCrawl) {}
};

TEST_F(ClientMoonrakerBrisk, PrintFollowsTheMachinesLayersToCompletion) {
  std::string out;
  ASSERT_EQ(ipp3d({"print", uri(), torus_path().string()}, out), 0) << out << server_.output();
  EXPECT_NE(out.find("job 1 submitted"), std::string::npos) << out;
  // Several distinct layers were seen while the machine printed, then the end.
  std::set<std::string> layers;
  const std::regex progress("processing: layer ([0-9]+)/" + std::to_string(kTorusLayers));
  for (std::sregex_iterator it(out.begin(), out.end(), progress), end; it != end; ++it)
    layers.insert((*it)[1]);
  EXPECT_GE(layers.size(), 3U) << out;
  EXPECT_NE(out.find("job 1 completed"), std::string::npos) << out;
  ASSERT_EQ(ipp3d({"job", uri(), "1", "--json"}, out), 0) << out;
  const auto job = json::parse(out.substr(out.find('{')));
  EXPECT_EQ(job["state"], "completed");
  EXPECT_EQ(job["layers_done"], kTorusLayers);
  EXPECT_EQ(records(emulator_.state(), "printer_calls", "action", "print_start").size(), 1U);
}

TEST_F(ClientMoonrakerCrawl, CancelWithTheCommandCancelsTheMachinesPrint) {
  int print_status = -1;
  std::string print_out;
  std::thread print = print_in_background(print_status, print_out);
  const bool printing = wait_for_a_layer();
  std::string out;
  const int cancel_status = ipp3d({"cancel", uri(), "1"}, out);
  print.join();
  ASSERT_TRUE(printing) << print_out << server_.output();
  EXPECT_EQ(cancel_status, 0) << out;
  EXPECT_NE(out.find("job 1 canceled"), std::string::npos) << out;
  EXPECT_EQ(print_status, 1) << print_out;
  EXPECT_NE(print_out.find("ipp3d print: job 1 canceled"), std::string::npos) << print_out;
  const json state = emulator_.state();
  EXPECT_EQ(records(state, "printer_calls", "action", "print_cancel").size(), 1U)
      << state["printer_calls"].dump();
}

TEST_F(ClientMoonrakerCrawl, AJobTheMachineFailsEndsAbortedWithKlippersReason) {
  int print_status = -1;
  std::string print_out;
  std::thread print = print_in_background(print_status, print_out);
  const bool printing = wait_for_a_layer();
  if (printing) {
    emulator_.control(
        json{{"action", "print_error"}, {"message", "Move out of range: 500.000 20.000 1.000 [10.500]"}});
  }
  print.join();
  ASSERT_TRUE(printing) << print_out << server_.output();
  EXPECT_EQ(print_status, 1) << print_out;  // docs/man/ipp3d.1: 1 refused, canceled or aborted
  EXPECT_NE(
      print_out.find("ipp3d print: job 1 aborted: The print failed: Move out of range: 500.000 20.000 1.000"),
      std::string::npos)
      << print_out;
  std::string out;
  ASSERT_EQ(ipp3d({"job", uri(), "1", "--json"}, out), 0) << out;
  EXPECT_NE(out.find("\"state\": \"aborted\""), std::string::npos) << out;
}

}  // namespace
}  // namespace ipp3d::testing
