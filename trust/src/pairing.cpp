// Pairing values: the commitment and the 6-digit code (BLAKE2b with domain
// labels and length-prefixed fields), nonces, and parsing helpers.
#include "ipp3d/trust/pairing.hpp"

#include <sodium.h>

#include <cassert>
#include <span>

namespace ipp3d::trust {
namespace {

constexpr std::string_view kCommitmentLabel = "ipp3d pairing commitment v1";
constexpr std::string_view kCodeLabel = "ipp3d pairing code v1";

// BLAKE2b-256 over a label and fields, each field preceded by its length as
// 8 bytes big-endian (so "ab"+"c" and "a"+"bc" hash differently).
class FieldHash {
 public:
  explicit FieldHash(std::string_view label) {
    [[maybe_unused]] const int started = crypto_generichash_init(&state_, nullptr, 0, kDigestBytes);
    assert(started == 0);
    add(std::span(reinterpret_cast<const std::uint8_t*>(label.data()), label.size()));
  }
  FieldHash(const FieldHash&) = delete;
  FieldHash& operator=(const FieldHash&) = delete;
  ~FieldHash() { sodium_memzero(&state_, sizeof state_); }

  FieldHash& add(std::span<const std::uint8_t> field) {
    std::array<std::uint8_t, 8> length{};
    std::uint64_t size = field.size();
    for (std::size_t i = length.size(); i-- > 0; size >>= 8)
      length[i] = static_cast<std::uint8_t>(size & 0xFF);
    crypto_generichash_update(&state_, length.data(), length.size());
    crypto_generichash_update(&state_, field.data(), field.size());
    return *this;
  }
  FieldHash& add(std::string_view text) {
    return add(std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
  }

  std::array<std::uint8_t, 32> finish() {
    std::array<std::uint8_t, kDigestBytes> digest{};
    crypto_generichash_final(&state_, digest.data(), digest.size());
    return digest;
  }

 private:
  static constexpr std::size_t kDigestBytes = 32;
  crypto_generichash_state state_{};
};

// Adds the claim's fields in their fixed order.
void add_claim(FieldHash& hash, const PairingClaim& claim) {
  hash.add(claim.client_key).add(claim.client_nonce).add(claim.name).add(claim.account);
}

}  // namespace

PairingNonce random_pairing_nonce() {
  [[maybe_unused]] const int ready = sodium_init();
  assert(ready >= 0);
  PairingNonce nonce{};
  randombytes_buf(nonce.data(), nonce.size());
  return nonce;
}

PairingCommitment pairing_commitment(const PairingClaim& claim) {
  FieldHash hash(kCommitmentLabel);
  add_claim(hash, claim);
  return hash.finish();
}

bool commitment_matches(const PairingCommitment& commitment, const PairingClaim& claim) {
  const PairingCommitment expected = pairing_commitment(claim);
  return sodium_memcmp(expected.data(), commitment.data(), expected.size()) == 0;
}

std::string pairing_code(const PairingClaim& claim, const PairingNonce& server_nonce,
                         const CertificateDigest& certificate) {
  FieldHash hash(kCodeLabel);
  add_claim(hash, claim);
  hash.add(server_nonce).add(certificate);
  const auto digest = hash.finish();
  // The first 8 bytes as a number modulo 10^6: the bias (2^64 mod 10^6
  // values out of 2^64) is below 10^-13.
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < 8; ++i) value = (value << 8) | digest[i];
  std::string code(kPairingCodeDigits, '0');
  value %= 1000000;
  for (std::size_t i = kPairingCodeDigits; i-- > 0; value /= 10)
    code[i] = static_cast<char>('0' + value % 10);
  return code;
}

std::optional<CertificateDigest> parse_certificate_fingerprint(std::string_view text) {
  std::string digits;
  for (const char c : text) {
    if (c != ':') digits += c;
  }
  return parse_hex32(digits);
}

std::optional<std::array<std::uint8_t, 32>> parse_hex32(std::string_view hex) {
  return parse_key_bytes_hex(hex);
}

std::string grouped_pairing_code(const std::string& code) {
  if (code.size() != kPairingCodeDigits) return code;
  return code.substr(0, 3) + " " + code.substr(3);
}

}  // namespace ipp3d::trust
