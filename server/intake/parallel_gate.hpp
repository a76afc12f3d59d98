// The G-code gate on a thread of its own: the intake's reading thread
// decrypts, hashes and writes while this thread parses and checks the same
// bytes, so the two halves of the intake overlap on two cores (a Raspberry
// Pi has four). Bytes travel through a few fixed buffers (bounded memory);
// the verdict is exactly the single-threaded gate's (the gate's report does
// not depend on where chunks are cut).
#pragma once

#include "ipp3d/gcode/checker.hpp"

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

namespace ipp3d::server {

class ParallelGate {
 public:
  // Starts the checking thread for `limits` and `job` (both copied).
  ParallelGate(const gcode::Limits& limits, const gcode::Job& job);
  // Stops the thread (the report is discarded when finish() was not called).
  ~ParallelGate();
  ParallelGate(const ParallelGate&) = delete;
  ParallelGate& operator=(const ParallelGate&) = delete;

  // Hands the next bytes to the gate; copies them, waiting while every
  // buffer is in use. Must not be called after finish().
  void feed(std::span<const std::uint8_t> bytes);

  // Waits until every byte fed is checked and returns the verdict. Once.
  gcode::Report finish();

 private:
  static constexpr std::size_t kBuffers = 4;
  static constexpr std::size_t kBufferSize = std::size_t{256} * 1024;
  void check_loop();

  gcode::Limits limits_;
  gcode::Job job_;
  gcode::Checker checker_;  // used only by the checking thread until finish() joins it
  std::mutex mutex_;        // guards filled_, spare_, closed_
  std::condition_variable changed_;
  std::deque<std::vector<std::uint8_t>> filled_;  // waiting to be checked, in order
  std::vector<std::vector<std::uint8_t>> spare_;  // empty buffers
  bool closed_ = false;                           // no more bytes will come
  std::thread thread_;                            // runs check_loop()
};

}  // namespace ipp3d::server
