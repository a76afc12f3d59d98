// The Moonraker emulator (tests/moonraker/) as a child process of a test:
// started on a free loopback port with a scenario and the key kKey, stopped
// by SIGTERM to its PID; its control and state API. Header-only, for the
// integration tests that need it.
#pragma once

#include "backend/moonraker_backend.hpp"
#include "backend/moonraker_http.hpp"
#include "ipp_client.hpp"
#include "signing.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <fcntl.h>
#include <filesystem>
#include <poll.h>
#include <signal.h>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace ipp3d::testing {

// The API key every test emulator uses.
inline constexpr const char* kKey = "0123456789abcdef0123456789abcdef";

// A scenario whose Moonraker and Klipper setup passes the machine check
// (machine_check.hpp) for MoonrakerTestConfig's printer: config write access
// off, Klipper's limits at or above the printer's (hotend 280 °C, 500 mm/s,
// 10000 mm/s²); `more` is merged on top (JSON merge patch).
inline nlohmann::json clean_scenario(const nlohmann::json& more = nlohmann::json::object()) {
  nlohmann::json scenario = {
      {"moonraker_conf", {{"file_manager", {{"enable_config_write_access", false}}}}},
      {"printer_cfg",
       {{"extruder", {{"max_temp", 300}}}, {"printer", {{"max_velocity", 500}, {"max_accel", 10000}}}}}};
  scenario.merge_patch(more);
  return scenario;
}

// One emulator process: started with --port 0, stopped by SIGTERM to its PID.
class Emulator {
 public:
  // Starts the emulator with `scenario` (a JSON object) and the key kKey.
  explicit Emulator(const nlohmann::json& scenario) {
    key_file_ = dir_.path() / "moonraker.key";
    write_bytes(key_file_, std::string(kKey) + "\n");
    ::chmod(key_file_.c_str(), 0600);
    const auto scenario_file = dir_.path() / "scenario.json";
    write_bytes(scenario_file, scenario.dump());
    int out[2];
    if (::pipe(out) != 0) {
      ADD_FAILURE() << "pipe failed";
      return;
    }
    const std::string script = std::string(IPP3D_SOURCE_DIR) + "/tests/moonraker/moonraker_emulator.py";
    const std::string log = (dir_.path() / "emulator.log").string();
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], STDOUT_FILENO);
      const int err = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (err >= 0) ::dup2(err, STDERR_FILENO);
      ::close(out[0]);
      ::execl("/usr/bin/python3", "python3", "-S", script.c_str(), "--port", "0", "--api-key-file",
              key_file_.c_str(), "--scenario", scenario_file.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(out[1]);
    stdout_ = out[0];
    read_port();
  }
  Emulator(const Emulator&) = delete;
  Emulator& operator=(const Emulator&) = delete;
  ~Emulator() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    if (stdout_ >= 0) ::close(stdout_);
  }

  [[nodiscard]] int port() const { return port_; }
  [[nodiscard]] std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  [[nodiscard]] const std::filesystem::path& key_file() const { return key_file_; }

  // Backend options for this emulator with short timeouts.
  [[nodiscard]] server::MoonrakerOptions options(
      std::chrono::milliseconds query = std::chrono::seconds(5),
      std::chrono::milliseconds control = std::chrono::seconds(10)) const {
    return server::MoonrakerOptions{url(), kKey, query, control};
  }

  // GET /_emulator/state.
  nlohmann::json state() const {
    const auto answer = client_().perform(call("GET", "/_emulator/state", ""));
    if (!answer || answer->status != 200) {
      ADD_FAILURE() << "cannot read the emulator's state";
      return nlohmann::json::object();
    }
    return nlohmann::json::parse(answer->body, nullptr, false);
  }

  // POST /_emulator/control with `action`.
  void control(const nlohmann::json& action) const {
    const auto answer = client_().perform(call("POST", "/_emulator/control", action.dump()));
    EXPECT_TRUE(answer && answer->status == 200)
        << action.dump() << ": " << (answer ? answer->body : answer.error().message);
  }

 private:
  // A request to the emulator.
  static server::moonraker::HttpCall call(const std::string& method, const std::string& target,
                                          const std::string& body) {
    server::moonraker::HttpCall c;
    c.method = method;
    c.target = target;
    c.json_body = body;
    c.timeout = std::chrono::seconds(10);
    return c;
  }
  // A client without API key (the control API needs none).
  [[nodiscard]] server::moonraker::HttpClient client_() const { return {url(), ""}; }

  // Reads stdout until the readiness line (at most 20 s).
  void read_port() {
    std::string text;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    const std::string marker = "listening on 127.0.0.1:";
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd fd{stdout_, POLLIN, 0};
      if (::poll(&fd, 1, 200) <= 0) continue;
      char buffer[256];
      const ssize_t got = ::read(stdout_, buffer, sizeof buffer);
      if (got <= 0) break;
      text.append(buffer, static_cast<std::size_t>(got));
      const auto at = text.find(marker);
      if (at != std::string::npos && text.find('\n', at) != std::string::npos) {
        port_ = std::stoi(text.substr(at + marker.size()));
        return;
      }
    }
    ADD_FAILURE() << "the emulator did not start: " << text << read_file(dir_.path() / "emulator.log");
  }

  TempDir dir_;
  std::filesystem::path key_file_;
  pid_t pid_ = -1;
  int stdout_ = -1;
  int port_ = 0;
};

// The records in `state[list]` whose `field` equals `value`.
inline std::vector<nlohmann::json> records(const nlohmann::json& state, const char* list, const char* field,
                                           const std::string& value) {
  std::vector<nlohmann::json> found;
  if (!state.contains(list)) return found;
  for (const nlohmann::json& entry : state[list]) {
    if (entry.is_object() && entry.contains(field) && entry[field].is_string() && entry[field] == value) {
      found.push_back(entry);
    }
  }
  return found;
}

}  // namespace ipp3d::testing
