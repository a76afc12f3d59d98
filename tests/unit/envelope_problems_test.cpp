// One test per EnvelopeProblem the library decides (docs/envelope.md §6):
// malformed variants, wrong recipient, cannot decrypt, unknown signer, bad
// signature, not yet valid, expired, lifetime too long, too large, tampered,
// swapped/dropped/repeated chunks, truncation at many points, trailing data,
// digest mismatch, I/O errors. Envelopes that the writer would never make
// are assembled here byte by byte (and signed where the test needs it).
#include "ipp3d/trust/envelope.hpp"
#include "ipp3d/trust/sha256.hpp"

#include "trust_test_util.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sodium.h>

#include <fstream>
#include <stdexcept>

namespace ipp3d::trust::testing {
namespace {

using ::testing::HasSubstr;

constexpr std::int64_t kNow = 1'790'000'000;
constexpr std::size_t kChunk = 1024;

const SecretKey& signer() {
  static const SecretKey kKey = fixed_key(KeyAlgorithm::kEd25519, 0x50);
  return kKey;
}
const SecretKey& printer() {
  static const SecretKey kKey = fixed_key(KeyAlgorithm::kX25519, 0x60);
  return kKey;
}
const SecretKey& other_printer() {
  static const SecretKey kKey = fixed_key(KeyAlgorithm::kX25519, 0x61);
  return kKey;
}
const Bytes& document() {
  static const Bytes kDocument = random_bytes(3 * kChunk + 100, 9);
  return kDocument;
}

Bytes signed_envelope() { return sign_bytes(document(), signer(), options_at(kNow)).value(); }
Bytes encrypted_envelope() {
  SignOptions options = options_at(kNow);
  options.encrypt_to = printer().public_key();
  options.chunk_size = kChunk;
  return sign_bytes(document(), signer(), options).value();
}

// Expects reading `envelope` fully to fail with `problem` and `words`.
void expect_problem(const Bytes& envelope, EnvelopeProblem problem, const std::string& words,
                    const SecretKey* key = &printer(), std::uint64_t max_payload = kMaxPayloadLength) {
  const ReadOutcome out = read_all(envelope, signer().public_key(), key, max_payload);
  ASSERT_TRUE(out.error) << "accepted; expected " << envelope_problem_keyword(problem);
  EXPECT_EQ(envelope_problem_keyword(out.error->problem), std::string(envelope_problem_keyword(problem)))
      << out.error->message;
  EXPECT_THAT(out.error->message, HasSubstr(words));
}

// The manifest of a valid test envelope (before the payload fields are set).
Manifest base_manifest(bool encrypted) {
  Manifest m;
  m.encrypted = encrypted;
  m.payload_length = document().size();
  m.payload_sha256 = Sha256::of(document()).value();
  m.signer = signer().id();
  m.created = kNow;
  m.not_after = kNow + 86400;
  if (encrypted) m.recipients = {printer().id()};
  m.document_name = "raw.gcode";
  return m;
}

// A header block: manifest length, manifest, signature (valid unless `signature` is given), padding.
Bytes header_block(const Bytes& manifest,
                   std::optional<std::array<std::uint8_t, 64>> signature = std::nullopt) {
  Bytes block = {static_cast<std::uint8_t>(manifest.size() >> 8), static_cast<std::uint8_t>(manifest.size())};
  block.insert(block.end(), manifest.begin(), manifest.end());
  const auto sig = signature.value_or(signer().sign(signed_message(manifest)));
  block.insert(block.end(), sig.begin(), sig.end());
  block.resize(4096, 0);
  return block;
}

Bytes preamble(std::uint8_t mode) {
  Bytes p = bytes_of("IPP3DENV");
  p.insert(p.end(), {1, mode, 0, 0});
  return p;
}

// Mode 0: preamble, header block, payload.
Bytes assemble_signed(const Bytes& block, const Bytes& payload) {
  Bytes out = preamble(0);
  out.insert(out.end(), block.begin(), block.end());
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

void put(Bytes& out, std::uint64_t value, int size) {
  for (int i = size - 1; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
}

// A mode-1 envelope with every field under the test's control.
struct StreamSpec {
  KeyId recipient = printer().id();
  const PublicKey* seal_to = &printer().public_key();
  std::uint32_t chunk = kChunk;
  std::uint64_t clear_length = document().size();
  Bytes block = header_block(encode_manifest(base_manifest(true)));
  std::uint8_t block_tag = 0;
  std::vector<std::pair<Bytes, std::uint8_t>> messages;  // after the header block
};

std::vector<std::pair<Bytes, std::uint8_t>> chunks_of(const Bytes& payload, std::size_t chunk,
                                                      bool final = true) {
  std::vector<std::pair<Bytes, std::uint8_t>> out;
  for (std::size_t i = 0; i < payload.size(); i += chunk) {
    out.emplace_back(
        Bytes(payload.begin() + static_cast<std::ptrdiff_t>(i),
              payload.begin() + static_cast<std::ptrdiff_t>(std::min(payload.size(), i + chunk))),
        crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
  }
  if (final) out.emplace_back(Bytes{}, crypto_secretstream_xchacha20poly1305_TAG_FINAL);
  return out;
}

Bytes assemble_encrypted(const StreamSpec& spec) {
  std::array<std::uint8_t, 32> key{};
  crypto_secretstream_xchacha20poly1305_keygen(key.data());
  Bytes out = preamble(1);
  out.insert(out.end(), spec.recipient.begin(), spec.recipient.end());
  put(out, spec.chunk, 4);
  put(out, spec.clear_length, 8);
  std::array<std::uint8_t, 80> sealed{};
  EXPECT_EQ(crypto_box_seal(sealed.data(), key.data(), key.size(), spec.seal_to->bytes.data()), 0);
  out.insert(out.end(), sealed.begin(), sealed.end());
  crypto_secretstream_xchacha20poly1305_state state{};
  std::array<std::uint8_t, 24> header{};
  EXPECT_EQ(crypto_secretstream_xchacha20poly1305_init_push(&state, header.data(), key.data()), 0);
  out.insert(out.end(), header.begin(), header.end());
  const Bytes ad(out.begin(), out.end());
  const auto push = [&](const Bytes& plain, std::uint8_t tag, const Bytes& associated) {
    Bytes c(plain.size() + 17);
    EXPECT_EQ(
        crypto_secretstream_xchacha20poly1305_push(&state, c.data(), nullptr, plain.data(), plain.size(),
                                                   associated.data(), associated.size(), tag),
        0);
    out.insert(out.end(), c.begin(), c.end());
  };
  push(spec.block, spec.block_tag, ad);
  for (const auto& [plain, tag] : spec.messages) push(plain, tag, {});
  return out;
}

StreamSpec valid_spec() {
  StreamSpec spec;
  spec.messages = chunks_of(document(), kChunk);
  return spec;
}

// Offset of the k-th (0-based) payload chunk message in a mode-1 envelope of kChunk chunks.
std::size_t chunk_offset(std::size_t k) { return 144 + 4113 + k * (kChunk + 17); }

TEST(EnvelopeProblems, AssembledEnvelopesAreValid) {
  // The builders above produce envelopes the reader accepts; every refusal
  // below changes exactly one thing.
  EXPECT_FALSE(read_all(assemble_signed(header_block(encode_manifest(base_manifest(false))), document()),
                        signer().public_key())
                   .error);
  const ReadOutcome out = read_all(assemble_encrypted(valid_spec()), signer().public_key(), &printer());
  ASSERT_FALSE(out.error) << out.error->message;
  EXPECT_EQ(out.payload, document());
}

TEST(EnvelopeProblems, KeywordsOfEveryProblem) {
  const std::vector<std::pair<EnvelopeProblem, std::string>> all = {
      {EnvelopeProblem::kMalformed, "malformed"},
      {EnvelopeProblem::kWrongRecipient, "wrong-recipient"},
      {EnvelopeProblem::kCannotDecrypt, "cannot-decrypt"},
      {EnvelopeProblem::kUnknownSigner, "unknown-signer"},
      {EnvelopeProblem::kBadSignature, "bad-signature"},
      {EnvelopeProblem::kNotYetValid, "not-yet-valid"},
      {EnvelopeProblem::kClockNotSet, "clock-not-set"},
      {EnvelopeProblem::kExpired, "expired"},
      {EnvelopeProblem::kLifetimeTooLong, "lifetime-too-long"},
      {EnvelopeProblem::kReplayed, "replayed"},
      {EnvelopeProblem::kLicenceUsedUp, "licence-used-up"},
      {EnvelopeProblem::kUnsupportedContent, "unsupported-content"},
      {EnvelopeProblem::kTooLarge, "too-large"},
      {EnvelopeProblem::kTampered, "tampered"},
      {EnvelopeProblem::kTruncated, "truncated"},
      {EnvelopeProblem::kTrailingData, "trailing-data"},
      {EnvelopeProblem::kDigestMismatch, "digest-mismatch"},
      {EnvelopeProblem::kIo, "io-error"}};
  for (const auto& [problem, keyword] : all) EXPECT_EQ(envelope_problem_keyword(problem), keyword);
}

TEST(EnvelopeProblems, MalformedPreamble) {
  const Bytes good = signed_envelope();
  expect_problem({}, EnvelopeProblem::kMalformed, "empty input");
  expect_problem(bytes_of("GIF89a and more"), EnvelopeProblem::kMalformed, "IPP3DENV");
  expect_problem(bytes_of("IPX"), EnvelopeProblem::kMalformed, "IPP3DENV");
  Bytes bad = good;
  bad[8] = 2;
  expect_problem(bad, EnvelopeProblem::kMalformed, "format version 2");
  bad = good;
  bad[9] = 2;
  expect_problem(bad, EnvelopeProblem::kMalformed, "mode 2");
  bad = good;
  bad[11] = 1;
  expect_problem(bad, EnvelopeProblem::kMalformed, "reserved");
}

TEST(EnvelopeProblems, MalformedHeaderBlock) {
  const Bytes manifest = encode_manifest(base_manifest(false));
  Bytes block = header_block(manifest);
  block[0] = 0;
  block[1] = 0;
  expect_problem(assemble_signed(block, document()), EnvelopeProblem::kMalformed, "manifest length 0");
  block[0] = 0x0f;
  block[1] = 0xbf;  // 4031
  expect_problem(assemble_signed(block, document()), EnvelopeProblem::kMalformed, "manifest length 4031");
  block = header_block(manifest);
  block[4095] = 1;
  expect_problem(assemble_signed(block, document()), EnvelopeProblem::kMalformed, "padding byte 4095");
  // A non-canonical manifest, even correctly signed: one byte left over.
  Bytes longer = manifest;
  longer.push_back(0);
  expect_problem(assemble_signed(header_block(longer), document()), EnvelopeProblem::kMalformed, "left over");
  // Mode 0 with a manifest that says encrypted (signed by the author).
  expect_problem(assemble_signed(header_block(encode_manifest(base_manifest(true))), document()),
                 EnvelopeProblem::kMalformed, "mode 0");
}

TEST(EnvelopeProblems, MalformedEncryptedEnvelopes) {
  StreamSpec spec = valid_spec();
  spec.block = header_block(encode_manifest(base_manifest(false)));
  expect_problem(assemble_encrypted(spec), EnvelopeProblem::kMalformed, "mode 1");
  spec = valid_spec();
  Manifest other = base_manifest(true);
  other.recipients = {other_printer().id()};
  spec.block = header_block(encode_manifest(other));
  expect_problem(assemble_encrypted(spec), EnvelopeProblem::kMalformed, "recipient differs");
  spec = valid_spec();
  spec.clear_length = document().size() + 1;
  expect_problem(assemble_encrypted(spec), EnvelopeProblem::kMalformed, "payload length");
  spec = valid_spec();
  spec.chunk = 512;
  spec.messages = chunks_of(document(), 512);
  expect_problem(assemble_encrypted(spec), EnvelopeProblem::kMalformed, "chunk size 512");
  spec = valid_spec();
  spec.chunk = (1 << 20) + 1;
  expect_problem(assemble_encrypted(spec), EnvelopeProblem::kMalformed, "chunk size 1048577");
  spec = valid_spec();
  spec.block_tag = crypto_secretstream_xchacha20poly1305_TAG_REKEY;
  expect_problem(assemble_encrypted(spec), EnvelopeProblem::kMalformed, "tag 2");
  spec = valid_spec();
  spec.messages[1].second = crypto_secretstream_xchacha20poly1305_TAG_PUSH;
  expect_problem(assemble_encrypted(spec), EnvelopeProblem::kMalformed, "chunk 2");
}

TEST(EnvelopeProblems, WrongRecipient) {
  const Bytes envelope = encrypted_envelope();
  expect_problem(envelope, EnvelopeProblem::kWrongRecipient, key_id_hex(printer().id()), &other_printer());
  expect_problem(envelope, EnvelopeProblem::kWrongRecipient, key_id_hex(other_printer().id()),
                 &other_printer());
}

TEST(EnvelopeProblems, CannotDecrypt) {
  const Bytes envelope = encrypted_envelope();
  expect_problem(envelope, EnvelopeProblem::kCannotDecrypt, "no printer key was given", nullptr);
  expect_problem(envelope, EnvelopeProblem::kCannotDecrypt, "not an X25519", &signer());
  Bytes bad = envelope;
  bad[12 + 28 + 40] ^= 1;  // inside the sealed content key
  expect_problem(bad, EnvelopeProblem::kCannotDecrypt, "sealed content key");
  bad = envelope;
  bad[12 + 19] ^= 1;  // the clear chunk size: associated data of message 1
  expect_problem(bad, EnvelopeProblem::kCannotDecrypt, "header block does not decrypt");
  bad = envelope;
  bad[12 + 27] ^= 1;  // the clear payload length
  expect_problem(bad, EnvelopeProblem::kCannotDecrypt, "header block does not decrypt");
  bad = envelope;
  bad[144 + 100] ^= 1;  // the encrypted header block
  expect_problem(bad, EnvelopeProblem::kCannotDecrypt, "header block does not decrypt");
  // Named for another printer (in the clear) but sealed to this one: the other printer cannot open it.
  StreamSpec spec = valid_spec();
  spec.recipient = other_printer().id();
  expect_problem(assemble_encrypted(spec), EnvelopeProblem::kCannotDecrypt, "sealed content key",
                 &other_printer());
}

TEST(EnvelopeProblems, UnknownSigner) {
  const SecretKey stranger = fixed_key(KeyAlgorithm::kEd25519, 0x70);
  for (const Bytes& envelope : {signed_envelope(), encrypted_envelope()}) {
    auto reader = EnvelopeReader::open(memory_source(envelope), &printer()).value();
    const auto refused = reader->verify_signature(stranger.public_key());
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().problem, EnvelopeProblem::kUnknownSigner);
    EXPECT_THAT(refused.error().message, HasSubstr(key_id_hex(signer().id())));
    EXPECT_THAT(refused.error().message, HasSubstr(key_id_hex(stranger.id())));
    // The ID is computed from the key bytes, not taken from the struct.
    PublicKey forged = stranger.public_key();
    forged.id = signer().id();
    EXPECT_EQ(reader->verify_signature(forged).error().problem, EnvelopeProblem::kUnknownSigner);
    EXPECT_EQ(reader->verify_signature(printer().public_key()).error().problem,
              EnvelopeProblem::kUnknownSigner);
  }
}

TEST(EnvelopeProblems, BadSignature) {
  // Flip one manifest bit (the document name stays valid) and keep the old signature.
  Bytes manifest = encode_manifest(base_manifest(false));
  const auto signature = signer().sign(signed_message(manifest));
  manifest[manifest.size() - 1] ^= 0x01;  // "raw.gcode" -> "raw.gcodd"
  ASSERT_TRUE(decode_manifest(manifest).ok());
  expect_problem(assemble_signed(header_block(manifest, signature), document()),
                 EnvelopeProblem::kBadSignature, "does not verify");
  // Flip a signature bit.
  Bytes envelope = signed_envelope();
  const std::size_t m = static_cast<std::size_t>(envelope[12]) << 8 | envelope[13];
  envelope[12 + 2 + m + 10] ^= 0x04;
  expect_problem(envelope, EnvelopeProblem::kBadSignature, "does not verify");
  // Encrypted: a re-fitted manifest inside a correctly encrypted stream.
  StreamSpec spec = valid_spec();
  Bytes encrypted_manifest = encode_manifest(base_manifest(true));
  const auto encrypted_signature = signer().sign(signed_message(encrypted_manifest));
  encrypted_manifest[encrypted_manifest.size() - 1] ^= 0x01;
  spec.block = header_block(encrypted_manifest, encrypted_signature);
  expect_problem(assemble_encrypted(spec), EnvelopeProblem::kBadSignature, "does not verify");
}

TEST(EnvelopeProblems, ClaimChecksOfTimesAndRecipients) {
  Manifest m = base_manifest(false);
  m.created = kNow;
  m.not_after = kNow + 1000;
  ClaimPolicy policy;
  policy.now = kNow - 300;
  EXPECT_TRUE(check_claims(m, policy).ok());
  policy.now = kNow - 301;
  auto refused = check_claims(m, policy);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().problem, EnvelopeProblem::kNotYetValid);
  EXPECT_THAT(refused.error().message, HasSubstr(std::to_string(kNow)));
  policy.now = kNow + 999;
  EXPECT_TRUE(check_claims(m, policy).ok());
  policy.now = kNow + 1000;
  refused = check_claims(m, policy);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().problem, EnvelopeProblem::kExpired);
  EXPECT_THAT(refused.error().message, HasSubstr(std::to_string(kNow + 1000)));
  policy.now = kNow;
  policy.max_lifetime = 1000;
  EXPECT_TRUE(check_claims(m, policy).ok());
  policy.max_lifetime = 999;
  refused = check_claims(m, policy);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().problem, EnvelopeProblem::kLifetimeTooLong);
  EXPECT_THAT(refused.error().message, HasSubstr("1000 s"));
  // Extreme values do not overflow.
  m.created = std::numeric_limits<std::int64_t>::min();
  m.not_after = std::numeric_limits<std::int64_t>::max();
  policy.now = 0;
  policy.max_lifetime = std::numeric_limits<std::int64_t>::max();
  EXPECT_EQ(check_claims(m, policy).error().problem, EnvelopeProblem::kLifetimeTooLong);
  policy.now = std::numeric_limits<std::int64_t>::max();
  m.created = std::numeric_limits<std::int64_t>::max() - 1;
  EXPECT_EQ(check_claims(m, policy).error().problem, EnvelopeProblem::kExpired);
}

TEST(EnvelopeProblems, AClockBeforeTheEarliestPlausibleTimeIsRefusedNotTrusted) {
  // An envelope that expired long ago, read on a host whose clock restarted at 1970.
  Manifest m = base_manifest(false);
  m.created = 1000;
  m.not_after = 2000;
  ClaimPolicy policy;
  policy.now = 1500;
  EXPECT_TRUE(check_claims(m, policy).ok());  // earliest_now 0: the clock is not judged
  policy.earliest_now = kNow;
  auto refused = check_claims(m, policy);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().problem, EnvelopeProblem::kClockNotSet);
  EXPECT_THAT(refused.error().message, HasSubstr("set the clock"));
  EXPECT_THAT(refused.error().message, HasSubstr(std::to_string(kNow)));
  // At the earliest plausible time the usual checks apply again.
  m.created = kNow;
  m.not_after = kNow + 10;
  policy.now = kNow;
  EXPECT_TRUE(check_claims(m, policy).ok());
  EXPECT_GT(build_time(), 1764547200);  // built after 2025-12-01
}

