// Pure server logic: PAPPL state repair, the queue decision, progress text.
#include "job_print.hpp"
#include "scheduler.hpp"
#include "state/pappl_state.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace ipp3d::server {
namespace {

constexpr const char* kState =
    "UUID urn:uuid:1\n"
    "<Printer name=\"virtual-fdm\" id=\"1\" driver=\"ipp3d-virtual-fdm\">\n"
    "Job created=\"100\" id=\"1\" name=\"done \\\"quoted\\\"\" state=\"9\" username=\"alice\"\n"
    "Job created=\"101\" id=\"2\" name=\"printing\" state=\"5\" username=\"bob\"\n"
    "Job created=\"102\" id=\"3\" name=\"held\" state=\"4\" username=\"carol\"\n"
    "</Printer>\n"
    "<Printer name=\"second\" id=\"2\" driver=\"ipp3d-second\">\n"
    "Job created=\"103\" id=\"7\" name=\"stopped\" state=\"6\" username=\"dave\"\n"
    "</Printer>\n";

TEST(PapplState, MarksProcessingAndStoppedJobsAborted) {
  std::vector<InterruptedJob> interrupted;
  const std::string repaired = mark_interrupted_jobs(kState, 500, {}, interrupted);
  EXPECT_EQ(interrupted, (std::vector<InterruptedJob>{{"virtual-fdm", 2}, {"second", 7}}));
  EXPECT_NE(repaired.find("Job completed=\"500\" created=\"101\" id=\"2\" name=\"printing\" state=\"8\""),
            std::string::npos)
      << repaired;
  EXPECT_NE(repaired.find("name=\"stopped\" state=\"8\""), std::string::npos) << repaired;
  // Untouched lines stay byte for byte, including escaped quotes.
  EXPECT_NE(repaired.find("name=\"done \\\"quoted\\\"\" state=\"9\""), std::string::npos) << repaired;
  EXPECT_NE(repaired.find("name=\"held\" state=\"4\""), std::string::npos) << repaired;
}

TEST(PapplState, RepairIsAtomicAndMissingFileIsFine) {
  const auto dir = std::filesystem::temp_directory_path() / ("ipp3d-state-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto missing = repair_pappl_state(dir / "absent.state", {});
  ASSERT_TRUE(missing.ok());
  EXPECT_TRUE(missing->empty());

  const auto path = dir / "pappl.state";
  std::ofstream(path) << kState;
  const auto repaired = repair_pappl_state(path, {});
  ASSERT_TRUE(repaired.ok()) << repaired.error().message;
  EXPECT_EQ(repaired->size(), 2u);
  std::stringstream text;
  text << std::ifstream(path).rdbuf();
  EXPECT_EQ(text.str().find("state=\"5\""), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir / "pappl.state.tmp"));
  const auto again = repair_pappl_state(path, {});  // idempotent
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->empty());
  std::filesystem::remove_all(dir);
}

// A job killed mid-print is saved as held (PAPPL saves only on creation and
// completion); the ledger knows it was printing.
TEST(PapplState, JobsTheLedgerSawPrintingAreMarkedToo) {
  std::vector<InterruptedJob> interrupted;
  const std::string repaired =
      mark_interrupted_jobs(kState, 600, {{"virtual-fdm", 3}, {"virtual-fdm", 1}}, interrupted);
  // Job 3 (held) becomes aborted; job 1 already completed stays as it is.
  EXPECT_EQ(interrupted,
            (std::vector<InterruptedJob>{{"virtual-fdm", 2}, {"virtual-fdm", 3}, {"second", 7}}));
  EXPECT_NE(repaired.find("id=\"3\" name=\"held\" state=\"8\""), std::string::npos) << repaired;
  EXPECT_NE(repaired.find("id=\"1\" name=\"done \\\"quoted\\\"\" state=\"9\""), std::string::npos)
      << repaired;
}

struct DecideCase {
  const char* name;
  bool has_document;
  std::string hold;
  std::optional<std::string> material;
  bool busy;
  bool plate_clear;
  bool release;
  std::string message_part;
  std::string machine_problem;
};

class Decide : public ::testing::TestWithParam<DecideCase> {};

TEST_P(Decide, ReleasesOnlyWhenEverythingAllows) {
  const auto& c = GetParam();
  const QueueDecision decision =
      decide(2, c.has_document, c.hold, c.material, c.busy, c.plate_clear, c.machine_problem);
  EXPECT_EQ(decision.release, c.release);
  EXPECT_NE(decision.message.find(c.message_part), std::string::npos) << decision.message;
}

