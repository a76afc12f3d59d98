// PAPPL's print callback: hands a verified document to the machine, prints
// each copy behind the plate-clear gate, follows the physical print
// (print_follow.hpp), and re-attaches to a print after a server restart.
#include "job_print.hpp"

#include "audit.hpp"
#include "backend/backend.hpp"
#include "job_ledger.hpp"
#include "print_follow.hpp"

#include <algorithm>
#include <chrono>
#include <exception>
#include <thread>

namespace ipp3d::server {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// After Moonraker confirmed a cancel, the job ends canceled this soon at the
// latest, whatever the printer shows by then.
constexpr auto kCancelConfirmedGrace = 4s;
// Starts whose outcome stayed unknown, retried this many times.
constexpr int kStartAttempts = 3;
// A file still "in use" right after its print ended is removed on a later try.
constexpr int kRemoveAttempts = 6;
constexpr auto kRemoveRetryDelay = 500ms;

// "m:ss" or "h:mm:ss".
std::string clock_text(double seconds) {
  const long total = static_cast<long>(seconds);
  const auto two_digits = [](long value) { return (value < 10 ? "0" : "") + std::to_string(value); };
  if (total >= 3600) {
    return std::to_string(total / 3600) + ":" + two_digits(total / 60 % 60) + ":" + two_digits(total % 60);
  }
  return std::to_string(total / 60) + ":" + two_digits(total % 60);
}

// How a copy ended.
enum class CopyOutcome { kComplete, kCanceled, kFailed };

// Drives one job; lives for one printfile_cb call.
class JobRun {
 public:
  JobRun(pappl_job_t* job, PrinterRuntime& printer, int copies)
      : job_(job), printer_(printer), copies_(copies < 1 ? 1 : copies) {}

  // Prints the job (or follows its print again after a restart); the
  // value print_job_file() returns.
  bool run();

 private:
  bool print_new();
  bool reattach();
  Status prepare();
  // Uploads the document; waits while the printer does not answer.
  Status hand_over();
  // Starts copy `copy` and follows it; `started` tells whether it began.
  CopyOutcome print_copy(int copy, bool& started);
  // Waits until the machine is ready (or the job is canceled: false).
  bool wait_until_ready();
  // Starts the file, re-asking when the outcome is unknown.
  Status start_print();
  // Follows the running print of copy `copy` to its end.
  CopyOutcome follow(int copy);
  // A cancel requested through IPP: asks the printer; true when the job
  // may end canceled now.
  bool forward_cancel(std::optional<Clock::time_point>& confirmed);
  bool wait_for_plate(int copy);
  void show_step(int copy, const FollowStep& step);
  void show(const std::string& message);
  void set_impressions_completed(int value);
  // Adds a job-progress event (IPP notifications) for the job's current state.
  void notify_progress();
  [[nodiscard]] int total_impressions() const { return (layers_ > 0 ? layers_ : 1) * copies_; }
  // Reserves the licence copy `copy` (when the document has a licence);
  // false when the licence is used up (the job's message says so).
  bool reserve_copy(int copy);
  // Ends the copy's licence reservation: committed once the print started.
  void settle_copy(int copy, bool started);
  // Records in the state database which copy is on the machine.
  void save_machine_print(int copy);
  // Turns the heaters off after a cancel or failure; when the printer does
  // not answer, the printer monitor does it later.
  void heaters_off();
  // Removes the job's file from the machine (best effort).
  void remove_file();
  // Ends the job: removes the machine's copy of the file, sets the final
  // impressions and state. Returns print_job_file()'s value.
  bool finish(CopyOutcome outcome, const std::string& message);
  void record(int state, const std::string& message);
  // Appends a job event (docs/audit.md, "Jobs") under the job's user.
  void audit_job(const char* type, std::vector<std::pair<std::string, std::string>> details);

