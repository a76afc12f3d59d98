// Test harness for interoperability with CUPS: a private cupsd on a loopback
// port with a throwaway configuration (nothing under /etc/cups is read or
// written), stopped by PID; and a command runner with a working directory
// and extra environment variables.
#pragma once

#include <filesystem>
#include <string>
#include <sys/types.h>
#include <vector>

namespace ipp3d::testing {

// Runs argv (no shell) in `cwd` with `env` ("NAME=value") added to the
// environment; captures stdout+stderr into `output`; returns the exit status
// (127 when the program cannot be started, 128+signal when killed).
int run_command_in(const std::vector<std::string>& argv, const std::filesystem::path& cwd,
                   const std::vector<std::string>& env, std::string& output);

// A cupsd child process on 127.0.0.1:PORT with its own ServerRoot, StateDir,
// CacheDir, RequestRoot, TempDir and logs in a temporary directory. No
// browsing, no web interface, no authorization (the policy allows every
// operation: the daemon only listens on loopback and lives for one test).
// The destructor sends SIGTERM by PID, waits, then SIGKILLs, and removes the
// directory.
class CupsdProcess {
 public:
  // Starts `cupsd -f -c CUPSD_CONF -s CUPS_FILES_CONF` and waits until the
  // port accepts connections (or fails the test).
  CupsdProcess();
  CupsdProcess(const CupsdProcess&) = delete;
  CupsdProcess& operator=(const CupsdProcess&) = delete;
  ~CupsdProcess();

  [[nodiscard]] int port() const { return port_; }
  [[nodiscard]] pid_t pid() const { return pid_; }
  [[nodiscard]] const std::filesystem::path& dir() const { return dir_; }
  // "127.0.0.1:PORT", for the -h option of lp, lpadmin, lpstat.
  [[nodiscard]] std::string server() const;
  // Runs a CUPS client command (lp, lpadmin, ...) against this cupsd: adds
  // "-h 127.0.0.1:PORT" after argv[0] and points CUPS_SERVERROOT at the
  // private directory so that no system client.conf is read.
  int client(std::vector<std::string> argv, std::string& output) const;
  // The cupsd error log (LogLevel debug) and what cupsd wrote to stdout/stderr.
  [[nodiscard]] std::string error_log() const;
  // Sends SIGTERM and waits (SIGKILL after 10 s); returns the exit status or -1.
  int stop();

 private:
  int port_ = 0;
  pid_t pid_ = -1;
  std::filesystem::path dir_;
};

}  // namespace ipp3d::testing
