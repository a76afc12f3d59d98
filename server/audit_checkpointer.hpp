// Signed checkpoints of the audit log while the server runs (docs/audit.md,
// "Checkpoints"): every kCheckpointRecords records, every kCheckpointInterval
// when anything was added, at a clean shutdown, and when an admin fetches one
// (GET /ipp3d/audit/checkpoint).
#pragma once

#include "ipp3d/result.hpp"
#include "ipp3d/trust/keys.hpp"

#include "state/state_store.hpp"

#include <chrono>
#include <mutex>
#include <optional>

namespace ipp3d::server {

// A checkpoint is made once this many records were appended since the last one...
inline constexpr std::int64_t kCheckpointRecords = 100;
// ...or this long after the last one when any record was appended since.
inline constexpr std::chrono::minutes kCheckpointInterval{10};

// Thread-safe: PAPPL's main loop (tick), connection threads (fetches) and
// the shutdown path all call it.
class AuditCheckpointer {
 public:
  // `store` must outlive the checkpointer; `key` is the server's audit key (Ed25519).
  AuditCheckpointer(StateStore& store, trust::SecretKey key);

  // A checkpoint of the chain as it is now: the last one when nothing was
  // appended since (and it is signed by this key), else a new one, signed
  // and stored. Errors: the database.
  Result<AuditCheckpoint> checkpoint_now();

  // The periodic rule (call about once a second): checkpoints when
  // kCheckpointRecords were appended since the last checkpoint, or any were
  // and kCheckpointInterval passed. Failures are logged (stderr).
  void tick() noexcept;

  // The audit key's public half (docs/audit.md: compare its key ID).
  [[nodiscard]] const trust::PublicKey& public_key() const { return key_.public_key(); }

 private:
  StateStore& store_;
  const trust::SecretKey key_;  // fixed after construction
  std::mutex mutex_;            // guards last_ (and serializes making checkpoints)
  std::optional<AuditCheckpoint> last_;
};

}  // namespace ipp3d::server
