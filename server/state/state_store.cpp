// The SQLite state database: opening, schema migrations, accounts, printer
// state and the job ledger. Every statement binds its data as parameters.
#include "state/state_store.hpp"

#include "state/password.hpp"
#include "state/sqlite_handle.hpp"

#include <climits>
#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <string_view>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>

namespace ipp3d::server {
namespace {

using sqlite::ConnectionPtr;
using sqlite::Statement;

// Schema migrations: kMigrations[N] takes user_version N to N + 1. Append new
// steps; never edit a released one.
constexpr std::array<std::string_view, StateStore::kSchemaVersion> kMigrations = {
    // 0 -> 1: accounts, printer state, job ledger, job IDs.
    R"sql(
CREATE TABLE accounts(
  name TEXT PRIMARY KEY NOT NULL,
  password_hash TEXT NOT NULL,
  role TEXT NOT NULL,
  created INTEGER NOT NULL
);
CREATE TABLE printers(
  name TEXT PRIMARY KEY NOT NULL,
  loaded_material TEXT NULL,
  plate_clear INTEGER NULL,
  loaded_known INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE jobs(
  printer TEXT NOT NULL,
  job_id INTEGER NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  user TEXT NOT NULL DEFAULT '',
  state INTEGER NOT NULL,
  reasons TEXT NOT NULL DEFAULT '',
  message TEXT NOT NULL DEFAULT '',
  created INTEGER NOT NULL DEFAULT 0,
  processing INTEGER NOT NULL DEFAULT 0,
  completed INTEGER NOT NULL DEFAULT 0,
  impressions INTEGER NOT NULL DEFAULT 0,
  impressions_completed INTEGER NOT NULL DEFAULT 0,
  copies INTEGER NOT NULL DEFAULT 1,
  copies_completed INTEGER NOT NULL DEFAULT 0,
  material_key TEXT NOT NULL DEFAULT '',
  PRIMARY KEY(printer, job_id)
);
CREATE TABLE job_ids(
  printer TEXT PRIMARY KEY NOT NULL,
  next_id INTEGER NOT NULL
);
)sql",
    // 1 -> 2: trust store, envelope nonces, licence counters and reservations.
    R"sql(
CREATE TABLE trusted_signers(
  name TEXT PRIMARY KEY NOT NULL,
  key_id TEXT NOT NULL UNIQUE,
  public_key TEXT NOT NULL,
  comment TEXT NOT NULL DEFAULT '',
  added INTEGER NOT NULL
);
CREATE TABLE envelope_nonces(
  printer TEXT NOT NULL,
  signer_key_id TEXT NOT NULL,
  nonce TEXT NOT NULL,
  job_id INTEGER NOT NULL,
  not_after INTEGER NOT NULL,
  PRIMARY KEY(printer, signer_key_id, nonce)
);
CREATE TABLE licence_use(
  printer TEXT NOT NULL,
  signer_key_id TEXT NOT NULL,
  licence_id TEXT NOT NULL,
  used INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY(printer, signer_key_id, licence_id)
);
CREATE TABLE licence_reservations(
  printer TEXT NOT NULL,
  job_id INTEGER NOT NULL,
  copy INTEGER NOT NULL,
  signer_key_id TEXT NOT NULL,
  licence_id TEXT NOT NULL,
  PRIMARY KEY(printer, job_id, copy)
);
)sql",
    // 2 -> 3: prints handed to the machine (re-attached after a restart).
    R"sql(
CREATE TABLE machine_prints(
  printer TEXT NOT NULL,
  job_id INTEGER NOT NULL,
  remote_name TEXT NOT NULL,
  copy INTEGER NOT NULL DEFAULT 0,
  copies INTEGER NOT NULL DEFAULT 1,
  layers INTEGER NOT NULL DEFAULT 0,
  layer_offsets TEXT NOT NULL DEFAULT '',
  PRIMARY KEY(printer, job_id)
);
)sql",
    // 3 -> 4: the hash-chained audit log.
    R"sql(
CREATE TABLE audit_log(
  seq INTEGER PRIMARY KEY NOT NULL,
  time INTEGER NOT NULL,
  type TEXT NOT NULL,
  actor TEXT NOT NULL DEFAULT '',
  source TEXT NOT NULL DEFAULT '',
  printer TEXT NOT NULL DEFAULT '',
  job_id INTEGER NOT NULL DEFAULT 0,
  details TEXT NOT NULL DEFAULT '[]',
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
)sql",
    // 4 -> 5: signed checkpoints of the audit log.
    R"sql(
CREATE TABLE audit_checkpoints(
  id INTEGER PRIMARY KEY NOT NULL,
  seq INTEGER NOT NULL,
  hash TEXT NOT NULL,
  time INTEGER NOT NULL,
  key_id TEXT NOT NULL,
  public_key TEXT NOT NULL,
  signature TEXT NOT NULL
);
)sql",
    // 5 -> 6: failed-login records for account locks and per-address limits.
    R"sql(
