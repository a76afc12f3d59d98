// VirtualBackend: an in-process simulated printer, so the default
// configuration prints with no hardware. It stores uploads in a directory
// (byte for byte, so tests can compare them with what a client sent), heats
// up, "prints" the file's layers at a configurable speed, and completes.
#pragma once

#include "backend/backend.hpp"

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace ipp3d::server {

struct VirtualBackendOptions {
  std::filesystem::path storage_dir;  // uploads land in STORAGE_DIR/REMOTE_NAME
  double seconds_per_layer = 0.5;     // simulated print speed (0 = as fast as possible)
  double heat_seconds = 0.2;          // simulated heat-up time before layer 1
  int hotend_target = 210;            // °C shown while printing
  int bed_target = 60;                // °C shown while printing
};

// Counts the layers of a G-code file: slicer layer markers (";LAYER_CHANGE",
// ";LAYER:n") when present, else increases of Z on extruding moves. Errors
// when the file cannot be read.
Result<int> count_gcode_layers(const std::filesystem::path& file);

class VirtualBackend final : public Backend {
 public:
  explicit VirtualBackend(VirtualBackendOptions options);
  ~VirtualBackend() override;  // stops the simulation thread
  VirtualBackend(const VirtualBackend&) = delete;
  VirtualBackend& operator=(const VirtualBackend&) = delete;

  Result<PrintStatus> status() override;
  Status upload(const UploadRequest& request) override;
  Status start(const std::string& remote_name) override;
  Status cancel(const std::string& remote_name) override;
  Status pause(const std::string& remote_name) override;
  Status resume(const std::string& remote_name) override;
  Status remove(const std::string& remote_name) override;
  Status heaters_off() override;
  Status emergency_stop() override;
  // The in-process printer keeps no history: always IPP_STATUS_ERROR_NOT_FOUND.
  Result<PastPrint> past_print(const std::string& remote_name) override;
  [[nodiscard]] std::chrono::milliseconds poll_interval() const override {
    return std::chrono::milliseconds(200);
  }
  [[nodiscard]] bool prints_outlive_server() const override { return false; }
  // A clean report: the simulated machine has no access rules, limits or camera of its own.
  Result<MachineReport> inspect() override;

 private:
  // Runs one print (heat-up, then `total_layers` layers) for `generation`.
  void simulate(int total_layers, std::uint64_t generation);
  // Lets `seconds` of printing time pass (pauses do not count); false when
  // the print of `generation` ended meanwhile. Requires `lock` held.
  bool run_for(std::unique_lock<std::mutex>& lock, double seconds, std::uint64_t generation);

  VirtualBackendOptions options_;
  std::mutex mutex_;                 // guards status_, stop_, generation_, layers_ and worker_
  std::condition_variable changed_;  // signalled on cancel/pause/resume/stop
  PrintStatus status_;
  bool stop_ = false;
  std::uint64_t generation_ = 0;       // bumped by start and emergency_stop; older workers exit
  std::map<std::string, int> layers_;  // uploaded files and their layer counts (0 = unknown)
  std::thread worker_;                 // the running simulation, if any
};

}  // namespace ipp3d::server
