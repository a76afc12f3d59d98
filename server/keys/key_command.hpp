// `ipp3d-server keys protect|unprotect`: seals the server's private keys at
// rest with a passphrase, or removes the protection, in place
// (docs/security.md "Keys at rest"). The printer keys of STATE/keys use the
// key file protection of docs/envelope.md §2; the TLS key of STATE/tls
// becomes CN.key.sealed (keys/sealed_file.hpp).
#pragma once

#include "keys/key_passphrase.hpp"
#include "options.hpp"

#include <filesystem>
#include <functional>
#include <iosfwd>

namespace CLI {  // NOLINT(readability-identifier-naming): CLI11's own namespace
class App;
}

namespace ipp3d::server {

// A subcommand chosen on the command line, run with the resolved settings;
// returns the process exit status.
using SettingsCommand = std::function<int(const RunSettings&)>;

// The passphrase for a command: the configured file (flag, configuration or
// systemd credential), else asked at the terminal without echo (twice when
// `confirm`), else one line of standard input. Errors: unreadable or
// unsafe file, the two entries differ, empty.
Result<KeyPassphrase> command_passphrase(const RunSettings& settings, bool confirm);

// Defines `keys protect` and `keys unprotect` on `app`; when one is parsed,
// `selected` is set to run it.
void add_key_commands(CLI::App& app, SettingsCommand& selected);

// Protects every unprotected private key of `state_dir` with `passphrase`
// (not empty); keys already protected must open with it. Prints each file
// on `out`, problems on `err`; appends a keys-protected audit event.
// Returns 0, or 1 when a key could not be protected (the others are kept).
int protect_keys(const std::filesystem::path& state_dir, const KeyPassphrase& passphrase, std::ostream& out,
                 std::ostream& err);

// The reverse of protect_keys(): stores every protected key unprotected.
// Appends a keys-unprotected audit event. Returns 0 or 1 as above.
int unprotect_keys(const std::filesystem::path& state_dir, const KeyPassphrase& passphrase, std::ostream& out,
                   std::ostream& err);

}  // namespace ipp3d::server
