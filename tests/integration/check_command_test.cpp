// `ipp3d check` as a user runs it: exit codes 0 (accepted), 1 (refused) and
// 2 (usage or I/O error), the human-readable report and the JSON report.
#include "server_process.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace ipp3d::testing {
namespace {

const std::string kConfig = std::string(IPP3D_SOURCE_DIR) + "/docs/examples/ipp3d-server.toml";
const std::string kSamples = std::string(IPP3D_TESTDATA_DIR) + "/gcode/";

// Runs `ipp3d check ARGS...`; returns the exit status, output in `output`.
int check(std::vector<std::string> args, std::string& output) {
  args.insert(args.begin(), {IPP3D_CLIENT_BINARY, "check"});
  return run_command(args, output);
}

// Writes `text` to a temporary file and returns its path.
std::string temp_file(const std::string& name, const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() / ("ipp3d-check-" + name);
  std::ofstream(path, std::ios::binary) << text;
  return path.string();
}

TEST(CheckCommand, AcceptsEverySampleWithItsMaterial) {
  const std::pair<const char*, const char*> samples[] = {{"bunny-prusaslicer-klipper.gcode", "pla-generic"},
                                                         {"box-prusaslicer-marlin.gcode", "petg-generic"},
                                                         {"torus-curaengine-marlin.gcode", "pla-generic"}};
  for (const auto& [file, material] : samples) {
    std::string output;
    EXPECT_EQ(check({kSamples + file, "--config", kConfig, "--material", material}, output), 0) << output;
    EXPECT_NE(output.find(": accepted for printer voron-220"), std::string::npos) << output;
    EXPECT_NE(output.find("policy: sha256:"), std::string::npos);
  }
}

TEST(CheckCommand, RefusesAndListsViolations) {
  std::string output;
  // The loaded material is PLA; the box is sliced for PETG (245 °C).
  EXPECT_EQ(check({kSamples + "box-prusaslicer-marlin.gcode", "--config", kConfig}, output), 1) << output;
  EXPECT_NE(output.find("REFUSED"), std::string::npos);
  EXPECT_NE(output.find("M104  temperature.material-range  value: S 245 °C  limit: 190-230 °C"),
            std::string::npos)
      << output;
  EXPECT_NE(output.find("layers: 166"), std::string::npos);
}

TEST(CheckCommand, JsonReport) {
  const std::string file = temp_file("bad.gcode", "G28\nG1 X10 Y10 F3000\nSAVE_CONFIG\nG1 X500\n");
  std::string output;
  ASSERT_EQ(check({file, "--config", kConfig, "--json"}, output), 1) << output;
  const auto json = nlohmann::json::parse(output);
  EXPECT_FALSE(json["accepted"].get<bool>());
  EXPECT_EQ(json["violation_count"].get<int>(), 2);
  EXPECT_EQ(json["violations"][0]["line"].get<int>(), 3);
  EXPECT_EQ(json["violations"][0]["command"].get<std::string>(), "SAVE_CONFIG");
  EXPECT_EQ(json["violations"][0]["rule"].get<std::string>(), "command.denied");
  EXPECT_EQ(json["violations"][1]["rule"].get<std::string>(), "position.out-of-volume");
  EXPECT_EQ(json["facts"]["lines"].get<int>(), 4);
  EXPECT_EQ(json["printer"].get<std::string>(), "voron-220");
  EXPECT_EQ(json["policy_digest"].get<std::string>().rfind("sha256:", 0), 0U);
  std::filesystem::remove(file);
}

TEST(CheckCommand, UsageAndInputErrorsExitTwo) {
  std::string output;
  EXPECT_EQ(check({}, output), 2);
  EXPECT_EQ(check({kSamples + "box-prusaslicer-marlin.gcode"}, output), 2);  // no --config
  EXPECT_EQ(check({"/nonexistent.gcode", "--config", kConfig}, output), 2);
  EXPECT_NE(output.find("cannot read"), std::string::npos);
  EXPECT_EQ(check({kSamples + "box-prusaslicer-marlin.gcode", "--config", "/nonexistent.toml"}, output), 2);
  EXPECT_EQ(
      check({kSamples + "box-prusaslicer-marlin.gcode", "--config", kConfig, "--printer", "nope"}, output),
      2);
  EXPECT_EQ(
      check({kSamples + "box-prusaslicer-marlin.gcode", "--config", kConfig, "--material", "nope"}, output),
      2);
  EXPECT_NE(output.find("no material \"nope\""), std::string::npos) << output;
}

}  // namespace
}  // namespace ipp3d::testing
