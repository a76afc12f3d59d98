#include "intake/job_intake.hpp"

#include "audit.hpp"

#include <cerrno>
#include <csignal>
#include <ctime>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ipp3d::server {
namespace {

// Records a check's outcome (docs/audit.md, "Jobs"): job-verified with the
// signer, key ID, payload digest and the gate's verdict, or job-refused and why.
void audit_check(StateStore& store, const DocumentRequest& request,
                 const Result<VerifiedDocument, DocumentRefusal>& checked) {
  if (checked) {
    const VerifiedDocument& document = *checked;
    audit(store, AuditEvent{"job-verified",
                            document.signer_name,
                            "",
                            request.printer,
                            request.job_id,
                            {{"signer-key-id", document.signer_key_id.empty() ? "none (plain G-code)"
                                                                              : document.signer_key_id},
                             {"signer-user", document.signer_user},
                             {"payload-sha256", document.sha256},
                             {"bytes", std::to_string(document.size)},
                             {"gate", "accepted"},
                             {"layers", std::to_string(document.facts.layer_count)}}});
    return;
  }
  const DocumentRefusal& refusal = checked.error();
  audit(store, AuditEvent{"job-refused",
                          "",
                          "",
                          request.printer,
                          request.job_id,
                          {{"reason", refusal.reason()},
                           {"stage", refusal.unprintable() ? "gate" : "envelope"},
                           {"signer-key-id", refusal.claimed_signer_key_id},
                           {"payload-sha256", refusal.claimed_payload_sha256},
                           {"message", refusal.message}}});
}

}  // namespace

JobIntake::JobIntake(std::string printer, const config::SecurityConfig& security,
                     const trust::SecretKey& printer_key, StateStore& store, LimitsSource limits,
                     std::filesystem::path verified_dir)
    : printer_(std::move(printer)),
      security_(security),
      printer_key_(printer_key),
      store_(store),
      limits_(std::move(limits)),
      verified_dir_(std::move(verified_dir)) {
  std::error_code ec;
  std::filesystem::create_directories(verified_dir_.parent_path(), ec);
  ::mkdir(verified_dir_.c_str(), 0700);
  for (const auto& entry : std::filesystem::directory_iterator(verified_dir_, ec)) {
    std::filesystem::remove(entry.path(), ec);
  }
  // The worker must never receive SIGTERM/SIGINT/SIGHUP (the server's
  // signal thread waits for them): it starts with them blocked.
  sigset_t blocked;
  sigset_t previous;
  sigemptyset(&blocked);
  sigaddset(&blocked, SIGTERM);
  sigaddset(&blocked, SIGINT);
  sigaddset(&blocked, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &blocked, &previous);
  worker_ = std::thread([this] { work(); });
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
}

JobIntake::~JobIntake() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (worker_.joinable()) worker_.join();
}

JobIntake::Outcome JobIntake::submit(int job_id, const std::filesystem::path& spool_file, bool is_envelope,
                                     int copies, const gcode::Job& job) {
  std::unique_lock lock(mutex_);
  auto found = entries_.find(job_id);
  if (found != entries_.end()) return Outcome{found->second.stage, found->second.refusal};
  Entry entry;
  entry.request = DocumentRequest{printer_,
                                  job_id,
                                  spool_file,
                                  is_envelope,
                                  copies < 1 ? 1 : copies,
                                  verified_dir_ / ("job-" + std::to_string(job_id) + ".gcode"),
                                  job};
  entries_.emplace(job_id, std::move(entry));
  queue_.push_back(job_id);
  lock.unlock();
  wake_.notify_one();
  return Outcome{};
}

bool JobIntake::knows(int job_id) const {
  const std::lock_guard lock(mutex_);
  return entries_.contains(job_id);
}

bool JobIntake::recheck_if_changed(int job_id, const gcode::Job& job) {
  std::optional<VerifiedDocument> stale;
  {
    const std::lock_guard lock(mutex_);
    const auto found = entries_.find(job_id);
    if (found == entries_.end() || found->second.stage != Stage::kAccepted) return false;
    Entry& entry = found->second;
    std::shared_ptr<const gcode::Limits> current = limits_();
    const bool same_limits =
        entry.limits == current || (entry.limits && current && *entry.limits == *current);
    if (entry.request.job == job && same_limits && entry.capacity == capacity_) return false;
    entry.request.job = job;
    entry.stage = Stage::kChecking;
    stale = std::move(entry.document);
    entry.document.reset();
    queue_.push_back(job_id);
  }
  // The check writes the verified file anew (envelopes); plain G-code is the spool file itself.
  if (stale && stale->owns_plaintext) ::unlink(stale->plaintext.c_str());
  wake_.notify_one();
  return true;
}

std::optional<VerifiedDocument> JobIntake::accepted(int job_id) const {
  const std::lock_guard lock(mutex_);
  const auto found = entries_.find(job_id);
  if (found == entries_.end() || found->second.stage != Stage::kAccepted) return std::nullopt;
  return found->second.document;
}

void JobIntake::forget(int job_id) {
  std::optional<VerifiedDocument> document;
  {
    const std::lock_guard lock(mutex_);
    const auto found = entries_.find(job_id);
    if (found == entries_.end()) return;
    if (found->second.stage == Stage::kChecking) {
      found->second.forgotten = true;
      return;
    }
    document = std::move(found->second.document);
    entries_.erase(found);
  }
  if (document && document->owns_plaintext) ::unlink(document->plaintext.c_str());
}

void JobIntake::set_upload_capacity(const UploadCapacity& capacity) {
  const std::lock_guard lock(mutex_);
  capacity_ = capacity;
}

void JobIntake::work() {
  for (;;) {
    DocumentRequest request;
    UploadCapacity capacity;
    // One snapshot per check: the printer may publish new limits meanwhile.
    std::shared_ptr<const gcode::Limits> limits;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      limits = limits_();
      Entry& next = entries_.at(queue_.front());
      next.limits = limits;
      next.capacity = capacity_;
      request = next.request;
      capacity = capacity_;
      queue_.pop_front();
    }
    auto checked = check(request, *limits, capacity);
    audit_check(store_, request, checked);
    const std::lock_guard lock(mutex_);
    Entry& entry = entries_.at(request.job_id);
    if (entry.forgotten) {
      if (checked && checked->owns_plaintext) ::unlink(checked->plaintext.c_str());
      entries_.erase(request.job_id);
    } else if (checked) {
      entry.stage = Stage::kAccepted;
      entry.document = std::move(checked).value();
    } else {
      entry.stage = Stage::kRefused;
      entry.refusal = checked.error();
    }
  }
}

Result<VerifiedDocument, DocumentRefusal> JobIntake::check(const DocumentRequest& request,
                                                           const gcode::Limits& limits,
                                                           const UploadCapacity& capacity) const noexcept {
  try {
    std::error_code ec;
    const std::uintmax_t spool_bytes = std::filesystem::file_size(request.spool_file, ec);
    if (const std::string refusal = local_space_refusal(ec ? 0 : spool_bytes, free_space(verified_dir_));
        !refusal.empty()) {
      return DocumentRefusal{std::nullopt, std::nullopt, refusal};
    }
    const DocumentPolicy policy{
        security_, printer_key_, store_, limits, static_cast<std::int64_t>(std::time(nullptr)), capacity};
    return check_document(request, policy);
  } catch (const std::exception& e) {
    ::unlink(request.verified_file.c_str());
    return DocumentRefusal{trust::EnvelopeProblem::kIo, std::nullopt,
                           std::string("Refused (io-error): internal error: ") + e.what()};
  }
}

}  // namespace ipp3d::server
