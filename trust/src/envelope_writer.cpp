// Making an envelope (docs/envelope.md §5): read the document once for its
// length and SHA-256, sign the manifest, then read it again and write the
// payload (mode 0) or its secretstream chunks (mode 1), checking that the
// second read matches the first.
#include "ipp3d/trust/envelope.hpp"
#include "ipp3d/trust/sha256.hpp"

#include "detail.hpp"
#include "format.hpp"

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <fcntl.h>
#include <new>
#include <sys/stat.h>
#include <unistd.h>

namespace ipp3d::trust {
namespace {

using detail::SecureBuffer;

// Opens a fresh source over the document for one read pass.
using PassOpener = std::function<Result<ByteSource>()>;

// An error about a sign option, naming it.
Error option_error(const std::string& option, const std::string& message) {
  return Error{IPP_STATUS_ERROR_ATTRIBUTES_OR_VALUES, option + ": " + message, option, 0};
}

// Error for a failing OpenSSL hash.
Error hash_error() { return Error{IPP_STATUS_ERROR_INTERNAL, "SHA-256 failed (OpenSSL)", {}, 0}; }

// Fills `buffer` from `source` until it is full or the source ends; the byte count.
Result<std::size_t> read_full(const ByteSource& source, std::span<std::uint8_t> buffer) {
  std::size_t used = 0;
  while (used < buffer.size()) {
    auto n = source(buffer.subspan(used));
    if (!n) return std::move(n).error();
    if (*n == 0) break;
    if (*n > buffer.size() - used)
      return Error{IPP_STATUS_ERROR_INTERNAL, "the input returned too many bytes", {}, 0};
    used += *n;
  }
  return used;
}

// The length and SHA-256 of the document (first read).
struct Measure {
  std::uint64_t length = 0;
  Digest digest{};
};

Result<Measure> measure(const PassOpener& open_pass) {
  auto source = open_pass();
  if (!source) return std::move(source).error();
  SecureBuffer block(detail::kIoBlock);
  Sha256 hash;
  Measure out;
  for (;;) {
    auto n = read_full(*source, block.span());
    if (!n) return std::move(n).error();
    if (*n == 0) break;
    if (!hash.update(block.span().first(*n))) return hash_error();
    out.length += *n;
    if (out.length > kMaxPayloadLength) {
      return Error{IPP_STATUS_ERROR_ATTRIBUTES_OR_VALUES, "the document is larger than 2^40 bytes", {}, 0};
    }
  }
  const auto digest = hash.finish();
  if (!digest) return hash_error();
  out.digest = *digest;
  return out;
}

// The error for a document that differs between the two reads.
Error changed_error() {
  return Error{IPP_STATUS_ERROR_INTERNAL,
               "the input changed while it was being signed (the two reads differ); the output is "
               "incomplete and must be discarded",
               {},
               0};
}

// After the last byte of the second read: the input must end there and
// its digest must equal the first read's.
Status check_second_read(const ByteSource& source, Sha256& hash, const Measure& expected) {
  std::array<std::uint8_t, 1> extra{};
  auto more = read_full(source, extra);
  if (!more) return std::move(more).error();
  const auto digest = hash.finish();
  if (!digest) return hash_error();
  if (*more != 0 || !detail::equal_ct(*digest, expected.digest)) return changed_error();
  return {};
}

// Second read: hands exactly `expected.length` bytes to `piece` in pieces
// of `piece_size` (the last one shorter). The last piece is handed on only
// after the input was found unchanged, so a failed run never ends with a
// complete envelope, even in a sink that keeps what it got.
Status second_pass(const PassOpener& open_pass, const Measure& expected, std::size_t piece_size,
                   const std::function<Status(std::span<const std::uint8_t>)>& piece) {
  auto source = open_pass();
  if (!source) return std::move(source).error();
  SecureBuffer block(piece_size);
  Sha256 hash;
  if (expected.length == 0) return check_second_read(*source, hash, expected);
  for (std::uint64_t done = 0; done < expected.length;) {
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(piece_size, expected.length - done));
    auto n = read_full(*source, block.span().first(want));
    if (!n) return std::move(n).error();
    if (*n != want) return changed_error();
    if (!hash.update(block.span().first(want))) return hash_error();
    done += want;
    if (done == expected.length) {
      if (Status same = check_second_read(*source, hash, expected); !same) return same;
    }
    if (Status sent = piece(block.span().first(want)); !sent) return sent;
  }
  return {};
}

// Checks the options and builds the manifest (without the payload fields).
Result<Manifest> manifest_for(const SecretKey& signer, const SignOptions& options) {
  if (signer.algorithm() != KeyAlgorithm::kEd25519)
    return option_error("key", "the signing key must be Ed25519");
  if (options.chunk_size < detail::kMinChunkSize || options.chunk_size > detail::kMaxChunkSize) {
    return option_error("chunk_size",
                        "must be within 1024-1048576, not " + std::to_string(options.chunk_size));
  }
  Manifest m;
  m.content_type = options.content_type;
  m.document_name = options.document_name;
  m.signer = signer.id();
  m.created = options.created != 0 ? options.created : static_cast<std::int64_t>(std::time(nullptr));
  m.not_after = options.not_after;
  m.licence = options.licence;
  m.recipients = options.recipients;
  if (options.encrypt_to) {
    if (options.encrypt_to->algorithm != KeyAlgorithm::kX25519) {
      return option_error("encrypt_to", "the printer key must be an X25519 key");
    }
    const KeyId printer = key_id_of(KeyAlgorithm::kX25519, options.encrypt_to->bytes);
    const bool others =
        std::any_of(m.recipients.begin(), m.recipients.end(), [&](const KeyId& id) { return id != printer; });
    if (others)
      return option_error("recipients", "an encrypted envelope has exactly one recipient, its printer");
    m.encrypted = true;
    m.recipients = {printer};
  }
  std::sort(m.recipients.begin(), m.recipients.end());
  m.recipients.erase(std::unique(m.recipients.begin(), m.recipients.end()), m.recipients.end());
  if (options.nonce) {
    m.nonce = *options.nonce;
  } else {
    detail::ensure_sodium();
    randombytes_buf(m.nonce.data(), m.nonce.size());
  }
  return m;
}

// The signed header block of a manifest.
Result<detail::HeaderBlock> signed_header_block(const Manifest& m, const SecretKey& signer) {
  if (EnvelopeStatus valid = validate_manifest(m); !valid) {
    return Error{IPP_STATUS_ERROR_ATTRIBUTES_OR_VALUES, valid.error().message, {}, 0};
  }
  const std::vector<std::uint8_t> bytes = encode_manifest(m);
  const auto signature = signer.sign(signed_message(bytes));
  return detail::make_header_block(bytes, signature);
}

// Concatenation of byte ranges.
std::vector<std::uint8_t> join(std::initializer_list<std::span<const std::uint8_t>> parts) {
  std::vector<std::uint8_t> out;
  for (const auto& part : parts) out.insert(out.end(), part.begin(), part.end());
  return out;
}

// Mode 0: preamble, header block, payload.
Status write_signed(const PassOpener& open_pass, const Measure& measured, detail::HeaderBlock& block,
                    const ByteSink& sink) {
  const auto preamble = detail::make_preamble(detail::kModeSigned);
  if (Status sent = sink(join({preamble, block})); !sent) return sent;
  return second_pass(open_pass, measured, detail::kIoBlock, sink);
}

// The secretstream state and content key of one mode-1 envelope, wiped on exit.
struct StreamKeys {
  std::array<std::uint8_t, crypto_secretstream_xchacha20poly1305_KEYBYTES> key{};
  crypto_secretstream_xchacha20poly1305_state state{};
  StreamKeys() = default;
  StreamKeys(const StreamKeys&) = delete;
  StreamKeys& operator=(const StreamKeys&) = delete;
  ~StreamKeys() {
    detail::wipe(key);
    sodium_memzero(&state, sizeof state);
  }
};

// Encrypts one message into `out` (resized) and hands it to the sink.
Status push(StreamKeys& keys, std::span<const std::uint8_t> plain, std::span<const std::uint8_t> ad,
            std::uint8_t tag, std::vector<std::uint8_t>& out, const ByteSink& sink) {
  out.resize(plain.size() + detail::kStreamOverhead);
  detail::require_zero(
      crypto_secretstream_xchacha20poly1305_push(&keys.state, out.data(), nullptr, plain.data(), plain.size(),
                                                 ad.data(), ad.size(), tag),
      "crypto_secretstream_xchacha20poly1305_push");
  return sink(out);
}

// Mode 1: preamble, encryption header, then the stream: header block, chunks, final.
Status write_encrypted(const PassOpener& open_pass, const Measure& measured, const detail::HeaderBlock& block,
                       const SignOptions& options, const ByteSink& sink) {
  StreamKeys keys;
  detail::ensure_sodium();
  crypto_secretstream_xchacha20poly1305_keygen(keys.key.data());
  detail::EncryptionHeader header;
  header.recipient = key_id_of(KeyAlgorithm::kX25519, options.encrypt_to->bytes);
  header.chunk_size = static_cast<std::uint32_t>(options.chunk_size);
  header.payload_length = measured.length;
  if (crypto_box_seal(header.sealed_key.data(), keys.key.data(), keys.key.size(),
                      options.encrypt_to->bytes.data()) != 0) {
    return option_error("encrypt_to", "the printer key is not a usable X25519 public key");
  }
  detail::require_zero(crypto_secretstream_xchacha20poly1305_init_push(
                           &keys.state, header.stream_header.data(), keys.key.data()),
                       "crypto_secretstream_xchacha20poly1305_init_push");
  const std::vector<std::uint8_t> clear =
      join({detail::make_preamble(detail::kModeEncrypted), detail::encode_encryption_header(header)});
  if (Status sent = sink(clear); !sent) return sent;
  std::vector<std::uint8_t> out;
  const std::uint8_t message = crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
  if (Status sent = push(keys, block, clear, message, out, sink); !sent) return sent;
  const auto chunk = [&](std::span<const std::uint8_t> plain) {
    return push(keys, plain, {}, message, out, sink);
  };
  if (Status sent = second_pass(open_pass, measured, options.chunk_size, chunk); !sent) return sent;
  return push(keys, {}, {}, crypto_secretstream_xchacha20poly1305_TAG_FINAL, out, sink);
}

// Both passes over the document.
Status write_envelope(const PassOpener& open_pass, const SecretKey& signer, const SignOptions& options,
                      const ByteSink& sink) {
  auto m = manifest_for(signer, options);
  if (!m) return std::move(m).error();
  auto measured = measure(open_pass);
  if (!measured) return std::move(measured).error();
  m->payload_length = measured->length;
  m->payload_sha256 = measured->digest;
  auto block = signed_header_block(*m, signer);
  if (!block) return std::move(block).error();
  Status written = m->encrypted ? write_encrypted(open_pass, *measured, *block, options, sink)
                                : write_signed(open_pass, *measured, *block, sink);
  detail::wipe(*block);
  return written;
}

// A descriptor closed on scope exit.
struct FileDescriptor {
  int fd = -1;
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  explicit FileDescriptor(int f) : fd(f) {}
  ~FileDescriptor() {
    if (fd >= 0) (void)::close(fd);  // read-only
  }
};

// Opens `input` for signing: a regular file, or an error saying why not.
Result<int> open_regular(const std::filesystem::path& input) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; regular files ignore it.
  const int fd = ::open(input.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return detail::io_error("cannot open " + input.string(), errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    const int saved = errno;
    (void)::close(fd);
    if (st.st_mode == 0) return detail::io_error("cannot stat " + input.string(), saved);
    return Error{IPP_STATUS_ERROR_ATTRIBUTES_OR_VALUES,
                 input.string() +
                     " is not a regular file: the document is read twice (its digest is signed before it is "
                     "written), which a pipe or device does not allow; save it to a file first",
                 "file", 0};
  }
  return fd;
}

// A source over `fd` from its start; read errors name the file.
Result<ByteSource> rewound_source(int fd, const std::filesystem::path& input) {
  if (::lseek(fd, 0, SEEK_SET) != 0) return detail::io_error("cannot rewind " + input.string(), errno);
  return ByteSource([source = fd_source(fd), name = input.string()](std::span<std::uint8_t> buffer) {
    auto n = source(buffer);
    if (n) return n;
    return Result<std::size_t>(
        Error{IPP_STATUS_ERROR_INTERNAL, "cannot read " + name + ": " + n.error().message, {}, 0});
  });
}

}  // namespace

Status sign_file(const std::filesystem::path& input, const SecretKey& signer, const SignOptions& options,
                 const ByteSink& sink) {
  return detail::guard<Status>([&]() -> Status {
    auto opened = open_regular(input);
    if (!opened) return std::move(opened).error();
    const FileDescriptor file(*opened);
    const PassOpener open_pass = [&]() { return rewound_source(file.fd, input); };
    return write_envelope(open_pass, signer, options, sink);
  });
}

Result<std::vector<std::uint8_t>> sign_bytes(std::span<const std::uint8_t> document, const SecretKey& signer,
                                             const SignOptions& options) {
  return detail::guard<Result<std::vector<std::uint8_t>>>([&]() -> Result<std::vector<std::uint8_t>> {
    std::vector<std::uint8_t> out;
    const PassOpener open_pass = [&]() -> Result<ByteSource> { return memory_source(document); };
    const ByteSink collect = [&](std::span<const std::uint8_t> bytes) -> Status {
      out.insert(out.end(), bytes.begin(), bytes.end());
      return {};
    };
    if (Status written = write_envelope(open_pass, signer, options, collect); !written)
      return written.error();
    return out;
  });
}

}  // namespace ipp3d::trust
