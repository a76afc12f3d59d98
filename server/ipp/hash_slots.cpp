#include "ipp/hash_slots.hpp"

#include <cassert>

namespace ipp3d::server {

HashSlots::HashSlots(int slots, int queue_length, std::chrono::milliseconds wait)
    : slots_(slots), queue_length_(queue_length), wait_(wait) {
  assert(slots >= 1 && queue_length >= 0);
}

HashSlots::Permit::~Permit() {
  if (owner_ != nullptr) owner_->release();
}

std::optional<HashSlots::Permit> HashSlots::acquire() {
  std::unique_lock lock(mutex_);
  if (in_use_ < slots_) {
    ++in_use_;
    return std::optional<Permit>(std::in_place, *this);
  }
  if (waiting_ >= queue_length_) return std::nullopt;
  ++waiting_;
  const bool got = freed_.wait_for(lock, wait_, [this] { return in_use_ < slots_; });
  --waiting_;
  if (!got) return std::nullopt;
  ++in_use_;
  return std::optional<Permit>(std::in_place, *this);
}

int HashSlots::in_use() {
  const std::lock_guard lock(mutex_);
  return in_use_;
}

int HashSlots::waiting() {
  const std::lock_guard lock(mutex_);
  return waiting_;
}

void HashSlots::release() {
  {
    const std::lock_guard lock(mutex_);
    --in_use_;
  }
  freed_.notify_one();
}

}  // namespace ipp3d::server
