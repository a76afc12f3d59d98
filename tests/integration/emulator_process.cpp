#include "emulator_process.hpp"

#include "backend/moonraker_http.hpp"
#include "signing.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace ipp3d::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// A request to the emulator.
server::moonraker::HttpCall call(const std::string& method, const std::string& target,
                                 const std::string& body) {
  server::moonraker::HttpCall c;
  c.method = method;
  c.target = target;
  c.json_body = body;
  c.timeout = 10s;
  return c;
}

}  // namespace

json clean_scenario(const json& more) {
  json scenario = {
      {"moonraker_conf", {{"file_manager", {{"enable_config_write_access", false}}}}},
      {"printer_cfg",
       {{"extruder", {{"max_temp", 300}}}, {"printer", {{"max_velocity", 500}, {"max_accel", 10000}}}}}};
  scenario.merge_patch(more);
  return scenario;
}

Emulator::Emulator(const json& scenario) {
  key_file_ = dir_.path() / "moonraker.key";
  write_bytes(key_file_, std::string(kEmulatorKey) + "\n");
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

Emulator::~Emulator() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  if (stdout_ >= 0) ::close(stdout_);
}

server::MoonrakerOptions Emulator::options(std::chrono::milliseconds query,
                                           std::chrono::milliseconds control) const {
  return server::MoonrakerOptions{url(), kEmulatorKey, query, control};
}

json Emulator::state() const {
  const server::moonraker::HttpClient client(url(), "");  // the control API needs no key
  const auto answer = client.perform(call("GET", "/_emulator/state", ""));
  if (!answer || answer->status != 200) {
    ADD_FAILURE() << "cannot read the emulator's state";
    return json::object();
  }
  return json::parse(answer->body, nullptr, false);
}

void Emulator::control(const json& action) const {
  const server::moonraker::HttpClient client(url(), "");
  const auto answer = client.perform(call("POST", "/_emulator/control", action.dump()));
  EXPECT_TRUE(answer && answer->status == 200)
      << action.dump() << ": " << (answer ? answer->body : answer.error().message);
}

void Emulator::read_port() {
  std::string text;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
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

std::vector<json> records(const json& state, const char* list, const char* field, const std::string& value) {
  std::vector<json> found;
  if (!state.contains(list)) return found;
  for (const json& entry : state[list]) {
    if (entry.is_object() && entry.contains(field) && entry[field].is_string() && entry[field] == value) {
      found.push_back(entry);
    }
  }
  return found;
}

}  // namespace ipp3d::testing
