// Pairing by numeric comparison with a commitment (docs/security.md,
// "Pairing"): the values both `ipp3d pair` and ipp3d-server compute, so that
// client and server derive them exactly once.
//
//   client -> server   name, account, commitment = H_commit(key, client nonce, name, account)
//   server -> client   request ID, server nonce
//   client -> server   key, client nonce   (the server checks the commitment)
//   both               code = H_code(key, client nonce, server nonce, name, account,
//                                    SHA-256 of the TLS certificate as each side sees it)
//
// Both hashes are BLAKE2b (libsodium crypto_generichash) over a distinct
// domain label followed by length-prefixed fields, so no value of one can
// be taken for a value of the other, or for any other hash of ipp3d.
#pragma once

#include "ipp3d/trust/keys.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ipp3d::trust {

// 32 random bytes chosen by one side for one pairing.
using PairingNonce = std::array<std::uint8_t, 32>;
// The client's commitment (a 32-byte BLAKE2b digest).
using PairingCommitment = std::array<std::uint8_t, 32>;
// The SHA-256 of a DER certificate.
using CertificateDigest = std::array<std::uint8_t, 32>;

// Digits of a pairing code.
inline constexpr std::size_t kPairingCodeDigits = 6;

// Everything the client claims and commits to before it sees the server's nonce.
struct PairingClaim {
  PublicKeyBytes client_key{};  // the Ed25519 public key to be trusted
  PairingNonce client_nonce{};
  std::string name;     // the signer name asked for
  std::string account;  // the account the key is for
};

// A fresh random nonce (libsodium randombytes_buf).
PairingNonce random_pairing_nonce();

// H_commit over the claim.
PairingCommitment pairing_commitment(const PairingClaim& claim);

// True when `commitment` is the commitment of `claim` (constant-time compare).
bool commitment_matches(const PairingCommitment& commitment, const PairingClaim& claim);

// The short authentication string: 6 decimal digits (leading zeros kept) of
// H_code over the claim, the server's nonce and the certificate's digest.
std::string pairing_code(const PairingClaim& claim, const PairingNonce& server_nonce,
                         const CertificateDigest& certificate);

// The 32 bytes of a fingerprint in the "AB:CD:..." form (either case, ':'
// optional); nullopt for anything else.
std::optional<CertificateDigest> parse_certificate_fingerprint(std::string_view text);

// Parses 64 hex digits into 32 bytes (nonces, commitments); nullopt otherwise.
std::optional<std::array<std::uint8_t, 32>> parse_hex32(std::string_view hex);

// "123 456": a code grouped for reading aloud.
std::string grouped_pairing_code(const std::string& code);

}  // namespace ipp3d::trust
