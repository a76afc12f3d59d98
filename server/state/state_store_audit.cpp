// The state database's audit log: a hash chain of security-relevant events
// (docs/audit.md). Every method takes StateStore::mutex_, so appends from all
// of PAPPL's threads form one chain.
#include "state/sqlite_handle.hpp"
#include "state/state_store.hpp"

#include <nlohmann/json.hpp>
#include <sodium.h>

#include <array>
#include <cstdio>
#include <ctime>

namespace ipp3d::server {
namespace {

using sqlite::Statement;

// Domain tag of the record hash: a hash of anything else never matches.
constexpr std::string_view kHashDomain = "ipp3d audit record v1";
constexpr char kCheckpointColumns[] = "seq, hash, time, key_id, public_key, signature";
constexpr char kAuditColumns[] = "seq, time, type, actor, source, printer, job_id, details, prev_hash, hash";

// Feeds one length-prefixed field (8-byte little-endian length, then the bytes).
void hash_field(crypto_hash_sha256_state& state, std::string_view field) {
  std::array<unsigned char, 8> length{};
  std::uint64_t size = field.size();
  for (auto& byte : length) {
    byte = static_cast<unsigned char>(size & 0xffU);
    size >>= 8U;
  }
  crypto_hash_sha256_update(&state, length.data(), length.size());
  crypto_hash_sha256_update(&state, reinterpret_cast<const unsigned char*>(field.data()), field.size());
}

// Parses a stored details column; a malformed one yields a single
// ("details", raw text) pair so that nothing is hidden.
std::vector<std::pair<std::string, std::string>> parse_details(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> details;
  const auto json = nlohmann::json::parse(text, nullptr, false);
  if (!json.is_array()) return {{"details", text}};
  for (const auto& pair : json) {
    if (!pair.is_array() || pair.size() != 2 || !pair[0].is_string() || !pair[1].is_string()) {
      return {{"details", text}};
    }
    details.emplace_back(pair[0].get<std::string>(), pair[1].get<std::string>());
  }
  return details;
}

// Reads a row selected with kAuditColumns.
AuditRecord read_record(const Statement& row) {
  AuditRecord record;
  record.seq = row.int64(0);
  record.time = row.int64(1);
  record.event.type = row.text(2);
  record.event.actor = row.text(3);
  record.event.source = row.text(4);
  record.event.printer = row.text(5);
  record.event.job_id = static_cast<int>(row.int64(6));
  record.event.details = parse_details(row.text(7));
  record.prev_hash = row.text(8);
  record.hash = row.text(9);
  return record;
}

// Reads a row selected with kCheckpointColumns.
AuditCheckpoint read_checkpoint(const Statement& row) {
  return AuditCheckpoint{row.int64(0), row.text(1), row.int64(2), row.text(3), row.text(4), row.text(5)};
}

}  // namespace

std::string audit_details_json(const std::vector<std::pair<std::string, std::string>>& details) {
  nlohmann::json array = nlohmann::json::array();
  for (const auto& [name, value] : details) array.push_back({name, value});
  // Invalid UTF-8 is replaced rather than thrown on: an event is never lost to it.
  return array.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string audit_record_hash(const AuditRecord& record) {
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  hash_field(state, kHashDomain);
  hash_field(state, record.prev_hash);
  hash_field(state, std::to_string(record.seq));
  hash_field(state, std::to_string(record.time));
  hash_field(state, record.event.type);
  hash_field(state, record.event.actor);
  hash_field(state, record.event.source);
  hash_field(state, record.event.printer);
  hash_field(state, std::to_string(record.event.job_id));
  hash_field(state, audit_details_json(record.event.details));
  std::array<unsigned char, crypto_hash_sha256_BYTES> digest{};
  crypto_hash_sha256_final(&state, digest.data());
  std::array<char, crypto_hash_sha256_BYTES * 2 + 1> hex{};
  sodium_bin2hex(hex.data(), hex.size(), digest.data(), digest.size());
  return {hex.data(), hex.size() - 1};
}

Status StateStore::append_audit(const AuditEvent& event) {
  const std::lock_guard lock(mutex_);
  sqlite3* db = db_.get();
  if (sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) {
    return sqlite::statement_error(db, "cannot append to the audit log");
  }
  AuditRecord record;
  record.event = event;
  record.time = static_cast<std::int64_t>(std::time(nullptr));
  record.seq = 1;
  record.prev_hash = std::string(kAuditGenesisHash);
  {
    Statement last(db, "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1");
    if (last.step()) {
      record.seq = last.int64(0) + 1;
      record.prev_hash = last.text(1);
    }
  }
  record.hash = audit_record_hash(record);
  Statement insert(db,
                   "INSERT INTO audit_log(seq, time, type, actor, source, printer, job_id, details, "
                   "prev_hash, hash) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  insert.bind(1, record.seq)
      .bind(2, record.time)
      .bind(3, std::string_view(event.type))
      .bind(4, std::string_view(event.actor))
      .bind(5, std::string_view(event.source))
      .bind(6, std::string_view(event.printer))
      .bind(7, static_cast<std::int64_t>(event.job_id))
      .bind(8, std::string_view(audit_details_json(event.details)))
      .bind(9, std::string_view(record.prev_hash))
      .bind(10, std::string_view(record.hash));
  if (!insert.run()) {
    Error error = sqlite::statement_error(db, "cannot append to the audit log");
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    return error;
  }
  if (sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    Error error = sqlite::statement_error(db, "cannot append to the audit log");
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    return error;
  }
  return {};
}

std::vector<AuditRecord> StateStore::audit_records(std::int64_t after_seq, std::size_t limit) {
  const std::lock_guard lock(mutex_);
  std::vector<AuditRecord> records;
  Statement query(db_.get(), std::string("SELECT ") + kAuditColumns +
                                 " FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?");
  query.bind(1, after_seq).bind(2, static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX)));
  while (query.step()) records.push_back(read_record(query));
  return records;
}

AuditHead StateStore::audit_head() {
  const std::lock_guard lock(mutex_);
  Statement last(db_.get(), "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1");
  if (last.step()) return AuditHead{last.int64(0), last.text(1)};
  return AuditHead{0, std::string(kAuditGenesisHash)};
}

Status StateStore::add_audit_checkpoint(const AuditCheckpoint& checkpoint) {
  const std::lock_guard lock(mutex_);
  Statement insert(db_.get(), std::string("INSERT INTO audit_checkpoints(") + kCheckpointColumns +
                                  ") VALUES(?, ?, ?, ?, ?, ?)");
  insert.bind(1, checkpoint.seq)
      .bind(2, std::string_view(checkpoint.hash))
      .bind(3, checkpoint.time)
      .bind(4, std::string_view(checkpoint.key_id))
      .bind(5, std::string_view(checkpoint.public_key))
      .bind(6, std::string_view(checkpoint.signature));
  if (!insert.run()) return sqlite::statement_error(db_.get(), "cannot store an audit checkpoint");
  return {};
}

std::vector<AuditCheckpoint> StateStore::audit_checkpoints() {
  const std::lock_guard lock(mutex_);
  std::vector<AuditCheckpoint> checkpoints;
  Statement query(db_.get(),
                  std::string("SELECT ") + kCheckpointColumns + " FROM audit_checkpoints ORDER BY id");
  while (query.step()) checkpoints.push_back(read_checkpoint(query));
  return checkpoints;
}

std::optional<AuditCheckpoint> StateStore::last_audit_checkpoint() {
  const std::lock_guard lock(mutex_);
  Statement query(db_.get(), std::string("SELECT ") + kCheckpointColumns +
                                 " FROM audit_checkpoints ORDER BY id DESC LIMIT 1");
  if (query.step()) return read_checkpoint(query);
  return std::nullopt;
}

}  // namespace ipp3d::server
