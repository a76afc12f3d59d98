// HTTP Basic credentials: parsing the Authorization header and verifying it
// against the StateStore under the password-guessing limits
// (docs/security.md, "Password guessing"):
//  - account locks and per-address throttling (LoginGuard),
//  - at most `max_concurrent_hashes` Argon2id verifications at once (HashSlots),
//  - a short-lived cache of verified credentials, so that a client sending
//    many requests does not cost one Argon2id hash each,
//  - stored hashes made with other Argon2id parameters are replaced after a
//    successful login,
// with every decision logged (by the caller, from LoginResult) and appended to
// the audit log.
#pragma once

#include "ipp/hash_slots.hpp"
#include "ipp/login_guard.hpp"
#include "state/state_store.hpp"

#include <cups/http.h>
#include <pappl/pappl.h>

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace ipp3d::server {

// A user name and password from "Authorization: Basic ...".
struct BasicCredentials {
  std::string user;
  std::string password;
};

// Parses an Authorization header value. nullopt when it is not Basic or is
// malformed.
std::optional<BasicCredentials> parse_basic_authorization(const char* header);

// The numeric address of the peer of `http` ("" when unknown).
std::string client_address(http_t* http);

// The answer to a login attempt.
enum class LoginOutcome {
  kAccepted,  // the password is right and nothing blocks the account
  kRefused,   // wrong password, unknown name, locked account or throttled address: all answer 401
  kBusy,      // every hashing slot busy and the queue full (or the wait over): answer 503
};

// How loud a login event is in the server log.
enum class LoginLogLevel { kDebug, kInfo, kWarn };

// PAPPL's log level for `level`.
pappl_loglevel_t pappl_log_level(LoginLogLevel level);

// What verify() decided, and what to log.
struct LoginResult {
  LoginOutcome outcome = LoginOutcome::kRefused;
  std::optional<Role> role;  // set when accepted
  LoginLogLevel log_level = LoginLogLevel::kDebug;
  std::string log_message;  // "" when there is nothing to log (a cached credential)
};

// Verifies credentials. Thread-safe: `cache_mutex_` guards the two maps; the
// guard and the slots have their own locks.
class CredentialVerifier {
 public:
  // `login` holds the limits ([server.login]); `clock` is the wall clock in
  // UNIX milliseconds (tests inject their own).
  CredentialVerifier(StateStore& store, const config::LoginConfig& login, WallClock clock = system_time_ms);
  // Checks `credentials` sent from `source` (a numeric address).
  LoginResult verify(const BasicCredentials& credentials, const std::string& source);
  // Credentials remembered now (for tests).
  std::size_t cached_entries();

 private:
  struct Entry {
    std::string password_hash;  // the stored hash the password was verified against
    std::int64_t expires = 0;   // UNIX ms
  };
  static constexpr std::size_t kCacheCapacity = 256;
  static constexpr std::size_t kRepeatCapacity = 1024;
  // A keyed hash of user, password and source (the key is random per
  // process), so the cache never holds a password.
  [[nodiscard]] std::string cache_key(const BasicCredentials& credentials, const std::string& source) const;
  // A cached credential still valid for the current stored hash, if any.
  bool cached(const std::string& key, const StoredAccount& account, std::int64_t now);
  // True when these very credentials failed recently against the same stored
  // hash (libcups clients resend a refused password on their own): such a
  // repeat is refused without hashing and not counted again.
  bool repeated_failure(const std::string& key, const std::optional<StoredAccount>& account,
                        std::int64_t now);
  // Remembers a failure for repeated_failure().
  void remember_failure(const std::string& key, const std::optional<StoredAccount>& account);
  // Refuses an attempt blocked by a lock or throttle.
  LoginResult refuse_blocked(const BasicCredentials& credentials, const std::string& source,
                             const LoginAdmission& admission);
  // Runs the Argon2id verification in a hashing slot and records the outcome.
  LoginResult check_password(const BasicCredentials& credentials, const std::string& source,
                             const LoginAdmission& admission, const std::string& key);
  // Records a wrong password or unknown name.
  LoginResult fail(const BasicCredentials& credentials, const std::string& source, bool known_account);
  // Records a right password: resets the account's failures, rehashes when
  // the parameters changed, caches the credential.
  LoginResult succeed(const BasicCredentials& credentials, const std::string& source,
                      const StoredAccount& account, const std::string& key);
  // Appends an audit event; a failure is logged to stderr, never raised.
  void audit(const std::string& type, const std::string& actor, const std::string& source,
             std::vector<std::pair<std::string, std::string>> details);

  StateStore& store_;
  LoginGuard guard_;
  HashSlots slots_;
  const std::int64_t cache_lifetime_ms_;
  unsigned char key_[32] = {};
  std::mutex cache_mutex_;                                  // guards cache_ and recent_failures_
  std::unordered_map<std::string, Entry> cache_;            // verified credentials
  std::unordered_map<std::string, Entry> recent_failures_;  // refused credentials ("" hash: unknown user)
};

}  // namespace ipp3d::server
