// Private to the state store, the admin command and the credential check:
// account-name and password rules, and Argon2id hashing through libsodium.
#pragma once

#include "ipp3d/result.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace ipp3d::server::password {

// Shortest accepted password, in characters (UTF-8 code points).
inline constexpr std::size_t kMinLength = 8;
// Longest accepted account name, in bytes.
inline constexpr std::size_t kMaxUserLength = 64;

// Initializes libsodium once per process; aborts the process when it cannot
// (no safe way to hash passwords then).
void ensure_sodium();

// Checks an account name: 1-64 characters of [A-Za-z0-9._-].
Status validate_user_name(std::string_view user);
// Checks a password: at least kMinLength characters.
Status validate_password(std::string_view password);

// The Argon2id string (with salt and limits) for `password`, or an error
// when libsodium cannot allocate its working memory.
Result<std::string> hash(std::string_view password);
// True when `password` matches `stored` (an Argon2id string from hash()).
bool verify(const std::string& stored, std::string_view password);
// True when `stored` was made with other parameters (or another algorithm)
// than hash() uses now: it should be replaced by hash(password) after the
// next successful verification.
bool needs_rehash(const std::string& stored);
// Runs the same verification work as verify() against a fixed dummy hash and
// returns false: used for unknown users so they cost the same time.
bool verify_dummy(std::string_view password);

// A std::string that is wiped (sodium_memzero) when destroyed: holds
// passwords read from a terminal or a script.
class SecretString {
 public:
  SecretString() = default;
  ~SecretString();
  SecretString(const SecretString&) = delete;
  SecretString& operator=(const SecretString&) = delete;

  // The held text (mutable so getline can fill it in place).
  std::string& str() { return text_; }
  // The held text.
  [[nodiscard]] const std::string& str() const { return text_; }

 private:
  std::string text_;  // the secret; wiped in the destructor
};

}  // namespace ipp3d::server::password
