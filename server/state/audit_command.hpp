// `ipp3d-server audit verify [--against FILE]` (checks the hash chain and its
// signed checkpoints) and `ipp3d-server audit export [--since T]` (JSON lines).
// docs/audit.md describes both; docs/man/ipp3d-server.8 their exit codes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>

namespace CLI {  // NOLINT(readability-identifier-naming): CLI11's own namespace, declared ahead
class App;
}

namespace ipp3d::server {

// Exit codes of `audit verify`.
inline constexpr int kAuditIntact = 0;       // every record and checkpoint checks out
inline constexpr int kAuditTampered = 1;     // a bad record or checkpoint (named on the output)
inline constexpr int kAuditCannotCheck = 2;  // no database, an unreadable key or checkpoint file

// What a parsed state-directory subcommand runs, given the resolved state
// directory; returns the process exit status.
using StateDirCommand = std::function<int(const std::filesystem::path& state_dir)>;

// Adds `audit verify` and `audit export` to `app`; when one of them is
// parsed, `command` is set to run it.
void add_audit_commands(CLI::App& app, StateDirCommand& command);

// Verifies STATE/ipp3d.db's audit chain and stored checkpoints (with the
// key of STATE/keys/audit.key.pub) and, when `against` is given, the
// checkpoint file fetched earlier. Reports on `out` (the findings) and
// `err` (why it cannot check); returns kAuditIntact, kAuditTampered or
// kAuditCannotCheck.
int audit_verify(const std::filesystem::path& state_dir, const std::optional<std::filesystem::path>& against,
                 std::ostream& out, std::ostream& err);

// Writes the records whose time is at or after `since` (all when nullopt)
// to `out`, one JSON object a line. Returns 0, or 2 when the database cannot be read.
int audit_export(const std::filesystem::path& state_dir, std::optional<std::int64_t> since, std::ostream& out,
                 std::ostream& err);

// Parses an --since argument: UNIX seconds ("1733360000"), or ISO 8601
// "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS]" with an optional "Z" or "+HH:MM" /
// "-HH:MM" offset (UTC when none). nullopt when it is neither.
std::optional<std::int64_t> parse_audit_time(const std::string& text);

}  // namespace ipp3d::server
