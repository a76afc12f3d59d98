// Passphrases from the environment or the terminal, and the configuration
// directory (passphrase.hpp).
#include "passphrase.hpp"

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

namespace ipp3d::client {
namespace {

constexpr std::size_t kMaxPassphrase = 1024;

// Signals that would leave the terminal without echo: caught while reading,
// re-raised once the terminal is restored.
constexpr std::array<int, 7> kSignals = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU};
volatile std::sig_atomic_t caught_signal = 0;

extern "C" void note_signal(int signal_number) { caught_signal = signal_number; }

Error usage_error(const std::string& message) { return Error{IPP_STATUS_ERROR_INTERNAL, message, {}, 0}; }

// The terminal in no-echo mode for the lifetime of the object; the old mode
// and signal handlers are restored by restore() (and the destructor).
class QuietTerminal {
 public:
  explicit QuietTerminal(int fd) : fd_(fd) {
    if (::tcgetattr(fd_, &saved_) != 0) return;
    caught_signal = 0;
    struct sigaction action {};
    action.sa_handler = note_signal;  // no SA_RESTART: read() returns EINTR
    sigemptyset(&action.sa_mask);
    for (std::size_t i = 0; i < kSignals.size(); ++i)
      (void)::sigaction(kSignals[i], &action, &old_actions_[i]);
    struct termios quiet = saved_;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO | ECHONL);
    quiet.c_lflag |= ICANON;
    active_ = ::tcsetattr(fd_, TCSAFLUSH, &quiet) == 0;
    if (!active_) restore_handlers();
  }
  QuietTerminal(const QuietTerminal&) = delete;
  QuietTerminal& operator=(const QuietTerminal&) = delete;
  ~QuietTerminal() { restore(); }

  [[nodiscard]] bool active() const { return active_; }

  // Echo back on, handlers back, then any signal caught meanwhile delivered.
  void restore() {
    if (!active_) return;
    active_ = false;
    (void)::tcsetattr(fd_, TCSAFLUSH, &saved_);
    (void)!::write(fd_, "\n", 1);
    restore_handlers();
    if (caught_signal != 0) (void)std::raise(caught_signal);
  }

 private:
  void restore_handlers() {
    for (std::size_t i = 0; i < kSignals.size(); ++i)
      (void)::sigaction(kSignals[i], &old_actions_[i], nullptr);
  }

  int fd_;
  struct termios saved_ {};
  std::array<struct sigaction, kSignals.size()> old_actions_{};
  bool active_ = false;
};

// An empty string whose buffer is on the heap and large enough for any
// passphrase, so that moving it hands the buffer over instead of copying
// the bytes (as the small-string buffer would) and growing never leaves a
// copy behind.
std::string secret_buffer() {
  std::string text;
  text.reserve(kMaxPassphrase + 1);
  return text;
}

// The passphrase in the environment: IPP3D_KEY_PASSPHRASE, else
// IPP3D_PASSPHRASE; nullptr when neither is set.
const char* environment_passphrase() {
  const char* value = std::getenv(kKeyPassphraseVariable);
  return value != nullptr ? value : std::getenv(kPassphraseVariable);
}

// A passphrase from the environment, in a secret_buffer().
std::optional<std::string> from_environment() {
  const char* value = environment_passphrase();
  if (value == nullptr || std::strlen(value) > kMaxPassphrase) return std::nullopt;
  std::string text = secret_buffer();
  text.assign(value);
  return text;
}

// Reads one line (without its LF) from the terminal `fd`; nullopt on error,
// interruption or a line longer than kMaxPassphrase.
std::optional<std::string> read_line(int fd) {
  std::string line = secret_buffer();
  for (;;) {
    char c = 0;
    const ssize_t n = ::read(fd, &c, 1);
    if (n < 0 && errno == EINTR && caught_signal == 0) continue;
    if (n <= 0 || (c != '\n' && c != '\r' && line.size() == kMaxPassphrase)) {
      trust::secure_wipe(line);
      return std::nullopt;
    }
    if (c == '\n' || c == '\r') return line;
    line.push_back(c);
  }
}

