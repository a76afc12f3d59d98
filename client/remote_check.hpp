// The G-code gate as a printer runs it, for `check --printer URI` and the
// preflight of `print`: its published policy and its material.
#pragma once

#include "ipp3d/client/printer.hpp"
#include "ipp3d/gcode/limits.hpp"

#include <optional>
#include <string>

namespace ipp3d::client {

// What the gate needs to check a file as the printer would.
struct RemoteGate {
  gcode::Limits limits;  // from the published policy, reproduced byte for byte
  gcode::Job job;        // the material's ranges and the platform temperature the server would use
  std::string label;     // the material's key, "" when none
};

// Fetches and reproduces the printer's policy (checked against its digest)
// and builds the job as the server would: `material_key` from the published
// materials database (else the loaded material), `platform_temperature`
// clamped into the bed range of that requested material, else of the
// printer's materials-col-default (as platform-temperature-actual).
// Errors: no published policy (client-error-not-found), another policy
// version, an unknown material (client-error-bad-request), a platform
// temperature outside the printer's bed range (client-error-attributes-or-
// values-not-supported, attribute platform-temperature: the printer refuses
// such a ticket), the connection.
Result<RemoteGate> remote_gate(Printer& printer, const Capabilities& caps, const std::string& material_key,
                               std::optional<int> platform_temperature);

}  // namespace ipp3d::client