TEST(EnvelopeProblems, ClaimChecksOfRecipients) {
  Manifest m = base_manifest(false);
  ClaimPolicy policy;
  policy.now = kNow;
  policy.printer = printer().id();
  EXPECT_TRUE(check_claims(m, policy).ok());  // unaddressed, accepted
  policy.accept_unaddressed = false;
  auto refused = check_claims(m, policy);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().problem, EnvelopeProblem::kWrongRecipient);
  EXPECT_THAT(refused.error().message, HasSubstr("names no printer"));
  m.recipients = {other_printer().id()};
  refused = check_claims(m, policy);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().problem, EnvelopeProblem::kWrongRecipient);
  EXPECT_THAT(refused.error().message, HasSubstr(key_id_hex(other_printer().id())));
  m.recipients = {printer().id(), other_printer().id()};
  std::sort(m.recipients.begin(), m.recipients.end());
  EXPECT_TRUE(check_claims(m, policy).ok());
}

TEST(EnvelopeProblems, TooLarge) {
  for (const Bytes& envelope : {signed_envelope(), encrypted_envelope()}) {
    expect_problem(envelope, EnvelopeProblem::kTooLarge, "above this reader's limit", &printer(),
                   document().size() - 1);
    EXPECT_FALSE(read_all(envelope, signer().public_key(), &printer(), document().size()).error);
  }
}

