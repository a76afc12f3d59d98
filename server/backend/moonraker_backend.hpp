// MoonrakerBackend: drives a Klipper printer through Moonraker's HTTP API
// (/work/shared/reference/moonraker-api.md). Uploads without print=true and
// then starts explicitly, checks the printer's state before every print
// control call (Moonraker answers "ok" to a pause while idle), sends only
// fixed G-code of its own to /printer/gcode/script, and bounds every call by
// a timeout; a timeout is an Error with moonraker::kUnknownOutcomeStatus
// whose message says the outcome is unknown, never a failed print.
//
// Thread safety: every call uses its own libcurl handle (moonraker_http.hpp);
// the only shared state, the layer counts of uploaded files, is guarded by
// `mutex_`, which is never held during a request.
#pragma once

#include "backend/backend.hpp"
#include "backend/moonraker_http.hpp"

#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>

namespace ipp3d::server {

// How to reach one Moonraker instance.
struct MoonrakerOptions {
  std::string url;      // "http://127.0.0.1:7125" or "https://..." (checked by the configuration)
  std::string api_key;  // sent as X-Api-Key; empty: none
  std::chrono::milliseconds query_timeout{10000};     // status, delete, emergency stop
  std::chrono::milliseconds control_timeout{120000};  // start, pause, resume, cancel, G-code, upload
};

// Reads an API key file: refused when group or others may read or write it
// (the message says `chmod 600 FILE`), when it cannot be read, or when it
// does not hold one token of printable ASCII (surrounding whitespace is
// ignored). Every message names the file.
Result<std::string> load_moonraker_api_key(const std::filesystem::path& file);

// The bodies of the Moonraker answers inspect() reads; an empty text means
// the call failed or is not supported (that part of the report stays unknown).
struct MoonrakerAnswers {
  std::string server_config;  // GET /server/config
  std::string users;          // GET /access/users/list
  std::string configfile;     // GET /printer/objects/query?configfile=settings
  std::string directory;      // GET /server/files/directory?path=gcodes
  std::string webcams;        // GET /server/webcams/list
};

// Builds the MachineReport from Moonraker's answers; relative webcam URLs are
// resolved against `base_url`. Errors when /server/config or the configfile
// answer is missing or not what Moonraker sends. Never throws.
Result<MachineReport> parse_machine_report(const MoonrakerAnswers& answers, const std::string& base_url);

// A Klipper printer behind one Moonraker instance (see the file comment).
class MoonrakerBackend final : public Backend {
 public:
  // Keeps the options; makes no request (the first call connects).
  explicit MoonrakerBackend(MoonrakerOptions options);

  // GET /printer/objects/query (print_stats, virtual_sdcard, webhooks,
  // extruder, heater_bed, pause_resume). Klippy not connected (404 before it
  // ever connected, 503 after) is a status with ready = false and the reason.
  Result<PrintStatus> status() override;
  // Multipart POST /server/files/upload (root gcodes, path and name from
  // `remote_name`, checksum, no print); requires 201 and the stored size.
  Status upload(const UploadRequest& request) override;
  // Requires Klippy ready and an idle print_stats, then POST /printer/print/start.
  Status start(const std::string& remote_name) override;
  // Require that `remote_name` is the loaded print and that its state
  // allows the action, then POST /printer/print/cancel|pause|resume.
  Status cancel(const std::string& remote_name) override;
  Status pause(const std::string& remote_name) override;
  Status resume(const std::string& remote_name) override;
  // DELETE /server/files/gcodes/REMOTE_NAME.
  Status remove(const std::string& remote_name) override;
  // POST /printer/gcode/script with the fixed script TURN_OFF_HEATERS.
  Status heaters_off() override;
  // POST /printer/emergency_stop.
  Status emergency_stop() override;
  // GET /server/files/metadata (the history job_id of the file's last
  // print), then GET /server/history/job. Not found: no such file, no
  // job_id, or no history.
  Result<PastPrint> past_print(const std::string& remote_name) override;
  // About once a second (the reference's advice).
  [[nodiscard]] std::chrono::milliseconds poll_interval() const override { return std::chrono::seconds(1); }
  [[nodiscard]] bool prints_outlive_server() const override { return true; }
  // GET /server/config, /access/users/list, /printer/objects/query?configfile=settings,
  // /server/files/directory?path=gcodes and /server/webcams/list (parse_machine_report).
  // Errors: Moonraker or Klipper cannot be asked.
  Result<MachineReport> inspect() override;

 private:
  // status() without the exception guard.
  Result<PrintStatus> query_status();
  // inspect() without the exception guard.
  Result<MachineReport> read_machine();
  // upload() without the exception guard.
  Status upload_file(const UploadRequest& request);
  // Checks the state for `action` on `remote_name`, then POSTs `target`.
  Status control(const std::string& action, const std::string& remote_name, const std::string& target);
  // POSTs `target` (with `json_body`) under the control timeout and checks for 200.
  Status post(const std::string& target, const std::string& json_body, std::chrono::milliseconds timeout,
              const std::string& what);

  MoonrakerOptions options_;
  moonraker::HttpClient http_;
  std::mutex mutex_;                   // guards layers_
  std::map<std::string, int> layers_;  // uploaded files and their layer counts (0 = unknown)
};

}  // namespace ipp3d::server
