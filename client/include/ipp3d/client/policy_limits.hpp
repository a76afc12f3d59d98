// The G-code gate's limits read back from a printer's published policy
// (docs/gcode-policy.md "The published policy"), for `ipp3d check --printer URI`.
#pragma once

#include "ipp3d/gcode/limits.hpp"
#include "ipp3d/result.hpp"

#include <string>

namespace ipp3d::client {

// Parses the canonical policy JSON into Limits (with the printer's macros and
// materials database) and checks that this client reproduces it byte for
// byte (gcode::policy_json of the result equals `text`): the result equals
// the server's gcode::Limits, so with the same material and
// platform-temperature its gate gives exactly the server's verdict. Errors: not
// JSON, a missing or mistyped member (named), another policy version or
// rule set (the message says to update ipp3d).
Result<gcode::Limits> limits_from_policy(const std::string& text);

}  // namespace ipp3d::client
