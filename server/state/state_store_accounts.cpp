// Account management for `ipp3d-server user`: listing, adding, changing the
// password or role, and deleting accounts, never leaving the server without
// an admin. Every statement binds its data; every method takes mutex_.
#include "state/password.hpp"
#include "state/sqlite_handle.hpp"
#include "state/state_store.hpp"

#include <sqlite3.h>

#include <ctime>

namespace ipp3d::server {
namespace {

using sqlite::Statement;

// An error naming what failed and SQLite's message.
Error account_error(sqlite3* db, const std::string& what) {
  return Error{IPP_STATUS_ERROR_INTERNAL, "state database: " + what + ": " + sqlite3_errmsg(db), "", 0};
}

// The refusal for an unknown account.
Error no_such_account(const std::string& name) {
  return Error{IPP_STATUS_ERROR_NOT_FOUND, "no account named '" + name + "'", "", 0};
}

// The refusal that keeps one admin.
Error last_admin(const std::string& name, const char* action) {
  return Error{IPP_STATUS_ERROR_NOT_POSSIBLE,
               std::string("cannot ") + action + " '" + name +
                   "': it is the last admin account (make another account admin first)",
               "", 0};
}

// Reads an account row selected as (name, role, created).
Account read_account(const Statement& row) {
  return Account{row.text(0), parse_role(row.text(1)).value_or(Role::kUser), row.int64(2)};
}

}  // namespace

std::vector<Account> StateStore::accounts() {
  const std::lock_guard lock(mutex_);
  std::vector<Account> result;
  Statement query(db_.get(), "SELECT name, role, created FROM accounts ORDER BY name");
  while (query.step()) result.push_back(read_account(query));
  return result;
}

std::optional<Account> StateStore::account(const std::string& name) {
  const std::lock_guard lock(mutex_);
  Statement query(db_.get(), "SELECT name, role, created FROM accounts WHERE name = ?1");
  query.bind(1, name);
  if (!query.step()) return std::nullopt;
  return read_account(query);
}

// Hashes outside the lock (slow), then inserts.
Status StateStore::add_account(const std::string& name, const std::string& password, Role role) {
  if (Status valid = password::validate_user_name(name); !valid) return valid;
  if (Status valid = password::validate_password(password); !valid) return valid;
  Result<std::string> hashed = password::hash(password);
  if (!hashed) return hashed.error();
  const std::lock_guard lock(mutex_);
  Statement insert(db_.get(),
                   "INSERT INTO accounts(name, password_hash, role, created) VALUES(?1, ?2, ?3, ?4) "
                   "ON CONFLICT(name) DO NOTHING");
  insert.bind(1, name).bind(2, *hashed).bind(3, role_name(role)).bind(4, std::int64_t{std::time(nullptr)});
  if (!insert.run()) return account_error(db_.get(), "cannot store the account");
  if (sqlite3_changes(db_.get()) == 0) {
    return Error{
        IPP_STATUS_ERROR_NOT_POSSIBLE,
        "an account named '" + name + "' exists already (change it with `user passwd` or `user role`)", "",
        0};
  }
  return {};
}

// Hashes outside the lock, then updates.
Status StateStore::change_password(const std::string& name, const std::string& password) {
  if (Status valid = password::validate_password(password); !valid) return valid;
  Result<std::string> hashed = password::hash(password);
  if (!hashed) return hashed.error();
  const std::lock_guard lock(mutex_);
  Statement update(db_.get(), "UPDATE accounts SET password_hash = ?2 WHERE name = ?1");
  update.bind(1, name).bind(2, *hashed);
  if (!update.run()) return account_error(db_.get(), "cannot store the password");
  if (sqlite3_changes(db_.get()) == 0) return no_such_account(name);
  return {};
}

// One statement (atomic in SQLite, also against another process) changes
// the role unless that would remove the last admin.
Status StateStore::set_role(const std::string& name, Role role) {
  const std::lock_guard lock(mutex_);
  Statement update(db_.get(),
                   "UPDATE accounts SET role = ?2 WHERE name = ?1 AND (role <> 'admin' OR ?2 = 'admin' OR "
                   "(SELECT COUNT(*) FROM accounts WHERE role = 'admin') > 1)");
  update.bind(1, name).bind(2, role_name(role));
  if (!update.run()) return account_error(db_.get(), "cannot change the role");
  if (sqlite3_changes(db_.get()) != 0) return {};
  Statement exists(db_.get(), "SELECT 1 FROM accounts WHERE name = ?1");
  exists.bind(1, name);
  return exists.step() ? Status{last_admin(name, "demote")} : Status{no_such_account(name)};
}

// As set_role: one statement deletes unless it is the last admin.
Status StateStore::remove_account(const std::string& name) {
  const std::lock_guard lock(mutex_);
  Statement remove(db_.get(),
                   "DELETE FROM accounts WHERE name = ?1 AND (role <> 'admin' OR "
                   "(SELECT COUNT(*) FROM accounts WHERE role = 'admin') > 1)");
  remove.bind(1, name);
  if (!remove.run()) return account_error(db_.get(), "cannot delete the account");
  if (sqlite3_changes(db_.get()) != 0) return {};
  Statement exists(db_.get(), "SELECT 1 FROM accounts WHERE name = ?1");
  exists.bind(1, name);
  return exists.step() ? Status{last_admin(name, "remove")} : Status{no_such_account(name)};
}

}  // namespace ipp3d::server
