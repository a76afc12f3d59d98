// Tests of the VirtualBackend: layer counting on real slicer output and
// synthetic files, uploads (byte-identical copy, checksum, path safety) and
// the simulated print's state machine (complete, cancel, pause/resume,
// Moonraker's traps refused, remove while printing, emergency stop).
#include "backend/virtual_backend.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace ipp3d::server {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr auto kDeadline = std::chrono::seconds(5);  // generous: sanitizer builds are slow

// A sample file from the shared test data.
fs::path sample(const std::string& name) { return fs::path(IPP3D_TESTDATA_DIR) / "gcode" / name; }

// The whole content of `path` (test files are small enough).
std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Writes `content` to `path`.
void write_all(const fs::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
}

// Counts lines starting with `marker` by plain string search.
long count_marker_lines(const std::string& text, const std::string& marker) {
  long count = text.starts_with(marker) ? 1 : 0;
  const std::string needle = "\n" + marker;
  for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++count;
  return count;
}

// A fresh temporary directory per test, removed afterwards.
class VirtualBackendTest : public ::testing::Test {
 protected:
  // Creates the directory and a small G-code file.
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "ipp3d-vbackend-XXXXXX").string();
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    dir_ = templ;
    storage_ = dir_ / "storage";
    small_ = dir_ / "small.gcode";
    write_all(small_, "G90\nM82\nG92 E0\nG1 Z0.2\nG1 X10 Y10 E1\n");
  }

  // Removes the directory.
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // Options with the given speed (heat-up 0.05 s).
  VirtualBackendOptions options(double seconds_per_layer) const {
    VirtualBackendOptions result;
    result.storage_dir = storage_;
    result.seconds_per_layer = seconds_per_layer;
    result.heat_seconds = 0.05;
    return result;
  }

  // Uploads the small file as `name` claiming `layers` layers.
  static void upload_small(VirtualBackend& backend, const fs::path& file, const std::string& name,
                           int layers) {
    const Status uploaded = backend.upload(UploadRequest{file, name, "", layers});
    ASSERT_TRUE(uploaded.ok()) << uploaded.error().message;
  }

  fs::path dir_, storage_, small_;
};

