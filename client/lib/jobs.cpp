// Printer: Get-Jobs, Get-Job-Attributes, Cancel-Job and watching a job by polling.
#include "printer_state.hpp"

#include <array>
#include <thread>

namespace ipp3d::client {
namespace {

constexpr auto kWatchRetryLimit = std::chrono::seconds(30);

constexpr std::array kJobAttributes = {"job-id",
                                       "job-name",
                                       "job-originating-user-name",
                                       "job-state",
                                       "job-state-reasons",
                                       "job-state-message",
                                       "job-impressions",
                                       "job-impressions-completed",
                                       "copies",
                                       "time-at-creation",
                                       "time-at-processing",
                                       "time-at-completed"};

// An integer attribute value, or `fallback` (no-value, unknown, absent).
long integer_of(ipp_attribute_t* attribute, long fallback) {
  const ipp_tag_t tag = ippGetValueTag(attribute);
  if (tag != IPP_TAG_INTEGER && tag != IPP_TAG_ENUM) return fallback;
  return ippGetInteger(attribute, 0);
}

// Adds one attribute of a job group to `job`.
void read_job_attribute(ipp_attribute_t* a, JobInfo& job) {
  const std::string name = ippGetName(a);
  const char* text = ippGetString(a, 0, nullptr);
  if (name == "job-id") job.id = static_cast<int>(integer_of(a, 0));
  if (name == "job-name" && text != nullptr) job.name = text;
  if (name == "job-originating-user-name" && text != nullptr) job.user = text;
  if (name == "job-state") job.state = static_cast<ipp_jstate_t>(integer_of(a, IPP_JSTATE_PENDING));
  if (name == "job-state-message" && text != nullptr) job.message = text;
  if (name == "job-impressions") job.impressions = static_cast<int>(integer_of(a, -1));
  if (name == "job-impressions-completed") job.impressions_completed = static_cast<int>(integer_of(a, -1));
  if (name == "copies") job.copies = static_cast<int>(integer_of(a, 1));
  if (name == "time-at-creation") job.time_at_creation = integer_of(a, -1);
  if (name == "time-at-processing") job.time_at_processing = integer_of(a, -1);
  if (name == "time-at-completed") job.time_at_completed = integer_of(a, -1);
  if (name == "job-state-reasons") {
    for (int i = 0; i < ippGetCount(a); ++i) {
      if (const char* reason = ippGetString(a, i, nullptr)) job.reasons.emplace_back(reason);
    }
  }
}

// Every job group of a response, in order.
std::vector<JobInfo> read_jobs(ipp_t* response) {
  std::vector<JobInfo> jobs;
  bool in_job = false;
  for (ipp_attribute_t* a = ippFirstAttribute(response); a != nullptr; a = ippNextAttribute(response)) {
    if (ippGetGroupTag(a) != IPP_TAG_JOB || ippGetName(a) == nullptr) {
      in_job = false;
      continue;
    }
    if (!in_job) jobs.emplace_back();
    in_job = true;
    read_job_attribute(a, jobs.back());
  }
  return jobs;
}

// Adds the job attributes every job query asks for.
void request_job_attributes(ipp_t* request) {
  ippAddStrings(request, IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "requested-attributes",
                static_cast<int>(kJobAttributes.size()), nullptr, kJobAttributes.data());
}

// True when watch() should report `now` after `before`.
bool changed(const JobInfo& before, const JobInfo& now) {
  return before.state != now.state || before.reasons != now.reasons || before.message != now.message ||
         before.impressions != now.impressions || before.impressions_completed != now.impressions_completed;
}

}  // namespace

const char* job_state_name(ipp_jstate_t state) {
  switch (state) {
    case IPP_JSTATE_PENDING:
      return "pending";
    case IPP_JSTATE_HELD:
      return "held";
    case IPP_JSTATE_PROCESSING:
      return "processing";
    case IPP_JSTATE_STOPPED:
      return "stopped";
    case IPP_JSTATE_CANCELED:
      return "canceled";
    case IPP_JSTATE_ABORTED:
      return "aborted";
    case IPP_JSTATE_COMPLETED:
      return "completed";
  }
  return "unknown";
}

Result<std::vector<JobInfo>> Printer::jobs(bool all) {
  IppPtr request = detail::new_request(*state_, IPP_OP_GET_JOBS);
  ippAddString(request.get(), IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "which-jobs", nullptr,
               all ? "all" : "not-completed");
  request_job_attributes(request.get());
  auto response = detail::perform(*state_, std::move(request), "Get-Jobs");
  if (!response) return std::move(response).error();
  return read_jobs(response->get());
}

Result<JobInfo> Printer::job(int id) {
  IppPtr request = detail::new_request(*state_, IPP_OP_GET_JOB_ATTRIBUTES);
  ippAddInteger(request.get(), IPP_TAG_OPERATION, IPP_TAG_INTEGER, "job-id", id);
  request_job_attributes(request.get());
  auto response =
      detail::perform(*state_, std::move(request), "Get-Job-Attributes (job " + std::to_string(id) + ")");
  if (!response) return std::move(response).error();
  std::vector<JobInfo> jobs = read_jobs(response->get());
  if (jobs.empty())
    return Error{IPP_STATUS_ERROR_NOT_FOUND, "job " + std::to_string(id) + " not found", "job-id", 0};
  return std::move(jobs.front());
}

Status Printer::cancel(int id) {
  IppPtr request = detail::new_request(*state_, IPP_OP_CANCEL_JOB);
  ippAddInteger(request.get(), IPP_TAG_OPERATION, IPP_TAG_INTEGER, "job-id", id);
  auto response = detail::perform(*state_, std::move(request), "Cancel-Job (job " + std::to_string(id) + ")");
  if (!response) return std::move(response).error();
  return {};
}

Result<JobInfo> Printer::watch(int id, const WatchCallback& callback, std::chrono::milliseconds interval) {
  std::optional<JobInfo> last;
  auto failing_since = std::chrono::steady_clock::time_point{};
  for (;;) {
    auto now = job(id);
    if (!now) {
      const bool transient = now.error().status == IPP_STATUS_ERROR_SERVICE_UNAVAILABLE ||
                             now.error().status == IPP_STATUS_ERROR_INTERNAL;
      const auto clock = std::chrono::steady_clock::now();
      if (failing_since == std::chrono::steady_clock::time_point{}) failing_since = clock;
      if (!transient || clock - failing_since > kWatchRetryLimit) return std::move(now).error();
      std::this_thread::sleep_for(interval);
      continue;
    }
    failing_since = {};
    const bool is_new = !last || changed(*last, *now);
    if (is_new) last = *now;
    if (!callback(*now, is_new)) return std::move(now).value();
    if (now->terminal()) return std::move(now).value();
    std::this_thread::sleep_for(interval);
  }
}

}  // namespace ipp3d::client
