// `ipp3d check FILE --printer URI`: the gate with the printer's published
// policy and material, so the verdict is the server's.
#include "remote_check.hpp"

#include "ipp3d/client/policy_limits.hpp"
#include "ipp3d/gcode/checker.hpp"
#include "ipp3d/gcode/policy.hpp"

#include "check_command.hpp"
#include "remote.hpp"

#include <iostream>

namespace ipp3d::client {
namespace {

constexpr int kUsage = 2;

// The material the server's gate would use: `key` (requested in the ticket)
// from the published database, else the loaded one; nullopt when neither.
// An error names an unknown key and the known ones.
Result<std::optional<gcode::MaterialRange>> job_material(const gcode::Limits& limits,
                                                         const Capabilities& caps, const std::string& key) {
  std::string wanted = key;
  if (wanted.empty()) {
    if (caps.model.materials_col_ready.empty()) return std::optional<gcode::MaterialRange>{};
    wanted = caps.model.materials_col_ready.front().material_key.value_or("");
  }
  auto range = gcode::find_material(limits, wanted);
  if (!range) return std::move(range).error();
  return std::optional<gcode::MaterialRange>{std::move(range).value()};
}

// The policy the printer publishes, reproduced and matched against its digest.
Result<gcode::Limits> printer_limits(Printer& printer, const Capabilities& caps) {
  if (caps.policy_resource.empty()) {
    return Error{IPP_STATUS_ERROR_NOT_FOUND,
                 "the printer publishes no G-code policy (ipp3d-gcode-policy-resource)",
                 {},
                 0};
  }
  auto text = printer.fetch(caps.policy_resource);
  if (!text) return std::move(text).error();
  auto limits = limits_from_policy(*text);
  if (!limits) return limits;
  const auto digest = gcode::policy_digest(*limits);
  if (!digest || *digest != caps.policy_digest) {
    return Error{IPP_STATUS_ERROR_INTERNAL,
                 "the policy at " + caps.policy_resource +
                     " does not have the digest the printer advertises (" + caps.policy_digest + ")",
                 {},
                 0};
  }
  return limits;
}

// The request gate's refusal of a platform-temperature outside the printer's
// bed (0, heater off, is always accepted): the ticket is refused before any
// G-code is checked.
std::optional<Error> ticket_temperature_problem(const gcode::Limits& limits, std::optional<int> wanted) {
  if (!wanted || *wanted == 0) return std::nullopt;
  if (limits.bed && *wanted >= limits.bed->min_temp && *wanted <= limits.bed->max_temp) return std::nullopt;
  const std::string range =
      limits.bed ? std::to_string(limits.bed->min_temp) + "-" + std::to_string(limits.bed->max_temp) + " °C"
                 : "none: no heated bed";
  return Error{IPP_STATUS_ERROR_ATTRIBUTES_OR_VALUES,
               "platform-temperature " + std::to_string(*wanted) + " is outside the printer's bed range (" +
                   range + "): the printer refuses the job ticket",
               "platform-temperature", 0};
}

}  // namespace

Result<RemoteGate> remote_gate(Printer& printer, const Capabilities& caps, const std::string& material_key,
                               std::optional<int> platform_temperature) {
  auto limits = printer_limits(printer, caps);
  if (!limits) return std::move(limits).error();
  auto material = job_material(*limits, caps, material_key);
  if (!material) return std::move(material).error();
  RemoteGate gate{std::move(limits).value(), {}, {}};
  if (auto refused = ticket_temperature_problem(gate.limits, platform_temperature)) return *refused;
  gate.job.platform_temperature = platform_temperature;
  if (platform_temperature) {
    // As the server's request gate: clamped into the bed range of the
    // ticket's material, else of materials-col-default.
    const auto& defaults = caps.model.materials_col_default;
    const std::string clamp_key = !material_key.empty() ? material_key
                                  : defaults.empty()    ? std::string()
                                                        : defaults.front().material_key.value_or("");
    if (auto range = gcode::find_material(gate.limits, clamp_key)) {
      gate.job.platform_temperature = gcode::actual_platform_temperature(*platform_temperature, *range);
    }
  }
  if (*material) {
    gate.label = (*material)->label;
    gate.job.material = std::move(material).value();
  }
  return gate;
}

int run_remote_check(const CheckOptions& options) {
  RemoteOptions remote;
  remote.uri = options.printer;
  remote.fingerprint = options.fingerprint;
  remote.insecure = options.insecure;
  auto printer = open_printer(remote);
  if (!printer) return report("check", printer.error());
  auto caps = printer->capabilities();
  if (!caps) return report("check", caps.error());
  auto gate = remote_gate(*printer, *caps, options.material, options.platform_temperature);
  if (!gate) return report("check", gate.error());
  const auto checked = gcode::check_file(options.file, gate->limits, gate->job);
  if (!checked) {
    std::cerr << "ipp3d check: cannot read " << checked.error().message << "\n";
    return kUsage;
  }
  print_check_report(options, options.printer, gate->label, *checked, caps->policy_digest);
  return checked->accepted ? 0 : 1;
}

}  // namespace ipp3d::client
