// The Moonraker emulator (tests/moonraker/) as a process for the C++
// integration tests: started on a free loopback port with a scenario, read
// and steered through its control API, stopped by SIGTERM to its PID.
#pragma once

#include "backend/moonraker_backend.hpp"
#include "ipp_client.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <string>
#include <sys/types.h>
#include <vector>

namespace ipp3d::testing {

// The API key every test emulator uses.
inline constexpr const char* kEmulatorKey = "0123456789abcdef0123456789abcdef";

// A scenario whose Moonraker and Klipper setup passes the machine check
// (machine_check.hpp) for MoonrakerTestConfig's printer: config write access
// off, Klipper's limits at or above the printer's (hotend 280 °C, 500 mm/s,
// 10000 mm/s²); `more` is merged on top (JSON merge patch).
nlohmann::json clean_scenario(const nlohmann::json& more = nlohmann::json::object());

// One emulator process: started with --port 0, stopped by SIGTERM to its PID.
class Emulator {
 public:
  // Starts the emulator with `scenario` (a JSON object, tests/moonraker/README.md)
  // and the key kEmulatorKey; a failure to start is a test failure.
  explicit Emulator(const nlohmann::json& scenario);
  Emulator(const Emulator&) = delete;
  Emulator& operator=(const Emulator&) = delete;
  ~Emulator();

  [[nodiscard]] int port() const { return port_; }
  [[nodiscard]] std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  [[nodiscard]] const std::filesystem::path& key_file() const { return key_file_; }

  // Backend options for this emulator with short timeouts.
  [[nodiscard]] server::MoonrakerOptions options(
      std::chrono::milliseconds query = std::chrono::seconds(5),
      std::chrono::milliseconds control = std::chrono::seconds(10)) const;

  // GET /_emulator/state (an empty object, and a test failure, when unreadable).
  [[nodiscard]] nlohmann::json state() const;
  // POST /_emulator/control with `action`; anything but 200 is a test failure.
  void control(const nlohmann::json& action) const;

 private:
  // Reads stdout until the readiness line (at most 20 s).
  void read_port();

  TempDir dir_;
  std::filesystem::path key_file_;
  pid_t pid_ = -1;
  int stdout_ = -1;
  int port_ = 0;
};

// The records in `state[list]` whose `field` equals `value`.
std::vector<nlohmann::json> records(const nlohmann::json& state, const char* list, const char* field,
                                    const std::string& value);

}  // namespace ipp3d::testing
