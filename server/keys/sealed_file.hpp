// Passphrase-sealed files: a secret of any size (the TLS private key)
// encrypted with a key derived from a passphrase, the same construction as
// the protected key files of docs/envelope.md §2 (Argon2id, 64 MiB and 3
// passes, then XChaCha20-Poly1305 with a random nonce). The text format:
//
//   ipp3d-sealed-v1
//   purpose: tls-key
//   kdf-salt: <base64, 16 bytes>
//   kdf-opslimit: 3
//   kdf-memlimit: 67108864
//   nonce: <base64, 24 bytes>
//   ciphertext: <base64 of the ciphertext and its 16-byte tag>
//
// Every line before `ciphertext:` is the associated data, so parameters and
// purpose cannot be changed without the passphrase.
#pragma once

#include "ipp3d/result.hpp"

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

namespace ipp3d::server {

// The text of a sealed file holding `plaintext`. `purpose` is one word
// ([a-z-]) that open_sealed() checks. Errors: empty passphrase, Argon2id out
// of memory.
Result<std::string> seal_with_passphrase(std::span<const std::uint8_t> plaintext,
                                         const std::string& passphrase, std::string_view purpose);

// The plaintext of sealed `text` (the caller wipes it). Errors name `source`:
// not a sealed file, another purpose, parameters out of range, wrong
// passphrase (or tampered).
Result<std::string> open_sealed(std::string_view text, const std::string& passphrase,
                                std::string_view purpose, const std::string& source);

// True when `text` starts like a sealed file.
bool is_sealed_text(std::string_view text);

// Reads a whole private file (at most 1 MiB) after require_private_file().
Result<std::string> read_private_file(const std::filesystem::path& file);

// Writes `bytes` to `file` atomically with mode 0600.
Status write_private_file(const std::filesystem::path& file, std::string_view bytes);

}  // namespace ipp3d::server
