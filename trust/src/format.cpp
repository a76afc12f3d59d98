// Internal: envelope byte layout (format.hpp).
#include "format.hpp"

#include "detail.hpp"

#include <algorithm>
#include <cassert>

namespace ipp3d::trust::detail {

Preamble make_preamble(std::uint8_t mode) {
  Preamble p{};
  std::copy(kEnvelopeMagic.begin(), kEnvelopeMagic.end(), p.begin());
  p[8] = kFormatVersion;
  p[9] = mode;
  return p;  // bytes 10-11 reserved, zero
}

std::array<std::uint8_t, kEncryptionHeaderSize> encode_encryption_header(const EncryptionHeader& header) {
  std::array<std::uint8_t, kEncryptionHeaderSize> out{};
  std::span<std::uint8_t> rest(out);
  std::copy(header.recipient.begin(), header.recipient.end(), rest.begin());
  set_be(rest.subspan(16), 4, header.chunk_size);
  set_be(rest.subspan(20), 8, header.payload_length);
  std::copy(header.sealed_key.begin(), header.sealed_key.end(), rest.begin() + 28);
  std::copy(header.stream_header.begin(), header.stream_header.end(), rest.begin() + 28 + kSealedKeySize);
  return out;
}

EncryptionHeader decode_encryption_header(std::span<const std::uint8_t, kEncryptionHeaderSize> bytes) {
  EncryptionHeader header;
  std::copy_n(bytes.begin(), 16, header.recipient.begin());
  header.chunk_size = static_cast<std::uint32_t>(get_be(bytes.subspan(16), 4));
  header.payload_length = get_be(bytes.subspan(20), 8);
  std::copy_n(bytes.begin() + 28, kSealedKeySize, header.sealed_key.begin());
  std::copy_n(bytes.begin() + 28 + kSealedKeySize, kStreamHeaderSize, header.stream_header.begin());
  return header;
}

HeaderBlock make_header_block(std::span<const std::uint8_t> manifest,
                              std::span<const std::uint8_t, kSignatureSize> signature) {
  assert(!manifest.empty() && manifest.size() <= kMaxManifestSize);
  HeaderBlock block{};
  const std::size_t size = std::min(manifest.size(), kMaxManifestSize);
  set_be(block, 2, size);
  std::copy_n(manifest.begin(), size, block.begin() + 2);
  std::copy(signature.begin(), signature.end(), block.begin() + 2 + static_cast<std::ptrdiff_t>(size));
  return block;
}

}  // namespace ipp3d::trust::detail
