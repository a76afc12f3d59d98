#include "job_print.hpp"

#include "backend/backend.hpp"
#include "job_ledger.hpp"

#include <algorithm>
#include <chrono>
#include <exception>
#include <thread>

namespace ipp3d::server {
namespace {

using namespace std::chrono_literals;
constexpr auto kPollInterval = 200ms;
constexpr auto kCancelGrace = 2s;

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

  bool run();

 private:
  Status prepare();
  CopyOutcome print_copy(int copy, bool& started);
  bool wait_for_plate(int copy);
  void show_progress(int copy, const PrintStatus& status);
  void set_impressions_completed(int value);
  [[nodiscard]] int total_impressions() const { return (layers_ > 0 ? layers_ : 1) * copies_; }
  void record(int state, const std::string& message);

  pappl_job_t* job_;
  PrinterRuntime& printer_;
  int copies_;
  // Reserves the licence copy `copy` (when the document has a licence);
  // false when the licence is used up (the job's message says so).
  bool reserve_copy(int copy);
  // Ends the copy's licence reservation: committed once the print started.
  void settle_copy(int copy, bool started);

  int layers_ = 0;
  int shown_impressions_ = 0;
  std::optional<VerifiedDocument> document_;
  std::string remote_name_;
  std::string last_message_;
};

bool JobRun::run() {
  if (auto prepared = prepare(); !prepared) {
    record(IPP_JSTATE_ABORTED, prepared.error().message);
    return false;
  }
  papplJobSetReasons(job_, PAPPL_JREASON_NONE, PAPPL_JREASON_JOB_QUEUED);
  record(IPP_JSTATE_PROCESSING, "Printing.");
  for (int copy = 1; copy <= copies_; ++copy) {
    if (copy > 1 && !wait_for_plate(copy)) break;
    // From the first layer on the plate holds a part (whole or not): the
    // next print waits for an operator, also after a crash or restart.
    if (!reserve_copy(copy)) {
      (void)printer_.backend().remove(remote_name_);
      record(IPP_JSTATE_ABORTED, last_message_);
      return false;
    }
    (void)printer_.mark_plate_used();
    bool started = false;
    const CopyOutcome outcome = print_copy(copy, started);
    settle_copy(copy, started);
    if (outcome == CopyOutcome::kFailed) {
      (void)printer_.backend().remove(remote_name_);
      record(IPP_JSTATE_ABORTED, last_message_);
      return false;
    }
    if (outcome == CopyOutcome::kCanceled) break;
  }
  (void)printer_.backend().remove(remote_name_);
  // PAPPL adds one impression when this callback returns true: leave the
  // count one short of what was printed, never going backwards while the
  // job is still processing.
  if (papplJobIsCanceled(job_)) {
    set_impressions_completed(shown_impressions_ - 1);
  } else {
    set_impressions_completed(total_impressions() - 1);
  }
  if (papplJobIsCanceled(job_)) {
    record(IPP_JSTATE_CANCELED, "Canceled.");
    return true;
  }
  const std::string done = copies_ == 1 ? "Printed." : "Printed " + std::to_string(copies_) + " copies.";
  record(IPP_JSTATE_COMPLETED, done);
  return true;
}

Status JobRun::prepare() {
  document_ = printer_.intake().accepted(papplJobGetID(job_));
  if (!document_) return Error{IPP_STATUS_ERROR_INTERNAL, "The job's document was not verified.", "", 0};
  // The G-code gate counted the layers when the document arrived.
  layers_ = static_cast<int>(std::min<std::uint64_t>(document_->facts.layer_count, 1000000));
  papplJobSetImpressions(job_, total_impressions());
  remote_name_ = "ipp/" + printer_.name() + "-job-" + std::to_string(papplJobGetID(job_)) + ".gcode";
  printer_.set_current_print(CurrentPrint{papplJobGetID(job_), remote_name_});
  return printer_.backend().upload(
      UploadRequest{document_->plaintext, remote_name_, document_->sha256, layers_});
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
  papplJobSetMessage(job_, last_message_.c_str());
  return false;
}

void JobRun::settle_copy(int copy, bool started) {
  if (!document_ || !document_->licence) return;
  const int job_id = papplJobGetID(job_);
  const Status settled = started ? printer_.store().commit_licence_copy(printer_.name(), job_id, copy)
                                 : printer_.store().release_licence_copy(printer_.name(), job_id, copy);
  if (!settled) papplLogJob(job_, PAPPL_LOGLEVEL_ERROR, "Licence: %s", settled.error().message.c_str());
}

CopyOutcome JobRun::print_copy(int copy, bool& started) {
  Backend& backend = printer_.backend();
  if (auto start = backend.start(remote_name_); !start) {
    last_message_ = "The printer refused to start: " + start.error().message;
    papplJobSetMessage(job_, last_message_.c_str());
    return CopyOutcome::kFailed;
  }
  started = true;
  std::optional<std::chrono::steady_clock::time_point> cancel_sent;
  for (;;) {
    std::this_thread::sleep_for(kPollInterval);
    auto status = backend.status();
    if (!status) continue;  // a status error means "unknown": ask again
    if (status->file == remote_name_) show_progress(copy, *status);
    if (status->state == PrintState::kComplete && status->file == remote_name_) return CopyOutcome::kComplete;
    if (status->state == PrintState::kCancelled) return CopyOutcome::kCanceled;
    if (status->state == PrintState::kError) {
      last_message_ =
          "The print failed: " + (status->message.empty() ? std::string("printer error") : status->message);
      papplJobSetMessage(job_, last_message_.c_str());
      return CopyOutcome::kFailed;
    }
    if (papplJobIsCanceled(job_)) {
      if (!cancel_sent) {
        (void)backend.cancel(remote_name_);
        cancel_sent = std::chrono::steady_clock::now();
      } else if (std::chrono::steady_clock::now() - *cancel_sent > kCancelGrace) {
        return CopyOutcome::kCanceled;
      }
    }
  }
}

bool JobRun::wait_for_plate(int copy) {
  const std::string message = "Copy " + std::to_string(copy - 1) + " of " + std::to_string(copies_) +
                              " printed: waiting for an operator to confirm that the build plate is clear.";
  papplJobSetMessage(job_, message.c_str());
  while (!printer_.plate_clear()) {
    if (papplJobIsCanceled(job_)) return false;
    std::this_thread::sleep_for(kPollInterval);
  }
  return true;
}

void JobRun::show_progress(int copy, const PrintStatus& status) {
  const int layers = layers_ > 0 ? layers_ : 1;
  const int done_in_copy = std::min(status.current_layer, layers);
  // At most one short of the total until the job ends (see run()).
  const int impressions = std::min((copy - 1) * layers + done_in_copy, total_impressions() - 1);
  if (impressions > shown_impressions_) set_impressions_completed(impressions);
  const std::string copy_prefix =
      copies_ > 1 ? "Copy " + std::to_string(copy) + " of " + std::to_string(copies_) + ": " : "";
  const std::string message =
      status.current_layer == 0
          ? copy_prefix + "heating up."
          : progress_message(copy, copies_, status.current_layer, layers_, status.elapsed_seconds);
  if (message != last_message_) {
    last_message_ = message;
    papplJobSetMessage(job_, message.c_str());
  }
}

void JobRun::set_impressions_completed(int value) {
  if (value == shown_impressions_) return;
  papplJobSetImpressionsCompleted(job_, value - shown_impressions_);
  shown_impressions_ = value;
}

void JobRun::record(int state, const std::string& message) {
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
