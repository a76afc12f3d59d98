// A printer's own key pairs (docs/envelope.md §1, docs/security.md):
// an X25519 key that envelopes are encrypted to (its key ID is the printer's
// key ID that envelopes name as recipient) and an Ed25519 identity key. They
// live in STATE/keys/ (directory 0700, secret key files 0600), are created
// on first start, and are protected by the key passphrase when one is
// configured (docs/security.md "Keys at rest").
#pragma once

#include "ipp3d/result.hpp"
#include "ipp3d/trust/keys.hpp"

#include "keys/key_passphrase.hpp"

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace ipp3d::server {

struct PrinterKeys {
  trust::SecretKey encryption;  // X25519
  trust::SecretKey identity;    // Ed25519
};

// STATE/keys/PRINTER-encryption.key (and .pub), PRINTER-identity.key (and .pub).
std::filesystem::path printer_key_path(const std::filesystem::path& state_dir, const std::string& printer,
                                       const char* role);

// Loads the printer's keys, creating any that is missing (protected with
// `passphrase` when it is not empty). Errors name the file (unreadable,
// malformed, readable by others with the `chmod 600` fix, wrong algorithm,
// protected without a passphrase or with a wrong one).
Result<std::unique_ptr<PrinterKeys>> load_or_create_printer_keys(const std::filesystem::path& state_dir,
                                                                 const std::string& printer,
                                                                 const KeyPassphrase& passphrase);

// STATE/keys/audit.key (and .pub): the server's own Ed25519 key that signs
// the audit log's checkpoints (docs/audit.md).
std::filesystem::path audit_key_path(const std::filesystem::path& state_dir);

// Loads the audit key, creating it (0600, with its .pub) when missing;
// protected with `passphrase` when one is set (like the printer keys).
// Errors as load_or_create_printer_keys().
Result<trust::SecretKey> load_or_create_audit_key(const std::filesystem::path& state_dir,
                                                  const KeyPassphrase& passphrase = KeyPassphrase());

// The audit key's public half (audit.key.pub), or nullopt when the server
// never made one. Errors: an unreadable or malformed file, or not Ed25519.
Result<std::optional<trust::PublicKey>> read_audit_public_key(const std::filesystem::path& state_dir);

}  // namespace ipp3d::server
