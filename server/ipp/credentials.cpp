#include "ipp/credentials.hpp"

#include "state/password.hpp"

#include <sodium.h>

#include <cctype>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <vector>

namespace ipp3d::server {
namespace {

// "2026-12-05T01:02:03Z" for a UNIX time in milliseconds.
std::string utc_text(std::int64_t ms) {
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  char text[32];
  if (std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &parts) == 0) return std::to_string(ms / 1000);
  return text;
}

// Whole seconds from `now` until `until`, rounded up.
std::int64_t seconds_until(std::int64_t until, std::int64_t now) { return (until - now + 999) / 1000; }

// A user name as it may appear in logs: at most 64 bytes, control characters
// replaced (the name is whatever the client sent).
std::string printable_name(const std::string& user) {
  std::string name = user.substr(0, password::kMaxUserLength);
  for (char& c : name) {
    if (std::iscntrl(static_cast<unsigned char>(c)) != 0) c = '?';
  }
  return user.size() > name.size() ? name + "..." : name;
}

}  // namespace

std::optional<BasicCredentials> parse_basic_authorization(const char* header) {
  if (header == nullptr || std::strncmp(header, "Basic ", 6) != 0) return std::nullopt;
  const char* encoded = header + 6;
  while (*encoded == ' ') ++encoded;
  const std::size_t max_length = std::strlen(encoded);
  if (max_length == 0 || max_length > 4096) return std::nullopt;
  std::vector<char> decoded(max_length + 1, '\0');
  int length = static_cast<int>(decoded.size());
  if (httpDecode64_2(decoded.data(), &length, encoded) == nullptr || length <= 0) return std::nullopt;
  const std::string text(decoded.data(), static_cast<std::size_t>(length));
  sodium_memzero(decoded.data(), decoded.size());
  const auto colon = text.find(':');
  if (colon == std::string::npos || colon == 0) return std::nullopt;
  return BasicCredentials{text.substr(0, colon), text.substr(colon + 1)};
}

pappl_loglevel_t pappl_log_level(LoginLogLevel level) {
  switch (level) {
    case LoginLogLevel::kWarn:
      return PAPPL_LOGLEVEL_WARN;
    case LoginLogLevel::kInfo:
      return PAPPL_LOGLEVEL_INFO;
    case LoginLogLevel::kDebug:
      break;
  }
  return PAPPL_LOGLEVEL_DEBUG;
}

std::string client_address(http_t* http) {
  http_addr_t* address = http != nullptr ? httpGetAddress(http) : nullptr;
  if (address == nullptr) return "";
  char text[256] = "";
  if (httpAddrString(address, text, sizeof text) == nullptr) return "";
  return text;
}

CredentialVerifier::CredentialVerifier(StateStore& store, const config::LoginConfig& login, WallClock clock)
    : store_(store),
      guard_(store, LoginLimits::from_config(login), std::move(clock)),
      slots_(login.max_concurrent_hashes, login.hash_queue_length,
             std::chrono::seconds(login.hash_wait_seconds)),
      cache_lifetime_ms_(std::int64_t{login.credential_cache_seconds} * 1000) {
  password::ensure_sodium();
  randombytes_buf(key_, sizeof key_);
}

std::string CredentialVerifier::cache_key(const BasicCredentials& credentials,
                                          const std::string& source) const {
  unsigned char digest[32];
  crypto_generichash_state state;
  crypto_generichash_init(&state, key_, sizeof key_, sizeof digest);
  // Each field is preceded by its length, so no two triples hash alike.
  for (const std::string* field : {&credentials.user, &credentials.password, &source}) {
    const std::uint64_t length = field->size();
    crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(&length), sizeof length);
    crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(field->data()), field->size());
  }
  crypto_generichash_final(&state, digest, sizeof digest);
  return {reinterpret_cast<const char*>(digest), sizeof digest};
}

std::size_t CredentialVerifier::cached_entries() {
  const std::lock_guard lock(cache_mutex_);
  return cache_.size();
}

