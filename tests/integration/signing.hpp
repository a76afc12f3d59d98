// Test helpers for signed jobs: the test signer every ServerProcess trusts
// (as "tests"), and envelopes of sample documents made with it.
#pragma once

#include "ipp3d/trust/envelope.hpp"

#include <cups/cups.h>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

namespace ipp3d::testing {

inline constexpr const char* kEnvelopeFormat = "application/vnd.ipp3d.envelope";
inline constexpr const char* kTestSignerName = "tests";

// The test signer (a fixed Ed25519 key).
const trust::SecretKey& test_signer();

// Writes the test signer's public key file to `path`.
void write_test_signer_public_key(const std::filesystem::path& path);

// Signs `document` with `signer` (default: the test signer): valid for one
// day from now, a fresh nonce each call, document name "test.gcode";
// `adjust` may change the options first (recipients, licence, times, ...).
std::string sign_document(const std::string& document,
                          const std::function<void(trust::SignOptions&)>& adjust = {},
                          const trust::SecretKey* signer = nullptr);

// The envelope of the torus sample, signed by the test signer.
std::string signed_torus();

// The printer's X25519 public key, read from its ipp3d-printer-public-key
// attribute (nullopt, with a test failure, when absent or malformed).
std::optional<trust::PublicKey> printer_public_key(http_t* http, const std::string& printer_uri);

// Writes `bytes` to `path` (for ipptool -f and lp).
void write_bytes(const std::filesystem::path& path, const std::string& bytes);

}  // namespace ipp3d::testing
