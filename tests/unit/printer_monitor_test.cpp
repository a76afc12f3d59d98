// The printer monitor and the operator actions: what the printer shows for a
// machine status, when it republishes, the monitor thread's transitions
// (offline, check_machine() at start and on becoming ready) against a
// scripted backend, the machine attributes' IPP encoding, and
// suspend/resume against the VirtualBackend's state machine.
#include "printer_monitor.hpp"

#include "backend/virtual_backend.hpp"
#include "operator_actions.hpp"
#include "printer_driver.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

namespace ipp3d::server {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::HasSubstr;

// A ready, idle machine at room temperature.
PrintStatus ready_status() {
  PrintStatus status;
  status.ready = true;
  status.ready_message = "Printer is ready";
  status.hotend_temperature = status.bed_temperature = 25;
  return status;
}

TEST(MachineView, ReadyIdlePrinting) {
  PrintStatus status = ready_status();
  MachineView view = machine_view_for(status, "", "");
  EXPECT_EQ(view.state, "ready");
  EXPECT_EQ(view.message, "Ready.");
  ASSERT_TRUE(view.temperatures);
  EXPECT_EQ(view.temperatures->hotend, 25);
  status.state = PrintState::kPrinting;
  EXPECT_EQ(machine_view_for(status, "", "").message, "Printing.");
}

TEST(MachineView, PausedSaysWhoPaused) {
  PrintStatus status = ready_status();
  status.state = PrintState::kPaused;
  EXPECT_EQ(machine_view_for(status, "", "operator alice").message, "Paused by operator alice.");
  status.display_message = "Filament runout";
  EXPECT_EQ(machine_view_for(status, "", "").message, "Paused by the printer: Filament runout");
}

TEST(MachineView, AProblemWinsAndDisconnectedHasNoTemperatures) {
  PrintStatus status = ready_status();
  status.ready = false;
  status.klippy_state = "disconnected";
  const MachineView view = machine_view_for(status, "The printer is not ready: gone", "");
  EXPECT_EQ(view.state, "disconnected");
  EXPECT_EQ(view.message, "The printer is not ready: gone");
  EXPECT_FALSE(view.temperatures);
  status.klippy_state = "shutdown";  // Klippy still reports its heaters
  EXPECT_TRUE(machine_view_for(status, "x", "").temperatures);
}

TEST(MachineView, UnreachableKeepsTheLastStatusButIsNotReady) {
  PrintStatus last = ready_status();
  last.state = PrintState::kPrinting;
  last.file = "ipp/a.gcode";
  const PrintStatus status =
      unreachable_status(last, Error{IPP_STATUS_ERROR_DEVICE, "cannot connect", "", 0});
  EXPECT_FALSE(status.ready);
  EXPECT_EQ(status.klippy_state, "unreachable");
  EXPECT_EQ(status.ready_message, "cannot connect");
  EXPECT_EQ(status.file, "ipp/a.gcode");
  EXPECT_FALSE(unreachable_status(std::nullopt, Error{}).ready);
}

TEST(MachineView, ChangesWorthPublishing) {
  MachineView shown = machine_view_for(ready_status(), "", "");
  MachineView now = shown;
  EXPECT_FALSE(machine_view_changed(shown, now));
  now.temperatures->hotend = 25.9;  // less than 1 °C
  EXPECT_FALSE(machine_view_changed(shown, now));
  now.temperatures->hotend = 26.0;
  EXPECT_TRUE(machine_view_changed(shown, now));
  now = shown;
  now.temperatures->bed_target = 60;
  EXPECT_TRUE(machine_view_changed(shown, now));
  now = shown;
  now.temperatures.reset();
  EXPECT_TRUE(machine_view_changed(shown, now));
  now = shown;
  now.message = "Printing.";
  EXPECT_TRUE(machine_view_changed(shown, now));
  now = shown;
  now.state = "shutdown";
  EXPECT_TRUE(machine_view_changed(shown, now));
}

// The names of the attributes in `attrs`, failing on a duplicate.
std::set<std::string> attribute_names(ipp_t* attrs) {
  std::set<std::string> names;
  for (ipp_attribute_t* a = ippFirstAttribute(attrs); a != nullptr; a = ippNextAttribute(attrs)) {
    EXPECT_TRUE(names.insert(ippGetName(a)).second) << "duplicate " << ippGetName(a);
  }
  return names;
}

TEST(MachineAttributes, EncodedOnceWithIntegerTemperatures) {
  MachineView view;
  view.state = "ready";
  view.message = "Ready.";
  view.temperatures = Temperatures{209.6, 210, 59.4, 60};
  IppPtr attrs = make_ipp();
  add_machine_attributes(view, attrs.get());
  EXPECT_EQ(
      attribute_names(attrs.get()),
      (std::set<std::string>{"ipp3d-machine-state", "ipp3d-printer-status-message", "ipp3d-temperatures"}));
  ipp_attribute_t* temperatures =
      ippFindAttribute(attrs.get(), "ipp3d-temperatures", IPP_TAG_BEGIN_COLLECTION);
  ASSERT_NE(temperatures, nullptr);
  ipp_t* collection = ippGetCollection(temperatures, 0);
  const auto member = [collection](const char* name) {
    return ippGetInteger(ippFindAttribute(collection, name, IPP_TAG_INTEGER), 0);
  };
  EXPECT_EQ(member("hotend-current"), 210);
  EXPECT_EQ(member("hotend-target"), 210);
  EXPECT_EQ(member("bed-current"), 59);
  EXPECT_EQ(member("bed-target"), 60);
  EXPECT_EQ(ippGetValueTag(ippFindAttribute(attrs.get(), "ipp3d-machine-state", IPP_TAG_ZERO)),
            IPP_TAG_KEYWORD);

  view.temperatures.reset();
  IppPtr unknown = make_ipp();
  add_machine_attributes(view, unknown.get());
  EXPECT_EQ(ippGetValueTag(ippFindAttribute(unknown.get(), "ipp3d-temperatures", IPP_TAG_ZERO)),
            IPP_TAG_NOVALUE);
  // None of them is an attribute PAPPL generates itself.
  for (const auto& name : attribute_names(attrs.get()))
    EXPECT_EQ(pappl_generated_attributes().count(name), 0u);
}

// A fresh temporary directory, removed afterwards.
class TempDirectory {
 public:
  TempDirectory() {
    std::string templ = (fs::temp_directory_path() / "ipp3d-monitor-XXXXXX").string();
    if (mkdtemp(templ.data()) != nullptr) path_ = templ;
  }
  TempDirectory(const TempDirectory&) = delete;
  TempDirectory& operator=(const TempDirectory&) = delete;
  ~TempDirectory() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  [[nodiscard]] const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// A backend whose status() answers what the test sets.
class ScriptedBackend final : public Backend {
 public:
  void set(Result<PrintStatus> answer) {
    const std::lock_guard lock(mutex_);
    answer_ = std::move(answer);
  }
  Result<PrintStatus> status() override {
    const std::lock_guard lock(mutex_);
    ++calls;
    return answer_;
  }
  Status upload(const UploadRequest&) override { return {}; }
  Status start(const std::string&) override { return {}; }
  Status cancel(const std::string&) override { return {}; }
  Status pause(const std::string&) override { return {}; }
  Status resume(const std::string&) override { return {}; }
  Status remove(const std::string&) override { return {}; }
  Status heaters_off() override {
    ++heaters_off_calls;
    return {};
  }
  Status emergency_stop() override { return {}; }
  Result<PastPrint> past_print(const std::string&) override {
    return Error{IPP_STATUS_ERROR_NOT_FOUND, "no history", "", 0};
  }
  [[nodiscard]] std::chrono::milliseconds poll_interval() const override {
    return std::chrono::milliseconds(10);
  }
  [[nodiscard]] bool prints_outlive_server() const override { return true; }
  Result<MachineReport> inspect() override { return MachineReport{}; }
  std::atomic<int> calls{0};
  std::atomic<int> heaters_off_calls{0};

