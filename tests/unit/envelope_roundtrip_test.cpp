// Writer and reader round trips (docs/envelope.md §4-5): both modes, sizes
// around the chunk size, chunk sizes 1024 and 65536, exact envelope sizes,
// what the reader has consumed when the claims are known, sign_file on real
// files (pipe refused, a file changed between the two reads detected), and
// option errors.
#include "ipp3d/trust/envelope.hpp"
#include "ipp3d/trust/sha256.hpp"

#include "trust_test_util.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sys/stat.h>

namespace ipp3d::trust::testing {
namespace {

using ::testing::HasSubstr;

constexpr std::int64_t kNow = 1'790'000'000;

const SecretKey& signer() {
  static const SecretKey kKey = fixed_key(KeyAlgorithm::kEd25519, 0x10);
  return kKey;
}
const SecretKey& printer() {
  static const SecretKey kKey = fixed_key(KeyAlgorithm::kX25519, 0x20);
  return kKey;
}

std::uint64_t expected_size(bool encrypted, std::uint64_t length, std::uint64_t chunk) {
  if (!encrypted) return 4108 + length;
  return 144 + 4113 + length + 17 * ((length + chunk - 1) / chunk) + 17;
}

struct Case {
  bool encrypted;
  std::size_t chunk;
  std::size_t length;
};

class RoundTrip : public ::testing::TestWithParam<Case> {};

TEST_P(RoundTrip, SignThenReadGivesTheDocumentAndClaims) {
  const Case c = GetParam();
  const Bytes document = random_bytes(c.length, static_cast<std::uint32_t>(c.length + c.chunk));
  SignOptions options = options_at(kNow);
  options.chunk_size = c.chunk;
  if (c.encrypted) options.encrypt_to = printer().public_key();
  const auto envelope = sign_bytes(document, signer(), options);
  ASSERT_TRUE(envelope.ok()) << envelope.error().message;
  EXPECT_EQ(envelope->size(), expected_size(c.encrypted, c.length, c.chunk));
  EXPECT_EQ(Bytes(envelope->begin(), envelope->begin() + 8), bytes_of("IPP3DENV"));
  EXPECT_EQ((*envelope)[9], c.encrypted ? 1 : 0);

  const ReadOutcome out = read_all(*envelope, signer().public_key(), c.encrypted ? &printer() : nullptr);
  ASSERT_FALSE(out.error) << out.error->message;
  EXPECT_EQ(out.payload, document);
  const Manifest& m = out.manifest;
  EXPECT_EQ(m.encrypted, c.encrypted);
  EXPECT_EQ(m.payload_length, c.length);
  EXPECT_EQ(m.payload_sha256, Sha256::of(document).value());
  EXPECT_EQ(m.signer, signer().id());
  EXPECT_EQ(m.created, kNow);
  EXPECT_EQ(m.not_after, kNow + 7 * 86400);
  EXPECT_EQ(m.document_name, "part.gcode");
  EXPECT_EQ(m.content_type, "text/x-gcode");
  EXPECT_EQ(m.recipients, c.encrypted ? std::vector<KeyId>{printer().id()} : std::vector<KeyId>{});
  if (c.encrypted) {
    // Not one plaintext byte of a non-trivial document appears in the clear.
    const std::string text(envelope->begin(), envelope->end());
    if (c.length >= 16) {
      EXPECT_EQ(text.find(std::string(document.begin(), document.begin() + 16)), std::string::npos);
    }
    EXPECT_EQ(text.find("part.gcode"), std::string::npos);
  }
}

std::vector<Case> cases() {
  std::vector<Case> out;
  for (const bool encrypted : {false, true}) {
    for (const std::size_t c : {std::size_t{1024}, std::size_t{65536}}) {
      for (const std::size_t length : {std::size_t{0}, std::size_t{1}, c - 1, c, c + 1, 3 * c, 3 * c + 5}) {
        out.push_back({encrypted, c, length});
      }
    }
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(BothModes, RoundTrip, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& param) {
                           const Case& c = param.param;
                           return std::string(c.encrypted ? "encrypted" : "signed") + "_chunk" +
                                  std::to_string(c.chunk) + "_length" + std::to_string(c.length);
                         });

TEST(Reader, ClaimsAreKnownAfterTheFirstFewKilobytes) {
  const Bytes document = random_bytes(200'000, 1);
  for (const bool encrypted : {false, true}) {
    SignOptions options = options_at(kNow);
    if (encrypted) options.encrypt_to = printer().public_key();
    const auto envelope = sign_bytes(document, signer(), options).value();
    auto reader = EnvelopeReader::open(memory_source(envelope), &printer());
    ASSERT_TRUE(reader.ok()) << reader.error().message;
    EXPECT_EQ((*reader)->bytes_read(), encrypted ? 4257u : 4108u);
    EXPECT_EQ((*reader)->encrypted(), encrypted);
    EXPECT_EQ((*reader)->manifest().payload_length, document.size());
    ASSERT_TRUE((*reader)->verify_signature(signer().public_key()).ok());
    EXPECT_EQ((*reader)->bytes_read(), encrypted ? 4257u : 4108u);
    std::size_t largest = 0;
    ASSERT_TRUE((*reader)
                    ->read_payload([&](std::span<const std::uint8_t> piece) -> Status {
                      largest = std::max(largest, piece.size());
                      return {};
                    })
                    .ok());
    EXPECT_EQ((*reader)->bytes_read(), envelope.size());
    EXPECT_LE(largest, encrypted ? options.chunk_size : std::size_t{1} << 20);
  }
}

TEST(Reader, PlainPayloadMovesInBlocksOfAtMostOneMebibyte) {
  const Bytes document = random_bytes((std::size_t{5} << 20) / 2, 2);
  const auto envelope = sign_bytes(document, signer(), options_at(kNow)).value();
  auto reader = EnvelopeReader::open(memory_source(envelope), nullptr).value();
  ASSERT_TRUE(reader->verify_signature(signer().public_key()).ok());
  std::vector<std::size_t> pieces;
  ASSERT_TRUE(reader
                  ->read_payload([&](std::span<const std::uint8_t> piece) -> Status {
                    pieces.push_back(piece.size());
                    return {};
                  })
                  .ok());
  EXPECT_EQ(pieces, (std::vector<std::size_t>{1 << 20, 1 << 20, 1 << 19}));
}

TEST(Reader, WorksWithASourceThatReturnsOneByteAtATime) {
  const Bytes document = random_bytes(5000, 3);
  SignOptions options = options_at(kNow);
  options.encrypt_to = printer().public_key();
  options.chunk_size = 1024;
  const auto envelope = sign_bytes(document, signer(), options).value();
  std::size_t offset = 0;
  const ByteSource trickle = [&](std::span<std::uint8_t> buffer) -> Result<std::size_t> {
    if (offset == envelope.size() || buffer.empty()) return std::size_t{0};
    buffer[0] = envelope[offset++];
    return std::size_t{1};
  };
  auto reader = EnvelopeReader::open(trickle, &printer()).value();
  ASSERT_TRUE(reader->verify_signature(signer().public_key()).ok());
  Bytes payload;
  ASSERT_TRUE(reader
                  ->read_payload([&](std::span<const std::uint8_t> piece) -> Status {
                    payload.insert(payload.end(), piece.begin(), piece.end());
                    return {};
                  })
                  .ok());
  EXPECT_EQ(payload, document);
}

TEST(OuterHeader, IsWhatAnIntermediarySees) {
  const Bytes document = random_bytes(5000, 8);
  const auto plain = sign_bytes(document, signer(), options_at(kNow)).value();
  const auto outer_plain = parse_outer_header(std::span(plain).first(12));
  ASSERT_TRUE(outer_plain.ok());
  EXPECT_FALSE(outer_plain->encrypted);
  SignOptions options = options_at(kNow);
  options.encrypt_to = printer().public_key();
  options.chunk_size = 2048;
  const auto encrypted = sign_bytes(document, signer(), options).value();
  const auto outer = parse_outer_header(encrypted);
  ASSERT_TRUE(outer.ok());
  EXPECT_TRUE(outer->encrypted);
  EXPECT_EQ(outer->recipient, printer().id());
  EXPECT_EQ(outer->chunk_size, 2048u);
  EXPECT_EQ(outer->payload_length, document.size());
  EXPECT_EQ(parse_outer_header(std::span(encrypted).first(143)).error().problem, EnvelopeProblem::kTruncated);
  EXPECT_EQ(parse_outer_header(std::span(encrypted).first(5)).error().problem, EnvelopeProblem::kTruncated);
  EXPECT_EQ(parse_outer_header(bytes_of("PK\x03\x04 zip")).error().problem, EnvelopeProblem::kMalformed);
}

TEST(Writer, RecipientsAreSortedAndDeduplicatedAndLicenceKept) {
  const SecretKey a = fixed_key(KeyAlgorithm::kX25519, 0x30);
  const SecretKey b = fixed_key(KeyAlgorithm::kX25519, 0x31);
  SignOptions options = options_at(kNow);
  options.recipients = {b.id(), a.id(), b.id()};
  options.licence = Licence{"run-7", 3};
  const auto envelope = sign_bytes(bytes_of("G28\n"), signer(), options).value();
  const ReadOutcome out = read_all(envelope, signer().public_key());
  ASSERT_FALSE(out.error);
  std::vector<KeyId> sorted = {a.id(), b.id()};
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(out.manifest.recipients, sorted);
  EXPECT_EQ(out.manifest.licence, (Licence{"run-7", 3}));
}

TEST(Writer, RandomLicenceIdsAreValidAndDistinct) {
  const std::string a = random_licence_id();
  const std::string b = random_licence_id();
  EXPECT_NE(a, b);
  EXPECT_EQ(a.size(), 32u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
  SignOptions options = options_at(kNow);
  options.licence = Licence{a, 2};
  EXPECT_EQ(read_all(sign_bytes(bytes_of("G28\n"), signer(), options).value(), signer().public_key())
                .manifest.licence,
            options.licence);
}

TEST(Writer, SignedModeIsDeterministicWithAFixedNonce) {
  SignOptions options = options_at(kNow);
  options.nonce = Nonce{};
  const Bytes document = bytes_of("G28\nG1 X10 Y10\n");
  EXPECT_EQ(sign_bytes(document, signer(), options).value(), sign_bytes(document, signer(), options).value());
  SignOptions random_nonce = options_at(kNow);
  EXPECT_NE(sign_bytes(document, signer(), random_nonce).value(),
            sign_bytes(document, signer(), random_nonce).value());
}

TEST(Writer, OptionErrorsNameTheOption) {
  const Bytes document = bytes_of("G28\n");
  const auto error_of = [&](const SignOptions& options, const SecretKey& key) {
    const auto out = sign_bytes(document, key, options);
    EXPECT_FALSE(out.ok());
    return out.ok() ? std::string() : out.error().message;
  };
  SignOptions o = options_at(kNow);
  o.not_after = kNow;
  EXPECT_THAT(error_of(o, signer()), HasSubstr("not-after"));
  o = options_at(kNow);
  o.chunk_size = 1023;
  EXPECT_THAT(error_of(o, signer()), HasSubstr("chunk_size"));
  o.chunk_size = (1 << 20) + 1;
  EXPECT_THAT(error_of(o, signer()), HasSubstr("chunk_size"));
  o = options_at(kNow);
  o.encrypt_to = signer().public_key();
  EXPECT_THAT(error_of(o, signer()), HasSubstr("encrypt_to"));
  o = options_at(kNow);
  o.encrypt_to = printer().public_key();
  o.recipients = {fixed_key(KeyAlgorithm::kX25519, 0x77).id()};
  EXPECT_THAT(error_of(o, signer()), HasSubstr("recipients"));
  o = options_at(kNow);
  EXPECT_THAT(error_of(o, printer()), HasSubstr("Ed25519"));
  o.licence = Licence{"no spaces", 1};
  EXPECT_THAT(error_of(o, signer()), HasSubstr("licence ID"));
  o = options_at(kNow);
  o.document_name = "a\nb";
  EXPECT_THAT(error_of(o, signer()), HasSubstr("document name"));
  o = options_at(kNow);
  o.content_type = "G-code";
  EXPECT_THAT(error_of(o, signer()), HasSubstr("content type"));
  // The printer key may be named as recipient as well.
  o = options_at(kNow);
  o.encrypt_to = printer().public_key();
  o.recipients = {printer().id()};
  EXPECT_TRUE(sign_bytes(document, signer(), o).ok());
}

// Collects sink output; `on_first` runs before the first bytes are taken.
struct Collector {
  Bytes bytes;
  std::function<void()> on_first;
  ByteSink sink() {
    return [this](std::span<const std::uint8_t> piece) -> Status {
      if (bytes.empty() && on_first) on_first();
      bytes.insert(bytes.end(), piece.begin(), piece.end());
      return {};
    };
  }
};

void write_file(const std::filesystem::path& path, const Bytes& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

TEST(SignFile, EqualsSignBytesForTheSameInputs) {
  TempDir dir;
  const Bytes document = random_bytes(300'000, 4);
  write_file(dir / "doc.gcode", document);
  SignOptions options = options_at(kNow);
  options.nonce = Nonce{1, 2, 3};
  Collector out;
  const Status signed_file = sign_file(dir / "doc.gcode", signer(), options, out.sink());
  ASSERT_TRUE(signed_file.ok()) << signed_file.error().message;
  EXPECT_EQ(out.bytes, sign_bytes(document, signer(), options).value());
  options.encrypt_to = printer().public_key();
  Collector encrypted;
  ASSERT_TRUE(sign_file(dir / "doc.gcode", signer(), options, encrypted.sink()).ok());
  EXPECT_EQ(read_all(encrypted.bytes, signer().public_key(), &printer()).payload, document);
}

TEST(SignFile, RefusesAPipeOrDevice) {
  TempDir dir;
  const auto fifo = dir / "fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  for (const std::filesystem::path& input : {fifo, std::filesystem::path("/dev/null"), dir.path()}) {
    Collector out;
    const Status refused = sign_file(input, signer(), options_at(kNow), out.sink());
    ASSERT_FALSE(refused.ok()) << input;
    EXPECT_THAT(refused.error().message, HasSubstr("not a regular file"));
    EXPECT_THAT(refused.error().message, HasSubstr("save it to a file first"));
    EXPECT_TRUE(out.bytes.empty());
  }
  const Status missing = sign_file(dir / "absent", signer(), options_at(kNow), Collector().sink());
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.error().message, HasSubstr("absent"));
}

TEST(SignFile, DetectsAFileChangedBetweenTheTwoReads) {
  TempDir dir;
  const auto path = dir / "doc.gcode";
  const Bytes original = random_bytes(100'000, 5);
  Bytes same_length = original;
  same_length[50'000] ^= 1;
  Bytes longer = original;
  longer.push_back('\n');
  const Bytes shorter(original.begin(), original.end() - 1);
  for (const bool encrypted : {false, true}) {
    for (const Bytes* replacement : std::vector<const Bytes*>{&same_length, &longer, &shorter}) {
      write_file(path, original);
      SignOptions options = options_at(kNow);
      if (encrypted) options.encrypt_to = printer().public_key();
      Collector out;
      // The first output is written after the first read: change the file then.
      out.on_first = [&] { write_file(path, *replacement); };
      const Status changed = sign_file(path, signer(), options, out.sink());
      ASSERT_FALSE(changed.ok()) << encrypted << " " << replacement->size();
      EXPECT_THAT(changed.error().message, HasSubstr("changed while it was being signed"));
      // What was written does not pass as a valid envelope either.
      EXPECT_TRUE(read_all(out.bytes, signer().public_key(), &printer()).error);
    }
  }
}

TEST(SignFile, SinkErrorsStopTheWriter) {
  TempDir dir;
  write_file(dir / "doc", random_bytes(10, 6));
  int calls = 0;
  const Status failed =
      sign_file(dir / "doc", signer(), options_at(kNow), [&](std::span<const std::uint8_t>) -> Status {
        ++calls;
        return Error{IPP_STATUS_ERROR_INTERNAL, "disk full", {}, 0};
      });
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().message, "disk full");
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace ipp3d::trust::testing
