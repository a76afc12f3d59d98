// The state database's trust records: trusted signers, the nonces of
// verified envelopes (replay protection) and licence counters with their
// reservations. Every statement binds its data as parameters; every method
// takes StateStore::mutex_.
#include "state/sqlite_handle.hpp"
#include "state/state_store.hpp"

#include <cstdio>
#include <ctime>

namespace ipp3d::server {
namespace {

using sqlite::Statement;

// Logs a failure of a method that cannot return an error.
void log_failure(sqlite3* db, std::string_view what) {
  static_cast<void>(std::fprintf(stderr, "ipp3d-server: state database: %.*s: %s\n",
                                 static_cast<int>(what.size()), what.data(), sqlite3_errmsg(db)));
}

// Runs a statement without data (transactions).
bool exec_plain(sqlite3* db, const char* sql) {
  return sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK;
}

// Rolls back the open transaction unless commit() was called.
class Transaction {
 public:
  explicit Transaction(sqlite3* db) : db_(db), open_(exec_plain(db, "BEGIN IMMEDIATE")) {}
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction() {
    if (open_) static_cast<void>(exec_plain(db_, "ROLLBACK"));
  }
  [[nodiscard]] bool started() const { return open_; }
  bool commit() {
    open_ = false;
    return exec_plain(db_, "COMMIT");
  }