CREATE TABLE login_accounts(
  name TEXT PRIMARY KEY NOT NULL REFERENCES accounts(name) ON DELETE CASCADE,
  failures INTEGER NOT NULL DEFAULT 0,
  locks INTEGER NOT NULL DEFAULT 0,
  locked_until INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE login_addresses(
  address TEXT PRIMARY KEY NOT NULL,
  window_start INTEGER NOT NULL,
  failures INTEGER NOT NULL,
  blocked_until INTEGER NOT NULL DEFAULT 0,
  expires INTEGER NOT NULL
);
CREATE INDEX login_addresses_expires ON login_addresses(expires);
)sql",
    // 6 -> 7: a trusted signer may be bound to an account (whose jobs its
    // signatures are, docs/security.md "Who may do what"); '' = not bound.
    R"sql(
ALTER TABLE trusted_signers ADD COLUMN user TEXT NOT NULL DEFAULT '';
)sql",
};

constexpr int kBusyTimeoutMs = 5000;  // wait this long for another connection's lock
constexpr char kJobColumns[] =
    "printer, job_id, name, user, state, reasons, message, created, processing, completed, impressions, "
    "impressions_completed, copies, copies_completed, material_key";

// An internal error naming the database file and SQLite's message.
Error db_error(const std::filesystem::path& path, std::string_view what, std::string_view message) {
  return Error{IPP_STATUS_ERROR_INTERNAL,
               path.string() + ": " + std::string(what) + ": " + std::string(message), "", 0};
}

// Reports a failure of a method that cannot return an error (to stderr, which
// is the server log when no log file is configured).
void report(sqlite3* db, std::string_view what) {
  static_cast<void>(std::fprintf(stderr, "ipp3d-server: state database: %.*s: %s\n",
                                 static_cast<int>(what.size()), what.data(), sqlite3_errmsg(db)));
}

// Runs SQL that carries no data (schema, transactions, pragmas).
bool exec(sqlite3* db, const char* sql) {
  return sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK;
}

// Clamps a 64-bit integer column to int.
int to_int(std::int64_t value) { return static_cast<int>(std::clamp<std::int64_t>(value, INT_MIN, INT_MAX)); }

// Creates the database file with mode 0600, or tightens an existing one.
Status prepare_file(const std::filesystem::path& path) {
  std::error_code ec;
  const std::filesystem::path parent = path.parent_path();
  if (!parent.empty() && !std::filesystem::exists(parent, ec)) {
    // Only the leaf is made private (0700): intermediate directories are shared.
    if (parent.has_parent_path()) std::filesystem::create_directories(parent.parent_path(), ec);
    if (ec || (::mkdir(parent.c_str(), 0700) != 0 && errno != EEXIST)) {
      return db_error(path, "cannot create its directory", ec ? ec.message() : std::strerror(errno));
    }
  }
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return db_error(path, "cannot open", std::strerror(errno));
  struct stat info {};
  Status result;
  if (::fstat(fd, &info) != 0) {
    result = db_error(path, "cannot stat", std::strerror(errno));
  } else if (!S_ISREG(info.st_mode)) {
    result = db_error(path, "cannot open", "not a regular file");
  } else if ((info.st_mode & 0077) != 0 && ::fchmod(fd, 0600) != 0) {
    result = db_error(path, "cannot restrict permissions to 0600", std::strerror(errno));
  }
  ::close(fd);
  return result;
}

// Reads PRAGMA user_version; nullopt on error.
std::optional<int> read_user_version(sqlite3* db) {
  Statement query(db, "PRAGMA user_version");
  if (!query.step()) return std::nullopt;
  return to_int(query.int64(0));
}

// Sets the connection's pragmas: WAL journal, synchronous=FULL, foreign keys.
Status configure(sqlite3* db, const std::filesystem::path& path) {
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  Statement journal(db, "PRAGMA journal_mode=WAL");
  if (!journal.step()) return db_error(path, "cannot open the state database", journal.error_message());
  const std::string mode = journal.text(0);
  if (mode != "wal") return db_error(path, "cannot enable the WAL journal", "journal mode is " + mode);
  if (!exec(db, "PRAGMA synchronous=FULL") || !exec(db, "PRAGMA foreign_keys=ON")) {
    return db_error(path, "cannot configure the state database", sqlite3_errmsg(db));
  }
  return {};
}

