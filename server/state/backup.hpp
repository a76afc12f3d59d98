// Backup and restore of the state directory (docs/security.md "Keys at
// rest", docs/man/ipp3d-server.8): one archive file holding the database
// (a consistent copy made with SQLite's VACUUM INTO, so the server may keep
// running), PAPPL's saved state, the printer keys (STATE/keys), the TLS
// identity (STATE/tls) and the configuration file, with a manifest giving
// each member's mode, size and SHA-256. Spooled and verified job documents
// are not part of it.
//
// Format, all text lines ending in LF, then the members' bytes in order:
//
//   ipp3d-backup-v1
//   created: 2026-12-05T01:00:00Z
//   member: 0600 8192 <sha256 hex> ipp3d.db
//   member: 0600 312 <sha256 hex> keys/virtual-fdm-encryption.key
//   ...
//   manifest-sha256: <sha256 hex of every line above>
//
// A restore checks the whole archive (manifest digest, every member's size
// and digest, nothing after the last member) before it writes anything.
#pragma once

#include "ipp3d/result.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ipp3d::server {

// One member of an archive.
struct BackupMember {
  std::string path;  // relative, '/'-separated, no "..", e.g. "keys/mk4-identity.key"
  unsigned mode = 0600;
  std::uint64_t size = 0;
  std::string sha256;  // 64 lowercase hex digits
};

// What backup_state() and verify_backup() report.
struct BackupSummary {
  std::vector<BackupMember> members;
};

// Writes an archive of `state_dir` (and `config_file` as member
// "config.toml" when given) to `archive` (mode 0600, atomically). Errors:
// no database in `state_dir`, unreadable files, the archive cannot be
// written.
Result<BackupSummary> backup_state(const std::filesystem::path& state_dir,
                                   const std::optional<std::filesystem::path>& config_file,
                                   const std::filesystem::path& archive);

// Checks an archive without writing anything. Errors name the first problem
// (not an archive, a bad manifest, a member whose size or SHA-256 differs,
// trailing data).
Result<BackupSummary> verify_backup(const std::filesystem::path& archive);

// Restores `archive` into `state_dir`: verifies it first (nothing is written
// when it is damaged), refuses a non-empty `state_dir` unless `force` (the
// old directory is then kept beside it as STATE.replaced-XXXXXX, whose path
// is returned in `replaced`), writes the members into a new directory next to
// `state_dir` with their modes (private files never wider than 0600,
// directories 0700) and renames it into place.
Result<BackupSummary> restore_state(const std::filesystem::path& archive,
                                    const std::filesystem::path& state_dir, bool force,
                                    std::filesystem::path* replaced);

}  // namespace ipp3d::server