 private:
  std::mutex mutex_;
  Result<PrintStatus> answer_ = ready_status();
};

// A PrinterRuntime (not attached to PAPPL) on a ScriptedBackend.
class MonitorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = StateStore::open(dir_.path() / "ipp3d.db");
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(store).value();
    const config::PrinterConfig config = config::default_config().printers.at(0);
    auto keys = load_or_create_printer_keys(dir_.path(), config.name, KeyPassphrase{});
    ASSERT_TRUE(keys.ok()) << keys.error().message;
    auto backend = std::make_unique<ScriptedBackend>();
    backend_ = backend.get();
    printer_ = std::make_unique<PrinterRuntime>(config, *store_, std::move(backend), std::move(keys).value(),
                                                dir_.path() / "verified");
  }

  // Waits until `done` holds (at most 5 s).
  static bool eventually(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (done()) return true;
      std::this_thread::sleep_for(5ms);
    }
    return done();
  }

  TempDirectory dir_;
  std::unique_ptr<StateStore> store_;
  ScriptedBackend* backend_ = nullptr;
  std::unique_ptr<PrinterRuntime> printer_;
};

TEST_F(MonitorTest, RecordsTheStatusChecksAtStartAndOnEveryReturnToReady) {
  std::atomic<int> checks{0};
  PrinterMonitor monitor(
      *printer_,
      [&checks](PrinterRuntime& p) {
        ++checks;
        p.set_config_problem("");  // as check_machine() does for a sound machine
        return true;
      },
      10ms);
  monitor.start();
  ASSERT_TRUE(eventually([&] { return printer_->machine_view().message == "Ready."; }));
  EXPECT_EQ(checks, 1);
  EXPECT_TRUE(printer_->machine_problem().empty());

  PrintStatus down = ready_status();
  down.ready = false;
  down.klippy_state = "shutdown";
  down.ready_message = "Emergency stop";
  backend_->set(down);
  ASSERT_TRUE(eventually([&] { return printer_->machine_view().state == "shutdown"; }));
  EXPECT_EQ(printer_->machine_view().message, "The printer is not ready: Emergency stop");
  EXPECT_THAT(printer_->machine_problem(), HasSubstr("Emergency stop"));
  EXPECT_EQ(checks, 1);

  backend_->set(Error{IPP_STATUS_ERROR_DEVICE, "cannot connect to Moonraker", "", 0});
  ASSERT_TRUE(eventually([&] { return printer_->machine_view().state == "unreachable"; }));
  EXPECT_THAT(printer_->machine_problem(), HasSubstr("cannot connect to Moonraker"));
  EXPECT_FALSE(printer_->machine_view().temperatures);

  backend_->set(ready_status());
  ASSERT_TRUE(eventually([&] { return printer_->machine_view().state == "ready"; }));
  ASSERT_TRUE(eventually([&] { return checks == 2; }));
  EXPECT_TRUE(printer_->machine_problem().empty());
  monitor.stop();
  const int calls = backend_->calls;
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(backend_->calls, calls) << "the monitor polled after stop()";
}

