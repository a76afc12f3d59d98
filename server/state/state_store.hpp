// The server's SQLite state database (STATE/ipp3d.db): accounts, per-printer
// state (loaded material, plate-clear flag), the job ledger and job IDs, and
// (state_store_trust.cpp) the trust store of signers, envelope nonces and
// licence counters.
// WAL journal, synchronous=FULL, a schema version with forward migrations.
// Thread-safe: every method takes `mutex_` (one connection, serialized).
#pragma once

#include "ipp3d/result.hpp"
#include "ipp3d/trust/audit_checkpoint.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct sqlite3;

namespace ipp3d::server {

// Roles of accounts (issue "users and roles" adds operator and user rights).
enum class Role { kAdmin, kOperator, kUser };

// Parses "admin" / "operator" / "user".
std::optional<Role> parse_role(const std::string& text);
// "admin" / "operator" / "user".
const char* role_name(Role role);

// An account as listed (never its password hash).
struct Account {
  std::string name;
  Role role = Role::kUser;
  std::int64_t created = 0;  // UNIX time
  bool operator==(const Account&) const = default;
};

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

// True for a valid signer name: 1-64 characters of [A-Za-z0-9._@-].
bool is_valid_signer_name(const std::string& name);

// A signer whose envelopes printers accept (`ipp3d-server trust add`).
struct TrustedSigner {
  std::string name;        // 1-64 characters of [A-Za-z0-9._@-]
  std::string key_id;      // 32 lowercase hex digits (docs/envelope.md §1)
  std::string public_key;  // the Ed25519 public key, 64 lowercase hex digits
  std::string comment;
  std::int64_t added = 0;  // UNIX time
  std::string user;        // the account its signed jobs belong to; "" = not bound
  bool operator==(const TrustedSigner&) const = default;
};

// What a printer knows of an envelope nonce.
enum class NonceUse {
  kFresh,     // never recorded on this printer
  kSameJob,   // recorded for this very job (a job verified again after a restart)
  kReplayed,  // recorded for another job
};

// A job handed to the machine (the Moonraker backend): what a restarted
// server needs to follow the physical print again (docs/architecture.md,
// "Restart safety").
struct MachinePrint {
  std::string printer;
  int job_id = 0;
  std::string remote_name;                   // the file's name on the machine
  int copy = 0;                              // the copy started last (1-based), 0 = uploaded, not started
  int copies = 1;                            // copies the job asked for
  int layers = 0;                            // layers per copy (0 = unknown)
  std::vector<std::uint64_t> layer_offsets;  // byte offset of each layer's first line
  bool operator==(const MachinePrint&) const = default;
};

// One security-relevant event for the audit log (docs/audit.md lists the
// event types and their details).
struct AuditEvent {
  std::string type;                                          // keyword, e.g. "login-failed", "job-received"
  std::string actor;                                         // the account (or signer) acting; "" when none
  std::string source;                                        // the client's address; "" for local commands
  std::string printer;                                       // the printer concerned; "" when none
  int job_id = 0;                                            // the job concerned; 0 when none
  std::vector<std::pair<std::string, std::string>> details;  // further facts, in order
  bool operator==(const AuditEvent&) const = default;
};

// An audit record as stored: the event, its place in the chain and its hash.
struct AuditRecord {
  std::int64_t seq = 0;   // 1, 2, 3, ... without gaps
  std::int64_t time = 0;  // UNIX time of the append
  AuditEvent event;
  std::string prev_hash;  // hash of record seq-1 (64 hex digits; zeros for seq 1)
  std::string hash;       // audit_record_hash() of this record
  bool operator==(const AuditRecord&) const = default;
};

// The prev_hash of the first audit record.
inline constexpr std::string_view kAuditGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

// The last record of the audit chain: its seq and hash (0 and 64 zeros when
// the chain is empty).
struct AuditHead {
  std::int64_t seq = 0;
  std::string hash;
  bool operator==(const AuditHead&) const = default;
};

// A signed checkpoint of the audit chain (docs/audit.md, "Checkpoints").
using AuditCheckpoint = trust::AuditCheckpoint;

// The SHA-256 (64 lowercase hex digits) that chains `record`: computed over a
// domain tag and every field but `hash`, each length-prefixed
// (docs/audit.md, "The chain").
std::string audit_record_hash(const AuditRecord& record);

// The details of an event as stored (a JSON array of [name, value] pairs).
std::string audit_details_json(const std::vector<std::pair<std::string, std::string>>& details);

// An account as stored: its Argon2id string and role.
struct StoredAccount {
  std::string password_hash;  // crypto_pwhash_str output
  Role role = Role::kUser;
};

// The failed-login record of one account (login_accounts table).
struct AccountLoginState {
  int failures = 0;               // failed logins since the last success or lock
  int locks = 0;                  // locks since the last successful login (drives the backoff)
  std::int64_t locked_until = 0;  // UNIX time in milliseconds; 0 = not locked
  bool operator==(const AccountLoginState&) const = default;
};

// The failed-login record of one source address (login_addresses table).
struct AddressLoginState {
  std::int64_t window_start = 0;   // UNIX ms: start of the counting window
  int failures = 0;                // failures in that window
  std::int64_t blocked_until = 0;  // UNIX ms; 0 = not blocked
  bool operator==(const AddressLoginState&) const = default;
};

// What a login check reads in one go (StateStore::login_record).
struct LoginRecord {
  std::optional<StoredAccount> account;  // nullopt: no such account
  AccountLoginState account_state;       // zeros when none stored
  AddressLoginState address_state;       // zeros when none stored
};

// A print-count licence counter: at most `allowed` copies per printer for
// (signer, licence ID).
struct LicenceKey {
  std::string printer;
  std::string signer_key_id;
  std::string licence_id;
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