// Asks on the controlling terminal; nullopt without one.
std::optional<std::string> ask_terminal(const std::string& prompt) {
  const int fd = ::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::optional<std::string> answer;
  {
    QuietTerminal quiet(fd);
    if (quiet.active() && ::write(fd, prompt.data(), prompt.size()) == static_cast<ssize_t>(prompt.size())) {
      answer = read_line(fd);
    }
    quiet.restore();
  }
  (void)::close(fd);
  return answer;
}

}  // namespace

std::optional<std::string> ask_secret(const std::string& prompt) { return ask_terminal(prompt); }

std::optional<std::string> read_passphrase(const std::string& prompt) {
  if (environment_passphrase() != nullptr) return from_environment();
  return ask_terminal(prompt);
}

Result<std::string> read_new_passphrase(const std::filesystem::path& key) {
  std::optional<std::string> first;
  if (environment_passphrase() != nullptr) {
    first = from_environment();
    if (!first) return usage_error("IPP3D_PASSPHRASE is longer than 1024 bytes");
  } else {
    first = ask_terminal("New passphrase for " + key.string() + ": ");
    if (!first) return usage_error("no terminal to ask for a passphrase (set IPP3D_PASSPHRASE in scripts)");
    std::optional<std::string> again = ask_terminal("Repeat the passphrase: ");
    const bool same = again && *again == *first;
    if (again) trust::secure_wipe(*again);
    if (!same) {
      trust::secure_wipe(*first);
      return usage_error("the two passphrases differ");
    }
  }
  if (first->empty())
    return usage_error("the passphrase is empty (leave out --passphrase for no passphrase)");
  return std::move(*first);  // the heap buffer moves, no copy is left
}

std::string key_error_text(const Error& error) {
  if (error.attribute != "passphrase" || error.message.find("none was given") == std::string::npos) {
    return error.message;
  }
  return error.message + " (run at a terminal, or set IPP3D_PASSPHRASE)";
}

trust::PassphraseProvider passphrase_for(const std::filesystem::path& key) {
  return [key] { return read_passphrase("Passphrase for " + key.string() + ": "); };
}

Result<std::filesystem::path> config_directory() {
  const auto variable = [](const char* name) -> std::string {
    const char* value = std::getenv(name);
    return value != nullptr ? value : "";
  };
  if (const std::string dir = variable("IPP3D_CONFIG_DIR"); !dir.empty()) return std::filesystem::path(dir);
  if (const std::string xdg = variable("XDG_CONFIG_HOME"); !xdg.empty()) {
    return std::filesystem::path(xdg) / "ipp3d";
  }
  if (const std::string home = variable("HOME"); !home.empty()) {
    return std::filesystem::path(home) / ".config" / "ipp3d";
  }
  return usage_error(
      "no configuration directory: set IPP3D_CONFIG_DIR or HOME, or name the key with --key/--out");
}

Result<std::filesystem::path> default_key_path() {
  auto dir = config_directory();
  if (!dir) return std::move(dir).error();
  return *dir / "key";
}

Result<trust::SecretKey> read_signing_key(const std::filesystem::path& file_option) {
  std::filesystem::path file = file_option;
  if (file.empty()) {
    auto path = default_key_path();
    if (!path) return std::move(path).error();
    file = *path;
    if (!std::filesystem::exists(file)) {
      return Error{IPP_STATUS_ERROR_INTERNAL,
                   "no signing key at " + file.string() + ": run ipp3d keygen first",
                   {},
                   0};
    }
  }
  auto key = trust::read_secret_key_file(file, passphrase_for(file));
  if (!key) return Error{IPP_STATUS_ERROR_INTERNAL, key_error_text(key.error()), {}, 0};
  if (key->algorithm() != trust::KeyAlgorithm::kEd25519) {
    return Error{IPP_STATUS_ERROR_INTERNAL, file.string() + " is not an ed25519 signing key", {}, 0};
  }
  return key;
}

Status ensure_config_directory() {
  auto dir = config_directory();
  if (!dir) return std::move(dir).error();
  std::error_code ec;
  if (dir->has_parent_path()) std::filesystem::create_directories(dir->parent_path(), ec);
  if (ec) return usage_error("cannot create " + dir->parent_path().string() + ": " + ec.message());
  if (::mkdir(dir->c_str(), 0700) != 0 && errno != EEXIST) {
    return usage_error("cannot create " + dir->string() + ": " + std::strerror(errno));
  }
  return {};
}

}  // namespace ipp3d::client