TEST_F(MonitorTest, AConfigurationProblemShowsAndAnEndedPrintForgetsThePauseOrigin) {
  printer_->set_pause_origin("operator alice");
  PrinterMonitor monitor(
      *printer_,
      [](PrinterRuntime& p) {
        p.set_config_problem("Moonraker is unsafe");
        return true;
      },
      10ms);
  monitor.start();
  ASSERT_TRUE(eventually([&] { return printer_->machine_view().message == "Moonraker is unsafe"; }));
  EXPECT_TRUE(printer_->pause_origin().empty());  // standby: no print to have paused
}

TEST_F(MonitorTest, AHeatersOffAJobCouldNotDeliverIsSentOnceThePrinterIsIdleAndReady) {
  PrintStatus printing = ready_status();
  printing.state = PrintState::kPrinting;
  printing.file = "ipp/other.gcode";
  backend_->set(printing);
  printer_->request_heaters_off();
  PrinterMonitor monitor(
      *printer_, [](PrinterRuntime&) { return true; }, 10ms);
  monitor.start();
  // Never into a print that started since.
  ASSERT_TRUE(eventually([&] { return backend_->calls >= 5; }));
  EXPECT_EQ(backend_->heaters_off_calls, 0);
  backend_->set(ready_status());
  ASSERT_TRUE(eventually([&] { return backend_->heaters_off_calls == 1; }));
  const int polls = backend_->calls;
  ASSERT_TRUE(eventually([&] { return backend_->calls >= polls + 5; }));
  EXPECT_EQ(backend_->heaters_off_calls, 1);  // once
  monitor.stop();
}