// Applies migration step `from` (user_version from -> from + 1) in one
// transaction; skips it when another process already applied it.
Status apply_migration(sqlite3* db, const std::filesystem::path& path, int from) {
  if (!exec(db, "BEGIN IMMEDIATE")) return db_error(path, "cannot start a migration", sqlite3_errmsg(db));
  const std::optional<int> current = read_user_version(db);
  bool done = current.has_value();
  if (done && *current == from) {
    // The version is a constant of this program, not data: formatting it is safe.
    const std::string set_version = "PRAGMA user_version = " + std::to_string(from + 1);
    done = exec(db, kMigrations[static_cast<std::size_t>(from)].data()) && exec(db, set_version.c_str());
  }
  if (done && exec(db, "COMMIT")) return {};
  Error error =
      db_error(path, "cannot migrate the schema to version " + std::to_string(from + 1), sqlite3_errmsg(db));
  exec(db, "ROLLBACK");
  return error;
}

// Brings the schema to kSchemaVersion; refuses a newer one.
Status migrate(sqlite3* db, const std::filesystem::path& path) {
  for (;;) {
    const std::optional<int> version = read_user_version(db);
    if (!version) return db_error(path, "cannot read the schema version", sqlite3_errmsg(db));
    if (*version > StateStore::kSchemaVersion) {
      return Error{IPP_STATUS_ERROR_INTERNAL,
                   path.string() + " has schema version " + std::to_string(*version) +
                       ", newer than this ipp3d-server (" + std::to_string(StateStore::kSchemaVersion) +
                       "); upgrade ipp3d-server",
                   "", 0};
    }
    if (*version == StateStore::kSchemaVersion) return {};
    if (*version < 0) return db_error(path, "invalid schema version", std::to_string(*version));
    if (Status step = apply_migration(db, path, *version); !step) return step;
  }
}

// Joins job-state-reasons keywords with spaces.
std::string join_reasons(const std::vector<std::string>& reasons) {
  std::string joined;
  for (const std::string& reason : reasons) {
    if (!joined.empty()) joined += ' ';
    joined += reason;
  }
  return joined;
}

// Splits space-separated keywords.
std::vector<std::string> split_reasons(const std::string& joined) {
  std::vector<std::string> reasons;
  std::size_t start = 0;
  while (start < joined.size()) {
    const std::size_t end = std::min(joined.find(' ', start), joined.size());
    if (end > start) reasons.push_back(joined.substr(start, end - start));
    start = end + 1;
  }
  return reasons;
}

// Reads a job row selected with kJobColumns.
JobRecord read_job(const Statement& row) {
  JobRecord job;
  job.printer = row.text(0);
  job.job_id = to_int(row.int64(1));
  job.name = row.text(2);
  job.user = row.text(3);
  job.state = to_int(row.int64(4));
  job.reasons = split_reasons(row.text(5));
  job.message = row.text(6);
  job.created = row.int64(7);
  job.processing = row.int64(8);
  job.completed = row.int64(9);
  job.impressions = to_int(row.int64(10));
  job.impressions_completed = to_int(row.int64(11));
  job.copies = to_int(row.int64(12));
  job.copies_completed = to_int(row.int64(13));
  job.material_key = row.text(14);
  return job;
}

}  // namespace

// Parses a role name.
std::optional<Role> parse_role(const std::string& text) {
  if (text == "admin") return Role::kAdmin;
  if (text == "operator") return Role::kOperator;
  if (text == "user") return Role::kUser;
  return std::nullopt;
}

// The keyword of a role.
const char* role_name(Role role) {
  switch (role) {
    case Role::kAdmin:
      return "admin";
    case Role::kOperator:
      return "operator";
    case Role::kUser:
      return "user";
  }
  return "user";
}

// Closes the connection (pending statements are all finalized by then).
void StateStore::DbCloser::operator()(sqlite3* db) const noexcept { sqlite::ConnectionCloser{}(db); }

