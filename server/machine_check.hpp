// Checks of the machine behind a printer that decide whether it is safe to
// print on: Moonraker's access configuration, Klipper's own limits against
// ours, and Klipper macros that replace standard commands
// (docs/security.md "Moonraker must not be a way around ipp3d"). The
// backend reads the machine (Backend::inspect()); the policy is here.
#pragma once

#include "ipp3d/config/config.hpp"
#include "ipp3d/gcode/limits.hpp"

#include "backend/backend.hpp"
#include "printer_runtime.hpp"

#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace ipp3d::server {

// One thing found about the machine's setup.
struct MachineFinding {
  enum class Severity {
    kBlocking,  // the printer starts no job until it is fixed
    kAccepted,  // a risk named in accept_risks: logged loudly, printing goes on
    kNote,      // worth knowing (e.g. a declared macro override): logged
  };
  Severity severity = Severity::kBlocking;
  std::string risk;  // the accept_risks name (config::kMoonrakerRisks), or "" when it cannot be accepted
  std::string text;  // what is wrong and why, naming the setting and the values
  bool operator==(const MachineFinding&) const = default;
};

// The outcome of evaluate_machine().
struct MachineVerdict {
  std::vector<MachineFinding> findings;
  std::set<std::string> overridden_commands;  // standard commands Klipper macros replace (for the gate)
  std::string problem;                        // the blocking findings as one reason, "" when it may print
};

// True when a Moonraker trusted_clients entry admits loopback clients only:
// an IPv4 address or CIDR range inside 127.0.0.0/8, ::1 (or ::1/128), localhost.
bool is_loopback_client(std::string_view entry);

// Moonraker's access rules: trusted_clients beyond loopback, force_logins off
// while users exist, config write access on. Each is kAccepted when its
// name is in `accepted`, else kBlocking.
std::vector<MachineFinding> access_findings(const MachineReport& report,
                                            const std::vector<std::string>& accepted);

// Our limits above Klipper's (hotend and bed max_temp, axis ranges against
// position_min/max, max_velocity, max_accel): one kBlocking finding each,
// naming the setting and both values. Values Klipper does not report are skipped.
std::vector<MachineFinding> limit_findings(const gcode::Limits& limits, const MachineReport& report);

// True for a standard command name: a letter and digits ("M109", "G28").
bool is_standard_command(std::string_view name);

// Klipper macros replacing standard commands: each name goes to `overridden`;
// kBlocking when no [[printer.macro]] declares it (the gate would refuse the
// command and nobody said what the macro does), else kNote.
std::vector<MachineFinding> macro_findings(const config::PrinterConfig& printer, const MachineReport& report,
                                           std::set<std::string>& overridden);

// All of the above for `printer` (its configured limits) and `report`.
MachineVerdict evaluate_machine(const config::PrinterConfig& printer, const MachineReport& report);

// Inspects the machine behind `printer` and records the outcome in the
// runtime: set_config_problem() with the reason (or "" when it is fine),
// the macro overrides for the gate, the upload capacity for the intake, and
// the camera URL. Each finding is logged (blocking ones as errors, accepted
// risks as warnings). Called at start and whenever Klippy becomes ready.
// Never throws; a machine that cannot be asked leaves the previous outcome
// in place and returns false.
bool check_machine(PrinterRuntime& printer) noexcept;

}  // namespace ipp3d::server