TEST(EnvelopeProblems, TamperedChunks) {
  const Bytes good = encrypted_envelope();
  Bytes bad = good;
  bad[chunk_offset(1) + 500] ^= 0x20;
  expect_problem(bad, EnvelopeProblem::kTampered, "chunk 2");
  // Swapped: chunks 1 and 2 have the same size.
  bad = good;
  std::swap_ranges(bad.begin() + static_cast<std::ptrdiff_t>(chunk_offset(0)),
                   bad.begin() + static_cast<std::ptrdiff_t>(chunk_offset(1)),
                   bad.begin() + static_cast<std::ptrdiff_t>(chunk_offset(1)));
  expect_problem(bad, EnvelopeProblem::kTampered, "chunk 1");
  // Dropped: chunk 2 removed.
  bad = good;
  bad.erase(bad.begin() + static_cast<std::ptrdiff_t>(chunk_offset(1)),
            bad.begin() + static_cast<std::ptrdiff_t>(chunk_offset(2)));
  expect_problem(bad, EnvelopeProblem::kTampered, "chunk 2");
  // Repeated: chunk 1 twice.
  bad = good;
  bad.insert(bad.begin() + static_cast<std::ptrdiff_t>(chunk_offset(1)),
             good.begin() + static_cast<std::ptrdiff_t>(chunk_offset(0)),
             good.begin() + static_cast<std::ptrdiff_t>(chunk_offset(1)));
  expect_problem(bad, EnvelopeProblem::kTampered, "chunk 2");
  // The final message altered.
  bad = good;
  bad[bad.size() - 3] ^= 1;
  expect_problem(bad, EnvelopeProblem::kTampered, "final message");
}

