// The live state of one ipp3d printer: its configuration, the loaded
// material and plate-clear flag (persisted in the StateStore), its backend,
// and the capabilities PAPPL advertises (regenerated when the material changes).
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

  // The machine's last status as polled by the printer monitor; nullopt
  // before its first answer.
  void set_machine_status(PrintStatus status);
  [[nodiscard]] std::optional<PrintStatus> machine_status() const;
  // Why the machine's setup is unsafe to print on (set by check_machine(),
  // machine_check.hpp: an unsafe Moonraker configuration, limits above
  // Klipper's ...), or "" when it is fine.
  void set_config_problem(std::string problem);
  [[nodiscard]] std::string config_problem() const;
  // Why no job may start now: the configuration problem, else why the
  // machine is not ready (from the last status), else "".
  [[nodiscard]] std::string machine_problem() const;

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
  void publish_capabilities();

  const config::PrinterConfig config_;
  StateStore& store_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<PrinterKeys> keys_;   // fixed after construction
  std::unique_ptr<JobIntake> intake_;   // thread-safe itself
  pappl_printer_t* printer_ = nullptr;  // set once by attach() before PAPPL runs

  // Guards policy_ (the pointer; the GatePolicy it points to is immutable).
  // Never held while calling out: readers copy the pointer and let go. The
  // intake calls limits() while holding JobIntake::mutex_ (lock order:
  // JobIntake::mutex_, then policy_mutex_).
  mutable std::mutex policy_mutex_;
  std::shared_ptr<const GatePolicy> policy_;

  // Guards loaded_, plate_clear_, capabilities_, pause_origin_,
  // machine_status_, config_problem_ and camera_image_uri_.
  mutable std::mutex mutex_;
  std::optional<std::string> loaded_;
  bool plate_clear_ = true;
  attributes::PrinterCapabilities capabilities_;
  std::string pause_origin_;
  std::optional<PrintStatus> machine_status_;
  std::string config_problem_;
  std::string camera_image_uri_;
};

}  // namespace ipp3d::server
