// PrintFollower: what a job concludes from each status answer of the
// machine (the IPP mapping of Moonraker's print_stats and webhooks states).
#include "print_follow.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ipp3d::server {
namespace {

using ::testing::HasSubstr;

constexpr const char* kOurs = "ipp/mk4-job-7.gcode";

// A ready printer showing `file` in `state`.
PrintStatus printer_showing(PrintState state, const std::string& file = kOurs) {
  PrintStatus status;
  status.ready = true;
  status.klippy_state = "ready";
  status.state = state;
  status.file = file;
  return status;
}

// A printer whose Klippy is in `klippy_state` (not ready).
PrintStatus klippy(const std::string& klippy_state, const std::string& message) {
  PrintStatus status;
  status.ready = false;
  status.klippy_state = klippy_state;
  status.ready_message = message;
  return status;
}

TEST(LayerAt, CountsTheLayersThatBeganBeforeThePosition) {
  const std::vector<std::uint64_t> offsets = {100, 500, 900};
  EXPECT_EQ(layer_at(offsets, 0), 0);
  EXPECT_EQ(layer_at(offsets, 100), 0);  // the first layer's line not read yet
  EXPECT_EQ(layer_at(offsets, 101), 1);
  EXPECT_EQ(layer_at(offsets, 500), 1);
  EXPECT_EQ(layer_at(offsets, 501), 2);
  EXPECT_EQ(layer_at(offsets, 100000), 3);
  EXPECT_EQ(layer_at({}, 100000), 0);
}

TEST(PrintFollower, PrintingShowsTheLayerFromTheFilePositionWhenThePrinterGivesNone) {
  PrintFollower follower(kOurs, {100, 500, 900});
  PrintStatus status = printer_showing(PrintState::kPrinting);
  status.file_position = 700;
  status.elapsed_seconds = 42;
  const FollowStep step = follower.observe(status, "");
  EXPECT_EQ(step.verdict, FollowVerdict::kPrinting);
  EXPECT_EQ(step.layer, 2);
  EXPECT_EQ(step.elapsed_seconds, 42);
}

TEST(PrintFollower, ThePrintersOwnLayerWinsWhenReported) {
  PrintFollower follower(kOurs, {100, 500, 900});
  PrintStatus status = printer_showing(PrintState::kPrinting);
  status.file_position = 700;
  status.layers_reported = true;
  status.current_layer = 3;
  EXPECT_EQ(follower.observe(status, "").layer, 3);
}

TEST(PrintFollower, EndStatesOfOurFile) {
  PrintFollower follower(kOurs, {});
  EXPECT_EQ(follower.observe(printer_showing(PrintState::kComplete), "").verdict, FollowVerdict::kComplete);
  EXPECT_EQ(follower.observe(printer_showing(PrintState::kCancelled), "").verdict, FollowVerdict::kCanceled);
  PrintStatus failed = printer_showing(PrintState::kError);
  failed.message = "Move out of range: 500.000 20.000 1.000 [10.500]";
  const FollowStep step = follower.observe(failed, "");
  EXPECT_EQ(step.verdict, FollowVerdict::kFailed);
  EXPECT_EQ(step.message, "The print failed: Move out of range: 500.000 20.000 1.000 [10.500]");
}

TEST(PrintFollower, APauseSaysWhoPausedAndWhy) {
  PrintFollower follower(kOurs, {});
  PrintStatus paused = printer_showing(PrintState::kPaused);
  paused.display_message = "Filament runout";
  FollowStep step = follower.observe(paused, "");
  EXPECT_EQ(step.verdict, FollowVerdict::kPaused);
  EXPECT_EQ(step.message,
            "Paused by the printer: Filament runout; resume it at the printer or with Resume-Job.");
  step = follower.observe(paused, "operator alice");
  EXPECT_EQ(step.message, "Paused by operator alice; resume with Resume-Job.");
}

TEST(PrintFollower, NoAnswerNeverFailsThePrint) {
  PrintFollower follower(kOurs, {});
  const Result<PrintStatus> timeout =
      Error{kUnknownOutcomeStatus, "Moonraker did not answer within 10 s; the outcome is unknown", "", 0};
  for (int i = 0; i < 20; ++i) {
    const FollowStep step = follower.observe(timeout, "");
    EXPECT_EQ(step.verdict, FollowVerdict::kUnsure);
    EXPECT_THAT(step.message, HasSubstr("Lost contact with the printer"));
    EXPECT_THAT(step.message, HasSubstr("the print may be going on"));
  }
  EXPECT_EQ(follower.observe(printer_showing(PrintState::kPrinting), "").verdict, FollowVerdict::kPrinting);
}

TEST(PrintFollower, AShutdownFailsThePrintAtOnceWithKlippersReason) {
  PrintFollower follower(kOurs, {});
  const FollowStep step = follower.observe(klippy("shutdown", "MCU 'mcu' shutdown: ADC out of range"), "");
  EXPECT_EQ(step.verdict, FollowVerdict::kFailed);
  EXPECT_EQ(step.message,
            "The print failed: Klipper shut down during the print: MCU 'mcu' shutdown: ADC out of range.");
}

TEST(PrintFollower, ADisconnectFailsOnlyWhenItLasts) {
  PrintFollower follower(kOurs, {});
  const PrintStatus gone = klippy("disconnected", "Klipper is not connected to Moonraker");
  for (int i = 1; i < PrintFollower::kStrikes; ++i)
    EXPECT_EQ(follower.observe(gone, "").verdict, FollowVerdict::kUnsure);
  const FollowStep step = follower.observe(gone, "");
  EXPECT_EQ(step.verdict, FollowVerdict::kFailed);
  EXPECT_THAT(step.message, HasSubstr("Klipper disconnected from Moonraker during the print"));
}

TEST(PrintFollower, ABriefGlitchResetsTheCount) {
  PrintFollower follower(kOurs, {});
  const PrintStatus gone = klippy("startup", "Printer is restarting");
  for (int round = 0; round < 5; ++round) {
    for (int i = 1; i < PrintFollower::kStrikes; ++i) {
      EXPECT_EQ(follower.observe(gone, "").verdict, FollowVerdict::kUnsure);
    }
    EXPECT_EQ(follower.observe(printer_showing(PrintState::kPrinting), "").verdict, FollowVerdict::kPrinting);
  }
}

TEST(PrintFollower, OurFileVanishingFromPrintStatsFailsThePrint) {
  PrintFollower follower(kOurs, {});
  const PrintStatus wiped = printer_showing(PrintState::kStandby, "");
  FollowStep step;
  for (int i = 0; i < PrintFollower::kStrikes; ++i) step = follower.observe(wiped, "");
  EXPECT_EQ(step.verdict, FollowVerdict::kFailed);
  EXPECT_THAT(step.message, HasSubstr("no longer on the printer (it shows standby)"));
}

TEST(PrintFollower, AnotherFileTakingOverFailsThePrint) {
  PrintFollower follower(kOurs, {});
  const PrintStatus other = printer_showing(PrintState::kPrinting, "benchy.gcode");
  FollowStep step;
  for (int i = 0; i < PrintFollower::kStrikes; ++i) step = follower.observe(other, "");
  EXPECT_EQ(step.verdict, FollowVerdict::kFailed);
  EXPECT_THAT(step.message, HasSubstr("replaced on the printer by another file (benchy.gcode)"));
}

}  // namespace
}  // namespace ipp3d::server