TEST(EnvelopeProblems, TruncatedSignedEnvelope) {
  const Bytes good = signed_envelope();
  for (const std::size_t size : {std::size_t{5}, std::size_t{11}, std::size_t{12}, std::size_t{100},
                                 std::size_t{4107}, std::size_t{4108}, std::size_t{4109}, good.size() - 1}) {
    SCOPED_TRACE(size);
    expect_problem(Bytes(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(size)),
                   EnvelopeProblem::kTruncated,
                   size < 12     ? "preamble"
                   : size < 4108 ? "header block"
                                 : "payload");
  }
}

TEST(EnvelopeProblems, TruncatedEncryptedEnvelope) {
  const Bytes good = encrypted_envelope();
  const std::vector<std::pair<std::size_t, std::string>> cuts = {
      {20, "encryption header"},
      {143, "encryption header"},
      {144, "encrypted header block"},
      {4256, "encrypted header block"},
      {4257, "chunk 1"},
      {chunk_offset(0) + 10, "chunk 1"},
      {chunk_offset(2), "chunk 3"},
      {chunk_offset(3) + 50, "chunk 4"},
      {good.size() - 17, "final message"},  // before the final message
      {good.size() - 1, "final message"}};
  for (const auto& [size, words] : cuts) {
    SCOPED_TRACE(size);
    expect_problem(Bytes(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(size)),
                   EnvelopeProblem::kTruncated, words);
  }
  // A final tag too early (after chunk 2) and no final tag at all.
  StreamSpec spec = valid_spec();
  spec.messages.resize(2);
  spec.messages.emplace_back(Bytes(kChunk, 0), crypto_secretstream_xchacha20poly1305_TAG_FINAL);
  expect_problem(assemble_encrypted(spec), EnvelopeProblem::kTruncated, "ends early");
  spec = valid_spec();
  spec.messages.back().second = crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
  expect_problem(assemble_encrypted(spec), EnvelopeProblem::kTruncated, "no final message");
  spec = valid_spec();
  spec.block_tag = crypto_secretstream_xchacha20poly1305_TAG_FINAL;
  expect_problem(assemble_encrypted(spec), EnvelopeProblem::kTruncated, "after the header block");
}

