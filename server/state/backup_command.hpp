// `ipp3d-server backup FILE [--encrypt]` and `ipp3d-server restore FILE
// [--force] [--check]`: the state directory in one archive with integrity
// checking (state/backup.hpp), optionally encrypted with the key passphrase
// (state/backup_seal.hpp).
#pragma once

#include "keys/key_command.hpp"

namespace ipp3d::server {

// Defines `backup` and `restore` on `app`; when one is parsed, `selected`
// is set to run it. Both append an audit event (state-backed-up,
// state-restored) to the state database.
void add_backup_commands(CLI::App& app, SettingsCommand& selected);

}  // namespace ipp3d::server