// Opens, configures and migrates the database.
Result<std::unique_ptr<StateStore>> StateStore::open(const std::filesystem::path& path) {
  if (Status file = prepare_file(path); !file) return file.error();
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, nullptr);
  ConnectionPtr db(raw);
  if (rc != SQLITE_OK) {
    return db_error(path, "cannot open the state database",
                    db ? sqlite3_errmsg(db.get()) : sqlite3_errstr(rc));
  }
  if (Status configured = configure(db.get(), path); !configured) return configured.error();
  if (Status migrated = migrate(db.get(), path); !migrated) return migrated.error();
  return std::unique_ptr<StateStore>(new StateStore(db.release()));
}

// Closes the database.
StateStore::~StateStore() {
  const std::lock_guard lock(mutex_);
  db_.reset();
}

// The stored schema version (-1 when unreadable).
int StateStore::schema_version() {
  const std::lock_guard lock(mutex_);
  return read_user_version(db_.get()).value_or(-1);
}

// Hashes outside the lock (slow), then upserts the account.
Status StateStore::set_password(const std::string& user, const std::string& password, Role role) {
  if (Status valid = password::validate_user_name(user); !valid) return valid;
  if (Status valid = password::validate_password(password); !valid) return valid;
  Result<std::string> hashed = password::hash(password);
  if (!hashed) return hashed.error();
  const std::lock_guard lock(mutex_);
  Statement upsert(
      db_.get(),
      "INSERT INTO accounts(name, password_hash, role, created) VALUES(?1, ?2, ?3, ?4) "
      "ON CONFLICT(name) DO UPDATE SET password_hash = excluded.password_hash, role = excluded.role");
  upsert.bind(1, user)
      .bind(2, *hashed)
      .bind(3, role_name(role))
      .bind(4, static_cast<std::int64_t>(std::time(nullptr)));
  if (!upsert.run()) return sqlite::statement_error(db_.get(), "cannot store the account");
  return {};
}

// The account row, read under the lock.
std::optional<StoredAccount> StateStore::stored_account(const std::string& user) {
  const std::lock_guard lock(mutex_);
  Statement query(db_.get(), "SELECT password_hash, role FROM accounts WHERE name = ?1");
  query.bind(1, user);
  if (query.step()) {
    const std::optional<Role> role = parse_role(query.text(1));
    if (role) return StoredAccount{query.text(0), *role};
  } else if (!query.ok()) {
    report(db_.get(), "cannot read the account");
  }
  return std::nullopt;
}

// Looks the account up under the lock, verifies outside it.
std::optional<Role> StateStore::verify_password(const std::string& user, const std::string& password) {
  const std::optional<StoredAccount> account = stored_account(user);
  if (!account) {
    static_cast<void>(password::verify_dummy(password));
    return std::nullopt;
  }
  if (!password::verify(account->password_hash, password)) return std::nullopt;
  return account->role;
}

// True when an admin account exists.
bool StateStore::has_admin() {
  const std::lock_guard lock(mutex_);
  Statement query(db_.get(), "SELECT EXISTS(SELECT 1 FROM accounts WHERE role = ?1)");
  query.bind(1, role_name(Role::kAdmin));
  if (query.step()) return query.int64(0) != 0;
  report(db_.get(), "cannot read the accounts");
  return false;
}

// The stored state; unknown parts (or an absent row) come from `initial`.
PrinterState StateStore::printer_state(const std::string& printer, const PrinterState& initial) {
  const std::lock_guard lock(mutex_);
  Statement query(db_.get(),
                  "SELECT loaded_material, plate_clear, loaded_known FROM printers WHERE name = ?1");
  query.bind(1, printer);
  PrinterState state = initial;
  if (!query.step()) {
    if (!query.ok()) report(db_.get(), "cannot read the printer state");
    return state;
  }
  if (query.int64(2) != 0) {
    state.loaded_material = query.is_null(0) ? std::nullopt : std::optional<std::string>(query.text(0));
  }
  if (!query.is_null(1)) state.plate_clear = query.int64(1) != 0;
  return state;
}

// Stores the loaded material (nullopt = nothing loaded), keeping the plate flag.
Status StateStore::set_loaded_material(const std::string& printer,
                                       const std::optional<std::string>& material_key) {
  const std::lock_guard lock(mutex_);
  Statement upsert(
      db_.get(),
      "INSERT INTO printers(name, loaded_material, plate_clear, loaded_known) VALUES(?1, ?2, NULL, 1) "
      "ON CONFLICT(name) DO UPDATE SET loaded_material = excluded.loaded_material, loaded_known = 1");
  upsert.bind(1, printer).bind_optional(2, material_key);
  if (!upsert.run()) return sqlite::statement_error(db_.get(), "cannot store the loaded material");
  return {};
}

