// One printer's document intake: a worker thread that checks each job's
// document (check_document) as soon as it has arrived, so a bad job ends at
// once instead of waiting behind a long print. The scheduler (PAPPL's main
// loop) submits jobs and applies the results; the job's print thread takes
// the verified document.
#pragma once

#include "intake/document_check.hpp"
#include "intake/upload_capacity.hpp"

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

namespace ipp3d::server {

class JobIntake {
 public:
  // Where a job's document stands.
  enum class Stage { kChecking, kAccepted, kRefused };

  // A snapshot of one job's intake.
  struct Outcome {
    Stage stage = Stage::kChecking;
    std::optional<DocumentRefusal> refusal;  // kRefused
  };

  // The gate's current limits: a consistent snapshot that stays valid while
  // the caller holds it (the printer may replace its limits at any time).
  using LimitsSource = std::function<std::shared_ptr<const gcode::Limits>()>;

  // `security`, `printer_key` and `store` must outlive the intake; `limits`
  // is asked for a snapshot for each check. Verified plaintext goes to
  // `verified_dir` (created 0700; emptied at start, as every job still queued
  // is checked again).
  JobIntake(std::string printer, const config::SecurityConfig& security, const trust::SecretKey& printer_key,
            StateStore& store, LimitsSource limits, std::filesystem::path verified_dir);
  JobIntake(const JobIntake&) = delete;
  JobIntake& operator=(const JobIntake&) = delete;
  // Stops the worker (after the document being checked).
  ~JobIntake();

  // Starts checking `job_id` unless known; returns its stage. `job` is what
  // the gate checks the G-code against (material, platform temperature).
  // Thread-safe.
  Outcome submit(int job_id, const std::filesystem::path& spool_file, bool is_envelope, int copies,
                 const gcode::Job& job);

  // True when `job_id` was submitted and not forgotten since. Thread-safe.
  [[nodiscard]] bool knows(int job_id) const;

  // An accepted job about to start whose material, gate limits or upload
  // capacity are no longer the ones it was checked against (the loaded
  // material changed, or check_machine() found macros that replace standard
  // commands or learnt the machine's max_upload_size and free space): checks it
  // again with `job` and the current limits and returns true; false when
  // nothing changed. Thread-safe.
  bool recheck_if_changed(int job_id, const gcode::Job& job);

  // The verified document of an accepted job, or nullopt. Thread-safe.
  std::optional<VerifiedDocument> accepted(int job_id) const;

  // The job ended: deletes its verified plaintext and forgets it. Thread-safe.
  void forget(int job_id);

  // What the machine's host accepts (from check_machine()); documents that
  // arrive later and do not fit are refused. Thread-safe.
  void set_upload_capacity(const UploadCapacity& capacity);

 private:
  struct Entry {
    Stage stage = Stage::kChecking;
    DocumentRequest request;
    std::optional<VerifiedDocument> document;
    std::optional<DocumentRefusal> refusal;
    std::shared_ptr<const gcode::Limits> limits;  // what the document was (is being) checked against
    UploadCapacity capacity;                      // the machine's capacity it was checked against
    bool forgotten = false;                       // the job ended while being checked: drop the result
  };
  void work();
  // check_document against `limits` and the size checks against `capacity`,
  // with any exception turned into a refusal.
  Result<VerifiedDocument, DocumentRefusal> check(const DocumentRequest& request, const gcode::Limits& limits,
                                                  const UploadCapacity& capacity) const noexcept;

  const std::string printer_;
  const config::SecurityConfig& security_;
  const trust::SecretKey& printer_key_;
  StateStore& store_;
  const LimitsSource limits_;
  const std::filesystem::path verified_dir_;

  mutable std::mutex mutex_;  // guards entries_, queue_, stopping_, capacity_
  UploadCapacity capacity_;
  std::condition_variable wake_;  // signalled when queue_ grows or stopping_ is set
  std::map<int, Entry> entries_;  // by job id
  std::deque<int> queue_;         // job ids waiting for the worker
  bool stopping_ = false;
  std::thread worker_;  // runs work(); joined by the destructor
};

}  // namespace ipp3d::server
