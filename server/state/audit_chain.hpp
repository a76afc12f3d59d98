// Checking the audit log (docs/audit.md): the verification of the hash chain
// and of signed checkpoints (ipp3d/trust/audit_checkpoint.hpp) against it that
// `ipp3d-server audit verify` runs. Pure logic over a StateStore: no PAPPL.
#pragma once

#include "ipp3d/result.hpp"
#include "ipp3d/trust/keys.hpp"

#include "state/state_store.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ipp3d::server {

// What verify_audit_log() found.
struct AuditVerification {
  std::int64_t records = 0;                    // records read
  AuditHead head;                              // the last record as stored
  std::size_t checkpoints = 0;                 // stored checkpoints checked
  std::optional<std::string> first_bad;        // the first bad record, named ("record 17: ...")
  std::vector<std::string> checkpoint_errors;  // every stored checkpoint that fails, named
  [[nodiscard]] bool ok() const { return !first_bad && checkpoint_errors.empty(); }
};

// Walks the chain from record 1: every record's hash must match its
// contents, its prev_hash the previous record's hash, and seq must count up
// by one. The first bad record is named with what happened to it
// (modified, deleted, inserted, reordered). Then every stored checkpoint
// must carry a valid signature by `audit_key` (when given) and match the
// chain (the record it covers exists and has the signed hash).
AuditVerification verify_audit_log(StateStore& store, const std::optional<trust::PublicKey>& audit_key);

// Checks a checkpoint fetched earlier (`ipp3d audit checkpoint`) against the
// chain: signed by `expected_key` (when given) with a valid signature, and
// the chain still holds record `seq` with hash `hash`. Errors name the
// problem (another key, a bad signature, a truncated or rewritten history).
Status check_audit_checkpoint_against(StateStore& store, const AuditCheckpoint& checkpoint,
                                      const std::optional<trust::PublicKey>& expected_key);

}  // namespace ipp3d::server