  pappl_job_t* job_;
  PrinterRuntime& printer_;
  int copies_;
  int layers_ = 0;
  std::vector<std::uint64_t> layer_offsets_;
  int shown_impressions_ = 0;
  std::optional<VerifiedDocument> document_;
  std::string remote_name_;
  std::string last_message_;
  bool handed_over_ = false;  // the file is on the machine
  bool paused_ = false;       // the last status showed the print paused (for job-paused/-resumed)
};

bool JobRun::run() {
  const int id = papplJobGetID(job_);
  if (printer_.reattaching(id)) {
    printer_.reattached(id);
    return reattach();
  }
  return print_new();
}

bool JobRun::print_new() {
  if (auto prepared = prepare(); !prepared) return finish(CopyOutcome::kFailed, prepared.error().message);
  papplJobSetReasons(job_, PAPPL_JREASON_NONE, PAPPL_JREASON_JOB_QUEUED);
  record(IPP_JSTATE_PROCESSING, "Sending the document to the printer.");
  if (auto handed = hand_over(); !handed) {
    if (papplJobIsCanceled(job_)) return finish(CopyOutcome::kCanceled, "Canceled.");
    return finish(CopyOutcome::kFailed, "The printer did not take the document: " + handed.error().message);
  }
  handed_over_ = true;
  audit_job("job-handed-to-backend", {{"remote-name", remote_name_},
                                      {"payload-sha256", document_->sha256},
                                      {"signer-key-id", document_->signer_key_id},
                                      {"copies", std::to_string(copies_)}});
  save_machine_print(0);
  record(IPP_JSTATE_PROCESSING, "Printing.");
  for (int copy = 1; copy <= copies_; ++copy) {
    if (copy > 1 && !wait_for_plate(copy)) break;
    if (!reserve_copy(copy)) return finish(CopyOutcome::kFailed, last_message_);
    // From the first layer on the plate holds a part (whole or not): the
    // next print waits for an operator, also after a crash or restart.
    (void)printer_.mark_plate_used();
    save_machine_print(copy);
    bool started = false;
    const CopyOutcome outcome = print_copy(copy, started);
    settle_copy(copy, started);
    if (outcome != CopyOutcome::kComplete) {
      if (started) heaters_off();
      return finish(outcome, last_message_);
    }
  }
  return finish(CopyOutcome::kComplete,
                copies_ == 1 ? "Printed." : "Printed " + std::to_string(copies_) + " copies.");
}

bool JobRun::reattach() {
  const auto ledger = printer_.store().machine_print(printer_.name(), papplJobGetID(job_));
  if (!ledger) return finish(CopyOutcome::kFailed, "Interrupted: ipp3d-server stopped during the print.");
  remote_name_ = ledger->remote_name;
  handed_over_ = true;
  printer_.set_current_print(CurrentPrint{papplJobGetID(job_), remote_name_});
  copies_ = std::max(1, ledger->copies);
  layers_ = ledger->layers;
  layer_offsets_ = ledger->layer_offsets;
  shown_impressions_ = papplJobGetImpressionsCompleted(job_);
  papplJobSetImpressions(job_, total_impressions());
  if (ledger->copy == 0) {
    return finish(
        CopyOutcome::kFailed,
        "Interrupted: ipp3d-server stopped before the print started; nothing was printed. Submit the "
        "job again.");
  }
  const std::string copy_prefix =
      copies_ > 1 ? "Copy " + std::to_string(ledger->copy) + " of " + std::to_string(copies_) + ": " : "";
  record(IPP_JSTATE_PROCESSING, "Re-attaching to the print after ipp3d-server restarted.");
  // Wait for an answer: the printer decides what happened meanwhile.
  Result<PrintStatus> now = printer_.backend().status();
  while (!now || !now->ready) {
    show("Re-attaching to the print after a restart: waiting for the printer (" +
         (now ? now->ready_message : now.error().message) + ").");
    if (papplJobIsCanceled(job_)) break;
    std::this_thread::sleep_for(printer_.backend().poll_interval());
    now = printer_.backend().status();
    if (now && !now->ready && (now->klippy_state == "shutdown" || now->klippy_state == "error")) break;
  }
  if (papplJobIsCanceled(job_) && (!now || !now->ready)) {
    return finish(CopyOutcome::kCanceled,
                  "Canceled; the printer could not be reached to stop the print, which may be going on.");
  }
  CopyOutcome outcome = CopyOutcome::kFailed;
  const bool ours = now && now->ready && now->file == remote_name_;
  if (ours && (now->state == PrintState::kPrinting || now->state == PrintState::kPaused)) {
    outcome = follow(ledger->copy);
    if (outcome != CopyOutcome::kComplete) heaters_off();
  } else {
    auto past = printer_.backend().past_print(remote_name_);
    PrintState ended = PrintState::kError;
    std::string why;
    if (ours && (now->state == PrintState::kComplete || now->state == PrintState::kCancelled ||
                 now->state == PrintState::kError)) {
      ended = now->state;
      why = now->message;
    } else if (past && past->state != PrintState::kPrinting) {
      ended = past->state;
      why = past->message;
    } else {
      why = "its outcome is unknown (" +
            (past ? std::string("the printer's history shows it still in progress") : past.error().message) +
            ")";
    }
    if (ended == PrintState::kComplete) {
      outcome = CopyOutcome::kComplete;
      last_message_ = copy_prefix + "finished while ipp3d-server was restarting.";
    } else if (ended == PrintState::kCancelled) {
      outcome = CopyOutcome::kCanceled;
      last_message_ = copy_prefix + "canceled at the printer while ipp3d-server was restarting.";
    } else {
      last_message_ =
          "The print failed while ipp3d-server was restarting: " + (why.empty() ? "printer error" : why) +
          ".";
    }
  }
  if (outcome == CopyOutcome::kComplete && ledger->copy < copies_) {
    return finish(CopyOutcome::kFailed,
                  "Printed " + std::to_string(ledger->copy) + " of " + std::to_string(copies_) +
                      " copies; ipp3d-server restarted during the job, so the remaining "
                      "copies were not printed: submit the job again for them.");
  }
  if (outcome == CopyOutcome::kComplete) {
    return finish(outcome, copies_ == 1
                               ? "Printed (" + last_message_ + ")"
                               : "Printed " + std::to_string(copies_) + " copies (" + last_message_ + ")");
  }
  return finish(outcome, last_message_);
}

Status JobRun::prepare() {
  document_ = printer_.intake().accepted(papplJobGetID(job_));
  if (!document_) return Error{IPP_STATUS_ERROR_INTERNAL, "The job's document was not verified.", "", 0};
  // The G-code gate counted the layers (and where each starts) when the document arrived.
  layers_ = static_cast<int>(std::min<std::uint64_t>(document_->facts.layer_count, 1000000));
  if (!document_->facts.layers_truncated) {
    layer_offsets_.reserve(document_->facts.layers.size());
    for (const auto& mark : document_->facts.layers) layer_offsets_.push_back(mark.offset);
  }
  papplJobSetImpressions(job_, total_impressions());
  remote_name_ = "ipp/" + printer_.name() + "-job-" + std::to_string(papplJobGetID(job_)) + ".gcode";
  printer_.set_current_print(CurrentPrint{papplJobGetID(job_), remote_name_});
  return {};
}

Status JobRun::hand_over() {
  Backend& backend = printer_.backend();
  for (;;) {
    Status uploaded =
        backend.upload(UploadRequest{document_->plaintext, remote_name_, document_->sha256, layers_});
    if (uploaded || !is_no_answer(uploaded.error())) return uploaded;
    // No answer: the file may or may not be there; uploading again replaces it.
    show("Waiting for the printer to answer (" + uploaded.error().message + ").");
    if (papplJobIsCanceled(job_)) return uploaded;
    std::this_thread::sleep_for(backend.poll_interval());
  }
}

bool JobRun::reserve_copy(int copy) {
  if (!document_ || !document_->licence) return true;
  const LicenceKey key{printer_.name(), document_->signer_key_id, document_->licence->id};
  auto reserved = printer_.store().reserve_licence_copy(key, static_cast<int>(document_->licence->copies),
                                                        papplJobGetID(job_), copy);
  if (reserved && *reserved) return true;
  papplJobSetReasons(job_, PAPPL_JREASON_DOCUMENT_PERMISSION_ERROR, PAPPL_JREASON_NONE);
  last_message_ = reserved ? "Refused (licence-used-up): licence \"" + document_->licence->id + "\" allows " +
                                 std::to_string(document_->licence->copies) +
                                 " copies on this printer and all are used; " + std::to_string(copy - 1) +
                                 " of this job's copies printed"
                           : "Cannot reserve a licence copy: " + reserved.error().message;
  return false;
}

void JobRun::settle_copy(int copy, bool started) {
  if (!document_ || !document_->licence) return;
  const int job_id = papplJobGetID(job_);
  const Status settled = started ? printer_.store().commit_licence_copy(printer_.name(), job_id, copy)
                                 : printer_.store().release_licence_copy(printer_.name(), job_id, copy);
  if (!settled) papplLogJob(job_, PAPPL_LOGLEVEL_ERROR, "Licence: %s", settled.error().message.c_str());
}

void JobRun::save_machine_print(int copy) {
  const Status saved = printer_.store().save_machine_print(MachinePrint{
      printer_.name(), papplJobGetID(job_), remote_name_, copy, copies_, layers_, layer_offsets_});
  if (!saved) papplLogJob(job_, PAPPL_LOGLEVEL_ERROR, "%s", saved.error().message.c_str());
}

CopyOutcome JobRun::print_copy(int copy, bool& started) {
  if (!wait_until_ready()) return CopyOutcome::kCanceled;
  if (auto start = start_print(); !start) {
    if (papplJobIsCanceled(job_)) return CopyOutcome::kCanceled;
    last_message_ = "The printer refused to start: " + start.error().message;
    return CopyOutcome::kFailed;
  }
  started = true;
  audit_job("job-started", {{"copy", std::to_string(copy)}, {"copies", std::to_string(copies_)}});
  return follow(copy);
}

bool JobRun::wait_until_ready() {
  Backend& backend = printer_.backend();
  for (;;) {
    if (papplJobIsCanceled(job_)) return false;
    auto now = backend.status();
    if (now && now->ready) return true;
    show("Waiting for the printer: " + (now ? now->ready_message : now.error().message) + ".");
    std::this_thread::sleep_for(backend.poll_interval());
  }
}

Status JobRun::start_print() {
  Backend& backend = printer_.backend();
  Status started = backend.start(remote_name_);
  for (int attempt = 1; !started && is_no_answer(started.error()); ++attempt) {
    // Did the start happen? Ask until the printer answers.
    show("The printer did not answer the start (" + started.error().message + "); asking again.");
    auto now = backend.status();
    while (!now || !now->ready) {
      if (papplJobIsCanceled(job_)) return started;
      std::this_thread::sleep_for(backend.poll_interval());
      now = backend.status();
    }
    if (now->file == remote_name_ && now->state != PrintState::kStandby) return {};
    if (attempt >= kStartAttempts || papplJobIsCanceled(job_)) return started;
    started = backend.start(remote_name_);
  }
  return started;
}

CopyOutcome JobRun::follow(int copy) {
  Backend& backend = printer_.backend();
  PrintFollower follower(remote_name_, layer_offsets_);
  std::optional<Clock::time_point> cancel_confirmed;
  for (;;) {
    std::this_thread::sleep_for(backend.poll_interval());
    if (papplJobIsCanceled(job_) && forward_cancel(cancel_confirmed)) return CopyOutcome::kCanceled;
    const FollowStep step = follower.observe(backend.status(), printer_.pause_origin());
    switch (step.verdict) {
      case FollowVerdict::kComplete:
        show_step(copy, step);
        return CopyOutcome::kComplete;
      case FollowVerdict::kCanceled:
        if (!papplJobIsCanceled(job_)) {
          last_message_ = "Canceled at the printer.";
          papplJobCancel(job_);
        }
        return CopyOutcome::kCanceled;
      case FollowVerdict::kFailed:
        if (cancel_confirmed) return CopyOutcome::kCanceled;
        last_message_ = step.message;
        return CopyOutcome::kFailed;
      case FollowVerdict::kPrinting:
      case FollowVerdict::kPaused:
        if (paused_ != (step.verdict == FollowVerdict::kPaused)) {
          paused_ = !paused_;
          const std::string origin = printer_.pause_origin();
          audit_job(paused_ ? "job-paused" : "job-resumed",
                    {{"by", origin.empty() ? "the printer" : origin}, {"message", step.message}});
        }
        if (!cancel_confirmed) show_step(copy, step);
        break;
      case FollowVerdict::kUnsure:
        if (!cancel_confirmed) show_step(copy, step);
        break;
    }
  }
}

bool JobRun::forward_cancel(std::optional<Clock::time_point>& confirmed) {
  if (confirmed) return Clock::now() - *confirmed > kCancelConfirmedGrace;
  show("Canceling: asking the printer to stop.");
  const Status canceled = printer_.backend().cancel(remote_name_);
  if (canceled) {
    confirmed = Clock::now();
    return false;
  }
  // Our print is not running (any more): nothing to stop.
  if (canceled.error().status == IPP_STATUS_ERROR_NOT_POSSIBLE) return true;
  papplLogJob(job_, PAPPL_LOGLEVEL_WARN, "Cancel: %s; asking again.", canceled.error().message.c_str());
  return false;
}

bool JobRun::wait_for_plate(int copy) {
  show("Copy " + std::to_string(copy - 1) + " of " + std::to_string(copies_) +
       " printed: waiting for an operator to confirm that the build plate is clear.");
  while (!printer_.plate_clear()) {
    if (papplJobIsCanceled(job_)) return false;
    std::this_thread::sleep_for(printer_.backend().poll_interval());
  }
  return true;
}

void JobRun::show_step(int copy, const FollowStep& step) {
  const int layers = layers_ > 0 ? layers_ : 1;
  const int done_in_copy = std::clamp(step.layer, 0, layers);
  // At most one short of the total until the job ends (see finish()).
  const int impressions = std::min((copy - 1) * layers + done_in_copy, total_impressions() - 1);
  if (impressions > shown_impressions_) set_impressions_completed(impressions);
  const std::string copy_prefix =
      copies_ > 1 ? "Copy " + std::to_string(copy) + " of " + std::to_string(copies_) + ": " : "";
  if (step.verdict == FollowVerdict::kPaused || step.verdict == FollowVerdict::kUnsure) {
    if (!step.message.empty()) show(copy_prefix + step.message);
    return;
  }
  show(step.layer == 0 ? copy_prefix + "heating up."
                       : progress_message(copy, copies_, step.layer, layers_, step.elapsed_seconds));
}

void JobRun::show(const std::string& message) {
  if (message == last_message_) return;
  last_message_ = message;
  papplJobSetMessage(job_, message.c_str());
  notify_progress();
}

void JobRun::set_impressions_completed(int value) {
  if (value == shown_impressions_) return;
  papplJobSetImpressionsCompleted(job_, value - shown_impressions_);
  shown_impressions_ = value;
  notify_progress();
}

void JobRun::notify_progress() {
  // PAPPL sends no job-progress event of its own: subscribers (ipp3d watch)
  // learn of each layer and message through this one.
  pappl_printer_t* printer = papplJobGetPrinter(job_);
  papplSystemAddEvent(papplPrinterGetSystem(printer), printer, job_, PAPPL_EVENT_JOB_PROGRESS, "%s",
                      last_message_.c_str());
}

void JobRun::heaters_off() {
  const Status off = printer_.backend().heaters_off();
  if (off) return;
  papplLogJob(job_, PAPPL_LOGLEVEL_WARN, "Heaters off: %s; retrying when the printer answers.",
              off.error().message.c_str());
  printer_.request_heaters_off();
}

void JobRun::remove_file() {
  Status removed = printer_.backend().remove(remote_name_);
  // Moonraker holds a file "in use" until it has seen the print end (a
  // 250 ms tick): ask again for a little while.
  for (int attempt = 1;
       !removed && removed.error().status == IPP_STATUS_ERROR_NOT_POSSIBLE && attempt < kRemoveAttempts;
       ++attempt) {
    std::this_thread::sleep_for(kRemoveRetryDelay);
    removed = printer_.backend().remove(remote_name_);
  }
  if (!removed) {
    papplLogJob(job_, PAPPL_LOGLEVEL_INFO, "Removing %s: %s", remote_name_.c_str(),
                removed.error().message.c_str());
  }
}

bool JobRun::finish(CopyOutcome outcome, const std::string& message) {
  const auto& moonraker = printer_.config().moonraker;
  if (handed_over_ && (!moonraker || moonraker->delete_after_job)) remove_file();
  (void)printer_.store().forget_machine_print(printer_.name(), papplJobGetID(job_));
  const char* ended = outcome == CopyOutcome::kFailed     ? "job-aborted"
                      : outcome == CopyOutcome::kCanceled ? "job-canceled"
                                                          : "job-completed";
  audit_job(ended, {{"message", outcome == CopyOutcome::kCanceled &&
                                        (message.empty() || message.rfind("Canceling", 0) == 0)
                                    ? "Canceled."
                                    : message}});
  if (outcome == CopyOutcome::kFailed) {
    record(IPP_JSTATE_ABORTED, message);
    return false;
  }
  // PAPPL adds one impression when this callback returns true: leave the
  // count one short of what was printed, never going backwards.
  if (outcome == CopyOutcome::kCanceled) {
    if (!papplJobIsCanceled(job_)) papplJobCancel(job_);
    set_impressions_completed(std::max(shown_impressions_ - 1, 0));
    record(IPP_JSTATE_CANCELED,
           message.empty() || message.rfind("Canceling", 0) == 0 ? "Canceled." : message);
    return true;
  }
  set_impressions_completed(total_impressions() - 1);
  record(IPP_JSTATE_COMPLETED, message);
  return true;
}

void JobRun::audit_job(const char* type, std::vector<std::pair<std::string, std::string>> details) {
  const char* user = papplJobGetUsername(job_);
  audit(printer_.store(), AuditEvent{type, user != nullptr ? user : "", "", printer_.name(),
                                     papplJobGetID(job_), std::move(details)});
}

void JobRun::record(int state, const std::string& message) {
  last_message_ = message;
  papplJobSetMessage(job_, message.c_str());
  record_job(job_, printer_, state);
}

}  // namespace

