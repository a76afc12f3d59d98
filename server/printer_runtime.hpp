// The live state of one ipp3d printer: its configuration, the loaded
// material and plate-clear flag (persisted in the StateStore), its backend,
// the machine's last status and the print it runs, and the attributes PAPPL
// advertises (regenerated when the material or the machine's view changes).
#pragma once

#include "ipp3d/attributes/capabilities.hpp"
#include "ipp3d/attributes/job_ticket.hpp"
#include "ipp3d/config/config.hpp"
#include "ipp3d/ipp_handles.hpp"

#include "backend/backend.hpp"
#include "intake/job_intake.hpp"
#include "printer_keys.hpp"
#include "state/state_store.hpp"

#include <pappl/pappl.h>

#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

namespace ipp3d::server {

// The print the printer's job thread runs on the machine now.
struct CurrentPrint {
  int job_id = 0;           // the PAPPL job
  std::string remote_name;  // the file's name on the machine, e.g. "ipp/NAME-job-7.gcode"
  bool operator==(const CurrentPrint&) const = default;
};

// Heater temperatures as the machine reported them, in °C.
struct Temperatures {
  double hotend = 0, hotend_target = 0;
  double bed = 0, bed_target = 0;
  bool operator==(const Temperatures&) const = default;
};

// What the printer advertises about its machine (docs/ipp-extensions.md,
// "Machine status"): built by the printer monitor, published by
// PrinterRuntime::publish_machine_view().
struct MachineView {
  // ipp3d-machine-state: Klippy's state ("ready", "startup", "shutdown",
  // "error", "disconnected"), "unreachable" when the backend cannot be
  // asked, or "unknown" before the first poll.
  std::string state = "unknown";
  std::string message;                       // ipp3d-printer-status-message
  std::optional<Temperatures> temperatures;  // ipp3d-temperatures; nullopt = unknown (no-value)
  bool operator==(const MachineView&) const = default;
};

class PrinterRuntime {
 public:
  // `store` must outlive the runtime. The initial loaded material is the
  // stored one, else the configuration's loaded_material. `keys` are the
  // printer's own key pairs; verified documents go to `verified_dir`.
  PrinterRuntime(config::PrinterConfig config, StateStore& store, std::unique_ptr<Backend> backend,
                 std::unique_ptr<PrinterKeys> keys, const std::filesystem::path& verified_dir);
  PrinterRuntime(const PrinterRuntime&) = delete;
  PrinterRuntime& operator=(const PrinterRuntime&) = delete;

  [[nodiscard]] const config::PrinterConfig& config() const { return config_; }
  [[nodiscard]] const std::string& name() const { return config_.name; }
  [[nodiscard]] Backend& backend() { return *backend_; }
  [[nodiscard]] StateStore& store() { return store_; }
  [[nodiscard]] const PrinterKeys& keys() const { return *keys_; }
  [[nodiscard]] JobIntake& intake() { return *intake_; }
  // What the G-code gate enforces on this printer now: its configuration
  // plus the standard commands Klipper macros replace (check_machine()). A
  // consistent snapshot that stays valid while held; a later
  // set_machine_overrides() publishes a new one.
  [[nodiscard]] std::shared_ptr<const gcode::Limits> limits() const;
  // The gate's effective policy as published (docs/gcode-policy.md): the
  // canonical JSON text and its "sha256:..." digest (copies; they follow limits()).
  [[nodiscard]] std::string policy_json() const;
  [[nodiscard]] std::string policy_digest() const;
  // Adds `commands` (upper-case standard commands replaced by Klipper macros)
  // to the configured ones in the gate's macro_commands; the published policy,
  // its digest and the driver attributes follow. Returns true when that
  // changed the limits. Jobs already checked are checked again before they start.
  bool set_machine_overrides(const std::set<std::string>& commands);

  // Everything the printer advertises through PAPPL's driver attributes:
  // the 3D capabilities and the ipp3d security attributes
  // (docs/ipp-extensions.md), minus what PAPPL generates itself.
  [[nodiscard]] IppPtr driver_attributes() const;

  // The PAPPL printer, once created (borrowed; PAPPL owns it).
  void attach(pappl_printer_t* printer);
  [[nodiscard]] pappl_printer_t* printer() const { return printer_; }

  // A copy of the current capabilities (materials-col-ready follows the
  // loaded material).
  [[nodiscard]] attributes::PrinterCapabilities capabilities() const;
  // The loaded material's key, or nullopt.
  [[nodiscard]] std::optional<std::string> loaded_material() const;

  // Loads the material `key` of the database: persists it and updates the
  // advertised attributes. Errors: unknown key (the message lists the keys).
  Status load_material(const std::string& key);
  // Records that nothing is loaded.
  Status unload_material();

