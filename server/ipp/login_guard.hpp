// The password-guessing policy (docs/security.md, "Password guessing"):
//  - per account: after `max_failed_logins` failures the account is locked,
//    for `lockout` the first time and twice as long for each further lock
//    (capped at `max_lockout`) until a successful login resets the backoff;
//  - per source address: at most `max_address_failures` failures per
//    `address_window`; then the address is refused until the window ends.
// Failures for unknown account names count for the address only. Both records
// live in the state database (StateStore::login_record), so they survive a
// restart. Times are UNIX milliseconds from an injectable wall clock.
#pragma once

#include "ipp3d/config/config.hpp"

#include "state/state_store.hpp"

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

namespace ipp3d::server {

// Returns the current UNIX time in milliseconds.
using WallClock = std::function<std::int64_t()>;
// The system clock in UNIX milliseconds.
std::int64_t system_time_ms();

// The limits, in milliseconds.
struct LoginLimits {
  int max_failed_logins = 5;
  std::int64_t lockout_ms = 60'000;
  std::int64_t max_lockout_ms = 3'600'000;
  int max_address_failures = 20;
  std::int64_t address_window_ms = 600'000;
  std::size_t max_tracked_addresses = 4096;  // rows kept in login_addresses

  // The limits of a [server.login] table.
  static LoginLimits from_config(const config::LoginConfig& login);
};

// Why a login is refused before any password is checked.
enum class LoginBlock { kNone, kAccountLocked, kAddressThrottled };

// The state of a login attempt before its password is checked.
struct LoginAdmission {
  LoginRecord record;  // the account and both failure records
  LoginBlock block = LoginBlock::kNone;
  std::int64_t blocked_until = 0;  // UNIX ms, when `block` is not kNone
  std::int64_t now = 0;            // the clock when admitted
};

// What one recorded failure changed.
struct LoginFailure {
  int account_failures = 0;          // failures of the account in its current count (0: unknown name)
  int address_failures = 0;          // failures of the address in its window
  std::int64_t locked_until = 0;     // UNIX ms when this failure locked the account, else 0
  std::int64_t lock_ms = 0;          // the length of that lock
  std::int64_t throttled_until = 0;  // UNIX ms when this failure blocked the address, else 0
  Status stored;                     // the outcome of writing the records
};

// Thread-safe: `mutex_` serializes the read-modify-write of the records.
class LoginGuard {
 public:
  LoginGuard(StateStore& store, LoginLimits limits, WallClock clock = system_time_ms);

  // Reads the records of `user` and `address` and says whether the attempt
  // is blocked (a throttled address wins over a locked account).
  LoginAdmission admit(const std::string& user, const std::string& address);
  // Counts a failed login (a wrong password, an unknown name, or a try while
  // the account is locked). `count_for_account` is false for unknown names
  // and while the account is locked (a lock is not extended by tries).
  LoginFailure record_failure(const std::string& user, const std::string& address, bool count_for_account);
  // A successful login: the account's failures and backoff start over
  // (the address keeps its count: one good password does not excuse others).
  Status record_success(const std::string& user);
  // The length of the `lock_number`-th lock (1-based): lockout * 2^(n-1), capped.
  [[nodiscard]] std::int64_t lock_duration(int lock_number) const;
  [[nodiscard]] const LoginLimits& limits() const { return limits_; }
  // The clock's current time (UNIX ms).
  [[nodiscard]] std::int64_t now() const { return clock_(); }

 private:
  // The account part of record_failure (under mutex_).
  void count_account_failure(const std::string& user, std::int64_t now, LoginFailure& failure);
  // The address part of record_failure (under mutex_).
  void count_address_failure(const std::string& address, std::int64_t now, LoginFailure& failure);

  StateStore& store_;
  const LoginLimits limits_;
  const WallClock clock_;
  std::mutex mutex_;  // serializes record_failure/record_success (the records' read-modify-write)
};

// The key of a source address for per-address limits: IPv4 addresses as they
// are, IPv6 addresses reduced to their /64 prefix ("2001:db8:1:2::/64"),
// since one host can hold a whole /64. Anything else is kept unchanged.
std::string address_key(const std::string& address);

}  // namespace ipp3d::server