TEST(EnvelopeProblems, TrailingData) {
  for (Bytes envelope : {signed_envelope(), encrypted_envelope()}) {
    envelope.push_back(0);
    expect_problem(envelope, EnvelopeProblem::kTrailingData, "follows the end");
  }
  // Another valid message after the final one.
  StreamSpec spec = valid_spec();
  spec.messages.emplace_back(Bytes{1, 2, 3}, crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
  expect_problem(assemble_encrypted(spec), EnvelopeProblem::kTrailingData, "follows the end");
}

TEST(EnvelopeProblems, DigestMismatch) {
  Bytes envelope = signed_envelope();
  envelope[4108 + 1234] ^= 0x01;
  expect_problem(envelope, EnvelopeProblem::kDigestMismatch, "SHA-256");
  // Encrypted: the author signed one document and encrypted another of the same length.
  StreamSpec spec = valid_spec();
  Bytes other = document();
  other[0] ^= 1;
  spec.messages = chunks_of(other, kChunk);
  expect_problem(assemble_encrypted(spec), EnvelopeProblem::kDigestMismatch, "differs from the signed");
}

TEST(EnvelopeProblems, InputAndOutputErrors) {
  const Bytes envelope = signed_envelope();
  const ByteSource failing = [](std::span<std::uint8_t>) -> Result<std::size_t> {
    return Error{IPP_STATUS_ERROR_INTERNAL, "read error: Input/output error", {}, 0};
  };
  const auto opened = EnvelopeReader::open(failing, nullptr);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().problem, EnvelopeProblem::kIo);
  EXPECT_THAT(opened.error().message, HasSubstr("Input/output error"));
  // A source that fails in the payload, and a sink that fails.
  std::size_t offset = 0;
  const ByteSource flaky = [&](std::span<std::uint8_t> buffer) -> Result<std::size_t> {
    if (offset >= 5000) return Error{IPP_STATUS_ERROR_INTERNAL, "connection reset", {}, 0};
    const std::size_t n = std::min(buffer.size(), envelope.size() - offset);
    std::copy_n(envelope.begin() + static_cast<std::ptrdiff_t>(offset), n, buffer.begin());
    offset += n;
    return n;
  };
  auto reader = EnvelopeReader::open(flaky, nullptr).value();
  ASSERT_TRUE(reader->verify_signature(signer().public_key()).ok());
  auto read = reader->read_payload([](std::span<const std::uint8_t>) -> Status { return {}; });
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().problem, EnvelopeProblem::kIo);
  EXPECT_THAT(read.error().message, HasSubstr("connection reset"));
  reader = EnvelopeReader::open(memory_source(envelope), nullptr).value();
  ASSERT_TRUE(reader->verify_signature(signer().public_key()).ok());
  read = reader->read_payload([](std::span<const std::uint8_t>) -> Status {
    return Error{IPP_STATUS_ERROR_INTERNAL, "spool full", {}, 0};
  });
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().problem, EnvelopeProblem::kIo);
  EXPECT_EQ(read.error().message, "spool full");
}

