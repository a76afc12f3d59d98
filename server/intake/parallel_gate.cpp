#include "intake/parallel_gate.hpp"

#include <algorithm>

namespace ipp3d::server {

ParallelGate::ParallelGate(const gcode::Limits& limits, const gcode::Job& job)
    : limits_(limits), job_(job), checker_(limits_, job_) {
  for (std::size_t i = 0; i < kBuffers; ++i) {
    spare_.emplace_back();
    spare_.back().reserve(kBufferSize);
  }
  thread_ = std::thread([this] { check_loop(); });
}

ParallelGate::~ParallelGate() {
  if (!thread_.joinable()) return;
  {
    const std::lock_guard lock(mutex_);
    closed_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void ParallelGate::feed(std::span<const std::uint8_t> bytes) {
  while (!bytes.empty()) {
    std::vector<std::uint8_t> buffer;
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [this] { return !spare_.empty(); });
      buffer = std::move(spare_.back());
      spare_.pop_back();
    }
    const std::size_t take = std::min(bytes.size(), kBufferSize);
    buffer.assign(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(take));
    bytes = bytes.subspan(take);
    {
      const std::lock_guard lock(mutex_);
      filled_.push_back(std::move(buffer));
    }
    changed_.notify_all();
  }
}

gcode::Report ParallelGate::finish() {
  {
    const std::lock_guard lock(mutex_);
    closed_ = true;
  }
  changed_.notify_all();
  thread_.join();
  return checker_.finish();
}

void ParallelGate::check_loop() {
  for (;;) {
    std::vector<std::uint8_t> buffer;
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [this] { return closed_ || !filled_.empty(); });
      if (filled_.empty()) return;  // closed and drained
      buffer = std::move(filled_.front());
      filled_.pop_front();
    }
    checker_.feed({reinterpret_cast<const char*>(buffer.data()), buffer.size()});
    buffer.clear();
    {
      const std::lock_guard lock(mutex_);
      spare_.push_back(std::move(buffer));
    }
    changed_.notify_all();
  }
}

}  // namespace ipp3d::server
