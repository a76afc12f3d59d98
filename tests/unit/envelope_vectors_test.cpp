// The committed test vectors of tests/vectors/ (docs/envelope.md §8, the
// files are described in tests/vectors/README.md): the fixed keys and their
// IDs, the protected key file, the mode-0 envelope reproduced byte for byte
// from its fixed inputs, the mode-1 envelopes opening to the document, and
// every refusal vector refused for the reason in its name.
//
// Regenerate (mode-1 envelopes, the protected key and the fuzz seeds differ
// each time; everything else is reproduced exactly):
//   build/tests/envelope_vectors_test --gtest_also_run_disabled_tests --gtest_filter='*Regenerate*'
#include "ipp3d/trust/envelope.hpp"
#include "ipp3d/trust/keys.hpp"
#include "ipp3d/trust/sha256.hpp"

#include "trust_test_util.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

namespace ipp3d::trust::testing {
namespace {

const std::filesystem::path kVectors = std::filesystem::path(IPP3D_SOURCE_DIR) / "tests" / "vectors";
const std::filesystem::path kFuzzSeeds =
    std::filesystem::path(IPP3D_SOURCE_DIR) / "tests" / "fuzz" / "corpus" / "envelope";

// The fixed inputs (README.md repeats them).
constexpr std::int64_t kCreated = 1'767'225'600;  // 2026-01-01T00:00:00Z
constexpr std::int64_t kNotAfter = kCreated + 7 * 86400;
constexpr std::int64_t kCheckTime = kCreated + 86400;  // "now" for the claim checks
constexpr const char* kPassphrase = "correct horse battery staple";
constexpr std::size_t kVectorChunk = 1024;
constexpr const char* kSignerId = "0145c91a87d91d5260d06ce124835f74";
constexpr const char* kPrinterId = "be659aa51d4ee82e290b6ca1f6243561";
constexpr const char* kSignedSha256 = "1911102a25eb062171964a18f0d631a3ea1f09b4738cc33f223d0ac1bd74ea07";

// Secrets: bytes first, first+1, ..., first+31.
SecretKey signer_key() { return fixed_key(KeyAlgorithm::kEd25519, 0x01); }
SecretKey printer_key() { return fixed_key(KeyAlgorithm::kX25519, 0x41); }
SecretKey stranger_key() { return fixed_key(KeyAlgorithm::kEd25519, 0x81); }
SecretKey other_printer_key() { return fixed_key(KeyAlgorithm::kX25519, 0xc1); }

Nonce fixed_nonce() {
  Nonce n{};
  for (std::size_t i = 0; i < n.size(); ++i) n[i] = static_cast<std::uint8_t>(0xa0 + i);
  return n;
}

Bytes read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << path;
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_file(const std::filesystem::path& path, const Bytes& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

std::string text_of(const std::filesystem::path& path) {
  const Bytes bytes = read_file(path);
  return std::string(bytes.begin(), bytes.end());
}

// The options of signed.ipp3d; `adjust` changes them for derived vectors.
SignOptions vector_options() {
  SignOptions options;
  options.document_name = "document.gcode";
  options.created = kCreated;
  options.not_after = kNotAfter;
  options.recipients = {printer_key().id()};
  options.licence = Licence{"vector-licence-1", 5};
  options.nonce = fixed_nonce();
  return options;
}

SignOptions encrypted_options(const SecretKey& printer) {
  SignOptions options = vector_options();
  options.recipients.clear();
  options.encrypt_to = printer.public_key();
  options.chunk_size = kVectorChunk;
  return options;
}

Bytes flipped(Bytes bytes, std::size_t offset, std::uint8_t mask = 0x01) {
  bytes.at(offset) ^= mask;
  return bytes;
}

// Every vector that must be refused, by file name, made from the fixed inputs.
std::map<std::string, Bytes> refusal_vectors(const Bytes& document) {
  const SecretKey signer = signer_key();
  const Bytes signed_envelope = sign_bytes(document, signer, vector_options()).value();
  const Bytes encrypted = sign_bytes(document, signer, encrypted_options(printer_key())).value();
  const std::size_t manifest_size = static_cast<std::size_t>(signed_envelope[12]) << 8 | signed_envelope[13];
  const auto with_times = [&](std::int64_t created, std::int64_t not_after) {
    SignOptions options = vector_options();
    options.created = created;
    options.not_after = not_after;
    return sign_bytes(document, signer, options).value();
  };
  std::map<std::string, Bytes> out;
  out["refused-malformed.ipp3d"] = flipped(signed_envelope, 12 + 4095);  // non-zero header padding
  out["refused-wrong-recipient.ipp3d"] =
      sign_bytes(document, signer, encrypted_options(other_printer_key())).value();
  out["refused-cannot-decrypt.ipp3d"] = flipped(encrypted, 12 + 28 + 40);  // inside the sealed content key
  out["refused-unknown-signer.ipp3d"] = sign_bytes(document, stranger_key(), vector_options()).value();
  out["refused-bad-signature.ipp3d"] = flipped(signed_envelope, 14 + manifest_size - 1);  // last name byte
  out["refused-not-yet-valid.ipp3d"] = with_times(kCheckTime + 3600, kCheckTime + 7200);
  out["refused-expired.ipp3d"] = with_times(kCreated - 7 * 86400, kCheckTime - 1);
  out["refused-lifetime-too-long.ipp3d"] = with_times(kCreated, kCreated + 31 * 86400);
  out["refused-tampered.ipp3d"] = flipped(encrypted, 144 + 4113 + (kVectorChunk + 17) + 100);  // chunk 2
  out["refused-truncated.ipp3d"] = Bytes(encrypted.begin(), encrypted.end() - 17);  // no final message
  out["refused-trailing-data.ipp3d"] = signed_envelope;
  out["refused-trailing-data.ipp3d"].push_back('\n');
  out["refused-digest-mismatch.ipp3d"] = flipped(signed_envelope, 4108 + 1000);  // a payload byte
  return out;
}

// The problem a printer (printer.key, trusting signer.pub, at kCheckTime) finds; nullopt: valid.
std::optional<EnvelopeProblem> problem_of(const Bytes& envelope, Bytes* payload = nullptr) {
  const SecretKey printer = printer_key();
  const PublicKey signer = signer_key().public_key();
  ReadOutcome out = read_all(envelope, signer, &printer);
  if (!out.error) {
    ClaimPolicy policy;
    policy.printer = printer.id();
    policy.now = kCheckTime;
    if (auto claims = check_claims(out.manifest, policy); !claims) return claims.error().problem;
    if (payload != nullptr) *payload = out.payload;
    return std::nullopt;
  }
  return out.error->problem;
}

TEST(Vectors, KeysAndKeyIds) {
  const auto signer = parse_secret_key(text_of(kVectors / "signer.key"), "signer.key");
  ASSERT_TRUE(signer.ok()) << signer.error().message;
  EXPECT_EQ(signer->public_key(), signer_key().public_key());
  EXPECT_EQ(key_id_hex(signer->id()), kSignerId);
  const auto printer = parse_secret_key(text_of(kVectors / "printer.key"), "printer.key");
  ASSERT_TRUE(printer.ok()) << printer.error().message;
  EXPECT_EQ(printer->public_key(), printer_key().public_key());
  EXPECT_EQ(key_id_hex(printer->id()), kPrinterId);
  EXPECT_EQ(parse_public_key(text_of(kVectors / "signer.pub"), "signer.pub")->id, signer_key().id());
  EXPECT_EQ(parse_public_key(text_of(kVectors / "printer.pub"), "printer.pub")->id, printer_key().id());
  EXPECT_EQ(parse_public_key(text_of(kVectors / "stranger.pub"), "stranger.pub")->id, stranger_key().id());
  EXPECT_EQ(parse_public_key(text_of(kVectors / "other-printer.pub"), "other-printer.pub")->id,
            other_printer_key().id());
  // The unprotected files are exactly what the writer makes of the fixed secrets.
  EXPECT_EQ(text_of(kVectors / "signer.pub"), format_public_key(signer_key().public_key()));
}

TEST(Vectors, ProtectedKeyOpensWithItsPassphrase) {
  const std::string text = text_of(kVectors / "signer-protected.key");
  EXPECT_NE(text.find("protection: argon2id\n"), std::string::npos);
  const auto key =
      parse_secret_key(text, "signer-protected.key", [] { return std::optional<std::string>(kPassphrase); });
  ASSERT_TRUE(key.ok()) << key.error().message;
  EXPECT_EQ(to_hex(key->secret()), to_hex(signer_key().secret()));
  const auto wrong =
      parse_secret_key(text, "signer-protected.key", [] { return std::optional<std::string>("wrong"); });
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.error().message.find("wrong passphrase"), std::string::npos);
}

TEST(Vectors, SignedEnvelopeIsReproducedByteForByte) {
  const Bytes document = read_file(kVectors / "document.gcode");
  ASSERT_GT(document.size(), 3 * kVectorChunk);
  const Bytes committed = read_file(kVectors / "signed.ipp3d");
  const Bytes made = sign_bytes(document, signer_key(), vector_options()).value();
  EXPECT_EQ(made, committed);
  EXPECT_EQ(to_hex(Sha256::of(committed).value()), kSignedSha256);
  Bytes payload;
  EXPECT_EQ(problem_of(committed, &payload), std::nullopt);
  EXPECT_EQ(payload, document);
}

TEST(Vectors, EncryptedEnvelopesOpenToTheDocument) {
  const Bytes document = read_file(kVectors / "document.gcode");
  for (const char* name : {"encrypted.ipp3d", "encrypted-empty.ipp3d"}) {
    SCOPED_TRACE(name);
    const Bytes envelope = read_file(kVectors / name);
    const auto outer = parse_outer_header(envelope);
    ASSERT_TRUE(outer.ok());
    EXPECT_TRUE(outer->encrypted);
    EXPECT_EQ(key_id_hex(outer->recipient), kPrinterId);
    EXPECT_EQ(outer->chunk_size, kVectorChunk);
    Bytes payload;
    ASSERT_EQ(problem_of(envelope, &payload), std::nullopt);
    EXPECT_EQ(payload, std::string(name) == "encrypted.ipp3d" ? document : Bytes{});
  }
}

TEST(Vectors, RefusalVectorsAreRefusedForTheirReason) {
  const Bytes document = read_file(kVectors / "document.gcode");
  const auto expected = refusal_vectors(document);
  std::size_t found = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kVectors)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("refused-", 0) != 0) continue;
    SCOPED_TRACE(name);
    ++found;
    const std::string keyword = name.substr(8, name.size() - 8 - 6);  // "refused-" ... ".ipp3d"
    const auto problem = problem_of(read_file(entry.path()));
    ASSERT_TRUE(problem) << "accepted";
    EXPECT_EQ(envelope_problem_keyword(*problem), keyword);
    ASSERT_TRUE(expected.contains(name));
  }
  EXPECT_EQ(found, expected.size());
  // The deterministic ones (no mode-1 randomness) are reproduced exactly.
  for (const char* name :
       {"refused-malformed.ipp3d", "refused-unknown-signer.ipp3d", "refused-bad-signature.ipp3d",
        "refused-not-yet-valid.ipp3d", "refused-expired.ipp3d", "refused-lifetime-too-long.ipp3d",
        "refused-trailing-data.ipp3d", "refused-digest-mismatch.ipp3d"}) {
    EXPECT_EQ(read_file(kVectors / name), expected.at(name)) << name;
  }
}

