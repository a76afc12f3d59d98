// The server's SQLite state database (STATE/ipp3d.db): accounts, per-printer
// state (loaded material, plate-clear flag), the job ledger and job IDs.
// WAL journal, synchronous=FULL, a schema version with forward migrations.
// Thread-safe: every method takes `mutex_` (one connection, serialized).
#pragma once

#include "ipp3d/result.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

struct sqlite3;

namespace ipp3d::server {

// Roles of accounts (issue "users and roles" adds operator and user rights).
enum class Role { kAdmin, kOperator, kUser };

// Parses "admin" / "operator" / "user".
std::optional<Role> parse_role(const std::string& text);
// "admin" / "operator" / "user".
const char* role_name(Role role);

// Persistent state of one printer.
struct PrinterState {
  std::optional<std::string> loaded_material;  // material-key, nullopt = nothing loaded
  bool plate_clear = true;                     // the build plate is clear: the next print may start
  bool operator==(const PrinterState&) const = default;
};

// One job as the ledger remembers it (PAPPL forgets messages and custom
// attributes of completed jobs across restarts).
struct JobRecord {
  std::string printer;  // printer name
  int job_id = 0;
  std::string name;                  // job-name
  std::string user;                  // job-originating-user-name
  int state = 3;                     // ipp_jstate_t: 3 pending ... 9 completed
  std::vector<std::string> reasons;  // job-state-reasons keywords
  std::string message;               // job-state-message
  std::int64_t created = 0;          // UNIX time
  std::int64_t processing = 0;       // UNIX time, 0 = not yet
  std::int64_t completed = 0;        // UNIX time, 0 = not yet
  int impressions = 0;               // total layers
  int impressions_completed = 0;
  int copies = 1;
  int copies_completed = 0;
  std::string material_key;  // the material the job prints with
  bool operator==(const JobRecord&) const = default;
};

// The database. Create with open(); destroy closes it.
class StateStore {
 public:
  // Opens (creating when missing) the database at `path` (mode 0600), sets
  // WAL and synchronous=FULL, and migrates the schema to kSchemaVersion.
  // Errors: unreadable/corrupt file, a schema newer than this program.
  static Result<std::unique_ptr<StateStore>> open(const std::filesystem::path& path);
  ~StateStore();
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  static constexpr int kSchemaVersion = 1;
  // The schema version stored in the file.
  [[nodiscard]] int schema_version();

  // Accounts. Passwords are stored as Argon2id strings (libsodium
  // crypto_pwhash_str, INTERACTIVE limits: 64 MiB, fits a 512 MB host); never in clear.
  // Sets (creating if missing) `user`'s password and role. Errors: a user
  // name that is not 1-64 characters of [A-Za-z0-9._-], or a password
  // shorter than 8 characters.
  Status set_password(const std::string& user, const std::string& password, Role role);
  // The role of `user` when `password` is right; nullopt otherwise (unknown
  // users cost the same hashing time as wrong passwords).
  std::optional<Role> verify_password(const std::string& user, const std::string& password);
  // True when at least one admin account exists.
  bool has_admin();

  // Printer state; a printer never stored gets `initial`.
  PrinterState printer_state(const std::string& printer, const PrinterState& initial);
  Status set_loaded_material(const std::string& printer, const std::optional<std::string>& material_key);
  Status set_plate_clear(const std::string& printer, bool clear);

  // Inserts or replaces the record (printer, job_id).
  Status save_job(const JobRecord& record);
  // One job, or nullopt.
  std::optional<JobRecord> job(const std::string& printer, int job_id);
  // All jobs of a printer in job-id order.
  std::vector<JobRecord> jobs(const std::string& printer);

  // Job IDs are never reused: the next ID is max(stored, every ledger ID + 1).
  int next_job_id(const std::string& printer);
  // Records that IDs below `next` are taken (monotonic: never lowers it).
  Status reserve_job_ids(const std::string& printer, int next);
  // Stores `next` exactly (it may lower a reservation). Only for a graceful
  // stop, when every job below `next` is in PAPPL's saved state or the ledger.
  Status set_next_job_id(const std::string& printer, int next);

 private:
  // Stateless deleter for the connection (sqlite3_close_v2).
  struct DbCloser {
    void operator()(sqlite3* db) const noexcept;
  };
  explicit StateStore(sqlite3* db) : db_(db) {}
  std::mutex mutex_;                       // guards db_ (one connection shared by PAPPL's threads)
  std::unique_ptr<sqlite3, DbCloser> db_;  // owned; closed in the destructor
};

}  // namespace ipp3d::server