  // The plate-clear gate: true when the next print may start.
  [[nodiscard]] bool plate_clear() const;
  // An operator confirmed the build plate is clear.
  Status confirm_plate_clear();
  // A print ended: the plate holds a part (unless auto_start_next).
  Status mark_plate_used();

  // Who paused the current print through ipp3d (e.g. "operator alice"), or
  // "" when ipp3d did not pause it (then the printer paused by itself).
  // Set by Suspend-Current-Job and the web button, cleared on resume.
  void set_pause_origin(std::string who);
  [[nodiscard]] std::string pause_origin() const;

  // A heaters-off that a job could not deliver (the machine did not
  // answer): the printer monitor sends it once the machine is ready and not
  // printing. take_heaters_off_request() returns and clears the request.
  void request_heaters_off();
  [[nodiscard]] bool take_heaters_off_request();

  // Jobs that a restarted server follows on the machine again (set at
  // start-up from the ledger): the scheduler releases them at once and the
  // print callback re-attaches instead of uploading. reattached() clears it.
  void expect_reattach(int job_id);
  [[nodiscard]] bool reattaching(int job_id) const;
  void reattached(int job_id);

  // The machine's last status as polled by the printer monitor; nullopt
  // before its first answer.
  void set_machine_status(PrintStatus status);
  [[nodiscard]] std::optional<PrintStatus> machine_status() const;
  // Why the machine's setup is unsafe to print on (set by check_machine(),
  // machine_check.hpp: an unsafe Moonraker configuration, limits above
  // Klipper's ...), or "" when it is fine.
  void set_config_problem(std::string problem);
  [[nodiscard]] std::string config_problem() const;
  // Why no job may start now: why the machine is not ready (from the last
  // status), else the configuration problem, else "".
  [[nodiscard]] std::string machine_problem() const;

  // The print running on the machine: job_print.cpp sets it once the file
  // is uploaded (before it starts) and clears it when the job's thread ends.
  // Suspend-Current-Job, Resume-Job and the web buttons act on it.
  void set_current_print(CurrentPrint print);
  // Clears the record, only when it still names `job_id` (a later job's
  // record is left alone).
  void clear_current_print(int job_id);
  [[nodiscard]] std::optional<CurrentPrint> current_print() const;

  // Publishes `view` (ipp3d-machine-state, ipp3d-printer-status-message,
  // ipp3d-temperatures) through PAPPL's driver attributes. Heavy (PAPPL
  // regenerates all driver attributes): call it only when the view changed.
  void publish_machine_view(MachineView view);
  [[nodiscard]] MachineView machine_view() const;
  // The machine's camera snapshot URL (printer-camera-image-uri), or "".
  // Setting a different one regenerates the driver attributes.
  void set_camera_image_uri(std::string uri);
  [[nodiscard]] std::string camera_image_uri() const;

 private:
  // The gate's limits with the policy published for them; replaced whole, never changed.
  struct GatePolicy {
    gcode::Limits limits;
    std::string json;    // policy_json(limits)
    std::string digest;  // policy_digest(limits)
  };
  static std::shared_ptr<const GatePolicy> make_policy(gcode::Limits limits);

  Status set_loaded(const std::optional<std::string>& key);
  // Regenerates PAPPL's driver attributes from driver_attributes() and
  // re-applies the vendor xxx-default values papplPrinterSetDriverData drops.
  void publish_driver_attributes();

  const config::PrinterConfig config_;
  StateStore& store_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<PrinterKeys> keys_;   // fixed after construction
  std::unique_ptr<JobIntake> intake_;   // thread-safe itself
  pappl_printer_t* printer_ = nullptr;  // set once by attach() before PAPPL runs

  // Serializes publish_driver_attributes(): building and setting the
  // attributes happen as one step, so an older snapshot never overwrites a
  // newer one. Taken before mutex_, never while holding it.
  std::mutex publish_mutex_;
  // Guards policy_ (the pointer; the GatePolicy it points to is immutable).
  // Never held while calling out: readers copy the pointer and let go. The
  // intake calls limits() while holding JobIntake::mutex_ (lock order:
  // JobIntake::mutex_, then policy_mutex_).
  mutable std::mutex policy_mutex_;
  std::shared_ptr<const GatePolicy> policy_;

  // Guards loaded_, plate_clear_, capabilities_, pause_origin_,
  // machine_status_, config_problem_, heaters_off_requested_, reattach_,
  // current_print_, machine_view_ and camera_image_uri_.
  mutable std::mutex mutex_;
  std::optional<std::string> loaded_;
  bool plate_clear_ = true;
  attributes::PrinterCapabilities capabilities_;
  std::string pause_origin_;
  std::optional<PrintStatus> machine_status_;
  std::string config_problem_;
  bool heaters_off_requested_ = false;
  std::set<int> reattach_;
  std::optional<CurrentPrint> current_print_;
  MachineView machine_view_;
  std::string camera_image_uri_;
};

}  // namespace ipp3d::server