bool CredentialVerifier::cached(const std::string& key, const StoredAccount& account, std::int64_t now) {
  const std::lock_guard lock(cache_mutex_);
  const auto found = cache_.find(key);
  if (found == cache_.end()) return false;
  // A changed hash means a new password (or a rehash): verify again.
  if (found->second.expires > now && found->second.password_hash == account.password_hash) return true;
  cache_.erase(found);
  return false;
}

bool CredentialVerifier::repeated_failure(const std::string& key, const std::optional<StoredAccount>& account,
                                          std::int64_t now) {
  const std::lock_guard lock(cache_mutex_);
  const auto found = recent_failures_.find(key);
  if (found == recent_failures_.end()) return false;
  const std::string current = account ? account->password_hash : "";
  if (found->second.expires > now && found->second.password_hash == current) return true;
  recent_failures_.erase(found);
  return false;
}

void CredentialVerifier::remember_failure(const std::string& key,
                                          const std::optional<StoredAccount>& account) {
  const std::lock_guard lock(cache_mutex_);
  if (recent_failures_.size() >= kRepeatCapacity) recent_failures_.clear();
  recent_failures_[key] =
      Entry{account ? account->password_hash : "", guard_.now() + guard_.limits().address_window_ms};
}

LoginResult CredentialVerifier::verify(const BasicCredentials& credentials, const std::string& source) {
  const LoginAdmission admission = guard_.admit(credentials.user, source);
  if (admission.block != LoginBlock::kNone) return refuse_blocked(credentials, source, admission);
  const std::string key = cache_key(credentials, source);
  if (admission.record.account && cached(key, *admission.record.account, admission.now)) {
    return LoginResult{LoginOutcome::kAccepted, admission.record.account->role, LoginLogLevel::kDebug, ""};
  }
  if (repeated_failure(key, admission.record.account, admission.now)) {
    return LoginResult{LoginOutcome::kRefused, std::nullopt, LoginLogLevel::kDebug,
                       "Login for \"" + printable_name(credentials.user) + "\" from " + source +
                           " refused again: the same credentials failed before (not counted twice)."};
  }
  return check_password(credentials, source, admission, key);
}

LoginResult CredentialVerifier::refuse_blocked(const BasicCredentials& credentials, const std::string& source,
                                               const LoginAdmission& admission) {
  const std::string name = printable_name(credentials.user);
  if (admission.block == LoginBlock::kAddressThrottled) {
    // Not audited one by one (the address-throttled event marks the start):
    // a throttled address could otherwise fill the audit log for free.
    return LoginResult{LoginOutcome::kRefused, std::nullopt, LoginLogLevel::kDebug,
                       "Login for \"" + name + "\" from " + source +
                           " refused: the address is throttled until " + utc_text(admission.blocked_until) +
                           "."};
  }
  // A locked account costs the same Argon2id time as a wrong password (so a
  // lock does not reveal that the name exists), but the password is checked
  // against the dummy hash only: the client learns nothing about it.
  if (const auto permit = slots_.acquire()) {
    static_cast<void>(password::verify_dummy(credentials.password));
  }
  const LoginFailure failure = guard_.record_failure(credentials.user, source, /*count_for_account=*/false);
  audit("login-refused-locked", credentials.user, source,
        {{"locked-until", utc_text(admission.blocked_until)}});
  if (failure.throttled_until != 0) {
    audit("address-throttled", credentials.user, source,
          {{"failures", std::to_string(failure.address_failures)},
           {"throttled-until", utc_text(failure.throttled_until)}});
  }
  return LoginResult{LoginOutcome::kRefused, std::nullopt, LoginLogLevel::kWarn,
                     "Login for \"" + name + "\" from " + source + " refused: the account is locked for " +
                         std::to_string(seconds_until(admission.blocked_until, admission.now)) +
                         " more seconds (the password was not checked)."};
}

LoginResult CredentialVerifier::check_password(const BasicCredentials& credentials, const std::string& source,
                                               const LoginAdmission& admission, const std::string& key) {
  const auto permit = slots_.acquire();
  if (!permit) {
    return LoginResult{LoginOutcome::kBusy, std::nullopt, LoginLogLevel::kWarn,
                       "Login for \"" + printable_name(credentials.user) + "\" from " + source +
                           " answered 503: every password-hashing slot is busy and the queue is full."};
  }
  const std::optional<StoredAccount>& account = admission.record.account;
  const bool right = account ? password::verify(account->password_hash, credentials.password)
                             : password::verify_dummy(credentials.password);
  if (!right) {
    remember_failure(key, account);
    return fail(credentials, source, account.has_value());
  }
  return succeed(credentials, source, *account, key);
}