  static constexpr int kSchemaVersion = 7;
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
  // The stored hash and role of `user`, or nullopt (unknown or unreadable).
  std::optional<StoredAccount> stored_account(const std::string& user);
  // True when at least one admin account exists.
  bool has_admin();

  // --- Account management (state_store_accounts.cpp), for `ipp3d-server user`.
  // Every account, by name.
  std::vector<Account> accounts();
  // The account `name`, or nullopt.
  std::optional<Account> account(const std::string& name);
  // Creates account `name`. Errors: invalid name or password (as
  // set_password), the name is taken.
  Status add_account(const std::string& name, const std::string& password, Role role);
  // Changes the password of the existing account `name` (its role stays).
  // Errors: invalid password, no such account.
  Status change_password(const std::string& name, const std::string& password);
  // Changes the role of account `name`. Errors: no such account, or it is
  // the last admin and `role` is not admin (the server would have no admin).
  Status set_role(const std::string& name, Role role);
  // Deletes account `name`. Errors: no such account, or it is the last admin.
  Status remove_account(const std::string& name);

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

  // --- Prints handed to the machine (state_store_machine.cpp).
  // Inserts or replaces the record (printer, job_id).
  Status save_machine_print(const MachinePrint& print);
  // The record of (printer, job_id), or nullopt.
  std::optional<MachinePrint> machine_print(const std::string& printer, int job_id);
  // Forgets the record (the job ended).
  Status forget_machine_print(const std::string& printer, int job_id);

  // --- Trust store (state_store_trust.cpp).
  // Adds a signer. Errors: invalid name, the name is taken, or the key is
  // already trusted under another name (both named in the message).
  Status add_trusted_signer(const TrustedSigner& signer);
  // Removes the signer `name`. Error: no such signer.
  Status remove_trusted_signer(const std::string& name);
  // Every trusted signer, by name.
  std::vector<TrustedSigner> trusted_signers();
  // The signer with key ID `key_id` (hex), or nullopt.
  std::optional<TrustedSigner> trusted_signer(const std::string& key_id);