std::string progress_message(int copy, int copies, int layer, int layers, double elapsed_seconds) {
  std::string text;
  if (copies > 1) text = "Copy " + std::to_string(copy) + " of " + std::to_string(copies) + ": ";
  text += "layer " + std::to_string(layer);
  if (layers > 0) {
    text += " of " + std::to_string(layers) + " (" + std::to_string(layer * 100 / layers) + "%)";
  }
  return text + ", " + clock_text(elapsed_seconds) + " elapsed";
}

bool print_job_file(pappl_job_t* job, pappl_pr_options_t* options, pappl_device_t*) noexcept {
  PrinterRuntime* printer = nullptr;
  try {
    pappl_pr_driver_data_t data{};
    papplPrinterGetDriverData(papplJobGetPrinter(job), &data);
    printer = static_cast<PrinterRuntime*>(data.extension);
    if (printer == nullptr) return false;
    const bool printed = JobRun(job, *printer, options != nullptr ? options->copies : 1).run();
    printer->clear_current_print(papplJobGetID(job));
    printer->intake().forget(papplJobGetID(job));
    return printed;
  } catch (const std::exception& e) {
    papplLogJob(job, PAPPL_LOGLEVEL_ERROR, "Printing failed: %s", e.what());
  } catch (...) {
    papplLogJob(job, PAPPL_LOGLEVEL_ERROR, "Printing failed.");
  }
  papplJobSetMessage(job, "Internal error while printing; see the server log.");
  if (printer != nullptr) printer->clear_current_print(papplJobGetID(job));
  if (printer != nullptr) printer->intake().forget(papplJobGetID(job));
  return false;
}

bool print_envelope_job(pappl_job_t* job, pappl_device_t* device, void*) noexcept {
  pappl_pr_options_t* options = papplJobCreatePrintOptions(job, 0, false);
  if (options == nullptr) return false;
  const bool printed = print_job_file(job, options, device);
  papplJobDeletePrintOptions(options);
  // As PAPPL does after a print-file callback: the last impression.
  if (printed) papplJobSetImpressionsCompleted(job, 1);
  return printed;
}

}  // namespace ipp3d::server
