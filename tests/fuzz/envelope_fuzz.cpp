// libFuzzer target for the envelope reader: any input goes through
// EnvelopeReader::open, verify_signature and read_payload with a fixed
// trusted key and printer key (those of tests/vectors/, which signed the
// seed corpus), without a crash, sanitizer report or unbounded memory; the
// source hands out bytes in input-dependent pieces. What is accepted must
// be consistent: a decoded manifest re-encodes to the same bytes, and a
// payload that passed is exactly as long as the signed length.
#include "ipp3d/trust/envelope.hpp"
#include "ipp3d/trust/keys.hpp"
#include "ipp3d/trust/sha256.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

namespace {

using ipp3d::trust::KeyAlgorithm;
using ipp3d::trust::SecretKey;

// A key whose 32 secret bytes count up from `first` (tests/vectors/README.md).
SecretKey key_from(KeyAlgorithm algorithm, std::uint8_t first) {
  std::array<std::uint8_t, 32> secret{};
  for (std::size_t i = 0; i < secret.size(); ++i) secret[i] = static_cast<std::uint8_t>(first + i);
  return SecretKey::from_secret(algorithm, secret);
}

const SecretKey& signer() {
  static const SecretKey kKey = key_from(KeyAlgorithm::kEd25519, 0x01);
  return kKey;
}
const SecretKey& printer() {
  static const SecretKey kKey = key_from(KeyAlgorithm::kX25519, 0x41);
  return kKey;
}

// A source over `bytes` that returns at most `piece` bytes per call.
ipp3d::trust::ByteSource pieces(std::span<const std::uint8_t> bytes, std::size_t piece) {
  return [bytes, piece,
          offset = std::size_t{0}](std::span<std::uint8_t> buffer) mutable -> ipp3d::Result<std::size_t> {
    const std::size_t n = std::min({buffer.size(), bytes.size() - offset, piece});
    std::copy_n(bytes.begin() + static_cast<std::ptrdiff_t>(offset), n, buffer.begin());
    offset += n;
    return n;
  };
}

// Canonical encoding: whatever decodes re-encodes to the same bytes.
void check_manifest_codec(std::span<const std::uint8_t> bytes) {
  const auto decoded = ipp3d::trust::decode_manifest(bytes);
  if (!decoded) return;
  const auto again = ipp3d::trust::encode_manifest(*decoded);
  if (!std::equal(again.begin(), again.end(), bytes.begin(), bytes.end())) std::abort();
}

// The whole reader pipeline on `data`.
void read_envelope(std::span<const std::uint8_t> data, const SecretKey* key, std::size_t piece) {
  auto reader = ipp3d::trust::EnvelopeReader::open(pieces(data, piece), key, std::uint64_t{1} << 20);
  if (!reader) return;
  const ipp3d::trust::Manifest manifest = (*reader)->manifest();
  if (!ipp3d::trust::validate_manifest(manifest)) std::abort();
  ipp3d::trust::ClaimPolicy policy;
  policy.printer = printer().id();
  policy.now = 1'767'312'000;
  (void)ipp3d::trust::check_claims(manifest, policy);
  if (!(*reader)->verify_signature(signer().public_key())) return;
  std::uint64_t total = 0;
  ipp3d::trust::Sha256 hash;
  const auto read = (*reader)->read_payload([&](std::span<const std::uint8_t> bytes) -> ipp3d::Status {
    if (bytes.size() > (std::size_t{1} << 20)) std::abort();  // one chunk or block at most
    total += bytes.size();
    (void)hash.update(bytes);
    return {};
  });
  if (total > manifest.payload_length) std::abort();
  if (read && (total != manifest.payload_length || hash.finish() != manifest.payload_sha256)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> input(data, size);
  const std::size_t piece = size % 3 == 0 ? size + 1 : 1 + size % 61;
  read_envelope(input, &printer(), piece);
  read_envelope(input, nullptr, size + 1);
  (void)ipp3d::trust::parse_outer_header(input);
  check_manifest_codec(input);
  // The manifest where a mode-0 header block would hold it.
  if (size > 14) {
    const std::size_t length = static_cast<std::size_t>(data[12]) << 8 | data[13];
    check_manifest_codec(input.subspan(14, std::min(size - 14, length)));
  }
  return 0;
}
