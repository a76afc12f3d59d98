// Keys of the ipp3d envelope (docs/envelope.md §1–2): Ed25519 signing keys,
// X25519 printer encryption keys, their key IDs and their text key files.
#pragma once

#include "ipp3d/result.hpp"

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace ipp3d::trust {

// 16-byte key ID: SHA-256(label || 0x00 || public key)[0..16).
using KeyId = std::array<std::uint8_t, 16>;
using PublicKeyBytes = std::array<std::uint8_t, 32>;

enum class KeyAlgorithm { kEd25519, kX25519 };

// "ed25519" / "x25519".
const char* algorithm_name(KeyAlgorithm algorithm);

// The key ID of a public key of `algorithm`.
KeyId key_id_of(KeyAlgorithm algorithm, const PublicKeyBytes& public_key);

// 32 lowercase hex digits.
std::string key_id_hex(const KeyId& id);

// Parses 32 hex digits (either case); nullopt for anything else.
std::optional<KeyId> parse_key_id(std::string_view hex);

// Lowercase hex of any bytes (digests, nonces, keys as the server stores them).
std::string hex_text(std::span<const std::uint8_t> bytes);

// Parses 64 hex digits (either case) into 32 key bytes; nullopt for anything else.
std::optional<PublicKeyBytes> parse_key_bytes_hex(std::string_view hex);

// A public key with its ID and optional one-line comment.
struct PublicKey {
  KeyAlgorithm algorithm = KeyAlgorithm::kEd25519;
  PublicKeyBytes bytes{};
  KeyId id{};
  std::string comment;
  bool operator==(const PublicKey&) const = default;
};

// Builds a PublicKey (computing its ID).
PublicKey make_public_key(KeyAlgorithm algorithm, const PublicKeyBytes& bytes, std::string comment = {});

// A secret key: an Ed25519 seed or an X25519 scalar, held in memory that is
// wiped when the object is destroyed. Move-only.
class SecretKey {
 public:
  // A fresh random key pair.
  static SecretKey generate(KeyAlgorithm algorithm);
  // The key pair of a 32-byte secret (seed or scalar).
  static SecretKey from_secret(KeyAlgorithm algorithm, std::span<const std::uint8_t, 32> secret);

  SecretKey(SecretKey&& other) noexcept;
  SecretKey& operator=(SecretKey&& other) noexcept;
  SecretKey(const SecretKey&) = delete;
  SecretKey& operator=(const SecretKey&) = delete;
  ~SecretKey();

  [[nodiscard]] KeyAlgorithm algorithm() const { return public_key_.algorithm; }
  [[nodiscard]] const PublicKey& public_key() const { return public_key_; }
  [[nodiscard]] const KeyId& id() const { return public_key_.id; }
  // The 32-byte secret (seed or scalar).
  [[nodiscard]] std::span<const std::uint8_t, 32> secret() const;

  // Ed25519 only (asserts): the detached 64-byte signature of `message`.
  [[nodiscard]] std::array<std::uint8_t, 64> sign(std::span<const std::uint8_t> message) const;

 private:
  SecretKey(KeyAlgorithm algorithm, std::span<const std::uint8_t, 32> secret);
  PublicKey public_key_;
  std::array<std::uint8_t, 32> secret_{};
};

// True when `signature` is a valid Ed25519 signature of `message` by `key`
// (an Ed25519 key; an X25519 key never verifies).
bool verify_signature(const PublicKey& key, std::span<const std::uint8_t> message,
                      std::span<const std::uint8_t, 64> signature);

// --- Key files (docs/envelope.md §2). Errors name the file and line.

// True when `comment` can be a key file comment: valid UTF-8 without control
// characters (one line).
bool is_valid_key_comment(std::string_view comment);
// The text of a public key file. Control characters in the comment become
// spaces (write_public_key_file refuses such a comment instead).
std::string format_public_key(const PublicKey& key);
// Parses a public key file's text; `source` names it in messages.
Result<PublicKey> parse_public_key(std::string_view text, const std::string& source);
// Reads a public key file.
Result<PublicKey> read_public_key_file(const std::filesystem::path& path);
// Writes a public key file (mode 0644), atomically (temp file + rename).
Status write_public_key_file(const std::filesystem::path& path, const PublicKey& key);

// Overwrites the memory of a string holding a secret (a passphrase), all of
// its capacity, and empties it.
void secure_wipe(std::string& secret);

// Asks for a passphrase when a protected key file is read; nullopt = none given.
using PassphraseProvider = std::function<std::optional<std::string>()>;

// Writes a secret key file, mode 0600, atomically; protected with Argon2id
// + XChaCha20-Poly1305 when `passphrase` is given (not empty).
Status write_secret_key_file(const std::filesystem::path& path, const SecretKey& key,
                             const std::optional<std::string>& passphrase = std::nullopt);
// Reads a secret key file. Errors: unreadable; readable by group or others
// (the message says to chmod 600 it); malformed (names the line); protected
// and no passphrase given or a wrong one; secret and public key differ.
Result<SecretKey> read_secret_key_file(const std::filesystem::path& path,
                                       const PassphraseProvider& passphrase = {});
// Parses a secret key file's text (no permission check).
Result<SecretKey> parse_secret_key(std::string_view text, const std::string& source,
                                   const PassphraseProvider& passphrase = {});
// True when the file at `path` is a passphrase-protected secret key file.
bool is_protected_secret_key_file(const std::filesystem::path& path);

}  // namespace ipp3d::trust
