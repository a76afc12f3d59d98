#include "server_process.hpp"

#include "signing.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <arpa/inet.h>
#include <chrono>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <netinet/in.h>
#include <signal.h>
#include <sstream>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace ipp3d::testing {
namespace {

// Converts argv strings for execv.
std::vector<char*> c_argv(std::vector<std::string>& args) {
  std::vector<char*> out;
  for (auto& a : args) out.push_back(a.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

// True when something accepts TCP connections on 127.0.0.1:port.
bool port_accepts(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

int wait_for_exit(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -1;
}

int free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

ServerProcess::ServerProcess(const std::filesystem::path& binary, std::vector<std::string> extra_args) {
  port_ = free_loopback_port();
  std::string tmpl = (std::filesystem::temp_directory_path() / "ipp3d-test-XXXXXX").string();
  state_dir_ = ::mkdtemp(tmpl.data());
  log_path_ = state_dir_ / "server.out";

  std::string admin_output;
  if (run_command_with_input({binary.string(), "admin", "set-password", "--state-dir", state_dir_.string()},
                             std::string(kAdminPassword) + "\n", admin_output) != 0) {
    ADD_FAILURE() << "admin set-password failed:\n" << admin_output;
    return;
  }
  binary_ = binary;
  if (!add_account(kTestUser, kTestUserPassword, "user")) return;
  // Every test server trusts the test signer (tests/integration/signing.hpp).
  const auto signer_file = state_dir_ / "test-signer.pub";
  write_test_signer_public_key(signer_file);
  std::string trust_output;
  if (run_command({binary.string(), "trust", "add", signer_file.string(), "--name", kTestSignerName,
                   "--state-dir", state_dir_.string()},
                  trust_output) != 0) {
    ADD_FAILURE() << "trust add failed:\n" << trust_output;
    return;
  }
  start(binary, extra_args);
}

ServerProcess::ServerProcess(const std::filesystem::path& binary, std::vector<std::string> extra_args,
                             const std::filesystem::path& existing_state_dir)
    : binary_(binary), owns_state_dir_(false), state_dir_(existing_state_dir) {
  port_ = free_loopback_port();
  log_path_ = state_dir_ / ("server-" + std::to_string(port_) + ".out");
  start(binary, extra_args);
}

void ServerProcess::start(const std::filesystem::path& binary, const std::vector<std::string>& extra_args) {
  std::vector<std::string> args = {binary.string(), "--state-dir", state_dir_.string()};
  const auto listen = std::find(extra_args.begin(), extra_args.end(), "--listen");
  if (listen != extra_args.end() && listen + 1 != extra_args.end()) {
    port_ = std::stoi((listen + 1)->substr((listen + 1)->rfind(':') + 1));  // the test's own listener
  } else {
    args.insert(args.end(), {"--listen", "127.0.0.1:" + std::to_string(port_)});
  }
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  pid_ = ::fork();
  if (pid_ == 0) {
    const int out = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(out, 1);
    ::dup2(out, 2);
    auto argv = c_argv(args);
    ::execv(argv[0], argv.data());
    std::_Exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  // Ready when the port accepts and the server has printed its fingerprint
  // (the last line it prints at start).
  while (!port_accepts(port_) || output().find("certificate SHA-256:") == std::string::npos) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      ADD_FAILURE() << "ipp3d-server exited at start:\n" << output();
      return;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      ADD_FAILURE() << "ipp3d-server was not ready within 20 s:\n" << output();
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

ServerProcess::~ServerProcess() {
  stop();
  std::error_code ec;
  if (owns_state_dir_ && !state_dir_.empty()) std::filesystem::remove_all(state_dir_, ec);
}

std::string ServerProcess::printer_uri(const std::string& printer_name, bool tls) const {
  return std::string(tls ? "ipps" : "ipp") + "://127.0.0.1:" + std::to_string(port_) + "/ipp/print/" +
         printer_name;
}

std::string ServerProcess::admin_uri(const std::string& printer_name) const {
  return std::string("ipps://") + kAdminUser + ":" + kAdminPassword + "@127.0.0.1:" + std::to_string(port_) +
         "/ipp/print/" + printer_name;
}

std::string ServerProcess::user_uri(const std::string& printer_name) const {
  return std::string("ipps://") + kTestUser + ":" + kTestUserPassword +
         "@127.0.0.1:" + std::to_string(port_) + "/ipp/print/" + printer_name;
}

bool ServerProcess::add_account(const std::string& name, const std::string& password,
                                const std::string& role) const {
  std::string output;
  if (run_command_with_input(
          {binary_.string(), "user", "add", name, "--role", role, "--state-dir", state_dir_.string()},
          password + "\n", output) != 0) {
    ADD_FAILURE() << "user add " << name << " failed:\n" << output;
    return false;
  }
  return true;
}

std::string ServerProcess::output() const {
  std::ifstream in(log_path_);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void ServerProcess::kill_hard() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  wait_for_exit(pid_, std::chrono::seconds(10));
  pid_ = -1;
}

int ServerProcess::stop() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int status = wait_for_exit(pid_, std::chrono::seconds(10));
  if (status < 0) {
    ::kill(pid_, SIGKILL);
    wait_for_exit(pid_, std::chrono::seconds(5));
  }
  pid_ = -1;
  return status;
}

int run_command(const std::vector<std::string>& argv, std::string& output) {
  return run_command_with_input(argv, "", output);
}

int run_command_with_input(const std::vector<std::string>& argv, const std::string& input,
                           std::string& output) {
  int out_pipe[2];
  int in_pipe[2];
  if (::pipe(out_pipe) != 0) return -1;
  if (::pipe(in_pipe) != 0) return -1;
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(in_pipe[0], 0);
    ::dup2(out_pipe[1], 1);
    ::dup2(out_pipe[1], 2);
    for (int fd : {in_pipe[0], in_pipe[1], out_pipe[0], out_pipe[1]}) ::close(fd);
    std::vector<std::string> args = argv;
    auto c = c_argv(args);
    ::execvp(c[0], c.data());
    std::_Exit(127);
  }
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  // Small inputs only (a password): they fit the pipe buffer.
  if (!input.empty()) (void)!::write(in_pipe[1], input.data(), input.size());
  ::close(in_pipe[1]);
  char buffer[4096];
  ssize_t n = 0;
  output.clear();
  while ((n = ::read(out_pipe[0], buffer, sizeof buffer)) > 0) output.append(buffer, static_cast<size_t>(n));
  ::close(out_pipe[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int run_client(const std::filesystem::path& binary, const std::filesystem::path& config_dir,
               const std::vector<std::string>& args, std::string& output,
               const std::vector<std::string>& env) {
  std::vector<std::string> argv = {"env", "-u",         "IPP3D_PASSWORD",
                                   "-u",  "IPP3D_USER", "IPP3D_CONFIG_DIR=" + config_dir.string()};
  const bool other_user = std::any_of(env.begin(), env.end(),
                                      [](const std::string& v) { return v.rfind("IPP3D_USER=", 0) == 0; });
  if (!other_user) {
    argv.push_back(std::string("IPP3D_USER=") + kTestUser);
    argv.push_back(std::string("IPP3D_PASSWORD=") + kTestUserPassword);
  }
  argv.insert(argv.end(), env.begin(), env.end());
  argv.insert(argv.end(), {"setsid", "-w", binary.string()});
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv, output);
}

}  // namespace ipp3d::testing
