// The gate's effective policy in a canonical, publishable form: the limits,
// the macros, the materials database, the allow-list, the deny-list and the
// rule set, with a SHA-256 digest, so a client holding the same policy (and
// the job's material key and platform-temperature) reproduces the server's
// verdict exactly.
#pragma once

#include "ipp3d/gcode/limits.hpp"
#include "ipp3d/result.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace ipp3d::gcode {

// One command of the allow-list: its name ("G1", "SET_HEATER_TEMPERATURE")
// and what the gate checks about it.
struct AllowedCommand {
  std::string_view name;
  std::string_view checks;
};

// One command (or name prefix ending in '*') of the deny-list and why it is refused.
struct DeniedCommand {
  std::string_view name;
  std::string_view reason;
};

// The built-in allow-list (configured macros come on top of it).
const std::vector<AllowedCommand>& allowed_commands();

// The built-in deny-list.
const std::vector<DeniedCommand>& denied_commands();

// Version of the rule set and of the document's members; changes whenever a
// rule's meaning or the document's shape changes (2: the materials database).
inline constexpr std::string_view kPolicyVersion = "ipp3d-gcode-policy/2";

// The canonical JSON text of the policy: keys sorted, no insignificant white
// space, numbers in shortest round-trip form, ASCII only. Deterministic for
// equal Limits. docs/gcode-policy.md describes the format.
std::string policy_json(const Limits& limits);

// "sha256:" followed by the lower-case hex SHA-256 of policy_json(limits).
// An error (status internal) only when OpenSSL fails.
Result<std::string> policy_digest(const Limits& limits);

}  // namespace ipp3d::gcode
