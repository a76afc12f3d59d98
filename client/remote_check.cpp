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

// The material to check with: --material from the printer's database, else
// the loaded one; nullopt (no material) when neither. An error for an
// unknown key or a material without a temperature.
Result<std::optional<attributes::Material>> job_material(const Capabilities& caps, const std::string& key) {
  if (key.empty()) {
    if (caps.model.materials_col_ready.empty()) return std::optional<attributes::Material>{};
    return std::optional<attributes::Material>{caps.model.materials_col_ready.front()};
  }
  for (const auto& material : caps.model.materials_col_database) {
    if (material.material_key == key) return std::optional<attributes::Material>{material};
  }
  std::string known;
  for (const auto& material : caps.model.materials_col_database) {
    known += (known.empty() ? "" : ", ") + material.material_key.value_or("?");
  }
  return Error{IPP_STATUS_ERROR_BAD_REQUEST,
               "the printer has no material \"" + key + "\" (known: " + known + ")", "materials-col", 0};
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

}  // namespace

Result<RemoteGate> remote_gate(Printer& printer, const Capabilities& caps, const std::string& material_key) {
  auto limits = printer_limits(printer, caps);
  if (!limits) return std::move(limits).error();
  auto material = job_material(caps, material_key);
  if (!material) return std::move(material).error();
  RemoteGate gate{std::move(limits).value(), {}, {}};
  if (*material) {
    auto range = gcode::material_range(**material);
    if (!range) return std::move(range).error();
    gate.label = range->label;
    gate.job.material = std::move(range).value();
    if (gate.limits.bed) {
      std::cerr << "ipp3d: note: the printer does not publish " << gate.label
                << "'s bed temperature range; bed temperatures are checked against the printer's limits only "
                   "(the server also checks them against the material's range)\n";
    }
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
  auto gate = remote_gate(*printer, *caps, options.material);
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
