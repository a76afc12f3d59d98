// Tests of the password-guessing limits: the LoginGuard policy with an
// injected clock (backoff schedule, expiry, per-address window, persistence
// across reopening the store, unknown names, the address table's cap), the
// hashing slots, and CredentialVerifier (locks refuse the right password,
// repeats count once, a busy hashing slot, unknown users, cache expiry and
// invalidation, rehashing).
#include "ipp/login_guard.hpp"

#include "ipp/credentials.hpp"
#include "ipp/hash_slots.hpp"
#include "state/password.hpp"
#include "state/state_store.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <latch>
#include <thread>

namespace ipp3d::server {
namespace {

constexpr std::int64_t kStart = 1'800'000'000'000;  // UNIX ms, 2027
constexpr const char* kAddress = "192.0.2.7";

// A temporary state database and a settable clock.
class LoginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "ipp3d-login-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    reopen();
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  // Closes and opens the database again (a restart).
  void reopen() {
    store_.reset();
    auto opened = StateStore::open(dir_ / "ipp3d.db");
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_ = std::move(opened).value();
  }
  // A clock reading now_.
  WallClock clock() {
    return [this] { return now_.load(); };
  }
  // The limits used by the policy tests: 3 failures, 10 s doubling to 40 s,
  // 5 failures per address per 60 s.
  static LoginLimits limits() {
    LoginLimits l;
    l.max_failed_logins = 3;
    l.lockout_ms = 10'000;
    l.max_lockout_ms = 40'000;
    l.max_address_failures = 5;
    l.address_window_ms = 60'000;
    return l;
  }
  // The types of every audit record, oldest first.
  std::vector<std::string> audit_types() {
    std::vector<std::string> types;
    for (const AuditRecord& record : store_->audit_records(0, 1000)) types.push_back(record.event.type);
    return types;
  }

