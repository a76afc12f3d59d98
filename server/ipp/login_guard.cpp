#include "ipp/login_guard.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <chrono>
#include <cstring>

namespace ipp3d::server {

std::int64_t system_time_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

LoginLimits LoginLimits::from_config(const config::LoginConfig& login) {
  LoginLimits limits;
  limits.max_failed_logins = login.max_failed_logins;
  limits.lockout_ms = std::int64_t{login.lockout_seconds} * 1000;
  limits.max_lockout_ms = std::int64_t{login.max_lockout_seconds} * 1000;
  limits.max_address_failures = login.max_address_failures;
  limits.address_window_ms = std::int64_t{login.address_window_seconds} * 1000;
  return limits;
}

LoginGuard::LoginGuard(StateStore& store, LoginLimits limits, WallClock clock)
    : store_(store), limits_(limits), clock_(std::move(clock)) {}

LoginAdmission LoginGuard::admit(const std::string& user, const std::string& address) {
  LoginAdmission admission;
  admission.record = store_.login_record(user, address_key(address));
  admission.now = clock_();
  const AddressLoginState& source = admission.record.address_state;
  const AccountLoginState& account = admission.record.account_state;
  if (source.blocked_until > admission.now) {
    admission.block = LoginBlock::kAddressThrottled;
    admission.blocked_until = source.blocked_until;
  } else if (admission.record.account && account.locked_until > admission.now) {
    admission.block = LoginBlock::kAccountLocked;
    admission.blocked_until = account.locked_until;
  }
  return admission;
}

std::int64_t LoginGuard::lock_duration(int lock_number) const {
  std::int64_t duration = limits_.lockout_ms;
  for (int i = 1; i < lock_number && duration < limits_.max_lockout_ms; ++i) duration *= 2;
  return std::min(duration, limits_.max_lockout_ms);
}

LoginFailure LoginGuard::record_failure(const std::string& user, const std::string& address,
                                        bool count_for_account) {
  const std::lock_guard lock(mutex_);
  const std::int64_t now = clock_();
  LoginFailure failure;
  if (count_for_account) count_account_failure(user, now, failure);
  if (failure.stored) count_address_failure(address, now, failure);
  return failure;
}

void LoginGuard::count_account_failure(const std::string& user, std::int64_t now, LoginFailure& failure) {
  const LoginRecord record = store_.login_record(user, "");
  if (!record.account) return;
  AccountLoginState state = record.account_state;
  if (state.locked_until > now) return;  // tries during a lock do not extend it
  ++state.failures;
  failure.account_failures = state.failures;
  if (state.failures >= limits_.max_failed_logins) {
    ++state.locks;
    failure.lock_ms = lock_duration(state.locks);
    failure.locked_until = now + failure.lock_ms;
    state.locked_until = failure.locked_until;
    state.failures = 0;
  }
  failure.stored = store_.save_account_login_state(user, state);
}

void LoginGuard::count_address_failure(const std::string& address, std::int64_t now, LoginFailure& failure) {
  const std::string key = address_key(address);
  AddressLoginState state = store_.login_record("", key).address_state;
  if (state.failures == 0 || now >= state.window_start + limits_.address_window_ms) {
    state = AddressLoginState{now, 0, 0};
  }
  ++state.failures;
  failure.address_failures = state.failures;
  if (state.failures >= limits_.max_address_failures && state.blocked_until == 0) {
    state.blocked_until = state.window_start + limits_.address_window_ms;
    failure.throttled_until = state.blocked_until;
  }
  const std::int64_t expires = std::max(state.window_start + limits_.address_window_ms, state.blocked_until);
  failure.stored = store_.save_address_login_state(key, state, expires, now, limits_.max_tracked_addresses);
}

Status LoginGuard::record_success(const std::string& user) {
  const std::lock_guard lock(mutex_);
  const LoginRecord record = store_.login_record(user, "");
  if (record.account_state == AccountLoginState{}) return {};
  return store_.save_account_login_state(user, AccountLoginState{});
}

std::string address_key(const std::string& address) {
  std::string text = address;
  // libcups writes IPv6 addresses as "[v1.ADDRESS]".
  if (text.rfind("[v1.", 0) == 0 && text.back() == ']') text = text.substr(4, text.size() - 5);
  if (text.size() > 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
  text = text.substr(0, text.find('%'));  // a zone index names the interface, not the host
  std::array<unsigned char, 16> bytes{};
  if (inet_pton(AF_INET6, text.c_str(), bytes.data()) != 1) return address;
  static constexpr std::array<unsigned char, 12> kMappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  std::array<char, INET6_ADDRSTRLEN> out{};
  if (std::memcmp(bytes.data(), kMappedPrefix.data(), kMappedPrefix.size()) == 0) {
    // An IPv4 client on a dual-stack socket.
    if (inet_ntop(AF_INET, bytes.data() + 12, out.data(), out.size()) == nullptr) return address;
    return out.data();
  }
  std::fill(bytes.begin() + 8, bytes.end(), 0);
  if (inet_ntop(AF_INET6, bytes.data(), out.data(), out.size()) == nullptr) return address;
  return std::string(out.data()) + "/64";
}

}  // namespace ipp3d::server