// Writes every vector and the fuzz seeds. Disabled: run by hand (see the top).
TEST(Vectors, DISABLED_Regenerate) {
  const Bytes document = read_file(kVectors / "document.gcode");
  ASSERT_FALSE(document.empty());
  const auto write_text = [](const std::string& name, const std::string& text) {
    write_file(kVectors / name, Bytes(text.begin(), text.end()));
  };
  const auto secret_text = [](const SecretKey& key, const std::optional<std::string>& passphrase) {
    TempDir dir;
    EXPECT_TRUE(write_secret_key_file(dir / "key", key, passphrase).ok());
    return text_of(dir / "key");
  };
  write_text("signer.key", secret_text(signer_key(), std::nullopt));
  write_text("signer-protected.key", secret_text(signer_key(), std::string(kPassphrase)));
  write_text("printer.key", secret_text(printer_key(), std::nullopt));
  write_text("signer.pub", format_public_key(signer_key().public_key()));
  write_text("printer.pub", format_public_key(printer_key().public_key()));
  write_text("stranger.pub", format_public_key(stranger_key().public_key()));
  write_text("other-printer.pub", format_public_key(other_printer_key().public_key()));
  const Bytes signed_envelope = sign_bytes(document, signer_key(), vector_options()).value();
  write_file(kVectors / "signed.ipp3d", signed_envelope);
  write_file(kVectors / "encrypted.ipp3d",
             sign_bytes(document, signer_key(), encrypted_options(printer_key())).value());
  write_file(kVectors / "encrypted-empty.ipp3d",
             sign_bytes({}, signer_key(), encrypted_options(printer_key())).value());
  for (const auto& [name, bytes] : refusal_vectors(document)) write_file(kVectors / name, bytes);
  std::cout << "signer key ID " << key_id_hex(signer_key().id()) << "\nprinter key ID "
            << key_id_hex(printer_key().id()) << "\nsigned.ipp3d SHA-256 "
            << to_hex(Sha256::of(signed_envelope).value()) << "\n";

  // Fuzz seeds: small envelopes of both modes by the fuzz target's keys (the
  // vector signer and printer), and some refusals.
  std::filesystem::create_directories(kFuzzSeeds);
  const Bytes small = Bytes(document.begin(), document.begin() + 300);
  SignOptions plain = vector_options();
  write_file(kFuzzSeeds / "signed", sign_bytes(small, signer_key(), plain).value());
  plain.recipients.clear();
  plain.licence.reset();
  write_file(kFuzzSeeds / "signed-unaddressed-empty", sign_bytes({}, signer_key(), plain).value());
  write_file(kFuzzSeeds / "encrypted",
             sign_bytes(small, signer_key(), encrypted_options(printer_key())).value());
  write_file(kFuzzSeeds / "encrypted-empty",
             sign_bytes({}, signer_key(), encrypted_options(printer_key())).value());
  const auto refusals = refusal_vectors(document);
  for (const std::string name :
       {"refused-malformed", "refused-tampered", "refused-truncated", "refused-digest-mismatch"}) {
    write_file(kFuzzSeeds / name, refusals.at(name + ".ipp3d"));
  }
}

}  // namespace
}  // namespace ipp3d::trust::testing