LoginResult CredentialVerifier::fail(const BasicCredentials& credentials, const std::string& source,
                                     bool known_account) {
  const LoginFailure failure = guard_.record_failure(credentials.user, source, known_account);
  const std::string name = printable_name(credentials.user);
  audit("login-failed", credentials.user, source,
        {{"reason", known_account ? "wrong-password" : "unknown-user"},
         {"account-failures", std::to_string(failure.account_failures)},
         {"address-failures", std::to_string(failure.address_failures)}});
  std::string message = "Failed login for \"" + name + "\" from " + source +
                        (known_account ? " (wrong password)" : " (unknown user)") + ": " +
                        std::to_string(failure.address_failures) + " failures from this address";
  if (failure.locked_until != 0) {
    audit("account-locked", credentials.user, source,
          {{"failures", std::to_string(guard_.limits().max_failed_logins)},
           {"lock-seconds", std::to_string(failure.lock_ms / 1000)},
           {"locked-until", utc_text(failure.locked_until)}});
    message += "; the account is locked for " + std::to_string(failure.lock_ms / 1000) + " seconds";
  }
  if (failure.throttled_until != 0) {
    audit("address-throttled", credentials.user, source,
          {{"failures", std::to_string(failure.address_failures)},
           {"throttled-until", utc_text(failure.throttled_until)}});
    message += "; the address is throttled until " + utc_text(failure.throttled_until);
  }
  if (!failure.stored) message += " (not recorded: " + failure.stored.error().message + ")";
  return LoginResult{LoginOutcome::kRefused, std::nullopt, LoginLogLevel::kWarn, message + "."};
}

LoginResult CredentialVerifier::succeed(const BasicCredentials& credentials, const std::string& source,
                                        const StoredAccount& account, const std::string& key) {
  std::string message = "Login of \"" + credentials.user + "\" from " + source + ".";
  if (Status reset = guard_.record_success(credentials.user); !reset) {
    message += " Its failed logins were not reset: " + reset.error().message;
  }
  std::string current_hash = account.password_hash;
  if (password::needs_rehash(current_hash)) {
    // Still in the hashing slot: the new hash costs as much as a verification.
    Result<std::string> rehashed = password::hash(credentials.password);
    Result<bool> replaced = rehashed ? store_.replace_password_hash(credentials.user, current_hash, *rehashed)
                                     : Result<bool>(rehashed.error());
    if (replaced && *replaced) {
      current_hash = *rehashed;
      audit("password-rehashed", credentials.user, source, {});
      message += " Its password hash was renewed with the current Argon2id parameters.";
    } else if (!replaced) {
      message += " Its password hash could not be renewed: " + replaced.error().message;
    }
  }
  if (cache_lifetime_ms_ > 0) {
    const std::lock_guard lock(cache_mutex_);
    if (cache_.size() >= kCacheCapacity) cache_.clear();
    cache_[key] = Entry{current_hash, guard_.now() + cache_lifetime_ms_};
  }
  audit("login-succeeded", credentials.user, source, {{"role", role_name(account.role)}});
  return LoginResult{LoginOutcome::kAccepted, account.role, LoginLogLevel::kInfo, message};
}

void CredentialVerifier::audit(const std::string& type, const std::string& actor, const std::string& source,
                               std::vector<std::pair<std::string, std::string>> details) {
  AuditEvent event;
  event.type = type;
  event.actor = printable_name(actor);
  event.source = source;
  event.details = std::move(details);
  if (Status appended = store_.append_audit(event); !appended) {
    static_cast<void>(std::fprintf(stderr, "ipp3d-server: audit event %s lost: %s\n", type.c_str(),
                                   appended.error().message.c_str()));
  }
}

}  // namespace ipp3d::server
