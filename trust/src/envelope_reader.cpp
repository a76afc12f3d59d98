// Reading an envelope (docs/envelope.md §6) in one streaming pass: the
// preamble and header block (mode 1: the encryption header and the first
// message) at open(), the signature on request, then the payload chunk by
// chunk with one buffer of at most one chunk (+17 bytes) or 1 MiB.
#include "ipp3d/trust/envelope.hpp"
#include "ipp3d/trust/sha256.hpp"

#include "detail.hpp"
#include "format.hpp"

#include <algorithm>
#include <new>

namespace ipp3d::trust {
namespace {

constexpr std::size_t kClearPrefixSize = kPreambleSize + kEncryptionHeaderSize;  // 144
constexpr std::uint8_t kTagMessage = crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
constexpr std::uint8_t kTagFinal = crypto_secretstream_xchacha20poly1305_TAG_FINAL;

EnvelopeError problem(EnvelopeProblem p, std::string message) { return EnvelopeError{p, std::move(message)}; }

EnvelopeError malformed(std::string message) {
  return problem(EnvelopeProblem::kMalformed, std::move(message));
}

// Checks the 12-byte preamble, of which `n` bytes were read.
EnvelopeStatus check_preamble(std::span<const std::uint8_t> preamble, std::size_t n) {
  if (n == 0) return malformed("empty input: not an ipp3d envelope");
  const std::size_t magic = std::min(n, kEnvelopeMagic.size());
  if (!std::equal(preamble.begin(), preamble.begin() + static_cast<std::ptrdiff_t>(magic),
                  kEnvelopeMagic.begin())) {
    return malformed("not an ipp3d envelope (it does not start with \"IPP3DENV\")");
  }
  if (n < kPreambleSize) {
    return problem(EnvelopeProblem::kTruncated, "the input ends inside the preamble (" + std::to_string(n) +
                                                    " of " + std::to_string(kPreambleSize) + " bytes)");
  }
  if (preamble[8] != detail::kFormatVersion) {
    return malformed("format version " + std::to_string(preamble[8]) +
                     " is not supported (this reader reads 1)");
  }
  if (preamble[9] > detail::kModeEncrypted) {
    return malformed("mode " + std::to_string(preamble[9]) +
                     " is unknown (0: signed, 1: signed and encrypted)");
  }
  if (preamble[10] != 0 || preamble[11] != 0)
    return malformed("the reserved preamble bytes 10-11 are not zero");
  return {};
}

// "chunk 3 (payload bytes 131072-196607)".
std::string chunk_name(std::uint64_t index, std::uint64_t offset, std::size_t size) {
  return "chunk " + std::to_string(index + 1) + " (payload bytes " + std::to_string(offset) + "-" +
         std::to_string(offset + size - (size > 0 ? 1 : 0)) + ")";
}

}  // namespace

// Everything the reader keeps between calls: the source, the claims, the
// signature, and in mode 1 the secretstream state (wiped on destruction).
struct EnvelopeReader::State {
  State() = default;
  State(const State&) = delete;
  State& operator=(const State&) = delete;
  ~State() { sodium_memzero(&stream, sizeof stream); }

  EnvelopeResult<std::size_t> read(std::span<std::uint8_t> buffer);
  EnvelopeStatus read_exact(std::span<std::uint8_t> buffer, const std::string& what);
  EnvelopeStatus open_encrypted(const SecretKey* recipient_key, detail::HeaderBlock& block);
  EnvelopeStatus open_stream(const SecretKey& key, std::span<const std::uint8_t, kClearPrefixSize> clear,
                             detail::HeaderBlock& block);
  EnvelopeStatus parse_header_block(const detail::HeaderBlock& block);
  EnvelopeStatus check_consistency(std::uint64_t max_payload) const;
  EnvelopeStatus read_plain(const ByteSink& sink, Sha256& hash);
  EnvelopeStatus read_encrypted(const ByteSink& sink, Sha256& hash);
  EnvelopeStatus finish(Sha256& hash);