INSTANTIATE_TEST_SUITE_P(
    Queue, Decide,
    ::testing::Values(
        DecideCase{"Ready", true, "no-hold", std::nullopt, false, true, true, "Starting", ""},
        DecideCase{"NoDocument", false, "no-hold", std::nullopt, false, true, false, "document", ""},
        DecideCase{"ClientHold", true, "indefinite", std::nullopt, false, true, false, "indefinite", ""},
        DecideCase{"MaterialMissing", true, "no-hold", "Generic PETG", false, true, false,
                   "Waiting for material Generic PETG", ""},
        DecideCase{"MaterialBeforeBusy", true, "no-hold", "Generic PETG", true, true, false, "material", ""},
        DecideCase{"Busy", true, "no-hold", std::nullopt, true, true, false, "2 in line", ""},
        DecideCase{"PlateNotClear", true, "no-hold", std::nullopt, false, false, false,
                   "build plate is clear", ""},
        DecideCase{"MachineProblem", true, "no-hold", std::nullopt, false, true, false,
                   "Not printing: Klipper's [extruder] max_temp",
                   "Not printing: Klipper's [extruder] max_temp"},
        DecideCase{"MachineProblemBeforeMaterialAndBusy", true, "no-hold", "Generic PETG", true, true, false,
                   "The printer is not ready", "The printer is not ready: Klipper is shutting down"},
        DecideCase{"ClientHoldBeforeMachineProblem", true, "indefinite", std::nullopt, false, true, false,
                   "indefinite", "Not printing: x"},
        DecideCase{"NoDocumentBeforeMachineProblem", false, "no-hold", std::nullopt, false, true, false,
                   "document", "Not printing: x"}),
    [](const ::testing::TestParamInfo<DecideCase>& case_info) { return std::string(case_info.param.name); });

TEST(ProgressMessage, ShowsLayerPercentCopyAndTime) {
  EXPECT_EQ(progress_message(1, 1, 3, 120, 42.0), "layer 3 of 120 (2%), 0:42 elapsed");
  EXPECT_EQ(progress_message(2, 2, 28, 28, 3725.0), "Copy 2 of 2: layer 28 of 28 (100%), 1:02:05 elapsed");
  EXPECT_EQ(progress_message(1, 1, 5, 0, 61.0), "layer 5, 1:01 elapsed");
}

}  // namespace
}  // namespace ipp3d::server

namespace ipp3d::server {
namespace {

// A local time on Wednesday 2026-11-18 (or Saturday 2026-11-21) at `hour`.
std::time_t local_time(int day_of_month, int hour) {
  std::tm t{};
  t.tm_year = 2026 - 1900;
  t.tm_mon = 10;
  t.tm_mday = day_of_month;
  t.tm_hour = hour;
  t.tm_min = 30;
  t.tm_isdst = -1;
  return std::mktime(&t);
}

struct HoldCase {
  const char* hold;
  int day;
  int hour;
  bool open;
};

class HoldWindow : public ::testing::TestWithParam<HoldCase> {};

TEST_P(HoldWindow, OpensOnlyInItsPeriod) {
  const auto& c = GetParam();
  EXPECT_EQ(hold_window_open(c.hold, 0, local_time(c.day, c.hour)), c.open)
      << c.hold << " on day " << c.day << " at " << c.hour << ":30";
}

INSTANTIATE_TEST_SUITE_P(
    JobHoldUntil, HoldWindow,
    ::testing::Values(HoldCase{"no-hold", 18, 3, true}, HoldCase{"indefinite", 18, 12, false},
                      HoldCase{"day-time", 18, 12, true}, HoldCase{"day-time", 18, 20, false},
                      HoldCase{"evening", 18, 20, true}, HoldCase{"evening", 18, 12, false},
                      HoldCase{"night", 18, 2, true}, HoldCase{"second-shift", 18, 17, true},
                      HoldCase{"second-shift", 18, 9, false}, HoldCase{"third-shift", 18, 3, true},
                      HoldCase{"third-shift", 18, 9, false}, HoldCase{"weekend", 21, 12, true},
                      HoldCase{"weekend", 18, 12, false}, HoldCase{"someday", 18, 12, false}));

TEST(HoldWindow, TimedHoldOpensAtItsTime) {
  const std::time_t now = local_time(18, 12);
  EXPECT_FALSE(hold_window_open("time", now + 60, now));
  EXPECT_TRUE(hold_window_open("time", now, now));
  EXPECT_TRUE(hold_window_open("time", now - 60, now));
}

}  // namespace
}  // namespace ipp3d::server
