// `ipp3d-server admin set-password`: reads a new password (prompting without
// echo on a terminal, or one line from a script) and stores it as an admin.
#include "state/admin_command.hpp"

#include "state/password.hpp"
#include "state/state_store.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <istream>
#include <ostream>
#include <sys/stat.h>
#include <system_error>
#include <termios.h>
#include <unistd.h>

namespace ipp3d::server {
namespace {

// Turns terminal echo off on standard input for its lifetime and restores
// the previous settings when destroyed (also on every error path).
class EchoOff {
 public:
  // Saves the terminal settings and clears ECHO; no-op when stdin is no terminal.
  EchoOff() {
    if (::tcgetattr(STDIN_FILENO, &saved_) != 0) return;
    termios quiet = saved_;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    active_ = ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
  }
  // Restores the saved settings.
  ~EchoOff() {
    if (active_) ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_);
  }
  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;

 private:
  termios saved_{};      // settings before echo was turned off
  bool active_ = false;  // true when saved_ must be restored
};

// Reads one line into `line` without its trailing "\r"; false at end of input.
bool read_line(std::istream& in, std::string& line) {
  if (!std::getline(in, line)) return false;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return true;
}

// Prompts on `out` and reads one line with echo off; the newline the user
// typed is not echoed, so one is printed.
bool prompt(const std::string& text, std::istream& in, std::ostream& out, std::string& line) {
  out << text << std::flush;
  const bool got = read_line(in, line);
  out << "\n" << std::flush;
  return got;
}

}  // namespace

bool read_new_password(const std::string& user, std::istream& in, bool interactive, std::ostream& out,
                       std::ostream& err, password::SecretString& secret) {
  if (!interactive) {
    if (read_line(in, secret.str())) return true;
    err << "ipp3d-server: no password on standard input\n";
    return false;
  }
  password::SecretString repeat;
  bool got = false;
  {
    const EchoOff echo_off;
    got = prompt("New password for " + user + ": ", in, out, secret.str()) &&
          prompt("Repeat: ", in, out, repeat.str());
  }
  if (!got) {
    err << "ipp3d-server: no password entered\n";
    return false;
  }
  if (secret.str() != repeat.str()) {
    err << "ipp3d-server: the passwords do not match; nothing changed\n";
    return false;
  }
  return true;
}

bool ensure_state_dir(const std::filesystem::path& dir, std::ostream& err) {
  std::error_code ec;
  if (std::filesystem::is_directory(dir, ec)) return true;
  if (dir.has_parent_path()) std::filesystem::create_directories(dir.parent_path(), ec);
  if (!ec && (::mkdir(dir.c_str(), 0700) == 0 || errno == EEXIST)) return true;
  err << "ipp3d-server: cannot create the state directory " << dir.string() << ": "
      << (ec ? ec.message() : std::strerror(errno)) << "\n";
  return false;
}

// Validates, opens the store, reads the password and stores the admin account.
int admin_set_password(const std::filesystem::path& state_dir, const std::string& user, std::istream& in,
                       bool interactive, std::ostream& out, std::ostream& err) {
  if (Status valid = password::validate_user_name(user); !valid) {
    err << "ipp3d-server: " << valid.error().message << "\n";
    return 1;
  }
  if (!ensure_state_dir(state_dir, err)) return 1;
  Result<std::unique_ptr<StateStore>> store = StateStore::open(state_dir / "ipp3d.db");
  if (!store) {
    err << "ipp3d-server: " << store.error().message << "\n";
    return 1;
  }
  password::SecretString secret;
  if (!read_new_password(user, in, interactive, out, err, secret)) return 1;
  if (Status stored = (*store)->set_password(user, secret.str(), Role::kAdmin); !stored) {
    err << "ipp3d-server: " << stored.error().message << "\n";
    return 1;
  }
  out << "Password set for admin account '" << user << "'.\n";
  return 0;
}

std::unique_ptr<StateStore> open_state_store(const std::filesystem::path& state_dir, std::ostream& err) {
  if (!ensure_state_dir(state_dir, err)) return nullptr;
  auto store = StateStore::open(state_dir / "ipp3d.db");
  if (!store) {
    err << "ipp3d-server: " << store.error().message << "\n";
    return nullptr;
  }
  return std::move(store).value();
}

std::string utc_date(std::int64_t when) {
  const auto seconds = static_cast<std::time_t>(when);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  std::array<char, 16> text{};
  if (std::strftime(text.data(), text.size(), "%Y-%m-%d", &utc) == 0) return "?";
  return text.data();
}

}  // namespace ipp3d::server
