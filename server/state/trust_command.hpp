// `ipp3d-server trust add|list|remove` (the trust store of signers whose
// envelopes the printers accept) and `ipp3d-server printer-key` (a printer's
// public encryption key file, for `ipp3d sign --for`).
#pragma once

#include "keys/key_passphrase.hpp"

#include <filesystem>
#include <iosfwd>
#include <string>

namespace ipp3d::server {

// Trusts the Ed25519 public key file `key_file` as signer `name`. Returns
// the exit status (0 added; 1 refused: unreadable or malformed file, an
// X25519 key, the name or key already trusted), messages on `out`/`err`.
// With a non-empty `user`, the signer is bound to that account (which must
// exist): the jobs it signs are recorded as that user's (docs/security.md,
// "Who may do what").
int trust_add(const std::filesystem::path& state_dir, const std::filesystem::path& key_file,
              const std::string& name, const std::string& user, std::ostream& out, std::ostream& err);

// Lists trusted signers (name, key ID, bound account, date added, comment). Exit status 0, or 1 when the
// database fails.
int trust_list(const std::filesystem::path& state_dir, std::ostream& out, std::ostream& err);

// Removes signer `name`; 0 removed, 1 no such signer.
int trust_remove(const std::filesystem::path& state_dir, const std::string& name, std::ostream& out,
                 std::ostream& err);

// Prints the public key file of printer `printer`'s encryption key (creating
// the printer's keys when missing, protected with `passphrase` when it is not
// empty, as the server's first start would).
int show_printer_key(const std::filesystem::path& state_dir, const std::string& printer,
                     const KeyPassphrase& passphrase, std::ostream& out, std::ostream& err);

}  // namespace ipp3d::server
