// Keys and key IDs (docs/envelope.md §1): Ed25519 and X25519 key pairs with
// libsodium, secrets wiped on destruction.
#include "ipp3d/trust/keys.hpp"

#include "detail.hpp"

#include <sodium.h>

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <string_view>

namespace ipp3d::trust {
namespace {

// The key ID label of an algorithm (§1).
std::string_view key_id_label(KeyAlgorithm algorithm) {
  return algorithm == KeyAlgorithm::kEd25519 ? "ipp3d-ed25519" : "ipp3d-x25519";
}

// The value of one hex digit, or -1.
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Exactly 2 * N hex digits (either case) as N bytes; nullopt for anything else.
template <std::size_t N>
std::optional<std::array<std::uint8_t, N>> parse_hex_array(std::string_view hex) {
  std::array<std::uint8_t, N> bytes{};
  if (hex.size() != N * 2) return std::nullopt;
  for (std::size_t i = 0; i < N; ++i) {
    const int high = hex_value(hex[2 * i]);
    const int low = hex_value(hex[2 * i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    bytes[i] = static_cast<std::uint8_t>(high << 4 | low);
  }
  return bytes;
}

// The public key of a 32-byte secret.
PublicKeyBytes derive_public(KeyAlgorithm algorithm, std::span<const std::uint8_t, 32> secret) {
  PublicKeyBytes public_key{};
  if (algorithm == KeyAlgorithm::kEd25519) {
    std::array<std::uint8_t, crypto_sign_SECRETKEYBYTES> expanded{};
    // Any 32 bytes are a valid seed.
    const int rc = crypto_sign_seed_keypair(public_key.data(), expanded.data(), secret.data());
    detail::wipe(expanded);
    detail::require_zero(rc, "crypto_sign_seed_keypair");
  } else {
    // Fails only for a zero result, impossible for a clamped scalar.
    detail::require_zero(crypto_scalarmult_base(public_key.data(), secret.data()), "crypto_scalarmult_base");
  }
  return public_key;
}

}  // namespace

const char* algorithm_name(KeyAlgorithm algorithm) {
  return algorithm == KeyAlgorithm::kEd25519 ? "ed25519" : "x25519";
}

KeyId key_id_of(KeyAlgorithm algorithm, const PublicKeyBytes& public_key) {
  // 45 bytes of public data: libsodium's SHA-256 is fast enough here and
  // cannot fail (OpenSSL's, used for payloads, can: this has no error path).
  const std::string_view label = key_id_label(algorithm);
  std::array<std::uint8_t, 64> input{};
  std::copy(label.begin(), label.end(), input.begin());
  input[label.size()] = 0;
  std::copy(public_key.begin(), public_key.end(),
            input.begin() + static_cast<std::ptrdiff_t>(label.size()) + 1);
  std::array<std::uint8_t, crypto_hash_sha256_BYTES> digest{};
  detail::require_zero(crypto_hash_sha256(digest.data(), input.data(), label.size() + 1 + public_key.size()),
                       "crypto_hash_sha256");
  KeyId id{};
  std::copy_n(digest.begin(), id.size(), id.begin());
  return id;
}

std::string key_id_hex(const KeyId& id) { return detail::hex(id); }

std::optional<KeyId> parse_key_id(std::string_view hex) { return parse_hex_array<16>(hex); }

std::string hex_text(std::span<const std::uint8_t> bytes) { return detail::hex(bytes); }

std::optional<PublicKeyBytes> parse_key_bytes_hex(std::string_view hex) { return parse_hex_array<32>(hex); }

PublicKey make_public_key(KeyAlgorithm algorithm, const PublicKeyBytes& bytes, std::string comment) {
  return PublicKey{algorithm, bytes, key_id_of(algorithm, bytes), std::move(comment)};
}

SecretKey SecretKey::generate(KeyAlgorithm algorithm) {
  detail::ensure_sodium();
  std::array<std::uint8_t, 32> secret{};
  randombytes_buf(secret.data(), secret.size());
  SecretKey key(algorithm, secret);
  detail::wipe(secret);
  return key;
}

SecretKey SecretKey::from_secret(KeyAlgorithm algorithm, std::span<const std::uint8_t, 32> secret) {
  return SecretKey(algorithm, secret);
}

SecretKey::SecretKey(KeyAlgorithm algorithm, std::span<const std::uint8_t, 32> secret) {
  detail::ensure_sodium();
  std::copy(secret.begin(), secret.end(), secret_.begin());
  public_key_ = make_public_key(algorithm, derive_public(algorithm, secret));
}

SecretKey::SecretKey(SecretKey&& other) noexcept
    : public_key_(std::move(other.public_key_)), secret_(other.secret_) {
  detail::wipe(other.secret_);
}

SecretKey& SecretKey::operator=(SecretKey&& other) noexcept {
  if (this != &other) {
    public_key_ = std::move(other.public_key_);
    secret_ = other.secret_;
    detail::wipe(other.secret_);
  }
  return *this;
}

SecretKey::~SecretKey() { detail::wipe(secret_); }

std::span<const std::uint8_t, 32> SecretKey::secret() const { return secret_; }

std::array<std::uint8_t, 64> SecretKey::sign(std::span<const std::uint8_t> message) const {
  assert(algorithm() == KeyAlgorithm::kEd25519);
  std::array<std::uint8_t, crypto_sign_BYTES> signature{};
  if (algorithm() != KeyAlgorithm::kEd25519) return signature;  // all zero: never verifies
  // libsodium's Ed25519 secret key is seed || public key.
  std::array<std::uint8_t, crypto_sign_SECRETKEYBYTES> expanded{};
  std::copy(secret_.begin(), secret_.end(), expanded.begin());
  std::copy(public_key_.bytes.begin(), public_key_.bytes.end(), expanded.begin() + 32);
  // Always 0 for a well-formed secret key.
  const int rc =
      crypto_sign_detached(signature.data(), nullptr, message.data(), message.size(), expanded.data());
  detail::wipe(expanded);
  if (rc != 0) signature.fill(0);
  return signature;
}

bool verify_signature(const PublicKey& key, std::span<const std::uint8_t> message,
                      std::span<const std::uint8_t, 64> signature) {
  if (key.algorithm != KeyAlgorithm::kEd25519) return false;
  detail::ensure_sodium();
  return crypto_sign_verify_detached(signature.data(), message.data(), message.size(), key.bytes.data()) == 0;
}

}  // namespace ipp3d::trust
