#include "audit_checkpointer.hpp"

#include "state/audit_chain.hpp"

#include <cstdio>
#include <ctime>
#include <exception>

namespace ipp3d::server {

AuditCheckpointer::AuditCheckpointer(StateStore& store, trust::SecretKey key)
    : store_(store), key_(std::move(key)), last_(store.last_audit_checkpoint()) {}

Result<AuditCheckpoint> AuditCheckpointer::checkpoint_now() {
  const std::lock_guard lock(mutex_);
  const AuditHead head = store_.audit_head();
  const std::string public_key = trust::hex_text(key_.public_key().bytes);
  if (last_ && last_->seq == head.seq && last_->hash == head.hash && last_->public_key == public_key) {
    return *last_;
  }
  AuditCheckpoint checkpoint =
      trust::sign_audit_checkpoint(key_, head.seq, head.hash, static_cast<std::int64_t>(std::time(nullptr)));
  if (Status stored = store_.add_audit_checkpoint(checkpoint); !stored) return stored.error();
  last_ = checkpoint;
  return checkpoint;
}

void AuditCheckpointer::tick() noexcept {
  try {
    const AuditHead head = store_.audit_head();
    const auto now = static_cast<std::int64_t>(std::time(nullptr));
    {
      const std::lock_guard lock(mutex_);
      const std::int64_t covered = last_ ? last_->seq : 0;
      const std::int64_t since = last_ ? last_->time : 0;
      const std::int64_t added = head.seq - covered;
      const bool due = added >= kCheckpointRecords ||
                       (added > 0 && now - since >= std::chrono::seconds(kCheckpointInterval).count());
      if (!due) return;
    }
    if (auto made = checkpoint_now(); !made) {
      (void)std::fprintf(stderr, "ipp3d-server: audit checkpoint: %s\n", made.error().message.c_str());
    }
  } catch (const std::exception& e) {
    (void)std::fprintf(stderr, "ipp3d-server: audit checkpoint: %s\n", e.what());
  }
}

}  // namespace ipp3d::server