  ByteSource source;
  std::uint64_t bytes_read = 0;
  std::uint8_t mode = 0;
  Manifest manifest;
  std::vector<std::uint8_t> manifest_bytes;
  std::array<std::uint8_t, detail::kSignatureSize> signature{};
  detail::EncryptionHeader encryption;  // mode 1
  crypto_secretstream_xchacha20poly1305_state stream{};
  bool verified = false;
  bool payload_started = false;
};

// Fills `buffer` until it is full or the input ends; the byte count.
EnvelopeResult<std::size_t> EnvelopeReader::State::read(std::span<std::uint8_t> buffer) {
  std::size_t used = 0;
  while (used < buffer.size()) {
    auto n = source(buffer.subspan(used));
    if (!n) return problem(EnvelopeProblem::kIo, "cannot read the envelope: " + n.error().message);
    if (*n == 0) break;
    if (*n > buffer.size() - used) return problem(EnvelopeProblem::kIo, "the input returned too many bytes");
    used += *n;
    bytes_read += *n;
  }
  return used;
}

// Reads exactly buffer.size() bytes; kTruncated naming `what` when the input ends first.
EnvelopeStatus EnvelopeReader::State::read_exact(std::span<std::uint8_t> buffer, const std::string& what) {
  const std::uint64_t start = bytes_read;
  auto n = read(buffer);
  if (!n) return std::move(n).error();
  if (*n == buffer.size()) return {};
  return problem(EnvelopeProblem::kTruncated,
                 "the input ends inside " + what + " (after byte " + std::to_string(start + *n) + "; " +
                     std::to_string(buffer.size() - *n) + " more bytes expected)");
}

// Mode 1, step 2: the encryption header, the recipient, the sealed key and message 1.
EnvelopeStatus EnvelopeReader::State::open_encrypted(const SecretKey* recipient_key,
                                                     detail::HeaderBlock& block) {
  std::array<std::uint8_t, kClearPrefixSize> clear{};
  const auto preamble = detail::make_preamble(detail::kModeEncrypted);
  std::copy(preamble.begin(), preamble.end(), clear.begin());
  const auto header_bytes = std::span(clear).subspan<kPreambleSize, kEncryptionHeaderSize>();
  if (EnvelopeStatus s = read_exact(header_bytes, "the encryption header"); !s) return s;
  encryption = detail::decode_encryption_header(header_bytes);
  const std::string recipient = key_id_hex(encryption.recipient);
  if (recipient_key == nullptr) {
    return problem(EnvelopeProblem::kCannotDecrypt,
                   "the envelope is encrypted to printer key " + recipient + " and no printer key was given");
  }
  if (recipient_key->algorithm() != KeyAlgorithm::kX25519) {
    return problem(EnvelopeProblem::kCannotDecrypt, "the key given to decrypt is not an X25519 printer key");
  }
  if (!detail::equal_ct(recipient_key->id(), encryption.recipient)) {
    return problem(EnvelopeProblem::kWrongRecipient, "the envelope is encrypted to printer key " + recipient +
                                                         ", not to this printer's key " +
                                                         key_id_hex(recipient_key->id()));
  }
  return open_stream(*recipient_key, clear, block);
}

// Mode 1, step 2: opens the sealed content key and pulls message 1 into `block`.
EnvelopeStatus EnvelopeReader::State::open_stream(const SecretKey& key,
                                                  std::span<const std::uint8_t, kClearPrefixSize> clear,
                                                  detail::HeaderBlock& block) {
  std::array<std::uint8_t, crypto_secretstream_xchacha20poly1305_KEYBYTES> content_key{};
  const int opened =
      crypto_box_seal_open(content_key.data(), encryption.sealed_key.data(), encryption.sealed_key.size(),
                           key.public_key().bytes.data(), key.secret().data());
  const int started = opened == 0 ? crypto_secretstream_xchacha20poly1305_init_pull(
                                        &stream, encryption.stream_header.data(), content_key.data())
                                  : -1;
  detail::wipe(content_key);
  if (opened != 0 || started != 0) {
    return problem(EnvelopeProblem::kCannotDecrypt,
                   "the sealed content key does not open with printer key " + key_id_hex(key.id()));
  }
  detail::SecureBuffer message(kHeaderBlockSize + detail::kStreamOverhead);
  if (EnvelopeStatus s = read_exact(message.span(), "the encrypted header block"); !s) return s;
  unsigned char tag = 0;
  if (crypto_secretstream_xchacha20poly1305_pull(&stream, block.data(), nullptr, &tag, message.data(),
                                                 message.size(), clear.data(), clear.size()) != 0) {
    return problem(EnvelopeProblem::kCannotDecrypt,
                   "the header block does not decrypt: the clear header or the block was altered");
  }
  if (tag == kTagFinal) return problem(EnvelopeProblem::kTruncated, "the stream ends after the header block");
  if (tag != kTagMessage)
    return malformed("the header block message has tag " + std::to_string(tag) + ", not 0");
  return {};
}

// Step 3: manifest length, manifest, signature, zero padding.
EnvelopeStatus EnvelopeReader::State::parse_header_block(const detail::HeaderBlock& block) {
  const auto size = static_cast<std::size_t>(detail::get_be(block, 2));
  if (size < 1 || size > kMaxManifestSize) {
    return malformed("header block: manifest length " + std::to_string(size) + " is not within 1-4030");
  }
  const auto bytes = std::span(block).subspan(2, size);
  auto decoded = decode_manifest(bytes);
  if (!decoded) return std::move(decoded).error();
  manifest = std::move(decoded).value();
  manifest_bytes.assign(bytes.begin(), bytes.end());
  const auto signature_bytes = std::span(block).subspan(2 + size, detail::kSignatureSize);
  std::copy(signature_bytes.begin(), signature_bytes.end(), signature.begin());
  const auto padding = std::span(block).subspan(2 + size + detail::kSignatureSize);
  const auto nonzero = std::find_if(padding.begin(), padding.end(), [](std::uint8_t b) { return b != 0; });
  if (nonzero != padding.end()) {
    return malformed("header block: padding byte " +
                     std::to_string(2 + size + detail::kSignatureSize + (nonzero - padding.begin())) +
                     " is not zero");
  }
  return {};
}

// Step 3 (cross-checks of mode, recipients and lengths) and the size limit.
EnvelopeStatus EnvelopeReader::State::check_consistency(std::uint64_t max_payload) const {
  if (mode == detail::kModeSigned && manifest.encrypted) {
    return malformed("the manifest says encrypted, the preamble says mode 0 (signed only)");
  }
  if (mode == detail::kModeEncrypted) {
    if (!manifest.encrypted)
      return malformed("the preamble says mode 1 (encrypted), the manifest flags say not");
    if (manifest.recipients.size() != 1 || manifest.recipients.front() != encryption.recipient) {
      return malformed("the manifest's recipient differs from the encryption header's (" +
                       key_id_hex(encryption.recipient) + ")");
    }
    if (encryption.payload_length != manifest.payload_length) {
      return malformed("the encryption header's payload length " + std::to_string(encryption.payload_length) +
                       " differs from the manifest's " + std::to_string(manifest.payload_length));
    }
    if (encryption.chunk_size < detail::kMinChunkSize || encryption.chunk_size > detail::kMaxChunkSize) {
      return malformed("chunk size " + std::to_string(encryption.chunk_size) + " is not within 1024-1048576");
    }
  }
  if (manifest.payload_length > max_payload) {
    return problem(EnvelopeProblem::kTooLarge, "the payload is " + std::to_string(manifest.payload_length) +
                                                   " bytes, above this reader's limit of " +
                                                   std::to_string(max_payload) + " bytes");
  }
  return {};
}

// Mode 0 payload: exactly payload_length bytes in blocks of at most 1 MiB.
EnvelopeStatus EnvelopeReader::State::read_plain(const ByteSink& sink, Sha256& hash) {
  const std::uint64_t length = manifest.payload_length;
  std::vector<std::uint8_t> block(
      static_cast<std::size_t>(std::min<std::uint64_t>(detail::kIoBlock, length)));
  for (std::uint64_t done = 0; done < length;) {
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(block.size(), length - done));
    auto n = read(std::span(block).first(want));
    if (!n) return std::move(n).error();
    if (*n == 0) {
      return problem(EnvelopeProblem::kTruncated, "the payload ends after " + std::to_string(done) + " of " +
                                                      std::to_string(length) + " bytes");
    }
    const auto piece = std::span<const std::uint8_t>(block).first(*n);
    if (!hash.update(piece)) return problem(EnvelopeProblem::kIo, "SHA-256 failed (OpenSSL)");
    if (Status sent = sink(piece); !sent) return problem(EnvelopeProblem::kIo, sent.error().message);
    done += *n;
  }
  return {};
}