TEST_F(MonitorTest, StopsPromptlyWithALongInterval) {
  PrinterMonitor monitor(
      *printer_, [](PrinterRuntime&) { return true; }, 1h);
  monitor.start();
  ASSERT_TRUE(eventually([&] { return backend_->calls > 0; }));
  const auto began = std::chrono::steady_clock::now();
  monitor.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - began, 1s);
}

// Suspend and resume against the VirtualBackend's state machine.
class OperatorActionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    VirtualBackendOptions options;
    options.storage_dir = dir_.path() / "storage";
    options.seconds_per_layer = 30;  // stays printing
    options.heat_seconds = 0.01;
    backend_ = std::make_unique<VirtualBackend>(options);
    const fs::path file = dir_.path() / "small.gcode";
    std::ofstream(file) << "G90\nM82\nG92 E0\nG1 Z0.2\nG1 X10 Y10 E1\n";
    ASSERT_TRUE(backend_->upload(UploadRequest{file, "ipp/p-job-7.gcode", "", 3}).ok());
  }

  TempDirectory dir_;
  std::unique_ptr<VirtualBackend> backend_;
  const CurrentPrint current_{7, "ipp/p-job-7.gcode"};
};

TEST_F(OperatorActionsTest, NothingToSuspendOrResumeWhileIdle) {
  const Status suspended = suspend_print(*backend_, std::nullopt);
  ASSERT_FALSE(suspended.ok());
  EXPECT_EQ(suspended.error().status, IPP_STATUS_ERROR_NOT_POSSIBLE);
  EXPECT_THAT(suspended.error().message, HasSubstr("no print is running"));
  EXPECT_EQ(resume_print(*backend_, std::nullopt, 7).error().status, IPP_STATUS_ERROR_NOT_POSSIBLE);
  // Uploaded but not started: the backend refuses with its state.
  const Status early = suspend_print(*backend_, current_);
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.error().status, IPP_STATUS_ERROR_NOT_POSSIBLE);
  EXPECT_THAT(early.error().message, HasSubstr("Cannot suspend the print: cannot pause"));
}

TEST_F(OperatorActionsTest, SuspendThenResumeTheCurrentJobOnly) {
  ASSERT_TRUE(backend_->start(current_.remote_name).ok());
  ASSERT_TRUE(suspend_print(*backend_, current_).ok());
  EXPECT_EQ(backend_->status()->state, PrintState::kPaused);
  const Status again = suspend_print(*backend_, current_);
  ASSERT_FALSE(again.ok());
  EXPECT_THAT(again.error().message, HasSubstr("paused"));

  const Status other = resume_print(*backend_, current_, 8);
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().status, IPP_STATUS_ERROR_NOT_POSSIBLE);
  EXPECT_THAT(other.error().message, HasSubstr("Cannot resume job 8: it is not printing (job 7"));
  EXPECT_EQ(backend_->status()->state, PrintState::kPaused);

  ASSERT_TRUE(resume_print(*backend_, current_, 7).ok());
  EXPECT_EQ(backend_->status()->state, PrintState::kPrinting);
  EXPECT_FALSE(resume_print(*backend_, current_, std::nullopt).ok());  // not paused
  ASSERT_TRUE(backend_->cancel(current_.remote_name).ok());
}

}  // namespace
}  // namespace ipp3d::server