// Polls until `done(status)` or `timeout`; the last status seen.
PrintStatus wait_until(VirtualBackend& backend, const std::function<bool(const PrintStatus&)>& done,
                       std::chrono::milliseconds timeout = kDeadline) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  PrintStatus last;
  while (std::chrono::steady_clock::now() < deadline) {
    Result<PrintStatus> status = backend.status();
    EXPECT_TRUE(status.ok());
    if (!status.ok()) break;
    last = *status;
    if (done(last)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return last;
}

// Polls until the state is `state`.
PrintStatus wait_for_state(VirtualBackend& backend, PrintState state) {
  return wait_until(backend, [state](const PrintStatus& s) { return s.state == state; });
}

TEST(PrintStateName, KlipperSpelling) {
  EXPECT_STREQ(print_state_name(PrintState::kStandby), "standby");
  EXPECT_STREQ(print_state_name(PrintState::kPrinting), "printing");
  EXPECT_STREQ(print_state_name(PrintState::kPaused), "paused");
  EXPECT_STREQ(print_state_name(PrintState::kComplete), "complete");
  EXPECT_STREQ(print_state_name(PrintState::kCancelled), "cancelled");
  EXPECT_STREQ(print_state_name(PrintState::kError), "error");
}

TEST(CountGcodeLayers, PrusaSlicerMarkers) {
  for (const auto& [name, expected] : {std::pair<std::string, int>{"box-prusaslicer-marlin.gcode", 166},
                                       std::pair<std::string, int>{"bunny-prusaslicer-klipper.gcode", 536}}) {
    const long independent = count_marker_lines(read_all(sample(name)), ";LAYER_CHANGE");
    EXPECT_EQ(independent, expected) << name;
    const Result<int> counted = count_gcode_layers(sample(name));
    ASSERT_TRUE(counted.ok()) << counted.error().message;
    EXPECT_EQ(*counted, independent) << name;
  }
}

TEST(CountGcodeLayers, CuraLayerMarkersMatchLayerCountHeader) {
  const std::string text = read_all(sample("torus-curaengine-marlin.gcode"));
  const std::size_t header = text.find(";LAYER_COUNT:");
  ASSERT_NE(header, std::string::npos);
  const int declared = std::stoi(text.substr(header + 13, 10));
  EXPECT_EQ(declared, 28);
  const Result<int> counted = count_gcode_layers(sample("torus-curaengine-marlin.gcode"));
  ASSERT_TRUE(counted.ok()) << counted.error().message;
  EXPECT_EQ(*counted, declared);
}

TEST_F(VirtualBackendTest, CuraRepeatedLayerMarkersCountOnce) {
  write_all(small_, ";LAYER_COUNT:3\n;LAYER:0\nG1 X1 E1\n;LAYER:1\n;LAYER:1\n;LAYER:2\n");
  const Result<int> counted = count_gcode_layers(small_);
  ASSERT_TRUE(counted.ok());
  EXPECT_EQ(*counted, 3);
}

TEST_F(VirtualBackendTest, ZFallbackCountsExtrudingHeights) {
  write_all(small_,
            "G90\nM82\nG92 E0\n"
            "G1 Z5 F3000 ; lift, no extrusion\n"
            "G1 Z0.2\nG1 X10 Y10 E1.0\nG1 X20 Y10 E2.0\n"              // layer 1
            "G1 E1.2 ; retract\nG1 Z0.6\nG0 X50 Y50\nG1 Z0.2\n"        // z-hop travel
            "G1 E2.0\nG1 X60 Y50 E3.0\n"                               // still layer 1
            "G1 Z0.4\nG1 X10 Y10\nG1 X20 Y20 E4.0\n"                   // layer 2
            "M83\nG1 Z0.6\nG1 X30 Y30 E0.5\nG1 X40 Y30 E-0.5\n"        // layer 3 (relative E)
            "G92 E0\nG1 Z0.8\nG1 X10 Y10 E-1 ; travel with retract\n"  // no new layer
            "G91\nG1 Z10\nG90\n");
  const Result<int> counted = count_gcode_layers(small_);
  ASSERT_TRUE(counted.ok()) << counted.error().message;
  EXPECT_EQ(*counted, 3);
}

TEST_F(VirtualBackendTest, ZFallbackMatchesMarkersOnRealFile) {
  // The PrusaSlicer box without its ";LAYER_CHANGE" lines: Z heights alone.
  std::istringstream in(read_all(sample("box-prusaslicer-marlin.gcode")));
  std::ofstream out(small_, std::ios::binary | std::ios::trunc);
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with(";LAYER")) out << line << '\n';
  }
  out.close();
  const Result<int> counted = count_gcode_layers(small_);
  ASSERT_TRUE(counted.ok()) << counted.error().message;
  EXPECT_EQ(*counted, 166);
}

TEST_F(VirtualBackendTest, NothingRecognisableIsZero) {
  write_all(small_, "; just a comment\nM117 hello\nG28\n");
  const Result<int> counted = count_gcode_layers(small_);
  ASSERT_TRUE(counted.ok());
  EXPECT_EQ(*counted, 0);
  write_all(small_, "");
  const Result<int> empty = count_gcode_layers(small_);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, 0);
}

TEST_F(VirtualBackendTest, UnreadableFileNamesThePath) {
  const fs::path missing = dir_ / "missing.gcode";
  const Result<int> counted = count_gcode_layers(missing);
  ASSERT_FALSE(counted.ok());
  EXPECT_THAT(counted.error().message, HasSubstr(missing.string()));
  const Result<int> directory = count_gcode_layers(dir_);
  ASSERT_FALSE(directory.ok());
  EXPECT_THAT(directory.error().message, HasSubstr(dir_.string()));
}

TEST_F(VirtualBackendTest, ReadyAndIdleAtStart) {
  VirtualBackend backend(options(0.01));
  const Result<PrintStatus> status = backend.status();
  ASSERT_TRUE(status.ok());
  EXPECT_TRUE(status->ready);
  EXPECT_EQ(status->state, PrintState::kStandby);
  EXPECT_EQ(status->hotend_target, 0);
}

TEST_F(VirtualBackendTest, UploadCopiesByteForByteAndCountsLayers) {
  VirtualBackend backend(options(0.001));
  const fs::path source = sample("box-prusaslicer-marlin.gcode");
  const Status uploaded = backend.upload(UploadRequest{source, "ipp/job-0001-1.gcode", "", 0});
  ASSERT_TRUE(uploaded.ok()) << uploaded.error().message;
  const fs::path stored = storage_ / "ipp" / "job-0001-1.gcode";
  EXPECT_EQ(read_all(stored), read_all(source));
  ASSERT_TRUE(backend.start("ipp/job-0001-1.gcode").ok());
  EXPECT_EQ(backend.status()->total_layers, 166);
  EXPECT_TRUE(backend.cancel("ipp/job-0001-1.gcode").ok());
}

