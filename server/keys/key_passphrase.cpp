#include "keys/key_passphrase.hpp"

#include <sodium.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ipp3d::server {
namespace {

constexpr std::size_t kMaxPassphrase = 1024;

// An Error about a key or passphrase file.
Error key_error(const std::string& message) { return Error{IPP_STATUS_ERROR_INTERNAL, message, "keys", 0}; }

// Overwrites all of `text`'s capacity and empties it.
void wipe(std::string& text) {
  text.resize(text.capacity());
  sodium_memzero(text.data(), text.size());
  text.clear();
}

// Reads at most kMaxPassphrase + 2 bytes of the open file `fd` into a
// buffer reserved up front (so growing never leaves copies behind).
Result<std::string> read_bounded(int fd, const std::string& name) {
  std::string text;
  text.reserve(kMaxPassphrase + 2);
  char c = 0;
  while (text.size() <= kMaxPassphrase) {
    const ssize_t n = ::read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      wipe(text);
      return key_error("cannot read " + name + ": " + std::strerror(errno));
    }
    if (n == 0 || c == '\n') break;
    text.push_back(c);
  }
  if (!text.empty() && text.back() == '\r') text.pop_back();
  if (text.size() > kMaxPassphrase) {
    wipe(text);
    return key_error(name + ": the passphrase is longer than 1024 bytes");
  }
  return text;
}

}  // namespace

KeyPassphrase::KeyPassphrase(std::string&& text, std::string source)
    : text_(std::move(text)), source_(std::move(source)) {}

KeyPassphrase::KeyPassphrase(KeyPassphrase&& other) noexcept
    : text_(std::move(other.text_)), source_(std::move(other.source_)) {
  other.text_.clear();
}

KeyPassphrase& KeyPassphrase::operator=(KeyPassphrase&& other) noexcept {
  if (this != &other) {
    wipe(text_);
    text_ = std::move(other.text_);
    source_ = std::move(other.source_);
    other.text_.clear();
  }
  return *this;
}

KeyPassphrase::~KeyPassphrase() { wipe(text_); }

Result<KeyPassphrase> KeyPassphrase::read_file(const std::filesystem::path& file) {
  if (Status ok = require_private_file(file); !ok) return ok.error();
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return key_error("cannot open passphrase file " + file.string() + ": " + std::strerror(errno));
  auto text = read_bounded(fd, file.string());
  (void)::close(fd);  // read-only descriptor
  if (!text) return text.error();
  if (text->empty()) return key_error("passphrase file " + file.string() + " is empty");
  return KeyPassphrase(std::move(text).value(), file.string());
}

trust::PassphraseProvider KeyPassphrase::provider() const {
  return [this]() -> std::optional<std::string> {
    if (text_.empty()) return std::nullopt;
    return text_;  // the reader wipes its copy
  };
}

std::optional<std::filesystem::path> key_passphrase_file(
    const std::optional<std::filesystem::path>& configured) {
  if (configured) return configured;
  const char* credentials = std::getenv("CREDENTIALS_DIRECTORY");
  if (credentials == nullptr || *credentials == '\0') return std::nullopt;
  std::filesystem::path file = std::filesystem::path(credentials) / kKeyPassphraseCredential;
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return std::nullopt;
  return file;
}

Result<KeyPassphrase> load_key_passphrase(const std::optional<std::filesystem::path>& file) {
  if (!file) return KeyPassphrase();
  return KeyPassphrase::read_file(*file);
}

std::string missing_passphrase_message(const std::filesystem::path& key_file) {
  return key_file.string() +
         " is protected by a passphrase and none was given: name a file holding it with "
         "--key-passphrase-file FILE or [server] key_passphrase_file, or give it as the systemd credential " +
         kKeyPassphraseCredential + " (LoadCredential=)";
}

Status require_private_file(const std::filesystem::path& file) {
  struct stat info {};
  if (::stat(file.c_str(), &info) != 0) {
    return key_error("cannot examine " + file.string() + ": " + std::strerror(errno));
  }
  if ((info.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    char octal[16];
    (void)std::snprintf(octal, sizeof octal, "%04o", static_cast<unsigned>(info.st_mode & 07777));
    return key_error(file.string() + " may be read or written by group or others (mode " + octal +
                     "); it holds a secret and must be private: chmod 600 " + file.string());
  }
  return {};
}

}  // namespace ipp3d::server