TEST(EnvelopeProblems, ExceptionsFromCallbacksBecomeErrors) {
  const ByteSource throwing_source = [](std::span<std::uint8_t>) -> Result<std::size_t> {
    throw std::runtime_error("source exploded");
  };
  const auto opened = EnvelopeReader::open(throwing_source, nullptr);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().problem, EnvelopeProblem::kIo);
  EXPECT_EQ(opened.error().message, "source exploded");
  const Bytes envelope = signed_envelope();
  auto reader = EnvelopeReader::open(memory_source(envelope), nullptr).value();
  ASSERT_TRUE(reader->verify_signature(signer().public_key()).ok());
  const auto read =
      reader->read_payload([](std::span<const std::uint8_t>) -> Status { throw std::bad_alloc(); });
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().problem, EnvelopeProblem::kIo);
  EXPECT_EQ(read.error().message, "out of memory");
  TempDir dir;
  const Status written = [&] {
    std::ofstream(dir / "doc") << "G28\n";
    return sign_file(dir / "doc", signer(), options_at(kNow), [](std::span<const std::uint8_t>) -> Status {
      throw std::runtime_error("sink exploded");
    });
  }();
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(written.error().message, "sink exploded");
  const auto key = parse_secret_key("", "k", [] { return std::optional<std::string>("x"); });
  EXPECT_FALSE(key.ok());
}

TEST(EnvelopeProblems, PayloadOnlyOnceAndOnlyAfterTheSignature) {
  const Bytes envelope = signed_envelope();
  auto reader = EnvelopeReader::open(memory_source(envelope), nullptr).value();
  int pieces = 0;
  const ByteSink count = [&](std::span<const std::uint8_t>) -> Status {
    ++pieces;
    return {};
  };
  EXPECT_EQ(reader->read_payload(count).error().problem, EnvelopeProblem::kBadSignature);
  EXPECT_FALSE(reader->verify_signature(fixed_key(KeyAlgorithm::kEd25519, 1).public_key()).ok());
  EXPECT_EQ(reader->read_payload(count).error().problem, EnvelopeProblem::kBadSignature);
  EXPECT_EQ(pieces, 0);
  ASSERT_TRUE(reader->verify_signature(signer().public_key()).ok());
  EXPECT_TRUE(reader->read_payload(count).ok());
  EXPECT_FALSE(reader->read_payload(count).ok());
}

}  // namespace
}  // namespace ipp3d::trust::testing