// Stores the plate flag, keeping the loaded material (unknown when fresh).
Status StateStore::set_plate_clear(const std::string& printer, bool clear) {
  const std::lock_guard lock(mutex_);
  Statement upsert(
      db_.get(),
      "INSERT INTO printers(name, loaded_material, plate_clear, loaded_known) VALUES(?1, NULL, ?2, 0) "
      "ON CONFLICT(name) DO UPDATE SET plate_clear = excluded.plate_clear");
  upsert.bind(1, printer).bind(2, std::int64_t{clear ? 1 : 0});
  if (!upsert.run()) return sqlite::statement_error(db_.get(), "cannot store the plate state");
  return {};
}

// Inserts or replaces one ledger record.
Status StateStore::save_job(const JobRecord& record) {
  const std::lock_guard lock(mutex_);
  Statement upsert(db_.get(),
                   std::string("INSERT OR REPLACE INTO jobs(") + kJobColumns +
                       ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)");
  upsert.bind(1, record.printer)
      .bind(2, std::int64_t{record.job_id})
      .bind(3, record.name)
      .bind(4, record.user)
      .bind(5, std::int64_t{record.state})
      .bind(6, join_reasons(record.reasons))
      .bind(7, record.message)
      .bind(8, record.created)
      .bind(9, record.processing)
      .bind(10, record.completed)
      .bind(11, std::int64_t{record.impressions})
      .bind(12, std::int64_t{record.impressions_completed})
      .bind(13, std::int64_t{record.copies})
      .bind(14, std::int64_t{record.copies_completed})
      .bind(15, record.material_key);
  if (!upsert.run()) return sqlite::statement_error(db_.get(), "cannot store the job");
  return {};
}

// One ledger record.
std::optional<JobRecord> StateStore::job(const std::string& printer, int job_id) {
  const std::lock_guard lock(mutex_);
  Statement query(db_.get(),
                  std::string("SELECT ") + kJobColumns + " FROM jobs WHERE printer = ?1 AND job_id = ?2");
  query.bind(1, printer).bind(2, std::int64_t{job_id});
  if (query.step()) return read_job(query);
  if (!query.ok()) report(db_.get(), "cannot read the job");
  return std::nullopt;
}

// A printer's ledger in job-id order.
std::vector<JobRecord> StateStore::jobs(const std::string& printer) {
  const std::lock_guard lock(mutex_);
  Statement query(db_.get(),
                  std::string("SELECT ") + kJobColumns + " FROM jobs WHERE printer = ?1 ORDER BY job_id");
  query.bind(1, printer);
  std::vector<JobRecord> records;
  while (query.step()) records.push_back(read_job(query));
  if (!query.ok()) report(db_.get(), "cannot read the jobs");
  return records;
}

// max(reserved next ID, highest ledger ID + 1, 1).
int StateStore::next_job_id(const std::string& printer) {
  const std::lock_guard lock(mutex_);
  Statement query(db_.get(),
                  "SELECT MAX(COALESCE((SELECT next_id FROM job_ids WHERE printer = ?1), 1), "
                  "COALESCE((SELECT MAX(job_id) + 1 FROM jobs WHERE printer = ?1), 1), 1)");
  query.bind(1, printer);
  if (query.step()) return to_int(query.int64(0));
  report(db_.get(), "cannot read the next job ID");
  return 1;
}

// Raises (never lowers) the reserved next ID.
Status StateStore::reserve_job_ids(const std::string& printer, int next) {
  const std::lock_guard lock(mutex_);
  Statement upsert(db_.get(),
                   "INSERT INTO job_ids(printer, next_id) VALUES(?1, ?2) "
                   "ON CONFLICT(printer) DO UPDATE SET next_id = MAX(next_id, excluded.next_id)");
  upsert.bind(1, printer).bind(2, std::int64_t{next});
  if (!upsert.run()) return sqlite::statement_error(db_.get(), "cannot reserve job IDs");
  return {};
}

}  // namespace ipp3d::server

namespace ipp3d::server {

Status StateStore::set_next_job_id(const std::string& printer, int next) {
  const std::lock_guard lock(mutex_);
  Statement upsert(db_.get(),
                   "INSERT INTO job_ids(printer, next_id) VALUES(?1, ?2) "
                   "ON CONFLICT(printer) DO UPDATE SET next_id = excluded.next_id");
  upsert.bind(1, printer).bind(2, std::int64_t{next});
  if (!upsert.run()) return sqlite::statement_error(db_.get(), "cannot store the next job ID");
  return {};
}

}  // namespace ipp3d::server
