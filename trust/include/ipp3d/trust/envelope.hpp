// The ipp3d envelope (docs/envelope.md): a signed and optionally encrypted
// print document. EnvelopeWriter makes one from a file; EnvelopeReader reads
// one in a single streaming pass with bounded memory, exposing the signed
// claims after the first few KB so a caller can refuse early.
#pragma once

#include "ipp3d/result.hpp"
#include "ipp3d/trust/keys.hpp"

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ipp3d::trust {

inline constexpr std::string_view kEnvelopeMimeType = "application/vnd.ipp3d.envelope";
inline constexpr std::string_view kEnvelopeMagic = "IPP3DENV";
inline constexpr std::size_t kPreambleSize = 12;
inline constexpr std::size_t kHeaderBlockSize = 4096;
inline constexpr std::size_t kMaxManifestSize = 4030;
inline constexpr std::size_t kDefaultChunkSize = 65536;
inline constexpr std::uint64_t kMaxPayloadLength = std::uint64_t{1} << 40;

using Digest = std::array<std::uint8_t, 32>;
using Nonce = std::array<std::uint8_t, 16>;

// Why an envelope is refused. Each has a keyword (envelope_problem_keyword)
// used in messages, logs and tests.
enum class EnvelopeProblem {
  kMalformed,           // "malformed": not an envelope, bad field, non-canonical manifest
  kWrongRecipient,      // "wrong-recipient"
  kCannotDecrypt,       // "cannot-decrypt": the sealed key or the header block does not open
  kUnknownSigner,       // "unknown-signer"
  kBadSignature,        // "bad-signature"
  kNotYetValid,         // "not-yet-valid"
  kClockNotSet,         // "clock-not-set": the reader's clock is before its build date
  kExpired,             // "expired"
  kLifetimeTooLong,     // "lifetime-too-long"
  kReplayed,            // "replayed"
  kLicenceUsedUp,       // "licence-used-up"
  kUnsupportedContent,  // "unsupported-content"
  kTooLarge,            // "too-large": payload above the reader's limit
  kTampered,            // "tampered": a payload chunk fails authentication
  kTruncated,           // "truncated"
  kTrailingData,        // "trailing-data"
  kDigestMismatch,      // "digest-mismatch"
  kIo,                  // "io-error": the input or the output could not be read or written
};

// The keyword of a problem, e.g. "unknown-signer".
const char* envelope_problem_keyword(EnvelopeProblem problem);

// A refusal: the problem and a message a user can act on.
struct EnvelopeError {
  EnvelopeProblem problem = EnvelopeProblem::kMalformed;
  std::string message;
  bool operator==(const EnvelopeError&) const = default;
};

template <class T>
using EnvelopeResult = Result<T, EnvelopeError>;
using EnvelopeStatus = Result<void, EnvelopeError>;

// An optional print-count licence: at most `copies` copies per printer for
// (signer, id).
struct Licence {
  std::string id;
  std::uint32_t copies = 1;
  bool operator==(const Licence&) const = default;
};

// The signed claims (docs/envelope.md §3).
struct Manifest {
  bool encrypted = false;
  std::string content_type = "text/x-gcode";
  std::uint64_t payload_length = 0;
  Digest payload_sha256{};
  KeyId signer{};
  std::int64_t created = 0;       // UNIX seconds
  std::int64_t not_after = 0;     // UNIX seconds
  std::vector<KeyId> recipients;  // sorted, unique; exactly one when encrypted
  Nonce nonce{};
  std::optional<Licence> licence;
  std::string document_name;
  bool operator==(const Manifest&) const = default;
};

// The canonical manifest bytes. Asserts that the manifest is valid
// (validate_manifest); sorts nothing: recipients must already be sorted.
// In a release build an invalid manifest gives an empty vector (which no
// reader accepts).
std::vector<std::uint8_t> encode_manifest(const Manifest& manifest);
// Parses canonical manifest bytes; anything else is kMalformed naming the field.
EnvelopeResult<Manifest> decode_manifest(std::span<const std::uint8_t> bytes);
// Checks field rules (lengths, characters, ranges, sorted recipients).
EnvelopeStatus validate_manifest(const Manifest& manifest);
// The exact bytes the signature covers: domain string, 0x00, manifest.
std::vector<std::uint8_t> signed_message(std::span<const std::uint8_t> manifest_bytes);

// A fresh random licence ID: 16 random bytes as 32 lowercase hex digits.
std::string random_licence_id();

// What the author chooses when signing.
struct SignOptions {
  std::string content_type = "text/x-gcode";
  std::string document_name;
  std::int64_t created = 0;             // 0: now
  std::int64_t not_after = 0;           // required, > created
  std::vector<KeyId> recipients;        // any order; sorted and de-duplicated by the writer
  std::optional<PublicKey> encrypt_to;  // an X25519 printer key: mode 1 (it becomes the only recipient)
  std::optional<Licence> licence;
  std::size_t chunk_size = kDefaultChunkSize;
  std::optional<Nonce> nonce;  // tests and vectors only; default random
};

// Receives output (or plaintext) bytes in order; an error stops the writer/reader.
using ByteSink = std::function<Status(std::span<const std::uint8_t>)>;

// Signs (and encrypts) the regular file `input` into `sink`, reading it
// twice (docs/envelope.md §5). Errors: `input` is not a regular file (a
// pipe: the message says to save it to a file), unreadable, changed between
// the two reads, an invalid option (names it), a sink error.
Status sign_file(const std::filesystem::path& input, const SecretKey& signer, const SignOptions& options,
                 const ByteSink& sink);
// Signs (and encrypts) bytes held in memory (tests, vectors, fuzz seeds).
Result<std::vector<std::uint8_t>> sign_bytes(std::span<const std::uint8_t> document, const SecretKey& signer,
                                             const SignOptions& options);

// Where a reader gets its bytes from: fills `buffer` and returns the number
// of bytes read, 0 at end of input, or an error.
using ByteSource = std::function<Result<std::size_t>(std::span<std::uint8_t> buffer)>;
// A source over a file descriptor (not closed) / over bytes in memory (not copied).
ByteSource fd_source(int fd);
ByteSource memory_source(std::span<const std::uint8_t> bytes);

// Reads one envelope in a single pass.
//   auto reader = EnvelopeReader::open(source, printer_key);   // steps 1–3 of §6
//   ... look at reader->manifest(), check claims, trust, replay ...
//   reader->verify_signature(signer_key);                      // step 4
//   reader->read_payload(sink);                                // step 9
// Memory: one chunk (≤ 1 MiB) plus constant state.
class EnvelopeReader {
 public:
  // Steps 1-3: reads the preamble and header block; for mode 1 also the
  // encryption header and the first message, opened with `recipient_key`
  // (an X25519 key pair): kWrongRecipient when the envelope names another
  // key, kCannotDecrypt when `recipient_key` is null or the key does not
  // open. `max_payload` bounds the payload length (kTooLarge).
  static EnvelopeResult<std::unique_ptr<EnvelopeReader>> open(ByteSource source,
                                                              const SecretKey* recipient_key,
                                                              std::uint64_t max_payload = kMaxPayloadLength);
  ~EnvelopeReader();
  EnvelopeReader(const EnvelopeReader&) = delete;
  EnvelopeReader& operator=(const EnvelopeReader&) = delete;

  [[nodiscard]] const Manifest& manifest() const;
  [[nodiscard]] bool encrypted() const;
  // Bytes consumed from the source so far.
  [[nodiscard]] std::uint64_t bytes_read() const;

  // Step 4: kUnknownSigner when `signer`'s ID is not the manifest's signer,
  // kBadSignature when the signature does not verify.
  [[nodiscard]] EnvelopeStatus verify_signature(const PublicKey& signer) const;

  // Step 9: streams the plaintext payload to `sink` in order (chunks of at
  // most 1 MiB), then checks truncation, trailing data and the digest. The
  // sink has seen unverified bytes when this fails: discard them then.
  // Must be called once, after verify_signature succeeded.
  [[nodiscard]] EnvelopeStatus read_payload(const ByteSink& sink);

 private:
  struct State;
  explicit EnvelopeReader(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// The clear encryption header of mode 1 (docs/envelope.md §4.4).
inline constexpr std::size_t kEncryptionHeaderSize = 132;

// What anyone sees of an envelope without keys: the mode and, in mode 1,
// the clear encryption header (not authenticated until the envelope is
// opened with the recipient's key).
struct OuterHeader {
  bool encrypted = false;
  KeyId recipient{};                 // mode 1
  std::uint32_t chunk_size = 0;      // mode 1
  std::uint64_t payload_length = 0;  // mode 1
};

// Parses the first bytes of an envelope (12 suffice for mode 0, 144 for
// mode 1; more are ignored): kMalformed or kTruncated as EnvelopeReader::open.
EnvelopeResult<OuterHeader> parse_outer_header(std::span<const std::uint8_t> prefix);

// What a printer requires of the claims (steps 5–6 of docs/envelope.md §6).
struct ClaimPolicy {
  std::optional<KeyId> printer;    // this printer's key ID; nullopt: recipients not checked
  bool accept_unaddressed = true;  // accept 0 recipients (mode 0 only)
  std::int64_t now = 0;            // UNIX seconds
  std::int64_t max_lifetime = std::int64_t{30} * 86400;  // seconds, not_after - created
  std::int64_t clock_skew = 300;                         // seconds a `created` may lie in the future
  // A `now` before this is a clock that was never set (a host without a
  // real-time clock before NTP): time checks refuse instead of trusting it.
  // build_time() for printers and clients; 0 disables the check.
  std::int64_t earliest_now = 0;
};

// UNIX time at which this library was built (SOURCE_DATE_EPOCH when set):
// no correct clock shows an earlier time.
std::int64_t build_time();

// Checks recipients and times. Errors: kWrongRecipient, kClockNotSet
// (now < earliest_now), kNotYetValid, kExpired, kLifetimeTooLong, with a message giving the values
// (kMalformed for a manifest whose not_after is not after created).
EnvelopeStatus check_claims(const Manifest& manifest, const ClaimPolicy& policy);

}  // namespace ipp3d::trust
