#include "cupsd_process.hpp"

#include "server_process.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <chrono>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <netinet/in.h>
#include <signal.h>
#include <sstream>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace ipp3d::testing {
namespace {

std::string slurp(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

int run_command_in(const std::vector<std::string>& argv, const std::filesystem::path& cwd,
                   const std::vector<std::string>& env, std::string& output) {
  int out_pipe[2];
  if (::pipe(out_pipe) != 0) return -1;
  // Everything the child needs is prepared before fork().
  std::vector<std::string> args = argv;
  std::vector<char*> c_args;
  for (auto& a : args) c_args.push_back(a.data());
  c_args.push_back(nullptr);
  std::vector<std::string> env_copy = env;
  const std::string dir = cwd.string();

  const pid_t pid = ::fork();
  if (pid == 0) {
    const int null_in = ::open("/dev/null", O_RDONLY);
    ::dup2(null_in, 0);
    ::dup2(out_pipe[1], 1);
    ::dup2(out_pipe[1], 2);
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    if (!dir.empty() && ::chdir(dir.c_str()) != 0) std::_Exit(126);
    for (auto& e : env_copy) ::putenv(e.data());
    ::execvp(c_args[0], c_args.data());
    std::_Exit(127);
  }
  ::close(out_pipe[1]);
  output.clear();
  char buffer[4096];
  ssize_t n = 0;
  while ((n = ::read(out_pipe[0], buffer, sizeof buffer)) > 0) output.append(buffer, static_cast<size_t>(n));
  ::close(out_pipe[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

CupsdProcess::CupsdProcess() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "ipp3d-cupsd-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp failed";
    return;
  }
  dir_ = tmpl;
  // cupsd running as root runs the ipps backend as User lp: it must be able
  // to walk into the directory to read the spooled document.
  ::chmod(dir_.c_str(), 0755);
  for (const char* sub : {"state", "cache", "spool", "tmp", "ssl"}) {
    std::filesystem::create_directories(dir_ / sub);
    ::chmod((dir_ / sub).c_str(), 0755);
  }
  port_ = free_loopback_port();

  const std::string d = dir_.string();
  {
    std::ofstream conf(dir_ / "cupsd.conf");
    conf << "LogLevel debug\n"
         << "Listen 127.0.0.1:" << port_ << "\n"
         << "Browsing No\n"
            "WebInterface No\n"
            "DefaultAuthType None\n"
            "<Location />\n  Order allow,deny\n  Allow all\n</Location>\n"
            "<Policy default>\n  <Limit All>\n    Order deny,allow\n  </Limit>\n</Policy>\n";
  }
  {
    std::ofstream files(dir_ / "cups-files.conf");
    files << "ServerRoot " << d << "\n"
          << "StateDir " << d << "/state\n"
          << "CacheDir " << d << "/cache\n"
          << "RequestRoot " << d << "/spool\n"
          << "TempDir " << d << "/tmp\n"
          << "DataDir /usr/share/cups\n"
             "ServerBin /usr/lib/cups\n"
          << "ErrorLog " << d << "/error_log\n"
          << "AccessLog " << d << "/access_log\n"
          << "PageLog " << d << "/page_log\n"
          << "FileDevice Yes\n";
    // As root, cupsd drops privileges for filters and backends; as another
    // user it runs them as that user and must not name lp.
    if (::geteuid() == 0) files << "User lp\nGroup lp\nSystemGroup root\n";
  }

  std::vector<std::string> args = {"cupsd", "-f", "-c", d + "/cupsd.conf", "-s", d + "/cups-files.conf"};
  std::vector<char*> c_args;
  for (auto& a : args) c_args.push_back(a.data());
  c_args.push_back(nullptr);
  const std::string log = d + "/cupsd.out";
  pid_ = ::fork();
  if (pid_ == 0) {
    const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(out, 1);
    ::dup2(out, 2);
    ::execvp(c_args[0], c_args.data());
    std::_Exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (!port_accepts(port_)) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      ADD_FAILURE() << "cupsd exited at start:\n" << error_log();
      return;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      ADD_FAILURE() << "cupsd did not listen within 15 s:\n" << error_log();
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

CupsdProcess::~CupsdProcess() {
  stop();
  std::error_code ec;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

std::string CupsdProcess::server() const { return "127.0.0.1:" + std::to_string(port_); }

int CupsdProcess::client(std::vector<std::string> argv, std::string& output) const {
  argv.insert(argv.begin() + 1, {"-h", server()});
  return run_command_in(argv, dir_, {"CUPS_SERVERROOT=" + dir_.string()}, output);
}

std::string CupsdProcess::error_log() const { return slurp(dir_ / "cupsd.out") + slurp(dir_ / "error_log"); }

int CupsdProcess::stop() {
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

}  // namespace ipp3d::testing