  std::filesystem::path dir_;
  std::unique_ptr<StateStore> store_;
  std::atomic<std::int64_t> now_{kStart};
};

TEST_F(LoginTest, BackoffDoublesPerLockUpToTheCap) {
  const LoginGuard guard(*store_, limits(), clock());
  EXPECT_EQ(guard.lock_duration(1), 10'000);
  EXPECT_EQ(guard.lock_duration(2), 20'000);
  EXPECT_EQ(guard.lock_duration(3), 40'000);
  EXPECT_EQ(guard.lock_duration(4), 40'000);
  EXPECT_EQ(guard.lock_duration(1000), 40'000);
}

TEST_F(LoginTest, LocksAfterTheLimitThenExpiresAndBacksOff) {
  ASSERT_TRUE(store_->set_password("alice", "alice-password", Role::kUser).ok());
  LoginGuard guard(*store_, limits(), clock());
  for (int i = 1; i <= 2; ++i) {
    const LoginFailure failure = guard.record_failure("alice", kAddress, true);
    EXPECT_EQ(failure.account_failures, i);
    EXPECT_EQ(failure.locked_until, 0);
  }
  EXPECT_EQ(guard.admit("alice", kAddress).block, LoginBlock::kNone);
  const LoginFailure third = guard.record_failure("alice", kAddress, true);
  EXPECT_EQ(third.locked_until, kStart + 10'000);
  EXPECT_EQ(third.lock_ms, 10'000);
  LoginAdmission admission = guard.admit("alice", kAddress);
  EXPECT_EQ(admission.block, LoginBlock::kAccountLocked);
  EXPECT_EQ(admission.blocked_until, kStart + 10'000);

  // Tries during the lock do not extend it.
  now_ += 5'000;
  EXPECT_EQ(guard.record_failure("alice", kAddress, false).locked_until, 0);
  EXPECT_EQ(guard.admit("alice", kAddress).blocked_until, kStart + 10'000);

  now_ = kStart + 10'000;  // the lock is over
  EXPECT_EQ(guard.admit("alice", kAddress).block, LoginBlock::kNone);
  for (int i = 0; i < 2; ++i) guard.record_failure("alice", "192.0.2.8", true);
  const LoginFailure second_lock = guard.record_failure("alice", "192.0.2.8", true);
  EXPECT_EQ(second_lock.lock_ms, 20'000) << "the second lock doubles";

  // A successful login starts the backoff over.
  now_ += 20'000;
  ASSERT_TRUE(guard.record_success("alice").ok());
  EXPECT_EQ(store_->login_record("alice", "").account_state, AccountLoginState{});
  for (int i = 0; i < 2; ++i) guard.record_failure("alice", "192.0.2.9", true);
  EXPECT_EQ(guard.record_failure("alice", "192.0.2.9", true).lock_ms, 10'000);
}

TEST_F(LoginTest, AddressIsThrottledForTheRestOfItsWindow) {
  LoginGuard guard(*store_, limits(), clock());
  for (int i = 1; i <= 4; ++i) {
    EXPECT_EQ(guard.record_failure("ghost" + std::to_string(i), kAddress, false).throttled_until, 0);
    now_ += 1'000;
  }
  const LoginFailure fifth = guard.record_failure("ghost5", kAddress, false);
  EXPECT_EQ(fifth.address_failures, 5);
  EXPECT_EQ(fifth.throttled_until, kStart + 60'000)
      << "blocked until the window that began at the first failure ends";
  const LoginAdmission admission = guard.admit("anyone", kAddress);
  EXPECT_EQ(admission.block, LoginBlock::kAddressThrottled);
  EXPECT_EQ(guard.admit("anyone", "192.0.2.99").block, LoginBlock::kNone)
      << "other addresses are not affected";

  now_ = kStart + 60'000;
  EXPECT_EQ(guard.admit("anyone", kAddress).block, LoginBlock::kNone);
  EXPECT_EQ(guard.record_failure("ghost", kAddress, false).address_failures, 1) << "a new window starts";
}

TEST_F(LoginTest, LocksAndThrottlesSurviveReopeningTheStore) {
  ASSERT_TRUE(store_->set_password("alice", "alice-password", Role::kUser).ok());
  {
    LoginGuard guard(*store_, limits(), clock());
    for (int i = 0; i < 3; ++i) guard.record_failure("alice", kAddress, true);
    for (int i = 0; i < 2; ++i) guard.record_failure("nobody", kAddress, false);
  }
  reopen();
  LoginGuard guard(*store_, limits(), clock());
  EXPECT_EQ(guard.admit("alice", "192.0.2.50").block, LoginBlock::kAccountLocked);
  EXPECT_EQ(guard.admit("nobody", kAddress).block, LoginBlock::kAddressThrottled);
  now_ += 60'000;
  EXPECT_EQ(guard.admit("alice", kAddress).block, LoginBlock::kNone);
}

TEST_F(LoginTest, UnknownNamesCountForTheAddressOnlyAndCreateNoAccountRows) {
  LoginGuard guard(*store_, limits(), clock());
  const LoginFailure failure = guard.record_failure("ghost", kAddress, true);
  EXPECT_EQ(failure.account_failures, 0);
  EXPECT_EQ(failure.address_failures, 1);
  EXPECT_TRUE(failure.stored.ok());
  ASSERT_TRUE(store_->save_account_login_state("ghost", AccountLoginState{3, 1, kStart}).ok());
  const LoginRecord record = store_->login_record("ghost", kAddress);
  EXPECT_FALSE(record.account);
  EXPECT_EQ(record.account_state, AccountLoginState{}) << "no row for a name without account";
  EXPECT_EQ(record.address_state.failures, 1);
}

TEST_F(LoginTest, TheAddressTableIsPrunedAndCapped) {
  LoginLimits capped = limits();
  capped.max_tracked_addresses = 5;
  LoginGuard guard(*store_, capped, clock());
  for (int i = 0; i < 20; ++i) guard.record_failure("ghost", "198.51.100." + std::to_string(i), false);
  EXPECT_EQ(store_->address_login_rows(), 5u);
  EXPECT_EQ(store_->login_record("", "198.51.100.19").address_state.failures, 1) << "the newest row is kept";
  now_ += 61'000;  // every window is over: the rows are pruned at the next write
  guard.record_failure("ghost", "203.0.113.1", false);
  EXPECT_EQ(store_->address_login_rows(), 1u);
}

TEST(AddressKey, GroupsIpv6ByPrefixAndKeepsIpv4) {
  EXPECT_EQ(address_key("192.0.2.1"), "192.0.2.1");
  EXPECT_EQ(address_key("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
  EXPECT_EQ(address_key("[v1.2001:db8:1:2::9]"), "2001:db8:1:2::/64");
  EXPECT_EQ(address_key("fe80::1%eth0"), "fe80::/64");
  EXPECT_EQ(address_key("::ffff:192.0.2.1"), "192.0.2.1");
  EXPECT_EQ(address_key("localhost"), "localhost");
}

TEST(HashSlots, BoundsConcurrencyAndQueue) {
  HashSlots slots(1, 1, std::chrono::milliseconds(2000));
  auto first = slots.acquire();
  ASSERT_TRUE(first);
  std::atomic<bool> second_got{false};
  std::thread waiter([&] { second_got = slots.acquire().has_value(); });
  while (slots.waiting() == 0) std::this_thread::yield();
  EXPECT_FALSE(slots.acquire()) << "the queue (length 1) is full: refused at once";
  first.reset();
  waiter.join();
  EXPECT_TRUE(second_got);
  EXPECT_EQ(slots.in_use(), 0);

  HashSlots no_queue(1, 0, std::chrono::milliseconds(0));
  auto held = no_queue.acquire();
  EXPECT_FALSE(no_queue.acquire());
  HashSlots short_wait(1, 4, std::chrono::milliseconds(50));
  auto busy = short_wait.acquire();
  EXPECT_FALSE(short_wait.acquire()) << "the wait timed out";
}

// The verifier's limits: 2 failures lock for 10 s; cache 30 s.
config::LoginConfig verifier_config() {
  config::LoginConfig login;
  login.max_failed_logins = 2;
  login.lockout_seconds = 10;
  login.max_lockout_seconds = 100;
  login.credential_cache_seconds = 30;
  return login;
}

TEST_F(LoginTest, ALockRefusesTheRightPasswordUntilItExpires) {
  ASSERT_TRUE(store_->set_password("alice", "alice-password", Role::kOperator).ok());
  CredentialVerifier verifier(*store_, verifier_config(), clock());
  EXPECT_EQ(verifier.verify({"alice", "wrong-password-1"}, kAddress).outcome, LoginOutcome::kRefused);
  const LoginResult locking = verifier.verify({"alice", "wrong-password-2"}, kAddress);
  EXPECT_EQ(locking.outcome, LoginOutcome::kRefused);
  EXPECT_NE(locking.log_message.find("locked for 10 seconds"), std::string::npos) << locking.log_message;

  const LoginResult refused = verifier.verify({"alice", "alice-password"}, kAddress);
  EXPECT_EQ(refused.outcome, LoginOutcome::kRefused);
  EXPECT_FALSE(refused.role);
  EXPECT_NE(refused.log_message.find("locked"), std::string::npos) << refused.log_message;

  now_ += 10'000;
  const LoginResult accepted = verifier.verify({"alice", "alice-password"}, kAddress);
  EXPECT_EQ(accepted.outcome, LoginOutcome::kAccepted);
  EXPECT_EQ(accepted.role, Role::kOperator);
  EXPECT_EQ(audit_types(), (std::vector<std::string>{"login-failed", "login-failed", "account-locked",
                                                     "login-refused-locked", "login-succeeded"}));
  const std::vector<AuditRecord> records = store_->audit_records(0, 10);
  EXPECT_EQ(records[0].event.source, kAddress);
  EXPECT_EQ(records[0].event.actor, "alice");
}

TEST_F(LoginTest, ARepeatedRefusedPasswordIsCountedOnce) {
  ASSERT_TRUE(store_->set_password("alice", "alice-password", Role::kUser).ok());
  CredentialVerifier verifier(*store_, verifier_config(), clock());
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(verifier.verify({"alice", "same-wrong-password"}, kAddress).outcome, LoginOutcome::kRefused);
  }
  EXPECT_EQ(store_->login_record("alice", kAddress).account_state.failures, 1)
      << "a client's resends are one guess";
  EXPECT_EQ(store_->login_record("alice", kAddress).address_state.failures, 1);
  EXPECT_EQ(audit_types(), std::vector<std::string>{"login-failed"});
  // From another address the same guess counts again.
  EXPECT_EQ(verifier.verify({"alice", "same-wrong-password"}, "192.0.2.200").outcome, LoginOutcome::kRefused);
  EXPECT_EQ(store_->login_record("alice", kAddress).account_state.locked_until, kStart + 10'000);
}

TEST_F(LoginTest, UnknownUsersAreRefusedLikeWrongPasswords) {
  ASSERT_TRUE(store_->set_password("alice", "alice-password", Role::kUser).ok());
  CredentialVerifier verifier(*store_, verifier_config(), clock());
  const LoginResult wrong = verifier.verify({"alice", "not-her-password"}, kAddress);
  const LoginResult unknown = verifier.verify({"mallory", "not-her-password"}, kAddress);
  EXPECT_EQ(unknown.outcome, wrong.outcome);
  EXPECT_EQ(unknown.role, wrong.role);
  EXPECT_EQ(store_->login_record("", kAddress).address_state.failures, 2) << "both count for the address";
  const std::vector<AuditRecord> records = store_->audit_records(0, 10);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1].event.details.at(0), (std::pair<std::string, std::string>{"reason", "unknown-user"}));
}

TEST_F(LoginTest, CachedCredentialsExpireAndStopAtPasswordChangeOrLock) {
  ASSERT_TRUE(store_->set_password("alice", "alice-password", Role::kUser).ok());
  CredentialVerifier verifier(*store_, verifier_config(), clock());
  EXPECT_EQ(verifier.verify({"alice", "alice-password"}, kAddress).outcome, LoginOutcome::kAccepted);
  EXPECT_EQ(verifier.cached_entries(), 1u);
  const LoginResult hit = verifier.verify({"alice", "alice-password"}, kAddress);
  EXPECT_EQ(hit.outcome, LoginOutcome::kAccepted);
  EXPECT_TRUE(hit.log_message.empty()) << "a cache hit verifies nothing: " << hit.log_message;

  now_ += 30'000;  // the lifetime is over: verified again
  const LoginResult expired = verifier.verify({"alice", "alice-password"}, kAddress);
  EXPECT_EQ(expired.outcome, LoginOutcome::kAccepted);
  EXPECT_FALSE(expired.log_message.empty());

  // A lock (here written as another process would) refuses the cached credential.
  ASSERT_TRUE(store_->save_account_login_state("alice", AccountLoginState{0, 1, now_ + 5'000}).ok());
  EXPECT_EQ(verifier.verify({"alice", "alice-password"}, kAddress).outcome, LoginOutcome::kRefused);
  ASSERT_TRUE(store_->save_account_login_state("alice", AccountLoginState{}).ok());

  // `user passwd` in another process: the old password stops working at once.
  EXPECT_EQ(verifier.verify({"alice", "alice-password"}, kAddress).outcome, LoginOutcome::kAccepted);
  ASSERT_TRUE(store_->set_password("alice", "new-alice-password", Role::kUser).ok());
  EXPECT_EQ(verifier.verify({"alice", "alice-password"}, kAddress).outcome, LoginOutcome::kRefused);
  EXPECT_EQ(verifier.verify({"alice", "new-alice-password"}, kAddress).outcome, LoginOutcome::kAccepted);
}

TEST_F(LoginTest, ABusyHashingSlotAnswersBusyWithoutCountingAFailure) {
  ASSERT_TRUE(store_->set_password("alice", "alice-password", Role::kUser).ok());
  config::LoginConfig one_slot = verifier_config();
  one_slot.max_failed_logins = 100;
  one_slot.max_concurrent_hashes = 1;
  one_slot.hash_queue_length = 0;
  CredentialVerifier verifier(*store_, one_slot, clock());
  // Two logins at the same moment: one hashes (about 0.1 s), the other finds
  // the only slot taken and no queue.
  std::latch start(2);
  LoginResult first;
  std::thread other([&] {
    start.arrive_and_wait();
    first = verifier.verify({"alice", "first-guess"}, kAddress);
  });
  start.arrive_and_wait();
  const LoginResult second = verifier.verify({"alice", "second-guess"}, kAddress);
  other.join();
  const bool first_busy = first.outcome == LoginOutcome::kBusy;
  const bool second_busy = second.outcome == LoginOutcome::kBusy;
  ASSERT_NE(first_busy, second_busy) << "exactly one of two simultaneous logins waits in vain";
  const LoginResult& busy = first_busy ? first : second;
  EXPECT_NE(busy.log_message.find("503"), std::string::npos) << busy.log_message;
  EXPECT_EQ(store_->login_record("alice", kAddress).account_state.failures, 1)
      << "a busy answer is no failure";
}

TEST_F(LoginTest, AHashWithOldParametersIsReplacedAfterASuccessfulLogin) {
  ASSERT_TRUE(store_->set_password("alice", "alice-password", Role::kUser).ok());
  const std::string current = store_->stored_account("alice")->password_hash;
  char weak[crypto_pwhash_STRBYTES];
  ASSERT_EQ(crypto_pwhash_str_alg(weak, "alice-password", 14, crypto_pwhash_OPSLIMIT_MIN, 1U << 20U,
                                  crypto_pwhash_ALG_ARGON2ID13),
            0);
  ASSERT_EQ(store_->replace_password_hash("alice", current, weak).value(), true);
  ASSERT_TRUE(password::needs_rehash(weak));

  CredentialVerifier verifier(*store_, verifier_config(), clock());
  EXPECT_EQ(verifier.verify({"alice", "alice-password"}, kAddress).outcome, LoginOutcome::kAccepted);
  const std::string renewed = store_->stored_account("alice")->password_hash;
  EXPECT_NE(renewed, weak);
  EXPECT_FALSE(password::needs_rehash(renewed));
  EXPECT_TRUE(password::verify(renewed, "alice-password"));
  const std::vector<std::string> types = audit_types();
  EXPECT_NE(std::find(types.begin(), types.end(), "password-rehashed"), types.end());
  EXPECT_EQ(store_->replace_password_hash("alice", weak, current).value(), false)
      << "a replacement only happens while the old hash is still stored";
}

}  // namespace
}  // namespace ipp3d::server