TEST_F(VirtualBackendTest, UploadVerifiesChecksum) {
  VirtualBackend backend(options(0.01));
  write_all(small_, "abc");
  const std::string abc_sha256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  EXPECT_TRUE(backend.upload(UploadRequest{small_, "good.gcode", abc_sha256, 1}).ok());
  EXPECT_TRUE(fs::exists(storage_ / "good.gcode"));

  std::string wrong = abc_sha256;
  wrong[0] = 'c';
  const Status refused = backend.upload(UploadRequest{small_, "ipp/bad.gcode", wrong, 1});
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.error().message, HasSubstr("checksum mismatch"));
  EXPECT_FALSE(fs::exists(storage_ / "ipp" / "bad.gcode"));
  EXPECT_TRUE(fs::is_empty(storage_ / "ipp"));
  EXPECT_FALSE(backend.start("ipp/bad.gcode").ok());
}

TEST_F(VirtualBackendTest, UploadRefusesPathsOutsideStorage) {
  VirtualBackend backend(options(0.01));
  for (const std::string name :
       {"../escape.gcode", "ipp/../../escape.gcode", "/tmp/escape.gcode", "", "ipp/", "./x.gcode", ".."}) {
    const Status refused = backend.upload(UploadRequest{small_, name, "", 1});
    EXPECT_FALSE(refused.ok()) << name;
  }
  EXPECT_FALSE(fs::exists(dir_ / "escape.gcode"));
  EXPECT_FALSE(fs::exists(storage_));
  EXPECT_FALSE(backend.remove("../small.gcode").ok());
  EXPECT_TRUE(fs::exists(small_));
}

TEST_F(VirtualBackendTest, UploadOfMissingFileFails) {
  VirtualBackend backend(options(0.01));
  EXPECT_FALSE(backend.upload(UploadRequest{dir_ / "missing.gcode", "a.gcode", "", 1}).ok());
  EXPECT_FALSE(fs::exists(storage_ / "a.gcode"));
}

TEST_F(VirtualBackendTest, PrintsToCompletion) {
  VirtualBackend backend(options(0.01));
  upload_small(backend, small_, "job.gcode", 20);
  ASSERT_TRUE(backend.start("job.gcode").ok());
  std::vector<int> layers_seen;
  const PrintStatus last = wait_until(backend, [&](const PrintStatus& s) {
    if (layers_seen.empty() || layers_seen.back() != s.current_layer) layers_seen.push_back(s.current_layer);
    return s.state != PrintState::kPrinting;
  });
  EXPECT_EQ(last.state, PrintState::kComplete);
  EXPECT_EQ(last.file, "job.gcode");
  EXPECT_DOUBLE_EQ(last.progress, 1.0);
  EXPECT_EQ(last.current_layer, 20);
  EXPECT_EQ(last.total_layers, 20);
  EXPECT_EQ(last.hotend_target, 0);
  EXPECT_EQ(last.bed_target, 0);
  EXPECT_GT(last.elapsed_seconds, 0.0);
  EXPECT_TRUE(std::is_sorted(layers_seen.begin(), layers_seen.end()));
  EXPECT_GT(layers_seen.size(), 2U);
  // A finished print leaves the printer free for the next one.
  ASSERT_TRUE(backend.start("job.gcode").ok());
  EXPECT_EQ(wait_for_state(backend, PrintState::kComplete).state, PrintState::kComplete);
}

TEST_F(VirtualBackendTest, UnknownLayerCountPrintsOneLayer) {
  VirtualBackend backend(options(0.0));
  write_all(small_, "M117 nothing to count\n");
  upload_small(backend, small_, "job.gcode", 0);
  ASSERT_TRUE(backend.start("job.gcode").ok());
  const PrintStatus last = wait_for_state(backend, PrintState::kComplete);
  EXPECT_EQ(last.state, PrintState::kComplete);
  EXPECT_EQ(last.total_layers, 0);
  EXPECT_DOUBLE_EQ(last.progress, 1.0);
}

