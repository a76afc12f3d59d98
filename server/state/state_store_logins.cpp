// The state database's failed-login records: per account (login_accounts,
// one row per existing account at most) and per source address
// (login_addresses, pruned and capped). The policy that fills them lives in
// server/ipp/login_guard.cpp. Every method takes StateStore::mutex_.
#include "state/sqlite_handle.hpp"
#include "state/state_store.hpp"

#include <climits>

#include <algorithm>
#include <cstdio>

namespace ipp3d::server {
namespace {

using sqlite::Statement;

// Logs a read failure of a method that cannot return an error.
void report_login_error(sqlite3* db, std::string_view what) {
  static_cast<void>(std::fprintf(stderr, "ipp3d-server: state database: %.*s: %s\n",
                                 static_cast<int>(what.size()), what.data(), sqlite3_errmsg(db)));
}

// Clamps a 64-bit integer column to int.
int clamp_to_int(std::int64_t value) {
  return static_cast<int>(std::clamp<std::int64_t>(value, INT_MIN, INT_MAX));
}

}  // namespace

// Three point reads by primary key under one lock.
LoginRecord StateStore::login_record(const std::string& user, const std::string& address) {
  LoginRecord record;
  const std::lock_guard lock(mutex_);
  Statement account(db_.get(),
                    "SELECT a.password_hash, a.role, l.failures, l.locks, l.locked_until FROM accounts a "
                    "LEFT JOIN login_accounts l ON l.name = a.name WHERE a.name = ?1");
  account.bind(1, user);
  if (account.step()) {
    if (const std::optional<Role> role = parse_role(account.text(1))) {
      record.account = StoredAccount{account.text(0), *role};
    }
    if (!account.is_null(2)) {
      record.account_state = {clamp_to_int(account.int64(2)), clamp_to_int(account.int64(3)),
                              account.int64(4)};
    }
  } else if (!account.ok()) {
    report_login_error(db_.get(), "cannot read the account");
  }
  Statement source(db_.get(),
                   "SELECT window_start, failures, blocked_until FROM login_addresses WHERE address = ?1");
  source.bind(1, address);
  if (source.step()) {
    record.address_state = {source.int64(0), clamp_to_int(source.int64(1)), source.int64(2)};
  } else if (!source.ok()) {
    report_login_error(db_.get(), "cannot read the failed logins of an address");
  }
  return record;
}

// Upserts the row only when the account exists (INSERT ... SELECT).
Status StateStore::save_account_login_state(const std::string& user, const AccountLoginState& state) {
  const std::lock_guard lock(mutex_);
  Statement upsert(db_.get(),
                   "INSERT INTO login_accounts(name, failures, locks, locked_until) "
                   "SELECT name, ?2, ?3, ?4 FROM accounts WHERE name = ?1 "
                   "ON CONFLICT(name) DO UPDATE SET failures = excluded.failures, locks = excluded.locks, "
                   "locked_until = excluded.locked_until");
  upsert.bind(1, user)
      .bind(2, std::int64_t{state.failures})
      .bind(3, std::int64_t{state.locks})
      .bind(4, state.locked_until);
  if (!upsert.run()) {
    return sqlite::statement_error(db_.get(), "cannot store the failed logins of an account");
  }
  return {};
}

// Prunes, caps, then upserts.
Status StateStore::save_address_login_state(const std::string& address, const AddressLoginState& state,
                                            std::int64_t expires, std::int64_t now, std::size_t max_rows) {
  const std::lock_guard lock(mutex_);
  Statement prune(db_.get(), "DELETE FROM login_addresses WHERE expires <= ?1 AND address <> ?2");
  prune.bind(1, now).bind(2, address);
  if (!prune.run()) return sqlite::statement_error(db_.get(), "cannot prune the failed logins of addresses");
  // Keep max_rows - 1 others, so that the row written now fits.
  Statement cap(db_.get(),
                "DELETE FROM login_addresses WHERE address IN (SELECT address FROM login_addresses "
                "WHERE address <> ?1 ORDER BY expires DESC LIMIT -1 OFFSET ?2)");
  cap.bind(1, address).bind(2, static_cast<std::int64_t>(max_rows > 0 ? max_rows - 1 : 0));
  if (!cap.run()) return sqlite::statement_error(db_.get(), "cannot cap the failed logins of addresses");
  Statement upsert(db_.get(),
                   "INSERT INTO login_addresses(address, window_start, failures, blocked_until, expires) "
                   "VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(address) DO UPDATE SET "
                   "window_start = excluded.window_start, failures = excluded.failures, "
                   "blocked_until = excluded.blocked_until, expires = excluded.expires");
  upsert.bind(1, address)
      .bind(2, state.window_start)
      .bind(3, std::int64_t{state.failures})
      .bind(4, state.blocked_until)
      .bind(5, expires);
  if (!upsert.run()) {
    return sqlite::statement_error(db_.get(), "cannot store the failed logins of an address");
  }
  return {};
}

// COUNT(*) of login_addresses.
std::size_t StateStore::address_login_rows() {
  const std::lock_guard lock(mutex_);
  Statement query(db_.get(), "SELECT COUNT(*) FROM login_addresses");
  if (query.step()) return static_cast<std::size_t>(std::max<std::int64_t>(query.int64(0), 0));
  report_login_error(db_.get(), "cannot count the failed logins of addresses");
  return 0;
}

// A compare-and-swap on the password hash.
Result<bool> StateStore::replace_password_hash(const std::string& user, const std::string& old_hash,
                                               const std::string& new_hash) {
  const std::lock_guard lock(mutex_);
  Statement update(db_.get(),
                   "UPDATE accounts SET password_hash = ?3 WHERE name = ?1 AND password_hash = ?2");
  update.bind(1, user).bind(2, old_hash).bind(3, new_hash);
  if (!update.run()) return sqlite::statement_error(db_.get(), "cannot store the new password hash");
  return sqlite3_changes(db_.get()) > 0;
}

}  // namespace ipp3d::server
