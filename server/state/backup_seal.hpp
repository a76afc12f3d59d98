// Passphrase-encrypted backup archives (`ipp3d-server backup --encrypt`):
// the archive of state/backup.hpp encrypted as a stream, so that a copied
// backup yields no key without the passphrase. Format:
//
//   "ipp3d-backup-sealed-v1\n" || salt (16) || opslimit (u64 LE) ||
//   memlimit (u64 LE) || secretstream header (24) ||
//   chunks: u32 LE length || ciphertext (at most 64 KiB + 17)
//
// key = Argon2id(passphrase, salt, opslimit, memlimit) (64 MiB, 3 passes
// when written); the chunks are libsodium's secretstream
// (XChaCha20-Poly1305), the first one with every byte before it as
// associated data (so the parameters are authenticated) and the last one
// tagged FINAL (so a truncated file is detected).
#pragma once

#include "ipp3d/result.hpp"

#include <filesystem>
#include <string>

namespace ipp3d::server {

// True when `file` starts with the sealed archive's magic line.
bool is_sealed_archive(const std::filesystem::path& file);

// Encrypts archive `plain` into `sealed` (mode 0600, atomically). Errors:
// empty passphrase, unreadable input, Argon2id out of memory, write failures.
Status seal_archive(const std::filesystem::path& plain, const std::filesystem::path& sealed,
                    const std::string& passphrase);

// Decrypts `sealed` into `plain` (created 0600; removed on failure). Errors:
// not a sealed archive, wrong passphrase or altered data, truncated.
Status open_sealed_archive(const std::filesystem::path& sealed, const std::filesystem::path& plain,
                           const std::string& passphrase);

}  // namespace ipp3d::server