TEST_F(VirtualBackendTest, HeatsUpWhilePrinting) {
  VirtualBackend backend(options(10.0));
  upload_small(backend, small_, "job.gcode", 100);
  ASSERT_TRUE(backend.start("job.gcode").ok());
  const PrintStatus hot = wait_until(backend, [](const PrintStatus& s) { return s.current_layer >= 1; });
  EXPECT_EQ(hot.state, PrintState::kPrinting);
  EXPECT_EQ(hot.hotend_target, 210);
  EXPECT_EQ(hot.bed_target, 60);
  EXPECT_NEAR(hot.hotend_temperature, 210, 0.5);
  EXPECT_NEAR(hot.bed_temperature, 60, 0.5);
  ASSERT_TRUE(backend.heaters_off().ok());
  EXPECT_EQ(backend.status()->hotend_target, 0);
}  // the destructor stops the running print

TEST_F(VirtualBackendTest, CancelDuringPrint) {
  VirtualBackend backend(options(0.05));
  upload_small(backend, small_, "job.gcode", 1000);
  ASSERT_TRUE(backend.start("job.gcode").ok());
  wait_until(backend, [](const PrintStatus& s) { return s.current_layer >= 2; });
  EXPECT_FALSE(backend.cancel("other.gcode").ok());
  const auto before = std::chrono::steady_clock::now();
  ASSERT_TRUE(backend.cancel("job.gcode").ok());
  const PrintStatus cancelled = wait_for_state(backend, PrintState::kCancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - before, kDeadline);
  EXPECT_EQ(cancelled.state, PrintState::kCancelled);
  EXPECT_EQ(cancelled.hotend_target, 0);
  EXPECT_EQ(cancelled.bed_target, 0);
  const int layer = cancelled.current_layer;
  EXPECT_LT(layer, 1000);
  // Cancelling again is refused, and the worker does not come back to life.
  const Status again = backend.cancel("job.gcode");
  ASSERT_FALSE(again.ok());
  EXPECT_THAT(again.error().message, HasSubstr("not printing job.gcode"));
  EXPECT_EQ(backend.status()->current_layer, layer);
  EXPECT_EQ(backend.status()->state, PrintState::kCancelled);
  // A new print starts after a cancel.
  ASSERT_TRUE(backend.start("job.gcode").ok());
  EXPECT_EQ(backend.status()->state, PrintState::kPrinting);
  EXPECT_EQ(backend.status()->current_layer, 0);
}

TEST_F(VirtualBackendTest, PauseAndResume) {
  VirtualBackend backend(options(0.02));
  upload_small(backend, small_, "job.gcode", 1000);
  ASSERT_TRUE(backend.start("job.gcode").ok());
  wait_until(backend, [](const PrintStatus& s) { return s.current_layer >= 2; });
  EXPECT_FALSE(backend.pause("other.gcode").ok());
  EXPECT_FALSE(backend.resume("job.gcode").ok());  // printing, not paused
  ASSERT_TRUE(backend.pause("job.gcode").ok());
  EXPECT_FALSE(backend.pause("job.gcode").ok());  // already paused
  const PrintStatus paused = wait_for_state(backend, PrintState::kPaused);
  ASSERT_EQ(paused.state, PrintState::kPaused);
  // Poll for at least 0.3 s of wall time: neither the layer nor the elapsed time advances.
  const auto start = std::chrono::steady_clock::now();
  PrintStatus later = paused;
  while (std::chrono::steady_clock::now() - start < std::chrono::milliseconds(300)) {
    later = *backend.status();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(later.state, PrintState::kPaused);
  EXPECT_LE(later.current_layer, paused.current_layer + 1);
  EXPECT_LT(later.elapsed_seconds - paused.elapsed_seconds, 0.15);
  ASSERT_TRUE(backend.resume("job.gcode").ok());
  const PrintStatus resumed =
      wait_until(backend, [&](const PrintStatus& s) { return s.current_layer > later.current_layer + 1; });
  EXPECT_EQ(resumed.state, PrintState::kPrinting);
  EXPECT_GT(resumed.current_layer, later.current_layer);
  // Cancel works while paused too.
  ASSERT_TRUE(backend.pause("job.gcode").ok());
  ASSERT_TRUE(backend.cancel("job.gcode").ok());
  EXPECT_EQ(wait_for_state(backend, PrintState::kCancelled).state, PrintState::kCancelled);
}

TEST_F(VirtualBackendTest, PauseResumeCancelWhileIdleRefused) {
  VirtualBackend backend(options(0.01));
  upload_small(backend, small_, "job.gcode", 1);
  const Status pause = backend.pause("job.gcode");
  ASSERT_FALSE(pause.ok());
  EXPECT_THAT(pause.error().message, HasSubstr("standby"));
  const Status resume = backend.resume("job.gcode");
  ASSERT_FALSE(resume.ok());
  EXPECT_THAT(resume.error().message, HasSubstr("standby"));
  EXPECT_FALSE(backend.cancel("job.gcode").ok());
  EXPECT_EQ(backend.status()->state, PrintState::kStandby);
  // After completion too.
  ASSERT_TRUE(backend.start("job.gcode").ok());
  ASSERT_EQ(wait_for_state(backend, PrintState::kComplete).state, PrintState::kComplete);
  const Status late = backend.pause("job.gcode");
  ASSERT_FALSE(late.ok());
  EXPECT_THAT(late.error().message, HasSubstr("complete"));
}

TEST_F(VirtualBackendTest, StartWhilePrintingIsBusy) {
  VirtualBackend backend(options(1.0));
  upload_small(backend, small_, "a.gcode", 100);
  upload_small(backend, small_, "b.gcode", 100);
  ASSERT_TRUE(backend.start("a.gcode").ok());
  for (const std::string name : {"a.gcode", "b.gcode"}) {
    const Status busy = backend.start(name);
    ASSERT_FALSE(busy.ok());
    EXPECT_EQ(busy.error().message, "SD busy");
  }
  ASSERT_TRUE(backend.pause("a.gcode").ok());
  EXPECT_FALSE(backend.start("b.gcode").ok());
  EXPECT_EQ(backend.status()->file, "a.gcode");
}

TEST_F(VirtualBackendTest, StartUnknownFileRefused) {
  VirtualBackend backend(options(0.01));
  const Status refused = backend.start("nope.gcode");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message, "Unable to open file");
  EXPECT_FALSE(backend.start("../small.gcode").ok());
  EXPECT_EQ(backend.status()->state, PrintState::kStandby);
}

