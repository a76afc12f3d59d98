// Test harness: starts the real ipp3d-server on a free loopback port with a
// throwaway state directory and stops it by PID.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <sys/types.h>
#include <vector>

namespace ipp3d::testing {

// The admin account every ServerProcess creates before starting.
inline constexpr const char* kAdminUser = "admin";
inline constexpr const char* kAdminPassword = "test-admin-password";
// The account (role user) every ServerProcess creates too: the integration
// tests print as this user (printing needs an account, docs/security.md).
inline constexpr const char* kTestUser = "tester";
inline constexpr const char* kTestUserPassword = "test-user-password";

// Returns a TCP port on 127.0.0.1 that was free a moment ago.
int free_loopback_port();

// True when something accepts TCP connections on 127.0.0.1:port.
bool port_accepts(int port);

// Waits for child `pid` up to `timeout`; returns its exit status (128+signal
// when killed), or -1 when it is still running.
int wait_for_exit(pid_t pid, std::chrono::milliseconds timeout);

// A running ipp3d-server child process. The destructor sends SIGTERM, waits
// up to 10 s, then SIGKILLs, always by the child's PID.
class ServerProcess {
 public:
  // Creates the admin account (kAdminUser/kAdminPassword) in a fresh state
  // directory, starts `binary` with --listen 127.0.0.1:PORT --state-dir DIR
  // plus `extra_args`, and waits until the port accepts connections (or
  // fails the test). `extra_args` may bring its own "--listen HOST:PORT"
  // instead (a wildcard host in a test network namespace; PORT must accept on
  // 127.0.0.1 too): port() is then that PORT.
  ServerProcess(const std::filesystem::path& binary, std::vector<std::string> extra_args = {});
  // Starts `binary` on the state directory of an earlier (stopped) server
  // instead of a fresh one, keeping its admin account; the directory stays
  // owned, and is removed, by the instance that created it.
  ServerProcess(const std::filesystem::path& binary, std::vector<std::string> extra_args,
                const std::filesystem::path& existing_state_dir);
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;
  ~ServerProcess();

  [[nodiscard]] int port() const { return port_; }
  [[nodiscard]] pid_t pid() const { return pid_; }
  [[nodiscard]] const std::filesystem::path& state_dir() const { return state_dir_; }
  // ipps://127.0.0.1:PORT/ipp/print/NAME
  [[nodiscard]] std::string printer_uri(const std::string& printer_name, bool tls = true) const;
  // ipps://admin:PASSWORD@127.0.0.1:PORT/ipp/print/NAME
  [[nodiscard]] std::string admin_uri(const std::string& printer_name) const;
  // ipps://tester:PASSWORD@127.0.0.1:PORT/ipp/print/NAME (the test user).
  [[nodiscard]] std::string user_uri(const std::string& printer_name) const;
  // Creates account `name` with `role` ("admin", "operator", "user") through
  // `ipp3d-server user add` (the server may be running). False on failure.
  bool add_account(const std::string& name, const std::string& password, const std::string& role) const;
  // Everything the server wrote to stdout and stderr so far.
  [[nodiscard]] std::string output() const;
  // Sends SIGTERM and waits; returns the exit status (or -1 on timeout, after SIGKILL).
  int stop();
  // Sends SIGKILL (a crash) and waits for the process to end.
  void kill_hard();

 private:
  void start(const std::filesystem::path& binary, const std::vector<std::string>& extra_args);

  std::filesystem::path binary_;
  bool owns_state_dir_ = true;
  int port_ = 0;
  pid_t pid_ = -1;
  std::filesystem::path state_dir_;
  std::filesystem::path log_path_;
};

// Runs a command (argv form, no shell), captures stdout+stderr, returns the exit status.
int run_command(const std::vector<std::string>& argv, std::string& output);

// Runs the ipp3d client `binary` with `args` without a terminal (setsid -w),
// IPP3D_CONFIG_DIR=`config_dir` and `env` ("NAME=VALUE"), as the test account
// (kTestUser with its password) unless `env` names another IPP3D_USER;
// captures its output and returns its exit status.
int run_client(const std::filesystem::path& binary, const std::filesystem::path& config_dir,
               const std::vector<std::string>& args, std::string& output,
               const std::vector<std::string>& env = {});

// Like run_command, with `input` written to the command's standard input.
int run_command_with_input(const std::vector<std::string>& argv, const std::string& input,
                           std::string& output);

}  // namespace ipp3d::testing