// Mode 1 payload: ⌈L/C⌉ chunks with TAG_MESSAGE, then the empty final message.
EnvelopeStatus EnvelopeReader::State::read_encrypted(const ByteSink& sink, Sha256& hash) {
  const std::uint64_t length = manifest.payload_length;
  const std::size_t chunk = encryption.chunk_size;
  detail::SecureBuffer buffer(static_cast<std::size_t>(std::min<std::uint64_t>(chunk, length)) +
                              detail::kStreamOverhead);
  std::uint64_t index = 0;
  for (std::uint64_t done = 0; done <= length; ++index) {
    const bool final = done == length;
    const auto size = static_cast<std::size_t>(std::min<std::uint64_t>(chunk, length - done));
    const std::string name = final ? "the final message" : chunk_name(index, done, size);
    const auto message = buffer.span().first(size + detail::kStreamOverhead);
    if (EnvelopeStatus s = read_exact(message, name); !s) return s;
    unsigned char tag = 0;
    // In place: the plaintext lands on the ciphertext it replaces (one byte
    // after the start), which libsodium authenticates before decrypting.
    if (crypto_secretstream_xchacha20poly1305_pull(&stream, message.data() + 1, nullptr, &tag, message.data(),
                                                   message.size(), nullptr, 0) != 0) {
      return problem(EnvelopeProblem::kTampered,
                     name + " fails authentication (altered, reordered or replaced)");
    }
    if (final) {
      if (tag != kTagFinal) return problem(EnvelopeProblem::kTruncated, "the stream has no final message");
      return {};
    }
    if (tag == kTagFinal) return problem(EnvelopeProblem::kTruncated, "the stream ends early, at " + name);
    if (tag != kTagMessage) return malformed(name + " has tag " + std::to_string(tag) + ", not 0");
    const auto plain = std::span<const std::uint8_t>(message).subspan(1, size);
    if (!hash.update(plain)) return problem(EnvelopeProblem::kIo, "SHA-256 failed (OpenSSL)");
    if (Status sent = sink(plain); !sent) return problem(EnvelopeProblem::kIo, sent.error().message);
    done += size;
  }
  return {};
}

