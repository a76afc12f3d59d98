// Names of the backend's print states, spelled as Klipper's print_stats does.
#include "backend/backend.hpp"

namespace ipp3d::server {

bool is_unknown_outcome(const Error& error) { return error.status == kUnknownOutcomeStatus; }

bool is_no_answer(const Error& error) {
  return is_unknown_outcome(error) || error.status == IPP_STATUS_ERROR_SERVICE_UNAVAILABLE;
}

// Klipper's spelling of `state` ("standby", "printing", ...).
const char* print_state_name(PrintState state) {
  switch (state) {
    case PrintState::kStandby:
      return "standby";
    case PrintState::kPrinting:
      return "printing";
    case PrintState::kPaused:
      return "paused";
    case PrintState::kComplete:
      return "complete";
    case PrintState::kCancelled:
      return "cancelled";
    case PrintState::kError:
      return "error";
  }
  return "unknown";
}

}  // namespace ipp3d::server
