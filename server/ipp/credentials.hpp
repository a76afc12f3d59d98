// HTTP Basic credentials: parsing the Authorization header and verifying it
// against the StateStore, with a short-lived cache so that a client sending
// many requests does not cost one Argon2id hash each.
#pragma once

#include "state/state_store.hpp"

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

// Verifies credentials. Thread-safe: `mutex_` guards `cache_`.
class CredentialVerifier {
 public:
  explicit CredentialVerifier(StateStore& store);
  // The account's role when the password is right, else nullopt.
  std::optional<Role> verify(const BasicCredentials& credentials);

 private:
  using Clock = std::chrono::steady_clock;
  struct Entry {
    Role role = Role::kUser;
    Clock::time_point expires;
  };
  static constexpr std::chrono::seconds kCacheLifetime{60};
  static constexpr std::size_t kCacheCapacity = 256;
  // A keyed hash of user and password (the key is random per process), so
  // the cache never holds a password.
  std::string cache_key(const BasicCredentials& credentials) const;

  StateStore& store_;
  unsigned char key_[32] = {};
  std::mutex mutex_;
  std::unordered_map<std::string, Entry> cache_;
};

}  // namespace ipp3d::server
