#include "print_follow.hpp"

#include <algorithm>
#include <utility>

namespace ipp3d::server {
namespace {

// "Klipper shut down: MCU 'mcu' shutdown" style text for a machine that is not ready.
std::string not_ready_text(const PrintStatus& status) {
  if (status.klippy_state == "disconnected") return "Klipper disconnected from Moonraker during the print";
  const std::string reason = status.ready_message.empty() ? "" : ": " + status.ready_message;
  if (status.klippy_state == "shutdown") return "Klipper shut down during the print" + reason;
  if (status.klippy_state == "error") return "Klipper reported an error during the print" + reason;
  return "Klipper restarted during the print" + reason;
}

}  // namespace

int layer_at(const std::vector<std::uint64_t>& layer_offsets, std::uint64_t file_position) {
  // Layers whose first line starts before the position have begun.
  const auto begun = std::lower_bound(layer_offsets.begin(), layer_offsets.end(), file_position);
  return static_cast<int>(begun - layer_offsets.begin());
}

PrintFollower::PrintFollower(std::string remote_name, std::vector<std::uint64_t> layer_offsets)
    : remote_name_(std::move(remote_name)), layer_offsets_(std::move(layer_offsets)) {}

FollowStep PrintFollower::observe(const Result<PrintStatus>& answer, const std::string& pause_origin) {
  if (!answer) {
    // No answer: never a failure (the print goes on without us).
    return {FollowVerdict::kUnsure,
            "Lost contact with the printer (" + answer.error().message +
                "); the print may be going on: still trying.",
            0, 0};
  }
  const PrintStatus& status = *answer;
  if (!status.ready || status.file != remote_name_) return missing(status);
  strikes_ = 0;
  FollowStep step;
  step.elapsed_seconds = status.elapsed_seconds;
  step.layer = status.layers_reported || layer_offsets_.empty()
                   ? status.current_layer
                   : layer_at(layer_offsets_, status.file_position);
  switch (status.state) {
    case PrintState::kPrinting:
      step.verdict = FollowVerdict::kPrinting;
      break;
    case PrintState::kPaused: {
      step.verdict = FollowVerdict::kPaused;
      const std::string why = !status.message.empty() ? status.message : status.display_message;
      step.message = pause_origin.empty()
                         ? "Paused by the printer" + (why.empty() ? std::string() : ": " + why) +
                               "; resume it at the printer or with Resume-Job."
                         : "Paused by " + pause_origin + "; resume with Resume-Job.";
      break;
    }
    case PrintState::kComplete:
      step.verdict = FollowVerdict::kComplete;
      break;
    case PrintState::kCancelled:
      step.verdict = FollowVerdict::kCanceled;
      break;
    case PrintState::kError:
      step.verdict = FollowVerdict::kFailed;
      step.message =
          "The print failed: " + (status.message.empty() ? std::string("printer error") : status.message);
      break;
    case PrintState::kStandby:
      // Our name but idle: Klipper could not open the file, or reset.
      return missing(status);
  }
  return step;
}

FollowStep PrintFollower::missing(const PrintStatus& status) {
  ++strikes_;
  // A shutdown stops the print at once: no need to wait.
  const bool shut_down =
      !status.ready && (status.klippy_state == "shutdown" || status.klippy_state == "error");
  if (!shut_down && strikes_ < kStrikes) return {FollowVerdict::kUnsure, "", 0, 0};
  FollowStep step;
  step.verdict = FollowVerdict::kFailed;
  if (!status.ready) {
    step.message = "The print failed: " + not_ready_text(status) + ".";
  } else if (status.state == PrintState::kPrinting || status.state == PrintState::kPaused) {
    step.message =
        "The print was replaced on the printer by another file (" + status.file + "), started outside ipp3d.";
  } else {
    step.message =
        "The print is no longer on the printer (it shows " + std::string(print_state_name(status.state)) +
        (status.file.empty() ? std::string() : " " + status.file) + "): Klipper may have restarted.";
  }
  return step;
}

}  // namespace ipp3d::server