// After the payload: end of input, then the digest.
EnvelopeStatus EnvelopeReader::State::finish(Sha256& hash) {
  std::array<std::uint8_t, 1> extra{};
  auto more = read(extra);
  if (!more) return std::move(more).error();
  if (*more != 0) {
    return problem(EnvelopeProblem::kTrailingData,
                   "data follows the end of the envelope (at byte " + std::to_string(bytes_read - 1) + ")");
  }
  const auto digest = hash.finish();
  if (!digest) return problem(EnvelopeProblem::kIo, "SHA-256 failed (OpenSSL)");
  if (!detail::equal_ct(*digest, manifest.payload_sha256)) {
    return problem(EnvelopeProblem::kDigestMismatch, "the payload's SHA-256 " + detail::hex(*digest) +
                                                         " differs from the signed " +
                                                         detail::hex(manifest.payload_sha256));
  }
  return {};
}

EnvelopeResult<std::unique_ptr<EnvelopeReader>> EnvelopeReader::open(ByteSource source,
                                                                     const SecretKey* recipient_key,
                                                                     std::uint64_t max_payload) {
  using Out = EnvelopeResult<std::unique_ptr<EnvelopeReader>>;
  return detail::guard_envelope<Out>([&]() -> Out {
    detail::ensure_sodium();
    auto state = std::make_unique<State>();
    state->source = std::move(source);
    detail::Preamble preamble{};
    auto n = state->read(preamble);
    if (!n) return std::move(n).error();
    if (EnvelopeStatus s = check_preamble(preamble, *n); !s) return std::move(s).error();
    state->mode = preamble[9];
    detail::HeaderBlock block{};
    EnvelopeStatus opened = state->mode == detail::kModeEncrypted
                                ? state->open_encrypted(recipient_key, block)
                                : state->read_exact(block, "the header block");
    if (opened) opened = state->parse_header_block(block);
    detail::wipe(block);
    if (opened) opened = state->check_consistency(max_payload);
    if (!opened) return std::move(opened).error();
    return std::unique_ptr<EnvelopeReader>(new EnvelopeReader(std::move(state)));
  });
}

