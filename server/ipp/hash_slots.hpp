// A bound on concurrent Argon2id work: each verification uses 64 MiB
// (crypto_pwhash INTERACTIVE), so a burst of logins must not run them all at
// once on a 512 MB printer host. At most `slots` run; up to `queue_length`
// more wait at most `wait` each; any further one is refused at once.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>

namespace ipp3d::server {

class HashSlots {
 public:
  // `slots` >= 1; `queue_length` >= 0 (0 = never wait).
  HashSlots(int slots, int queue_length, std::chrono::milliseconds wait);
  HashSlots(const HashSlots&) = delete;
  HashSlots& operator=(const HashSlots&) = delete;

  // A held slot, given back when destroyed.
  class Permit {
   public:
    explicit Permit(HashSlots& owner) : owner_(&owner) {}
    Permit(Permit&& other) noexcept : owner_(other.owner_) { other.owner_ = nullptr; }
    Permit& operator=(Permit&&) = delete;
    Permit(const Permit&) = delete;
    Permit& operator=(const Permit&) = delete;
    ~Permit();

   private:
    HashSlots* owner_;  // nullptr once moved from
  };

  // A slot, or nullopt when the queue is full or the wait timed out.
  std::optional<Permit> acquire();
  // Slots in use and requests waiting (for tests and benchmarks).
  [[nodiscard]] int in_use();
  [[nodiscard]] int waiting();

 private:
  void release();

  const int slots_;
  const int queue_length_;
  const std::chrono::milliseconds wait_;
  std::mutex mutex_;               // guards in_use_ and waiting_
  std::condition_variable freed_;  // signalled when a slot is given back
  int in_use_ = 0;
  int waiting_ = 0;
};

}  // namespace ipp3d::server