  // --- Replay protection: nonces of verified unlicensed envelopes.
  // How `nonce` (hex) of `signer_key_id` has been used on `printer`.
  NonceUse nonce_use(const std::string& printer, const std::string& signer_key_id, const std::string& nonce,
                     int job_id);
  // Records the nonce for `job_id` atomically: kFresh when recorded now,
  // kSameJob when this job had it already, kReplayed when another job has
  // it (nothing recorded). Errors: database failures.
  Result<NonceUse> record_nonce(const std::string& printer, const std::string& signer_key_id,
                                const std::string& nonce, int job_id, std::int64_t not_after);
  // Forgets nonces whose envelopes expired before `now` (they cannot be
  // replayed: an expired envelope is refused anyway). Returns how many.
  int prune_nonces(std::int64_t now);

  // --- Audit log (state_store_audit.cpp).
  // Appends `event` at the end of the hash chain, stamped with the current
  // time, in one transaction (appends from all threads are serialized).
  // Errors: database failures (the caller logs them; the event is lost).
  Status append_audit(const AuditEvent& event);
  // Records with seq > `after_seq`, oldest first, at most `limit`.
  std::vector<AuditRecord> audit_records(std::int64_t after_seq, std::size_t limit);
  // The last record's seq and hash (AuditHead's empty-chain values when there is none).
  AuditHead audit_head();
  // Stores a signed checkpoint (not checked here). Errors: database failures.
  Status add_audit_checkpoint(const AuditCheckpoint& checkpoint);
  // Every stored checkpoint, oldest first.
  std::vector<AuditCheckpoint> audit_checkpoints();
  // The checkpoint stored last, or nullopt.
  std::optional<AuditCheckpoint> last_audit_checkpoint();

  // --- Login limits (state_store_logins.cpp): the records behind account
  // locks and per-address throttling, kept across restarts.
  // The account (if any) and the failed-login records of `user` and `address`.
  LoginRecord login_record(const std::string& user, const std::string& address);
  // Stores `user`'s record; nothing happens for an unknown account (rows exist
  // only for accounts and go with them). Errors: database failures.
  Status save_account_login_state(const std::string& user, const AccountLoginState& state);
  // Stores `address`'s record, to be forgotten after `expires` (UNIX ms), first
  // pruning expired rows and then the oldest beyond `max_rows`, so unknown
  // names and many addresses cannot grow the table without bound.
  Status save_address_login_state(const std::string& address, const AddressLoginState& state,
                                  std::int64_t expires, std::int64_t now, std::size_t max_rows);
  // Rows in login_addresses (for tests and diagnostics).
  std::size_t address_login_rows();
  // Replaces `user`'s password hash with `new_hash` only while it still is
  // `old_hash` (a concurrent `user passwd` wins). True when replaced.
  Result<bool> replace_password_hash(const std::string& user, const std::string& old_hash,
                                     const std::string& new_hash);

  // --- Licences. A copy is reserved when its print starts and committed
  // when it ends; reserved copies count as taken.
  // Copies used or reserved under `key`.
  int licence_copies_taken(const LicenceKey& key);
  // Reserves copy `copy` of job `job_id` when fewer than `allowed` are
  // taken, in one transaction (concurrent callers never exceed `allowed`):
  // true when reserved (or already reserved for this job and copy), false
  // when the licence is used up.
  Result<bool> reserve_licence_copy(const LicenceKey& key, int allowed, int job_id, int copy);
  // The copy printed (or may have): the reservation becomes a used copy.
  Status commit_licence_copy(const std::string& printer, int job_id, int copy);
  // The copy never started: the reservation is dropped.
  Status release_licence_copy(const std::string& printer, int job_id, int copy);
  // At start-up: reservations left by a crash become used copies (the print
  // may have happened). Returns how many.
  int commit_stale_reservations();

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
