// The queue owner. Every job arrives held (see RequestGate); once a second
// the scheduler releases, per printer, the oldest job that may print:
//  - one physical print at a time per printer, jobs in arrival (job-id) order;
//  - a job waits until its document has arrived;
//  - a job whose material is not loaded keeps its place and says why, and
//    does not block the jobs behind it;
//  - after every print the next starts only when the plate is confirmed
//    clear (unless the printer has auto_start_next);
//  - nothing starts while the machine has a problem (machine_check.hpp, or
//    Klippy not ready); waiting jobs say why.
// It runs on PAPPL's main-loop thread (a timer callback).
#pragma once

#include "printer_runtime.hpp"

#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace ipp3d::server {

// Job IDs are reserved in the state database in blocks of this size, ahead
// of use, so that after a crash no ID is handed out again (PAPPL would reuse
// the IDs of jobs created after its last state save).
inline constexpr int kJobIdBlock = 20;

// Why a held job is not released now.
struct QueueDecision {
  bool release = false;
  std::string message;  // job-state-message to show while waiting
};

// The pure decision for one held job (unit-testable without PAPPL).
//   position: 1-based place among the printer's waiting jobs
//   has_document: the document has arrived
//   requested_hold: the client's job-hold-until ("no-hold" to print)
//   material: nullopt when the ticket's material is loaded, else its label
//   printer_busy: a job of this printer is processing or released
//   plate_clear: the plate gate is open
//   machine_problem: why the machine may not print (PrinterRuntime::machine_problem()), "" when it may;
//     the job waits with it as its message (after its document and any client hold)
QueueDecision decide(int position, bool has_document, const std::string& requested_hold,
                     const std::optional<std::string>& material, bool printer_busy, bool plate_clear,
                     const std::string& machine_problem);

// Whether a client's job-hold-until lets the job print at `now` (local
// time). no-hold: always; indefinite: never (the job waits until it is
// cancelled); day-time 06:00-18:00; evening and night 18:00-06:00;
// second-shift 16:00-24:00; third-shift 00:00-08:00; weekend Saturday and
// Sunday; "time": from `hold_until_time` (job-hold-until-time, UNIX time) on.
// Unknown keywords never open.
bool hold_window_open(const std::string& hold, std::time_t hold_until_time, std::time_t now);

class Scheduler {
 public:
  explicit Scheduler(std::vector<PrinterRuntime*> printers) : printers_(std::move(printers)) {}
  // One scheduling pass over every printer. Never throws.
  void tick() noexcept;

 private:
  void schedule(PrinterRuntime& printer);
  void extend_job_id_reservation(PrinterRuntime& printer);

  std::vector<PrinterRuntime*> printers_;  // borrowed; owned by the Application
  // Last message set per (printer, job id), so messages change only when needed.
  // Only touched on PAPPL's main-loop thread.
  std::map<std::pair<std::string, int>, std::string> messages_;
  // Jobs whose end the audit log records elsewhere: released to print
  // (job_print.cpp) or refused by the intake (main-loop thread only).
  std::set<std::pair<std::string, int>> end_audited_;
  // Highest reserved next job ID per printer (main-loop thread only).
  std::map<std::string, int> reserved_;
};

// What the G-code gate checks a job's G-code against: the material it
// prints with (requested, else loaded) and its platform-temperature-actual.
gcode::Job gate_job(pappl_job_t* job, const PrinterRuntime& printer);

// The label of the first material the job's ticket needs that is not loaded,
// or nullopt when everything it needs is loaded. Reads the job's attributes.
std::optional<std::string> missing_material(pappl_job_t* job, const PrinterRuntime& printer);

}  // namespace ipp3d::server
