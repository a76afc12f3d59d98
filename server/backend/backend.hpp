// The interface between an ipp3d printer and the machine that prints: the
// in-process VirtualBackend, and (next) Moonraker. States follow Klipper's
// print_stats as Moonraker reports them.
#pragma once

#include "ipp3d/result.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ipp3d::server {

// The IPP status of a backend Error that means "the outcome is unknown: ask
// again" (a timeout, or the connection broke after the request was sent).
inline constexpr ipp_status_t kUnknownOutcomeStatus = IPP_STATUS_ERROR_TEMPORARY;

// True when `error` means the outcome is unknown: ask for the status again.
bool is_unknown_outcome(const Error& error);
// True when the machine did not answer at all: the outcome is unknown, or
// it could not be reached (IPP_STATUS_ERROR_SERVICE_UNAVAILABLE). Retry later.
bool is_no_answer(const Error& error);

// Klipper's print_stats.state, plus whether the machine is there at all.
enum class PrintState {
  kStandby,    // idle, nothing loaded
  kPrinting,   // printing (including heating up at the start of the file)
  kPaused,     // paused by an operator or by the printer (e.g. filament runout)
  kComplete,   // the last file finished
  kCancelled,  // the last file was cancelled
  kError,      // the last file failed; `message` says why
};

// "standby", "printing", ... (Klipper's spelling).
const char* print_state_name(PrintState state);

// A snapshot of the machine.
struct PrintStatus {
  bool ready = false;         // the machine accepts commands (Klippy ready)
  std::string ready_message;  // why not ready, e.g. "Klipper is shutting down"
  // Klippy's state as Moonraker reports it: "ready", "startup", "shutdown",
  // "error", or "disconnected" (Klipper not connected to Moonraker).
  std::string klippy_state = "ready";
  PrintState state = PrintState::kStandby;
  std::string file;                                  // the file being (or last) printed, as named on upload
  std::string message;                               // error or pause text from the printer
  int current_layer = 0;                             // 1-based layer being printed, 0 = not started
  int total_layers = 0;                              // 0 = unknown
  bool layers_reported = false;                      // the layers above come from the printer itself
  std::uint64_t file_position = 0;                   // bytes of `file` read so far (virtual_sdcard)
  std::string display_message;                       // the printer's display text (M117), e.g. a runout note
  double progress = 0.0;                             // 0..1 by file position
  double elapsed_seconds = 0;                        // since the print started, excluding pauses
  double hotend_temperature = 0, hotend_target = 0;  // °C
  double bed_temperature = 0, bed_target = 0;        // °C
};

// What is known about a document before upload.
struct UploadRequest {
  std::filesystem::path file;  // verified plaintext G-code (readable by the server)
  std::string remote_name;     // unique name chosen by the server, e.g. "ipp/job-0007-1.gcode"
  std::string sha256_hex;      // lowercase SHA-256 of the file, or empty
  int total_layers = 0;        // from the G-code, 0 = unknown
};

// How a print that is no longer the machine's current one ended, as the
// machine's own history records it.
struct PastPrint {
  PrintState state = PrintState::kError;  // kComplete, kCancelled or kError (kPrinting: still in progress)
  std::string message;                    // why it failed, when known
};

// A Klipper macro that replaces an existing command ([gcode_macro NAME] with
// rename_existing).
struct RenamedCommand {
  std::string name;        // the command the macro replaces, upper case, e.g. "M109"
  std::string renamed_to;  // where the original went (rename_existing), e.g. "M109.1"
  bool operator==(const RenamedCommand&) const = default;
};

// What the machine's host says about its own setup, for check_machine()
// (machine_check.hpp). Absent values were not reported (nothing to compare).
struct MachineReport {
  // Moonraker's access configuration ([authorization], [file_manager]).
  std::vector<std::string> trusted_clients;  // IPs, CIDR ranges or domains allowed without a key
  bool force_logins = false;                 // logins required once users exist
  bool users_exist = false;                  // Moonraker has at least one user
  bool config_write_access = false;          // the config root (printer.cfg) is writable through the API
  // Room for uploads: [server] max_upload_size and the gcodes root's free space, bytes.
  std::optional<std::uint64_t> max_upload_bytes;
  std::optional<std::uint64_t> free_bytes;
  // Klipper's own limits (configfile.settings).
  std::optional<double> hotend_max_temp;         // [extruder] max_temp, °C
  std::optional<double> bed_max_temp;            // [heater_bed] max_temp, °C
  std::optional<double> axis_min[3];             // [stepper_x|y|z] position_min, mm
  std::optional<double> axis_max[3];             // [stepper_x|y|z] position_max, mm
  std::optional<double> max_velocity;            // [printer] max_velocity, mm/s
  std::optional<double> max_accel;               // [printer] max_accel, mm/s²
  std::vector<RenamedCommand> renamed_commands;  // macros replacing existing commands
  // The first webcam's snapshot URL, absolute (http or https), or "".
  std::string camera_snapshot_url;
};

// All methods are thread-safe: a job's thread drives a print while IPP
// threads ask for status, cancel, pause or resume. No method blocks longer
// than its own documented timeout; a timeout is reported as an error whose
// message says the outcome is unknown.
class Backend {
 public:
  virtual ~Backend() = default;

  // Current status. Errors only when the machine cannot be asked at all.
  virtual Result<PrintStatus> status() = 0;
  // Stores `request.file` on the machine under `request.remote_name`.
  virtual Status upload(const UploadRequest& request) = 0;
  // Starts printing an uploaded file. Errors: not ready, busy, unknown file.
  virtual Status start(const std::string& remote_name) = 0;
  // Cancels the current print (only when it is `remote_name`).
  virtual Status cancel(const std::string& remote_name) = 0;
  // Pauses / resumes the current print (checked against the current state).
  virtual Status pause(const std::string& remote_name) = 0;
  virtual Status resume(const std::string& remote_name) = 0;
  // Removes an uploaded file (best effort after the job ends).
  virtual Status remove(const std::string& remote_name) = 0;
  // Turns all heaters off with a fixed command.
  virtual Status heaters_off() = 0;
  // Emergency stop: the machine halts at once and needs a restart.
  virtual Status emergency_stop() = 0;
  // How `remote_name`'s last print ended, from the machine's history.
  // Errors: IPP_STATUS_ERROR_NOT_FOUND when the machine has no record of it.
  virtual Result<PastPrint> past_print(const std::string& remote_name) = 0;
  // How often a job follows its print with status().
  [[nodiscard]] virtual std::chrono::milliseconds poll_interval() const = 0;
  // True when a print goes on without the server (a real machine), so a
  // restarted server follows it again; false for the in-process printer.
  [[nodiscard]] virtual bool prints_outlive_server() const = 0;
  // Reads the machine's own configuration (access rules, limits, macros,
  // room for uploads, camera). Errors when the machine cannot be asked.
  virtual Result<MachineReport> inspect() = 0;
};

}  // namespace ipp3d::server