TEST_F(VirtualBackendTest, RemoveWhilePrintingRefused) {
  VirtualBackend backend(options(1.0));
  upload_small(backend, small_, "ipp/job.gcode", 100);
  upload_small(backend, small_, "ipp/other.gcode", 100);
  ASSERT_TRUE(backend.start("ipp/job.gcode").ok());
  const Status refused = backend.remove("ipp/job.gcode");
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.error().message, HasSubstr("in use by the current print"));
  EXPECT_TRUE(fs::exists(storage_ / "ipp" / "job.gcode"));
  EXPECT_FALSE(backend.upload(UploadRequest{small_, "ipp/job.gcode", "", 1}).ok());  // loaded
  EXPECT_TRUE(backend.remove("ipp/other.gcode").ok());
  EXPECT_FALSE(fs::exists(storage_ / "ipp" / "other.gcode"));
  ASSERT_TRUE(backend.cancel("ipp/job.gcode").ok());
  EXPECT_TRUE(backend.remove("ipp/job.gcode").ok());
  EXPECT_FALSE(fs::exists(storage_ / "ipp" / "job.gcode"));
  EXPECT_FALSE(backend.remove("ipp/job.gcode").ok());
  EXPECT_FALSE(backend.start("ipp/job.gcode").ok());
}

TEST_F(VirtualBackendTest, EmergencyStop) {
  VirtualBackend backend(options(0.05));
  upload_small(backend, small_, "job.gcode", 1000);
  ASSERT_TRUE(backend.start("job.gcode").ok());
  wait_until(backend, [](const PrintStatus& s) { return s.current_layer >= 1; });
  ASSERT_TRUE(backend.emergency_stop().ok());
  const PrintStatus stopped = *backend.status();
  EXPECT_FALSE(stopped.ready);
  EXPECT_EQ(stopped.ready_message, "Emergency stop: the virtual printer needs a restart");
  EXPECT_EQ(stopped.state, PrintState::kError);
  EXPECT_EQ(stopped.message, "Emergency stop");
  EXPECT_EQ(stopped.hotend_target, 0);
  const Status refused = backend.start("job.gcode");
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.error().message, HasSubstr("Emergency stop"));
  EXPECT_FALSE(backend.cancel("job.gcode").ok());
  EXPECT_FALSE(backend.resume("job.gcode").ok());
  // The worker is gone: the layer no longer advances.
  const int layer = stopped.current_layer;
  const PrintStatus later = wait_until(
      backend, [&](const PrintStatus& s) { return s.current_layer != layer; },
      std::chrono::milliseconds(300));
  EXPECT_EQ(later.current_layer, layer);
  EXPECT_EQ(later.state, PrintState::kError);
}

}  // namespace
}  // namespace ipp3d::server
