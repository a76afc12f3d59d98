#include "scheduler.hpp"

#include "ipp3d/attributes/ipp_codec.hpp"
#include "ipp3d/attributes/validation.hpp"

#include "audit.hpp"
#include "document_format.hpp"
#include "ipp/request_gate.hpp"
#include "job_ledger.hpp"

#include <algorithm>
#include <exception>

namespace ipp3d::server {
namespace {

// A job as the scheduler sees it while iterating (ids only: pointers are
// looked up again with papplPrinterFindJob when used).
struct JobSummary {
  int id;
  ipp_jstate_t state;
};

// Collects id and state of every active job.
void collect_job(pappl_job_t* job, void* data) {
  static_cast<std::vector<JobSummary>*>(data)->push_back({papplJobGetID(job), papplJobGetState(job)});
}

// Ends a job whose document was refused: canceled at once (only the print
// callback could abort it, and that waits for the printer), with
// document-permission-error (envelope) or document-unprintable-error (the
// G-code gate) and the exact reason (docs/security.md, docs/gcode-policy.md).
void refuse_job(pappl_job_t* job, PrinterRuntime& printer, const DocumentRefusal& refusal) {
  const std::string& message = refusal.message;
  papplLogJob(job, PAPPL_LOGLEVEL_WARN, "%s", message.c_str());
  papplJobSetReasons(job,
                     refusal.unprintable() ? PAPPL_JREASON_DOCUMENT_UNPRINTABLE_ERROR
                                           : PAPPL_JREASON_DOCUMENT_PERMISSION_ERROR,
                     PAPPL_JREASON_JOB_QUEUED);
  papplJobSetMessage(job, message.c_str());
  papplJobCancel(job);
  record_job(job, printer, IPP_JSTATE_CANCELED);
  printer.intake().forget(papplJobGetID(job));
}

// `text`, or "" for null.
std::string text_or_empty(const char* text) { return text != nullptr ? text : ""; }

// Hands a job whose document has arrived to the printer's intake; its stage.
// The first time, records job-received in the audit log first.
JobIntake::Outcome check_arrived_document(pappl_job_t* job, PrinterRuntime& printer) {
  const char* format = papplJobGetFormat(job);
  const bool is_envelope = format != nullptr && kEnvelopeFormat == format;
  const int copies = ippGetInteger(papplJobGetAttribute(job, "copies"), 0);
  // Recorded before the intake may record its verdict (the scheduler is the only submitter).
  if (!printer.intake().knows(papplJobGetID(job))) {
    std::error_code ec;
    const auto bytes = std::filesystem::file_size(papplJobGetFilename(job), ec);
    audit(printer.store(), AuditEvent{"job-received",
                                      text_or_empty(papplJobGetUsername(job)),
                                      "",
                                      printer.name(),
                                      papplJobGetID(job),
                                      {{"job-name", text_or_empty(papplJobGetName(job))},
                                       {"document-format", text_or_empty(format)},
                                       {"bytes", ec ? "unknown" : std::to_string(bytes)},
                                       {"copies", std::to_string(copies < 1 ? 1 : copies)}}});
  }
  return printer.intake().submit(papplJobGetID(job), papplJobGetFilename(job), is_envelope, copies,
                                 gate_job(job, printer));
}

// Records a job that ended before it was released or refused (e.g. canceled
// while it waited).
void audit_ended_while_waiting(pappl_job_t* job, PrinterRuntime& printer) {
  const ipp_jstate_t state = papplJobGetState(job);
  if (state < IPP_JSTATE_CANCELED) return;
  audit(printer.store(),
        AuditEvent{state == IPP_JSTATE_COMPLETED ? "job-completed"
                   : state == IPP_JSTATE_ABORTED ? "job-aborted"
                                                 : "job-canceled",
                   text_or_empty(papplJobGetUsername(job)),
                   "",
                   printer.name(),
                   papplJobGetID(job),
                   {{"when", "before printing"}, {"message", text_or_empty(papplJobGetMessage(job))}}});
}

}  // namespace

gcode::Job gate_job(pappl_job_t* job, const PrinterRuntime& printer) {
  gcode::Job gate;
  // The material the client requested (as resolved from the database by
  // the request gate into materials-col-actual), else the loaded one.
  std::optional<std::string> key;
  ipp_attribute_t* actual = papplJobGetAttribute(job, "materials-col-actual");
  if (actual != nullptr && papplJobGetAttribute(job, "materials-col") != nullptr) {
    if (const char* requested = ippGetString(
            ippFindAttribute(ippGetCollection(actual, 0), "material-key", IPP_TAG_ZERO), 0, nullptr)) {
      key = requested;
    }
  }
  if (!key) key = printer.loaded_material();
  if (key) {
    if (auto range = gcode::find_material(printer.config(), *key)) gate.material = std::move(range).value();
  }
  if (ipp_attribute_t* platform = papplJobGetAttribute(job, "platform-temperature-actual")) {
    gate.platform_temperature = ippGetInteger(platform, 0);
  }
  return gate;
}

QueueDecision decide(int position, bool has_document, const std::string& requested_hold,
                     const std::optional<std::string>& material, bool printer_busy, bool plate_clear,
                     const std::string& machine_problem) {
  if (!has_document) return {false, "Waiting for the document."};
  if (requested_hold != "no-hold")
    return {false, "Held as requested (job-hold-until " + requested_hold + ")."};
  if (!machine_problem.empty()) return {false, machine_problem};
  if (material) return {false, "Waiting for material " + *material + " to be loaded."};
  if (printer_busy) return {false, "Queued: " + std::to_string(position) + " in line."};
  if (!plate_clear) return {false, "Waiting for an operator to confirm that the build plate is clear."};
  return {true, "Starting."};
}

bool hold_window_open(const std::string& hold, std::time_t hold_until_time, std::time_t now) {
  if (hold == "no-hold") return true;
  if (hold == "time") return now >= hold_until_time;
  std::tm local{};
  localtime_r(&now, &local);
  const int hour = local.tm_hour;
  if (hold == "day-time") return hour >= 6 && hour < 18;
  if (hold == "evening" || hold == "night") return hour >= 18 || hour < 6;
  if (hold == "second-shift") return hour >= 16;
  if (hold == "third-shift") return hour < 8;
  if (hold == "weekend") return local.tm_wday == 0 || local.tm_wday == 6;
  return false;  // indefinite, or a keyword we do not know
}

std::optional<std::string> missing_material(pappl_job_t* job, const PrinterRuntime& printer) {
  IppPtr attrs = make_ipp();
  for (const auto& name : attributes::job_ticket_attribute_names()) {
    if (ipp_attribute_t* attr = papplJobGetAttribute(job, name.c_str()))
      ippCopyAttribute(attrs.get(), attr, 0);
  }
  auto ticket = attributes::decode_job_ticket(attrs.get());
  if (!ticket) return "(invalid ticket: " + ticket.error().message + ")";
  auto validated = attributes::validate_job_ticket(*ticket, printer.capabilities(),
                                                   attributes::LoadedMaterialPolicy::kMayWait);
  if (!validated) return "(" + validated.error().message + ")";
  if (validated->materials_loaded) return std::nullopt;
  return validated->materials.empty() ? std::string("(none)") : validated->materials.front().label();
}

void Scheduler::tick() noexcept {
  for (PrinterRuntime* printer : printers_) {
    try {
      schedule(*printer);
    } catch (const std::exception& e) {
      papplLogPrinter(printer->printer(), PAPPL_LOGLEVEL_ERROR, "Scheduling failed: %s", e.what());
    } catch (...) {
      papplLogPrinter(printer->printer(), PAPPL_LOGLEVEL_ERROR, "Scheduling failed.");
    }
  }
}

void Scheduler::extend_job_id_reservation(PrinterRuntime& printer) {
  const int next = papplPrinterGetNextJobID(printer.printer());
  int& reserved = reserved_[printer.name()];
  if (next + kJobIdBlock / 2 <= reserved) return;
  if (printer.store().reserve_job_ids(printer.name(), next + kJobIdBlock)) reserved = next + kJobIdBlock;
}

void Scheduler::schedule(PrinterRuntime& printer) {
  pappl_printer_t* pappl_printer = printer.printer();
  if (pappl_printer == nullptr) return;
  extend_job_id_reservation(printer);
  std::vector<JobSummary> jobs;
  papplPrinterIterateActiveJobs(pappl_printer, collect_job, &jobs, 1, 0);
  std::sort(jobs.begin(), jobs.end(), [](const JobSummary& a, const JobSummary& b) { return a.id < b.id; });

  bool busy = std::any_of(jobs.begin(), jobs.end(), [](const JobSummary& j) {
    return j.state == IPP_JSTATE_PENDING || j.state == IPP_JSTATE_PROCESSING || j.state == IPP_JSTATE_STOPPED;
  });
  int position = 0;
  for (const auto& summary : jobs) {
    if (summary.state != IPP_JSTATE_HELD) continue;
    pappl_job_t* job = papplPrinterFindJob(pappl_printer, summary.id);
    if (job == nullptr) continue;
    ++position;
    // A print that went on while the server restarted: follow it again at once.
    if (printer.reattaching(summary.id)) {
      if (papplJobRelease(job, nullptr)) busy = true;
      continue;
    }
    const bool has_document = papplJobGetFilename(job) != nullptr;
    if (has_document) {
      const JobIntake::Outcome intake = check_arrived_document(job, printer);
      if (intake.stage == JobIntake::Stage::kRefused) {
        end_audited_.insert({printer.name(), summary.id});  // job-refused, by the intake
        refuse_job(job, printer, *intake.refusal);
        continue;
      }
      if (intake.stage == JobIntake::Stage::kChecking) {
        auto& shown = messages_[{printer.name(), summary.id}];
        if (shown.empty() || shown.rfind("Checking", 0) != 0) {
          shown = "Checking the document (signature and G-code).";
          papplJobSetMessage(job, shown.c_str());
        }
        continue;
      }
    }
    const char* hold_keyword = ippGetString(papplJobGetAttribute(job, kRequestedHoldAttribute), 0, nullptr);
    const std::string hold = hold_keyword != nullptr ? hold_keyword : "no-hold";
    const std::time_t hold_time = ippGetInteger(papplJobGetAttribute(job, kRequestedHoldTimeAttribute), 0);
    const bool hold_open = hold_window_open(hold, hold_time, std::time(nullptr));
    const auto material = has_document ? missing_material(job, printer) : std::nullopt;
    const QueueDecision decision = decide(position, has_document, hold_open ? "no-hold" : hold, material,
                                          busy, printer.plate_clear(), printer.machine_problem());
    // PAPPL shows no job-state-reasons of its own for a job held by us.
    if (has_document && (papplJobGetReasons(job) & PAPPL_JREASON_JOB_QUEUED) == 0) {
      papplJobSetReasons(job, PAPPL_JREASON_JOB_QUEUED, PAPPL_JREASON_NONE);
    }
    auto& shown = messages_[{printer.name(), summary.id}];
    if (shown != decision.message) {
      shown = decision.message;
      papplJobSetMessage(job, decision.message.c_str());
    }
    // The G-code was checked against the material loaded when it arrived: if
    // another is loaded now, it is checked again before it may start.
    if (decision.release && printer.intake().recheck_if_changed(summary.id, gate_job(job, printer))) continue;
    if (decision.release && papplJobRelease(job, nullptr)) {
      busy = true;
      end_audited_.insert({printer.name(), summary.id});  // by the print callback
    }
  }
  // Jobs that left the active list: record their final state, forget them.
  std::erase_if(messages_, [&](const auto& entry) {
    const bool gone = entry.first.first == printer.name() &&
                      std::none_of(jobs.begin(), jobs.end(),
                                   [&](const JobSummary& j) { return j.id == entry.first.second; });
    if (gone) {
      const bool end_audited = end_audited_.erase(entry.first) > 0;
      if (pappl_job_t* job = papplPrinterFindJob(pappl_printer, entry.first.second)) {
        record_job(job, printer);
        if (!end_audited) audit_ended_while_waiting(job, printer);
      }
      // A job that ended (e.g. canceled while queued) leaves no verified document behind.
      printer.intake().forget(entry.first.second);
    }
    return gone;
  });
}

}  // namespace ipp3d::server
