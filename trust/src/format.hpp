// Internal: the byte layout shared by the envelope writer and reader
// (docs/envelope.md §4): preamble, header block, encryption header.
#pragma once

#include "ipp3d/trust/envelope.hpp"

#include <sodium.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace ipp3d::trust::detail {

inline constexpr std::uint8_t kFormatVersion = 1;
inline constexpr std::uint8_t kModeSigned = 0;
inline constexpr std::uint8_t kModeEncrypted = 1;
inline constexpr std::size_t kSignatureSize = 64;
inline constexpr std::size_t kSealedKeySize = 32 + crypto_box_SEALBYTES;                             // 80
inline constexpr std::size_t kStreamHeaderSize = crypto_secretstream_xchacha20poly1305_HEADERBYTES;  // 24
inline constexpr std::size_t kStreamOverhead = crypto_secretstream_xchacha20poly1305_ABYTES;         // 17
inline constexpr std::size_t kMinChunkSize = 1024;
inline constexpr std::size_t kMaxChunkSize = std::size_t{1024} * 1024;
inline constexpr std::size_t kIoBlock =
    std::size_t{1024} * 1024;  // plain payloads move in blocks of at most 1 MiB

static_assert(kSealedKeySize == 80 && kStreamHeaderSize == 24 && kStreamOverhead == 17);
// The clear encryption header: recipient, chunk size, length, sealed key, stream header.
static_assert(kEncryptionHeaderSize == 16 + 4 + 8 + kSealedKeySize + kStreamHeaderSize);

using Preamble = std::array<std::uint8_t, kPreambleSize>;
using HeaderBlock = std::array<std::uint8_t, kHeaderBlockSize>;

// The 12-byte preamble of `mode`.
Preamble make_preamble(std::uint8_t mode);

// The clear encryption header of mode 1 (§4.4).
struct EncryptionHeader {
  KeyId recipient{};
  std::uint32_t chunk_size = 0;
  std::uint64_t payload_length = 0;
  std::array<std::uint8_t, kSealedKeySize> sealed_key{};
  std::array<std::uint8_t, kStreamHeaderSize> stream_header{};
};
std::array<std::uint8_t, kEncryptionHeaderSize> encode_encryption_header(const EncryptionHeader& header);
EncryptionHeader decode_encryption_header(std::span<const std::uint8_t, kEncryptionHeaderSize> bytes);

// The header block: manifest length, manifest, signature, zero padding.
// `manifest` is at most kMaxManifestSize bytes.
HeaderBlock make_header_block(std::span<const std::uint8_t> manifest,
                              std::span<const std::uint8_t, kSignatureSize> signature);

}  // namespace ipp3d::trust::detail