EnvelopeResult<OuterHeader> parse_outer_header(std::span<const std::uint8_t> prefix) {
  return detail::guard_envelope<EnvelopeResult<OuterHeader>>([&]() -> EnvelopeResult<OuterHeader> {
    const std::size_t n = std::min(prefix.size(), kPreambleSize);
    detail::Preamble preamble{};
    std::copy_n(prefix.begin(), n, preamble.begin());
    if (EnvelopeStatus s = check_preamble(preamble, n); !s) return std::move(s).error();
    OuterHeader outer;
    outer.encrypted = preamble[9] == detail::kModeEncrypted;
    if (!outer.encrypted) return outer;
    if (prefix.size() < kClearPrefixSize) {
      return problem(EnvelopeProblem::kTruncated, "the input ends inside the encryption header (" +
                                                      std::to_string(prefix.size()) + " of 144 bytes)");
    }
    const auto header =
        detail::decode_encryption_header(prefix.subspan<kPreambleSize, kEncryptionHeaderSize>());
    outer.recipient = header.recipient;
    outer.chunk_size = header.chunk_size;
    outer.payload_length = header.payload_length;
    return outer;
  });
}

EnvelopeReader::EnvelopeReader(std::unique_ptr<State> state) : state_(std::move(state)) {}

EnvelopeReader::~EnvelopeReader() = default;

const Manifest& EnvelopeReader::manifest() const { return state_->manifest; }

bool EnvelopeReader::encrypted() const { return state_->mode == detail::kModeEncrypted; }

std::uint64_t EnvelopeReader::bytes_read() const { return state_->bytes_read; }

EnvelopeStatus EnvelopeReader::verify_signature(const PublicKey& signer) const {
  return detail::guard_envelope<EnvelopeStatus>([&]() -> EnvelopeStatus {
    const Manifest& m = state_->manifest;
    // The ID of the key's bytes, not the struct's `id` field, decides.
    const KeyId id = key_id_of(signer.algorithm, signer.bytes);
    if (signer.algorithm != KeyAlgorithm::kEd25519 || !detail::equal_ct(id, m.signer)) {
      return problem(EnvelopeProblem::kUnknownSigner, "the envelope is signed by key " +
                                                          key_id_hex(m.signer) + ", not by the key given (" +
                                                          key_id_hex(id) + ")");
    }
    if (!trust::verify_signature(signer, signed_message(state_->manifest_bytes), state_->signature)) {
      return problem(EnvelopeProblem::kBadSignature,
                     "the manifest's signature does not verify with signer key " + key_id_hex(id));
    }
    state_->verified = true;
    return {};
  });
}

EnvelopeStatus EnvelopeReader::read_payload(const ByteSink& sink) {
  return detail::guard_envelope<EnvelopeStatus>([&]() -> EnvelopeStatus {
    if (!state_->verified) {
      return problem(EnvelopeProblem::kBadSignature,
                     "the payload is read only after verify_signature() succeeded");
    }
    if (state_->payload_started) return problem(EnvelopeProblem::kIo, "the payload was already read");
    state_->payload_started = true;
    Sha256 hash;
    EnvelopeStatus read = state_->mode == detail::kModeEncrypted ? state_->read_encrypted(sink, hash)
                                                                 : state_->read_plain(sink, hash);
    if (!read) return read;
    return state_->finish(hash);
  });
}

}  // namespace ipp3d::trust
