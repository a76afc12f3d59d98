// Signed checkpoints and the verification of the audit chain (docs/audit.md).
#include "state/audit_chain.hpp"

#include <algorithm>
#include <array>
#include <ctime>

namespace ipp3d::server {
namespace {

// Records read from the database at a time while walking the chain.
constexpr std::size_t kBatch = 1000;
// How far beyond the last record the original place of a moved record is searched.
constexpr std::int64_t kSearchMargin = 1000;

// An Error about a checkpoint.
Error checkpoint_error(std::string message) {
  return Error{IPP_STATUS_ERROR_NOT_AUTHORIZED, std::move(message), "", 0};
}

// "record 17".
std::string record_name(std::int64_t seq) { return "record " + std::to_string(seq); }

// "record 17" or "records 17 to 19".
std::string records_name(std::int64_t first, std::int64_t last) {
  return first == last ? record_name(first)
                       : "records " + std::to_string(first) + " to " + std::to_string(last);
}

// The record stored at `seq`, or nullopt.
std::optional<AuditRecord> record_at(StateStore& store, std::int64_t seq) {
  auto found = store.audit_records(seq - 1, 1);
  if (found.empty() || found.front().seq != seq) return std::nullopt;
  return found.front();
}

// The other seq under which `record`'s contents hash to its stored hash (the
// place it was moved from), searched in [1, limit]; nullopt when none.
std::optional<std::int64_t> original_seq(const AuditRecord& record, std::int64_t limit) {
  AuditRecord moved = record;
  for (std::int64_t seq = 1; seq <= limit; ++seq) {
    if (seq == record.seq) continue;
    moved.seq = seq;
    if (audit_record_hash(moved) == record.hash) return seq;
  }
  return std::nullopt;
}

// Names what happened to `record`, whose contents do not match its hash.
std::string explain_mismatch(StateStore& store, const AuditRecord& record, std::int64_t limit) {
  const std::int64_t seq = record.seq;
  const auto next = record_at(store, seq + 1);
  const auto original = original_seq(record, limit);
  if (original && *original == seq + 1 && next && original_seq(*next, seq + 1) == seq) {
    return record_name(seq) + ": holds the contents of record " + std::to_string(seq + 1) + " and record " +
           std::to_string(seq + 1) + " those of record " + std::to_string(seq) + " (reordered)";
  }
  if (original && *original > seq) {
    return record_name(seq) + ": holds the contents of record " + std::to_string(*original) + " (" +
           records_name(seq, *original - 1) + " deleted and the later ones renumbered, or reordered)";
  }
  if (original) {
    return records_name(*original, seq - 1) + ": inserted (" + record_name(seq) + " holds the former " +
           record_name(*original) + ", renumbered)";
  }
  if (next && original_seq(*next, seq + 1) == seq) {
    return record_name(seq) + ": inserted (record " + std::to_string(seq + 1) + " holds the former " +
           record_name(seq) + ", renumbered)";
  }
  return record_name(seq) + ": hash does not match its contents (modified)";
}

// Checks one record against the one before it (`previous`, nullopt for the
// first); the problem named, or nullopt.
std::optional<std::string> check_record(StateStore& store, const AuditRecord& record,
                                        const std::optional<AuditRecord>& previous, std::int64_t limit) {
  const std::int64_t expected_seq = previous ? previous->seq + 1 : 1;
  if (record.seq != expected_seq) {
    const std::string missing = records_name(expected_seq, record.seq - 1) + " missing: deleted";
    if (!previous) return record_name(record.seq) + ": the chain starts here (" + missing + ")";
    return record_name(record.seq) + ": follows " + record_name(previous->seq) + " (" + missing + ")";
  }
  if (audit_record_hash(record) != record.hash) return explain_mismatch(store, record, limit);
  const std::string expected_link = previous ? previous->hash : std::string(kAuditGenesisHash);
  if (record.prev_hash == expected_link) return std::nullopt;
  if (!previous)
    return record_name(1) + ": does not start the chain (its previous hash is not the genesis value)";
  return record_name(previous->seq) + ": changed and its hash recomputed (" + record_name(record.seq) +
         " links to another hash)";
}

// "2026-12-05T01:02:03Z".
std::string iso_time(std::int64_t when) {
  const auto seconds = static_cast<std::time_t>(when);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  std::array<char, 32> text{};
  if (std::strftime(text.data(), text.size(), "%Y-%m-%dT%H:%M:%SZ", &utc) == 0) return std::to_string(when);
  return text.data();
}

// Checks that the chain holds record `seq` with `hash`; the problem otherwise.
Status chain_holds(StateStore& store, std::int64_t seq, const std::string& hash, const AuditHead& head) {
  if (seq == 0) {
    if (hash == kAuditGenesisHash) return {};
    return checkpoint_error("the checkpoint of the empty chain carries a hash other than the genesis value");
  }
  if (seq > head.seq) {
    return checkpoint_error("the checkpoint covers " + record_name(seq) + " but the chain ends at " +
                            record_name(head.seq) + " (history truncated)");
  }
  const auto record = record_at(store, seq);
  if (!record) return checkpoint_error(record_name(seq) + " is missing (deleted)");
  if (record->hash != hash) {
    return checkpoint_error(record_name(seq) + " has hash " + record->hash + ", the checkpoint signed " +
                            hash + " (history rewritten)");
  }
  return {};
}

// Checks the signature and, when given, the signing key.
Status check_signer(const AuditCheckpoint& checkpoint, const std::optional<trust::PublicKey>& expected) {
  if (Status signature = trust::check_audit_checkpoint_signature(checkpoint); !signature) return signature;
  if (expected && checkpoint.public_key != trust::hex_text(expected->bytes)) {
    return checkpoint_error("signed by key " + checkpoint.key_id + ", not by this server's audit key " +
                            trust::key_id_hex(expected->id));
  }
  return {};
}

}  // namespace

AuditVerification verify_audit_log(StateStore& store, const std::optional<trust::PublicKey>& audit_key) {
  AuditVerification result;
  result.head = store.audit_head();
  const std::int64_t limit = 2 * result.head.seq + kSearchMargin;
  std::optional<AuditRecord> previous;
  std::int64_t after = 0;
  for (;;) {
    const auto batch = store.audit_records(after, kBatch);
    for (const auto& record : batch) {
      ++result.records;
      if (!result.first_bad) result.first_bad = check_record(store, record, previous, limit);
      previous = record;
    }
    if (batch.size() < kBatch) break;
    after = batch.back().seq;
  }
  const auto checkpoints = store.audit_checkpoints();
  result.checkpoints = checkpoints.size();
  for (std::size_t i = 0; i < checkpoints.size(); ++i) {
    const AuditCheckpoint& checkpoint = checkpoints[i];
    Status checked = check_signer(checkpoint, audit_key);
    if (checked) checked = chain_holds(store, checkpoint.seq, checkpoint.hash, result.head);
    if (!checked) {
      result.checkpoint_errors.push_back("checkpoint " + std::to_string(i + 1) + " (" +
                                         record_name(checkpoint.seq) + ", " + iso_time(checkpoint.time) +
                                         "): " + checked.error().message);
    }
  }
  return result;
}

Status check_audit_checkpoint_against(StateStore& store, const AuditCheckpoint& checkpoint,
                                      const std::optional<trust::PublicKey>& expected_key) {
  if (Status signer = check_signer(checkpoint, expected_key); !signer) return signer;
  return chain_holds(store, checkpoint.seq, checkpoint.hash, store.audit_head());
}

}  // namespace ipp3d::server
