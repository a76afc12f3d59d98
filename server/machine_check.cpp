#include "machine_check.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <exception>

namespace ipp3d::server {
namespace {

constexpr double kEpsilon = 1e-6;  // Klipper's settings are floats

// "250", "0.5": a number for messages.
std::string number(double value) {
  char text[32];
  (void)std::snprintf(text, sizeof text, "%g", value);
  return text;
}

// True when `name` is one of `accepted`.
bool is_accepted(const std::vector<std::string>& accepted, std::string_view name) {
  return std::find(accepted.begin(), accepted.end(), name) != accepted.end();
}

// A finding for the risk `risk`, accepted or blocking.
MachineFinding risk_finding(const std::vector<std::string>& accepted, const char* risk, std::string text) {
  const bool ok = is_accepted(accepted, risk);
  if (ok) text += " (accepted by accept_risks)";
  return MachineFinding{ok ? MachineFinding::Severity::kAccepted : MachineFinding::Severity::kBlocking, risk,
                        std::move(text)};
}

// Logs `text` on the printer (or the system before the printer exists).
void log(const PrinterRuntime& printer, pappl_loglevel_t level, const std::string& text) {
  if (printer.printer() != nullptr) {
    papplLogPrinter(printer.printer(), level, "%s", text.c_str());
  } else {
    (void)std::fprintf(stderr, "ipp3d-server: %s: %s\n", printer.name().c_str(), text.c_str());
  }
}

}  // namespace

bool is_loopback_client(std::string_view entry) {
  if (entry == "localhost" || entry == "::1" || entry == "::1/128") return true;
  std::string_view address = entry;
  int prefix = 32;
  if (const auto slash = entry.find('/'); slash != std::string_view::npos) {
    address = entry.substr(0, slash);
    const std::string_view bits = entry.substr(slash + 1);
    const auto [end, error] = std::from_chars(bits.data(), bits.data() + bits.size(), prefix);
    if (error != std::errc() || end != bits.data() + bits.size() || prefix < 0 || prefix > 32) return false;
  }
  in_addr parsed{};
  const std::string text(address);
  if (::inet_pton(AF_INET, text.c_str(), &parsed) != 1) return false;
  // Inside 127.0.0.0/8: the first octet is 127 and the range is no wider than /8.
  return (ntohl(parsed.s_addr) >> 24) == 127 && prefix >= 8;
}

std::vector<MachineFinding> access_findings(const MachineReport& report,
                                            const std::vector<std::string>& accepted) {
  std::vector<MachineFinding> findings;
  std::string loose;
  for (const std::string& client : report.trusted_clients) {
    if (!is_loopback_client(client)) loose += (loose.empty() ? "" : ", ") + client;
  }
  if (!loose.empty()) {
    findings.push_back(risk_finding(
        accepted, "trusted-clients",
        "Moonraker's [authorization] trusted_clients admits " + loose +
            " without a key: anyone there can upload and start G-code directly, bypassing ipp3d's "
            "signature check and G-code gate"));
  }
  if (!report.force_logins && report.users_exist) {
    findings.push_back(risk_finding(accepted, "force-logins-off",
                                    "Moonraker has users but [authorization] force_logins is off: trusted "
                                    "clients need no login and bypass ipp3d"));
  }
  if (report.config_write_access) {
    findings.push_back(risk_finding(
        accepted, "config-write-access",
        "Moonraker's [file_manager] enable_config_write_access is on (Moonraker's default): anyone with API "
        "access can rewrite printer.cfg, including the limits Klipper enforces"));
  }
  return findings;
}

std::vector<MachineFinding> limit_findings(const gcode::Limits& limits, const MachineReport& report) {
  std::vector<MachineFinding> findings;
  const auto above = [&findings](const std::string& ours, double value, const std::string& klippers,
                                 const std::optional<double>& klipper, const char* unit, bool lower_bound) {
    if (!klipper) return;
    const bool exceeds = lower_bound ? value < *klipper - kEpsilon : value > *klipper + kEpsilon;
    if (!exceeds) return;
    findings.push_back(MachineFinding{MachineFinding::Severity::kBlocking, "",
                                      ours + " " + number(value) + unit + " is " +
                                          (lower_bound ? "below" : "above") + " Klipper's " + klippers + " " +
                                          number(*klipper) + unit});
  };
  above("[printer.hotend] max_temp", limits.hotend.max_temp, "[extruder] max_temp", report.hotend_max_temp,
        " °C", false);
  if (limits.bed) {
    above("[printer.bed] max_temp", limits.bed->max_temp, "[heater_bed] max_temp", report.bed_max_temp, " °C",
          false);
  }
  const config::AxisRange* axes[3] = {&limits.volume.x, &limits.volume.y, &limits.volume.z};
  static constexpr const char* kAxis[3] = {"x", "y", "z"};
  for (int i = 0; i < 3; ++i) {
    const std::string stepper = std::string("[stepper_") + kAxis[i] + "]";
    above(std::string("[printer.volume] ") + kAxis[i] + ".min", axes[i]->min, stepper + " position_min",
          report.axis_min[i], " mm", true);
    above(std::string("[printer.volume] ") + kAxis[i] + ".max", axes[i]->max, stepper + " position_max",
          report.axis_max[i], " mm", false);
  }
  above("[printer.limits] max_velocity", limits.gcode.max_velocity, "[printer] max_velocity",
        report.max_velocity, " mm/s", false);
  above("[printer.limits] max_accel", limits.gcode.max_accel, "[printer] max_accel", report.max_accel,
        " mm/s²", false);
  return findings;
}

bool is_standard_command(std::string_view name) {
  return name.size() >= 2 && name[0] >= 'A' && name[0] <= 'Z' &&
         std::all_of(name.begin() + 1, name.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::vector<MachineFinding> macro_findings(const config::PrinterConfig& printer, const MachineReport& report,
                                           std::set<std::string>& overridden) {
  std::vector<MachineFinding> findings;
  for (const RenamedCommand& renamed : report.renamed_commands) {
    if (!is_standard_command(renamed.name)) continue;
    overridden.insert(renamed.name);
    const bool declared = std::any_of(printer.macros.begin(), printer.macros.end(),
                                      [&](const config::Macro& m) { return m.name == renamed.name; });
    const std::string what = "Klipper's [gcode_macro " + renamed.name + "] replaces the standard command " +
                             renamed.name + " (rename_existing: " + renamed.renamed_to + ")";
    if (declared) {
      findings.push_back(MachineFinding{MachineFinding::Severity::kNote, "",
                                        what + "; the gate checks it as the declared [[printer.macro]]"});
    } else {
      findings.push_back(
          MachineFinding{MachineFinding::Severity::kBlocking, "",
                         what + ", and no [[printer.macro]] name = \"" + renamed.name +
                             "\" declares its temperature parameters: the gate cannot know what it does"});
    }
  }
  return findings;
}

MachineVerdict evaluate_machine(const config::PrinterConfig& printer, const MachineReport& report) {
  MachineVerdict verdict;
  const std::vector<std::string> accepted =
      printer.moonraker ? printer.moonraker->accept_risks : std::vector<std::string>{};
  verdict.findings = access_findings(report, accepted);
  for (auto& finding : limit_findings(gcode::limits_for(printer), report)) {
    verdict.findings.push_back(std::move(finding));
  }
  for (auto& finding : macro_findings(printer, report, verdict.overridden_commands)) {
    verdict.findings.push_back(std::move(finding));
  }
  for (const MachineFinding& finding : verdict.findings) {
    if (finding.severity != MachineFinding::Severity::kBlocking) continue;
    verdict.problem += (verdict.problem.empty() ? "Not printing: " : "; ") + finding.text;
  }
  if (!verdict.problem.empty()) verdict.problem += ".";
  return verdict;
}

bool check_machine(PrinterRuntime& printer) noexcept {
  try {
    auto report = printer.backend().inspect();
    if (!report) {
      log(printer, PAPPL_LOGLEVEL_WARN, "Cannot check the machine's setup: " + report.error().message);
      return false;
    }
    const MachineVerdict verdict = evaluate_machine(printer.config(), *report);
    for (const MachineFinding& finding : verdict.findings) {
      const pappl_loglevel_t level =
          finding.severity == MachineFinding::Severity::kBlocking   ? PAPPL_LOGLEVEL_ERROR
          : finding.severity == MachineFinding::Severity::kAccepted ? PAPPL_LOGLEVEL_WARN
                                                                    : PAPPL_LOGLEVEL_INFO;
      log(printer, level, "Machine check: " + finding.text);
    }
    if (printer.set_machine_overrides(verdict.overridden_commands)) {
      log(printer, PAPPL_LOGLEVEL_INFO, "Machine check: the G-code policy is now " + printer.policy_digest());
    }
    printer.intake().set_upload_capacity(UploadCapacity{report->max_upload_bytes, report->free_bytes});
    printer.set_camera_image_uri(report->camera_snapshot_url);
    printer.set_config_problem(verdict.problem);
    if (verdict.problem.empty()) log(printer, PAPPL_LOGLEVEL_INFO, "Machine check: the machine may print.");
    return true;
  } catch (const std::exception& e) {
    log(printer, PAPPL_LOGLEVEL_ERROR, std::string("Machine check failed: ") + e.what());
    return false;
  } catch (...) {
    return false;
  }
}

}  // namespace ipp3d::server
