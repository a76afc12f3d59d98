// Printer: Get-Jobs, Get-Job-Attributes, Cancel-Job and watching a job by
// polling and IPP notifications (Create-Job-Subscriptions, Get-Notifications).
#include "printer_state.hpp"

#include <algorithm>
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

// The events watch() subscribes to.
constexpr std::array kWatchEvents = {"job-state-changed", "job-progress", "job-completed"};

// A pull subscription to one job's events and the next event to ask for.
struct JobEvents {
  int subscription_id = 0;
  int next_sequence = 1;
};

// Create-Job-Subscriptions for `job_id` (notify-pull-method ippget); nullopt
// when the printer refuses or does not support it.
std::optional<JobEvents> subscribe(Printer::State& state, int job_id) {
  IppPtr request = detail::new_request(state, IPP_OP_CREATE_JOB_SUBSCRIPTIONS);
  ippAddInteger(request.get(), IPP_TAG_OPERATION, IPP_TAG_INTEGER, "notify-job-id", job_id);
  ippAddString(request.get(), IPP_TAG_SUBSCRIPTION, IPP_TAG_KEYWORD, "notify-pull-method", nullptr, "ippget");
  ippAddStrings(request.get(), IPP_TAG_SUBSCRIPTION, IPP_TAG_KEYWORD, "notify-events",
                static_cast<int>(kWatchEvents.size()), nullptr, kWatchEvents.data());
  auto response = detail::perform(state, std::move(request), "Create-Job-Subscriptions");
  if (!response) return std::nullopt;
  ipp_attribute_t* id = ippFindAttribute(response->get(), "notify-subscription-id", IPP_TAG_INTEGER);
  if (id == nullptr) return std::nullopt;
  return JobEvents{ippGetInteger(id, 0), 1};
}

// Cancel-Subscription; a failure only leaves it to expire with the job.
void unsubscribe(Printer::State& state, const JobEvents& events) {
  IppPtr request = detail::new_request(state, IPP_OP_CANCEL_SUBSCRIPTION);
  ippAddInteger(request.get(), IPP_TAG_OPERATION, IPP_TAG_INTEGER, "notify-subscription-id",
                events.subscription_id);
  (void)detail::perform(state, std::move(request), "Cancel-Subscription");
}

// What the HTTP timeout callback needs while Get-Notifications waits.
struct WaitControl {
  const WatchOptions* options = nullptr;
  bool interrupted = false;  // the wait was abandoned on request
};

// libcups' timeout callback: keep waiting (1) unless the caller interrupts.
int keep_waiting(http_t* /*http*/, void* data) {
  auto& control = *static_cast<WaitControl*>(data);
  if (control.options->interrupted && control.options->interrupted()) {
    control.interrupted = true;
    return 0;
  }
  return 1;
}

// The notifications of a Get-Notifications response: how many, and the
// sequence number after the last one.
int read_events(ipp_t* response, JobEvents& events) {
  int count = 0;
  for (ipp_attribute_t* a = ippFirstAttribute(response); a != nullptr; a = ippNextAttribute(response)) {
    if (ippGetGroupTag(a) != IPP_TAG_EVENT_NOTIFICATION || ippGetName(a) == nullptr) continue;
    if (std::string_view(ippGetName(a)) != "notify-sequence-number") continue;
    ++count;
    events.next_sequence = std::max(events.next_sequence, ippGetInteger(a, 0) + 1);
  }
  return count;
}

// How a wait for notifications ended.
enum class Wait { kAnswered, kInterrupted, kFailed };

// Get-Notifications with notify-wait: returns when the printer has events for
// the subscription (or after its own wait, up to 30 s with PAPPL). An
// interrupted wait reopens the connection; after either, the caller polls.
Wait wait_for_events(Printer::State& state, JobEvents& events, const WatchOptions& options) {
  IppPtr request = detail::new_request(state, IPP_OP_GET_NOTIFICATIONS);
  ippAddInteger(request.get(), IPP_TAG_OPERATION, IPP_TAG_INTEGER, "notify-subscription-ids",
                events.subscription_id);
  ippAddInteger(request.get(), IPP_TAG_OPERATION, IPP_TAG_INTEGER, "notify-sequence-numbers",
                events.next_sequence);
  ippAddBoolean(request.get(), IPP_TAG_OPERATION, "notify-wait", 1);
  WaitControl control{&options, false};
  const double check_seconds = std::max(0.1, static_cast<double>(options.interval.count()) / 1000.0);
  httpSetTimeout(state.http.get(), check_seconds, keep_waiting, &control);
  auto response = detail::perform(state, std::move(request), "Get-Notifications");
  httpSetTimeout(state.http.get(), 0.0, nullptr, nullptr);
  if (!response) {
    if (!control.interrupted) return Wait::kFailed;
    (void)detail::reconnect(state);
    return Wait::kInterrupted;
  }
  const int count = read_events(response->get(), events);
  if (options.on_notifications) options.on_notifications(count);
  return Wait::kAnswered;
}

// True when watch() should report `now` after `before`.
bool changed(const JobInfo& before, const JobInfo& now) {
  return before.state != now.state || before.reasons != now.reasons || before.message != now.message ||
         before.impressions != now.impressions || before.impressions_completed != now.impressions_completed;
}

// watch()'s loop: polls the job, calls `callback`, then `pause(job)` until
// the job ended or the callback said stop; a failing poll is retried after
// `retry_pause` for up to kWatchRetryLimit.
Result<JobInfo> follow(Printer& printer, int id, const WatchCallback& callback,
                       std::chrono::milliseconds retry_pause,
                       const std::function<void(const JobInfo&)>& pause) {
  std::optional<JobInfo> last;
  auto failing_since = std::chrono::steady_clock::time_point{};
  for (;;) {
    auto now = printer.job(id);
    if (!now) {
      const bool transient = now.error().status == IPP_STATUS_ERROR_SERVICE_UNAVAILABLE ||
                             now.error().status == IPP_STATUS_ERROR_INTERNAL;
      const auto clock = std::chrono::steady_clock::now();
      if (failing_since == std::chrono::steady_clock::time_point{}) failing_since = clock;
      if (!transient || clock - failing_since > kWatchRetryLimit) return std::move(now).error();
      std::this_thread::sleep_for(retry_pause);
      continue;
    }
    failing_since = {};
    const bool is_new = !last || changed(*last, *now);
    if (is_new) last = *now;
    if (!callback(*now, is_new)) return std::move(now).value();
    if (now->terminal()) return std::move(now).value();
    pause(*now);
  }
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
  WatchOptions options;
  options.interval = interval;
  return watch(id, callback, options);
}

Result<JobInfo> Printer::watch(int id, const WatchCallback& callback, const WatchOptions& options) {
  std::optional<JobEvents> events = options.notifications ? subscribe(*state_, id) : std::nullopt;
  // Between polls: the printer reports a processing job's progress as
  // events; before it starts (queue messages) the job is polled.
  const auto pause = [&](const JobInfo& job) {
    if (events && job.state == IPP_JSTATE_PROCESSING) {
      const Wait wait = wait_for_events(*state_, *events, options);
      if (wait != Wait::kFailed) return;
      events.reset();  // the subscription is gone or unusable: poll from now on
    }
    std::this_thread::sleep_for(options.interval);
  };
  auto result = follow(*this, id, callback, options.interval, pause);
  if (events) unsubscribe(*state_, *events);
  return result;
}

}  // namespace ipp3d::client
