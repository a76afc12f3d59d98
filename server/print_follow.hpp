// Following one print on the machine: what a job concludes from each status
// answer (docs/architecture.md, "Following a print"). Pure logic, no PAPPL:
// the job thread (job_print.cpp) polls the backend and acts on the verdict.
#pragma once

#include "backend/backend.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace ipp3d::server {

// What one status answer means for the print being followed.
enum class FollowVerdict {
  kPrinting,  // ours, printing (or heating up)
  kPaused,    // ours, paused; the message says by whom and why
  kComplete,  // ours, finished
  kCanceled,  // ours, cancelled (at the printer or by us)
  kFailed,    // ours failed, or it is gone for good; the message says why
  kUnsure,    // no answer, or not yet conclusive: keep following
};

// The conclusion from one answer.
struct FollowStep {
  FollowVerdict verdict = FollowVerdict::kUnsure;
  std::string message;         // what to show (pause reason, failure, lost contact), or ""
  int layer = 0;               // 1-based layer being printed, 0 = not started or unknown
  double elapsed_seconds = 0;  // printing time so far
};

// The 1-based layer being printed at `file_position` (bytes read), given
// the byte offset of each layer's first line in ascending order: the number
// of layers that start before `file_position`.
int layer_at(const std::vector<std::uint64_t>& layer_offsets, std::uint64_t file_position);

// Follows the print of one file; remembers what it needs between answers.
// Not thread-safe (one job thread owns it).
class PrintFollower {
 public:
  // Answers in a row in which our print must be visible before it counts as
  // gone (Klipper not connected, or another file loaded): a brief restart
  // of Moonraker's view is not a failure.
  static constexpr int kStrikes = 3;

  // `remote_name` is the file's name on the machine; `layer_offsets` its
  // layer index (may be empty: then layers come only from the printer).
  PrintFollower(std::string remote_name, std::vector<std::uint64_t> layer_offsets);

  // One status answer, or the error of asking. `pause_origin` is who paused
  // the print through ipp3d ("" = nobody: the printer paused by itself).
  // An error never fails the print: the printer may still be printing.
  FollowStep observe(const Result<PrintStatus>& answer, const std::string& pause_origin);

 private:
  // A step for an answer in which our print is not visible.
  FollowStep missing(const PrintStatus& status);

  std::string remote_name_;
  std::vector<std::uint64_t> layer_offsets_;
  int strikes_ = 0;  // consecutive answers without our print
};

}  // namespace ipp3d::server
