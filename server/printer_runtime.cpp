#include "printer_runtime.hpp"

#include "ipp3d/attributes/ipp_codec.hpp"
#include "ipp3d/gcode/policy.hpp"

#include "printer_driver.hpp"

#include <algorithm>
#include <utility>

namespace ipp3d::server {

PrinterRuntime::PrinterRuntime(config::PrinterConfig config, StateStore& store,
                               std::unique_ptr<Backend> backend, std::unique_ptr<PrinterKeys> keys,
                               const std::filesystem::path& verified_dir)
    : config_(std::move(config)),
      store_(store),
      backend_(std::move(backend)),
      keys_(std::move(keys)),
      policy_(make_policy(gcode::limits_for(config_))) {
  intake_ = std::make_unique<JobIntake>(
      config_.name, config_.security, keys_->encryption, store_, [this] { return limits(); }, verified_dir);
  // Until check_machine() has looked at the machine, nothing may start on it.
  config_problem_ = "The printer's machine has not been checked yet.";
  const PrinterState state = store_.printer_state(config_.name, PrinterState{config_.loaded_material, true});
  loaded_ = state.loaded_material;
  // A stored key that is no longer in the configuration counts as nothing loaded.
  if (loaded_ && std::none_of(config_.materials.begin(), config_.materials.end(),
                              [this](const config::MaterialConfig& m) { return m.key == *loaded_; })) {
    loaded_.reset();
  }
  plate_clear_ = state.plate_clear;
  capabilities_ = config::capabilities_for(config_, loaded_);
}

void PrinterRuntime::attach(pappl_printer_t* printer) { printer_ = printer; }

std::shared_ptr<const PrinterRuntime::GatePolicy> PrinterRuntime::make_policy(gcode::Limits limits) {
  auto policy = std::make_shared<GatePolicy>();
  policy->json = gcode::policy_json(limits);
  if (auto digest = gcode::policy_digest(limits)) policy->digest = std::move(digest).value();
  policy->limits = std::move(limits);
  return policy;
}

std::shared_ptr<const gcode::Limits> PrinterRuntime::limits() const {
  const std::lock_guard lock(policy_mutex_);
  // Shares ownership of the whole policy: no copy of the limits.
  return {policy_, &policy_->limits};
}

std::string PrinterRuntime::policy_json() const {
  const std::lock_guard lock(policy_mutex_);
  return policy_->json;
}

std::string PrinterRuntime::policy_digest() const {
  const std::lock_guard lock(policy_mutex_);
  return policy_->digest;
}

bool PrinterRuntime::set_machine_overrides(const std::set<std::string>& commands) {
  gcode::Limits limits = gcode::limits_for(config_);
  limits.macro_commands.insert(commands.begin(), commands.end());
  {
    const std::lock_guard lock(policy_mutex_);
    if (policy_->limits == limits) return false;
  }
  auto policy = make_policy(std::move(limits));
  {
    const std::lock_guard lock(policy_mutex_);
    policy_ = std::move(policy);
  }
  publish_driver_attributes();
  return true;
}

void PrinterRuntime::set_camera_image_uri(std::string uri) {
  {
    const std::lock_guard lock(mutex_);
    if (camera_image_uri_ == uri) return;
    camera_image_uri_ = std::move(uri);
  }
  publish_driver_attributes();
}

std::string PrinterRuntime::camera_image_uri() const {
  const std::lock_guard lock(mutex_);
  return camera_image_uri_;
}

attributes::PrinterCapabilities PrinterRuntime::capabilities() const {
  const std::lock_guard lock(mutex_);
  return capabilities_;
}

std::optional<std::string> PrinterRuntime::loaded_material() const {
  const std::lock_guard lock(mutex_);
  return loaded_;
}

Status PrinterRuntime::load_material(const std::string& key) {
  const bool known = std::any_of(config_.materials.begin(), config_.materials.end(),
                                 [&key](const config::MaterialConfig& m) { return m.key == key; });
  if (!known) {
    std::string keys;
    for (const auto& m : config_.materials) keys += (keys.empty() ? "" : ", ") + m.key;
    return attribute_error("material-key", "material-key '" + key + "' is not in the materials database of " +
                                               config_.name + " (known: " + keys + ")");
  }
  return set_loaded(key);
}

Status PrinterRuntime::unload_material() { return set_loaded(std::nullopt); }

Status PrinterRuntime::set_loaded(const std::optional<std::string>& key) {
  {
    const std::lock_guard lock(mutex_);
    if (auto stored = store_.set_loaded_material(config_.name, key); !stored) return stored;
    loaded_ = key;
    capabilities_ = config::capabilities_for(config_, loaded_);
  }
  publish_driver_attributes();
  return {};
}

void PrinterRuntime::publish_driver_attributes() {
  if (printer_ == nullptr) return;
  const std::lock_guard publishing(publish_mutex_);
  pappl_pr_driver_data_t data{};
  papplPrinterGetDriverData(printer_, &data);
  // papplPrinterSetDriverData regenerates every driver attribute and drops
  // the vendor xxx-default values: keep them to set them again.
  int num_defaults = 0;
  cups_option_t* defaults = nullptr;
  if (data.num_vendor > 0) {
    const IppPtr current(papplPrinterGetDriverAttributes(printer_));
    for (int i = 0; i < data.num_vendor && data.vendor[i] != nullptr; ++i) {
      const std::string name = std::string(data.vendor[i]) + "-default";
      ipp_attribute_t* value = ippFindAttribute(current.get(), name.c_str(), IPP_TAG_ZERO);
      char text[1024];
      if (value != nullptr && ippAttributeString(value, text, sizeof text) > 0)
        num_defaults = cupsAddOption(data.vendor[i], text, num_defaults, &defaults);
    }
  }
  IppPtr attrs = driver_attributes();
  // PAPPL copies the attributes; ours are deleted by IppPtr.
  if (!papplPrinterSetDriverData(printer_, &data, attrs.get())) {
    papplLogPrinter(printer_, PAPPL_LOGLEVEL_ERROR, "Cannot update the printer's attributes.");
  } else if (num_defaults > 0) {
    papplPrinterSetDriverDefaults(printer_, &data, num_defaults, defaults);
  }
  cupsFreeOptions(num_defaults, defaults);
}

IppPtr PrinterRuntime::driver_attributes() const {
  IppPtr attrs = make_ipp();
  attributes::encode_capabilities(capabilities(), attrs.get(),
                                  attributes::CapabilityEncoding{pappl_generated_attributes()});
  add_security_attributes(*this, attrs.get());
  add_machine_attributes(machine_view(), attrs.get());
  // PAPPL 1.3.1 does not generate printer-camera-image-uri (PWG 5100.13).
  if (const std::string camera = camera_image_uri(); !camera.empty()) {
    ippAddString(attrs.get(), IPP_TAG_PRINTER, IPP_TAG_URI, "printer-camera-image-uri", nullptr,
                 camera.c_str());
  }
  return attrs;
}

bool PrinterRuntime::plate_clear() const {
  const std::lock_guard lock(mutex_);
  return plate_clear_ || config_.auto_start_next;
}

Status PrinterRuntime::confirm_plate_clear() {
  const std::lock_guard lock(mutex_);
  if (auto stored = store_.set_plate_clear(config_.name, true); !stored) return stored;
  plate_clear_ = true;
  return {};
}

Status PrinterRuntime::mark_plate_used() {
  const std::lock_guard lock(mutex_);
  if (auto stored = store_.set_plate_clear(config_.name, false); !stored) return stored;
  plate_clear_ = false;
  return {};
}

void PrinterRuntime::set_pause_origin(std::string who) {
  const std::lock_guard lock(mutex_);
  pause_origin_ = std::move(who);
}

std::string PrinterRuntime::pause_origin() const {
  const std::lock_guard lock(mutex_);
  return pause_origin_;
}

void PrinterRuntime::request_heaters_off() {
  const std::lock_guard lock(mutex_);
  heaters_off_requested_ = true;
}

bool PrinterRuntime::take_heaters_off_request() {
  const std::lock_guard lock(mutex_);
  return std::exchange(heaters_off_requested_, false);
}

void PrinterRuntime::expect_reattach(int job_id) {
  const std::lock_guard lock(mutex_);
  reattach_.insert(job_id);
}

bool PrinterRuntime::reattaching(int job_id) const {
  const std::lock_guard lock(mutex_);
  return reattach_.contains(job_id);
}

void PrinterRuntime::reattached(int job_id) {
  const std::lock_guard lock(mutex_);
  reattach_.erase(job_id);
}

void PrinterRuntime::set_machine_status(PrintStatus status) {
  const std::lock_guard lock(mutex_);
  machine_status_ = std::move(status);
}

std::optional<PrintStatus> PrinterRuntime::machine_status() const {
  const std::lock_guard lock(mutex_);
  return machine_status_;
}

void PrinterRuntime::set_config_problem(std::string problem) {
  const std::lock_guard lock(mutex_);
  config_problem_ = std::move(problem);
}

std::string PrinterRuntime::config_problem() const {
  const std::lock_guard lock(mutex_);
  return config_problem_;
}

std::string PrinterRuntime::machine_problem() const {
  const std::lock_guard lock(mutex_);
  // Not ready comes first: the machine cannot be checked (or print) until it is.
  if (machine_status_ && !machine_status_->ready) {
    return "The printer is not ready: " + (machine_status_->ready_message.empty()
                                               ? machine_status_->klippy_state
                                               : machine_status_->ready_message);
  }
  return config_problem_;
}

void PrinterRuntime::set_current_print(CurrentPrint print) {
  const std::lock_guard lock(mutex_);
  current_print_ = std::move(print);
}

void PrinterRuntime::clear_current_print(int job_id) {
  const std::lock_guard lock(mutex_);
  if (current_print_ && current_print_->job_id == job_id) current_print_.reset();
}

std::optional<CurrentPrint> PrinterRuntime::current_print() const {
  const std::lock_guard lock(mutex_);
  return current_print_;
}

void PrinterRuntime::publish_machine_view(MachineView view) {
  {
    const std::lock_guard lock(mutex_);
    machine_view_ = std::move(view);
  }
  publish_driver_attributes();
}

MachineView PrinterRuntime::machine_view() const {
  const std::lock_guard lock(mutex_);
  return machine_view_;
}

}  // namespace ipp3d::server
