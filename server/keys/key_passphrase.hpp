// The passphrase that protects the server's private keys at rest
// (docs/security.md "Keys at rest"): read from a file named by
// --key-passphrase-file or [server] key_passphrase_file, or from systemd's
// credentials ($CREDENTIALS_DIRECTORY/ipp3d-key-passphrase).
#pragma once

#include "ipp3d/result.hpp"
#include "ipp3d/trust/keys.hpp"

#include <filesystem>
#include <optional>
#include <string>

namespace ipp3d::server {

// The credential name systemd's LoadCredential= gives the passphrase.
inline constexpr const char* kKeyPassphraseCredential = "ipp3d-key-passphrase";

// A passphrase held in memory that is wiped when the object goes. Empty: no
// passphrase was configured (keys are stored and read unprotected). Move-only.
class KeyPassphrase {
 public:
  KeyPassphrase() = default;
  // Wraps `text` (taken over; the caller's copy is emptied).
  explicit KeyPassphrase(std::string&& text, std::string source);
  // Reads the first line of `file` (without its line end). Errors: unreadable,
  // readable or writable by group or others (the message says `chmod 600 FILE`),
  // empty, longer than 1024 bytes.
  static Result<KeyPassphrase> read_file(const std::filesystem::path& file);

  KeyPassphrase(KeyPassphrase&& other) noexcept;
  KeyPassphrase& operator=(KeyPassphrase&& other) noexcept;
  KeyPassphrase(const KeyPassphrase&) = delete;
  KeyPassphrase& operator=(const KeyPassphrase&) = delete;
  ~KeyPassphrase();

  [[nodiscard]] bool empty() const { return text_.empty(); }
  // The passphrase; only while the object lives.
  [[nodiscard]] const std::string& text() const { return text_; }
  // Where it came from ("FILE"), for messages.
  [[nodiscard]] const std::string& source() const { return source_; }
  // A provider for trust::read_secret_key_file (nullopt when empty). The
  // provider refers to this object: it must not outlive it.
  [[nodiscard]] trust::PassphraseProvider provider() const;

 private:
  std::string text_;
  std::string source_;
};

// The passphrase file to use: `configured` (flag or configuration) when set,
// else $CREDENTIALS_DIRECTORY/ipp3d-key-passphrase when that file exists,
// else nullopt (no passphrase).
std::optional<std::filesystem::path> key_passphrase_file(
    const std::optional<std::filesystem::path>& configured);

// The passphrase of `file` (nullopt: an empty KeyPassphrase). Errors as read_file().
Result<KeyPassphrase> load_key_passphrase(const std::optional<std::filesystem::path>& file);

// The message for a protected key file met without a passphrase: how to give one.
std::string missing_passphrase_message(const std::filesystem::path& key_file);

// Refuses a private file that group or others may read or write: the error
// names the file, its mode and the fix (`chmod 600 FILE`). Errors also when
// the file cannot be examined.
Status require_private_file(const std::filesystem::path& file);

}  // namespace ipp3d::server