 private:
  sqlite3* db_;
  bool open_;
};

// The trusted signer in the current row (columns name, key_id, public_key, comment, added, user).
TrustedSigner read_signer(const Statement& row) {
  return TrustedSigner{row.text(0), row.text(1), row.text(2), row.text(3), row.int64(4), row.text(5)};
}

}  // namespace

bool is_valid_signer_name(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '@' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Status StateStore::add_trusted_signer(const TrustedSigner& signer) {
  if (!is_valid_signer_name(signer.name)) {
    return attribute_error(
        "name", "signer name \"" + signer.name + "\" must be 1 to 64 letters, digits, '.', '_', '@' or '-'");
  }
  const std::lock_guard lock(mutex_);
  Statement existing(db_.get(), "SELECT name, key_id FROM trusted_signers WHERE name = ?1 OR key_id = ?2");
  existing.bind(1, signer.name).bind(2, signer.key_id);
  if (existing.step()) {
    if (existing.text(0) == signer.name) {
      return attribute_error("name", "a signer named \"" + signer.name +
                                         "\" is already trusted; remove it first or choose another name");
    }
    return attribute_error("key",
                           "key " + signer.key_id + " is already trusted as \"" + existing.text(0) + "\"");
  }
  if (!existing.ok()) return sqlite::statement_error(db_.get(), "cannot read the trust store");
  Statement insert(db_.get(),
                   "INSERT INTO trusted_signers(name, key_id, public_key, comment, added, user) "
                   "VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
  insert.bind(1, signer.name)
      .bind(2, signer.key_id)
      .bind(3, signer.public_key)
      .bind(4, signer.comment)
      .bind(5, signer.added != 0 ? signer.added : std::int64_t{std::time(nullptr)})
      .bind(6, signer.user);
  if (!insert.run()) return sqlite::statement_error(db_.get(), "cannot add the signer");
  return {};
}

Status StateStore::remove_trusted_signer(const std::string& name) {
  const std::lock_guard lock(mutex_);
  Statement remove(db_.get(), "DELETE FROM trusted_signers WHERE name = ?1");
  remove.bind(1, name);
  if (!remove.run()) return sqlite::statement_error(db_.get(), "cannot remove the signer");
  if (sqlite3_changes(db_.get()) == 0) {
    return attribute_error("name", "no trusted signer is named \"" + name + "\" (see `trust list`)");
  }
  return {};
}

std::vector<TrustedSigner> StateStore::trusted_signers() {
  const std::lock_guard lock(mutex_);
  Statement query(db_.get(),
                  "SELECT name, key_id, public_key, comment, added, user FROM trusted_signers ORDER BY name");
  std::vector<TrustedSigner> signers;
  while (query.step()) signers.push_back(read_signer(query));
  if (!query.ok()) log_failure(db_.get(), "cannot read the trust store");
  return signers;
}

std::optional<TrustedSigner> StateStore::trusted_signer(const std::string& key_id) {
  const std::lock_guard lock(mutex_);
  Statement query(
      db_.get(),
      "SELECT name, key_id, public_key, comment, added, user FROM trusted_signers WHERE key_id = ?1");
  query.bind(1, key_id);
  if (query.step()) return read_signer(query);
  if (!query.ok()) log_failure(db_.get(), "cannot read the trust store");
  return std::nullopt;
}

NonceUse StateStore::nonce_use(const std::string& printer, const std::string& signer_key_id,
                               const std::string& nonce, int job_id) {
  const std::lock_guard lock(mutex_);
  Statement query(
      db_.get(),
      "SELECT job_id FROM envelope_nonces WHERE printer = ?1 AND signer_key_id = ?2 AND nonce = ?3");
  query.bind(1, printer).bind(2, signer_key_id).bind(3, nonce);
  if (query.step()) return query.int64(0) == job_id ? NonceUse::kSameJob : NonceUse::kReplayed;
  if (!query.ok()) log_failure(db_.get(), "cannot read nonces");
  return NonceUse::kFresh;
}

Result<NonceUse> StateStore::record_nonce(const std::string& printer, const std::string& signer_key_id,
                                          const std::string& nonce, int job_id, std::int64_t not_after) {
  const std::lock_guard lock(mutex_);
  Statement insert(db_.get(),
                   "INSERT INTO envelope_nonces(printer, signer_key_id, nonce, job_id, not_after) "
                   "VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING");
  insert.bind(1, printer)
      .bind(2, signer_key_id)
      .bind(3, nonce)
      .bind(4, std::int64_t{job_id})
      .bind(5, not_after);
  if (!insert.run()) return sqlite::statement_error(db_.get(), "cannot record the nonce");
  if (sqlite3_changes(db_.get()) == 1) return NonceUse::kFresh;
  Statement query(
      db_.get(),
      "SELECT job_id FROM envelope_nonces WHERE printer = ?1 AND signer_key_id = ?2 AND nonce = ?3");
  query.bind(1, printer).bind(2, signer_key_id).bind(3, nonce);
  if (!query.step()) return sqlite::statement_error(db_.get(), "cannot read the nonce");
  return query.int64(0) == job_id ? NonceUse::kSameJob : NonceUse::kReplayed;
}

int StateStore::prune_nonces(std::int64_t now) {
  const std::lock_guard lock(mutex_);
  Statement remove(db_.get(), "DELETE FROM envelope_nonces WHERE not_after < ?1");
  remove.bind(1, now);
  if (!remove.run()) {
    log_failure(db_.get(), "cannot prune nonces");
    return 0;
  }
  return sqlite3_changes(db_.get());
}

int StateStore::licence_copies_taken(const LicenceKey& key) {
  const std::lock_guard lock(mutex_);
  Statement query(
      db_.get(),
      "SELECT COALESCE((SELECT used FROM licence_use WHERE printer = ?1 AND signer_key_id = ?2 AND "
      "licence_id = ?3), 0) + (SELECT COUNT(*) FROM licence_reservations WHERE printer = ?1 AND "
      "signer_key_id = ?2 AND licence_id = ?3)");
  query.bind(1, key.printer).bind(2, key.signer_key_id).bind(3, key.licence_id);
  if (query.step()) return static_cast<int>(query.int64(0));
  log_failure(db_.get(), "cannot read a licence counter");
  return 0;
}

Result<bool> StateStore::reserve_licence_copy(const LicenceKey& key, int allowed, int job_id, int copy) {
  const std::lock_guard lock(mutex_);
  Transaction transaction(db_.get());
  if (!transaction.started()) return sqlite::statement_error(db_.get(), "cannot start a licence reservation");
  Statement mine(db_.get(),
                 "SELECT 1 FROM licence_reservations WHERE printer = ?1 AND job_id = ?2 AND copy = ?3");
  mine.bind(1, key.printer).bind(2, std::int64_t{job_id}).bind(3, std::int64_t{copy});
  if (mine.step()) return true;
  Statement taken(
      db_.get(),
      "SELECT COALESCE((SELECT used FROM licence_use WHERE printer = ?1 AND signer_key_id = ?2 AND "
      "licence_id = ?3), 0) + (SELECT COUNT(*) FROM licence_reservations WHERE printer = ?1 AND "
      "signer_key_id = ?2 AND licence_id = ?3)");
  taken.bind(1, key.printer).bind(2, key.signer_key_id).bind(3, key.licence_id);
  if (!taken.step()) return sqlite::statement_error(db_.get(), "cannot read a licence counter");
  if (taken.int64(0) >= allowed) return false;
  Statement insert(db_.get(),
                   "INSERT INTO licence_reservations(printer, job_id, copy, signer_key_id, licence_id) "
                   "VALUES(?1, ?2, ?3, ?4, ?5)");
  insert.bind(1, key.printer)
      .bind(2, std::int64_t{job_id})
      .bind(3, std::int64_t{copy})
      .bind(4, key.signer_key_id)
      .bind(5, key.licence_id);
  if (!insert.run() || !transaction.commit()) {
    return sqlite::statement_error(db_.get(), "cannot reserve a licence copy");
  }
  return true;
}

namespace {

// Moves the reservations selected by `where` (with parameters bound by
// `bind`) into the used counters, in the caller's transaction.
template <class Bind>
bool commit_reservations(sqlite3* db, const std::string& where, const Bind& bind) {
  Statement count(
      db,
      "INSERT INTO licence_use(printer, signer_key_id, licence_id, used) "
      "SELECT printer, signer_key_id, licence_id, COUNT(*) FROM licence_reservations WHERE " +
          where +
          " GROUP BY printer, signer_key_id, licence_id "
          "ON CONFLICT(printer, signer_key_id, licence_id) DO UPDATE SET used = used + excluded.used");
  bind(count);
  if (!count.run()) return false;
  Statement remove(db, "DELETE FROM licence_reservations WHERE " + where);
  bind(remove);
  return remove.run();
}

}  // namespace

Status StateStore::commit_licence_copy(const std::string& printer, int job_id, int copy) {
  const std::lock_guard lock(mutex_);
  Transaction transaction(db_.get());
  if (!transaction.started()) return sqlite::statement_error(db_.get(), "cannot start a licence commit");
  const bool moved = commit_reservations(
      db_.get(), "printer = ?1 AND job_id = ?2 AND copy = ?3",
      [&](Statement& s) { s.bind(1, printer).bind(2, std::int64_t{job_id}).bind(3, std::int64_t{copy}); });
  if (!moved || !transaction.commit()) {
    return sqlite::statement_error(db_.get(), "cannot commit a licence copy");
  }
  return {};
}

Status StateStore::release_licence_copy(const std::string& printer, int job_id, int copy) {
  const std::lock_guard lock(mutex_);
  Statement remove(db_.get(),
                   "DELETE FROM licence_reservations WHERE printer = ?1 AND job_id = ?2 AND copy = ?3");
  remove.bind(1, printer).bind(2, std::int64_t{job_id}).bind(3, std::int64_t{copy});
  if (!remove.run()) return sqlite::statement_error(db_.get(), "cannot release a licence copy");
  return {};
}

int StateStore::commit_stale_reservations() {
  const std::lock_guard lock(mutex_);
  Transaction transaction(db_.get());
  if (!transaction.started()) return 0;
  Statement count(db_.get(), "SELECT COUNT(*) FROM licence_reservations");
  const int stale = count.step() ? static_cast<int>(count.int64(0)) : 0;
  if (stale == 0) return 0;
  if (!commit_reservations(db_.get(), "1 = 1", [](Statement&) {}) || !transaction.commit()) {
    log_failure(db_.get(), "cannot commit stale licence reservations");
    return 0;
  }
  return stale;
}

}  // namespace ipp3d::server
