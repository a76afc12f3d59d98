// Tests of the server's document check (server/intake/document_check.cpp):
// every refusal reason of docs/envelope.md §6 against a real state database,
// acceptance of signed and encrypted envelopes, replay and licence rules,
// and that a refusal leaves nothing behind and consumes nothing.
#include "intake/document_check.hpp"

#include "ipp3d/gcode/limits.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ctime>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

namespace ipp3d::server {
namespace {

using ::testing::HasSubstr;
using trust::EnvelopeProblem;

class DocumentCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "ipp3d-check-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    auto store = StateStore::open(dir_ / "ipp3d.db");
    ASSERT_TRUE(store.ok());
    store_ = std::move(store).value();
    trust_signer(signer_, "alice");
    now_ = static_cast<std::int64_t>(std::time(nullptr));
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // Trusts `key` as signer `name`, bound to account `user` ("" = not bound).
  void trust_signer(const trust::SecretKey& key, const std::string& name, const std::string& user = "") {
    const auto& pub = key.public_key();
    ASSERT_TRUE(
        store_->add_trusted_signer({name, trust::key_id_hex(pub.id), trust::hex_text(pub.bytes), "", 0, user})
            .ok());
  }

  // An envelope of `document_` signed by `key` with options adjusted by `adjust`.
  std::string envelope(const std::function<void(trust::SignOptions&)>& adjust = {},
                       const trust::SecretKey* key = nullptr) {
    trust::SignOptions options;
    options.document_name = "part.gcode";
    options.created = now_;
    options.not_after = now_ + 3600;
    if (adjust) adjust(options);
    const auto* bytes = reinterpret_cast<const std::uint8_t*>(document_.data());
    auto made = trust::sign_bytes({bytes, document_.size()}, key != nullptr ? *key : signer_, options);
    EXPECT_TRUE(made.ok()) << (made.ok() ? "" : made.error().message);
    return made.ok() ? std::string(made->begin(), made->end()) : std::string();
  }

  // Writes `bytes` as the spool file of job `job_id` and checks it.
  Result<VerifiedDocument, DocumentRefusal> check(const std::string& bytes, int job_id = 1,
                                                  bool is_envelope = true, int copies = 1) {
    const auto spool = dir_ / ("spool-" + std::to_string(job_id));
    std::ofstream(spool, std::ios::binary) << bytes;
    const DocumentRequest request{"mk4",    job_id,
                                  spool,    is_envelope,
                                  copies,   dir_ / ("verified-" + std::to_string(job_id) + ".gcode"),
                                  gate_job_};
    return check_document(request,
                          DocumentPolicy{security_, printer_key_, *store_, limits_, now_, capacity_});
  }

  // Expects a refusal with `problem` and no verified file left behind.
  void expect_refused(const std::string& bytes, EnvelopeProblem problem, const std::string& text = "",
                      int job_id = 1) {
    auto result = check(bytes, job_id);
    ASSERT_FALSE(result.ok()) << "accepted, expected " << trust::envelope_problem_keyword(problem);
    EXPECT_EQ(result.error().problem, problem) << result.error().message;
    EXPECT_THAT(result.error().message,
                HasSubstr(std::string("Refused (") + trust::envelope_problem_keyword(problem) + ")"));
    if (!text.empty()) {
      EXPECT_THAT(result.error().message, HasSubstr(text));
    }
    EXPECT_FALSE(std::filesystem::exists(dir_ / ("verified-" + std::to_string(job_id) + ".gcode")));
  }

  static std::string read(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  std::filesystem::path dir_;
  std::unique_ptr<StateStore> store_;
  trust::SecretKey signer_ = trust::SecretKey::generate(trust::KeyAlgorithm::kEd25519);
  trust::SecretKey printer_key_ = trust::SecretKey::generate(trust::KeyAlgorithm::kX25519);
  config::SecurityConfig security_;
  gcode::Limits limits_ = gcode::limits_for(config::default_config().printers.front());
  UploadCapacity capacity_;
  gcode::Job gate_job_;
  std::int64_t now_ = 0;
  std::string document_ = "; test part\nG28\nM104 S200\nG1 X10 Y10 Z0.2 F3000\nG1 X20 E1.5\n";
};

TEST_F(DocumentCheckTest, AcceptsASignedEnvelopeIntoAPrivateVerifiedFile) {
  auto result = check(envelope());
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(read(result->plaintext), document_);
  EXPECT_TRUE(result->owns_plaintext);
  EXPECT_EQ(result->size, document_.size());
  EXPECT_EQ(result->sha256.size(), 64U);
  EXPECT_EQ(result->signer_name, "alice");
  EXPECT_EQ(result->signer_user, "");  // not bound to an account
  EXPECT_EQ(result->document_name, "part.gcode");
  struct stat info {};
  ASSERT_EQ(::stat(result->plaintext.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600U);
}

TEST_F(DocumentCheckTest, AcceptsAnEnvelopeEncryptedToThisPrinter) {
  auto result = check(envelope([&](trust::SignOptions& o) { o.encrypt_to = printer_key_.public_key(); }));
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(read(result->plaintext), document_);
}

TEST_F(DocumentCheckTest, PlainGcodeIsRefusedWhereSignaturesAreRequired) {
  auto result = check(document_, 1, /*is_envelope=*/false);
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.error().message, HasSubstr("signed jobs only"));
}

TEST_F(DocumentCheckTest, PlainGcodeIsAcceptedWhereSignaturesAreNotRequired) {
  security_.require_signature = false;
  auto result = check(document_, 1, /*is_envelope=*/false);
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_FALSE(result->owns_plaintext);
  EXPECT_EQ(read(result->plaintext), document_);
  EXPECT_EQ(result->size, document_.size());
}

TEST_F(DocumentCheckTest, UnknownSigner) {
  const auto stranger = trust::SecretKey::generate(trust::KeyAlgorithm::kEd25519);
  expect_refused(envelope({}, &stranger), EnvelopeProblem::kUnknownSigner, trust::key_id_hex(stranger.id()));
}

TEST_F(DocumentCheckTest, ARefusalCarriesTheClaimsForTheAuditLog) {
  const auto stranger = trust::SecretKey::generate(trust::KeyAlgorithm::kEd25519);
  auto refused = check(envelope({}, &stranger));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().reason(), "unknown-signer");
  EXPECT_EQ(refused.error().claimed_signer_key_id, trust::key_id_hex(stranger.id()));
  EXPECT_EQ(refused.error().claimed_payload_sha256.size(), 64U);
  document_ = "G28\nM104 S400\nG1 X10 Y10 Z1 F3000\n";
  auto unsafe = check(envelope(), 2);
  ASSERT_FALSE(unsafe.ok());
  EXPECT_EQ(unsafe.error().reason(), unsafe.error().violation->rule);
  EXPECT_EQ(unsafe.error().claimed_signer_key_id, trust::key_id_hex(signer_.id()));
  // Nothing could be read of a document that is not an envelope.
  auto garbage = check("not an envelope", 3);
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.error().reason(), "malformed");
  EXPECT_TRUE(garbage.error().claimed_signer_key_id.empty());
}

TEST_F(DocumentCheckTest, BadSignature) {
  std::string bytes = envelope();
  const std::size_t manifest_length =
      (static_cast<unsigned char>(bytes[12]) << 8) | static_cast<unsigned char>(bytes[13]);
  bytes[14 + manifest_length] =
      static_cast<char>(bytes[14 + manifest_length] ^ 0x01);  // first signature byte
  expect_refused(bytes, EnvelopeProblem::kBadSignature);
}

TEST_F(DocumentCheckTest, WrongRecipient) {
  const auto other = trust::SecretKey::generate(trust::KeyAlgorithm::kX25519);
  expect_refused(envelope([&](trust::SignOptions& o) { o.recipients = {other.id()}; }),
                 EnvelopeProblem::kWrongRecipient);
  expect_refused(envelope([&](trust::SignOptions& o) { o.encrypt_to = other.public_key(); }),
                 EnvelopeProblem::kWrongRecipient);
}

TEST_F(DocumentCheckTest, UnaddressedEnvelopesFollowThePolicy) {
  EXPECT_TRUE(check(envelope(), 1).ok());
  security_.accept_unaddressed = false;
  expect_refused(envelope(), EnvelopeProblem::kWrongRecipient, "", 2);
  EXPECT_TRUE(check(envelope([&](trust::SignOptions& o) { o.recipients = {printer_key_.id()}; }), 3).ok());
}

TEST_F(DocumentCheckTest, ExpiredNotYetValidAndTooLongLived) {
  expect_refused(envelope([&](trust::SignOptions& o) {
                   o.created = now_ - 7200;
                   o.not_after = now_ - 60;
                 }),
                 EnvelopeProblem::kExpired);
  expect_refused(envelope([&](trust::SignOptions& o) {
                   o.created = now_ + 3600;
                   o.not_after = now_ + 7200;
                 }),
                 EnvelopeProblem::kNotYetValid);
  security_.max_envelope_lifetime_days = 7;
  expect_refused(envelope([&](trust::SignOptions& o) { o.not_after = now_ + 8 * 86400; }),
                 EnvelopeProblem::kLifetimeTooLong);
}

TEST_F(DocumentCheckTest, AClockBeforeTheBuildDateRefusesInsteadOfTrustingExpiry) {
  // A host without a real-time clock boots in 1970 (or at its image's date):
  // an envelope that expired years ago would look valid.
  now_ = trust::build_time() - 400 * 86400;
  expect_refused(envelope([&](trust::SignOptions& o) {
                   o.created = now_ - 60;
                   o.not_after = now_ + 3600;
                 }),
                 EnvelopeProblem::kClockNotSet, "before this software was built");
  now_ = trust::build_time() + 60;
  EXPECT_TRUE(check(envelope(), 2).ok());
}

TEST_F(DocumentCheckTest, AnEnvelopePrintsOnceButTheSameJobMayBeCheckedAgain) {
  const std::string bytes = envelope();
  ASSERT_TRUE(check(bytes, 1).ok());
  ASSERT_TRUE(check(bytes, 1).ok()) << "a job checked again after a restart is not a replay";
  expect_refused(bytes, EnvelopeProblem::kReplayed, "already printed", 2);
}

TEST_F(DocumentCheckTest, AnEarlyRefusalConsumesNoNonce) {
  const auto newcomer = trust::SecretKey::generate(trust::KeyAlgorithm::kEd25519);
  const std::string bytes = envelope({}, &newcomer);
  expect_refused(bytes, EnvelopeProblem::kUnknownSigner, "", 1);
  trust_signer(newcomer, "newcomer");
  EXPECT_TRUE(check(bytes, 2).ok());
}

// A signer bound to an account names that account in the verified job
// (docs/security.md, "Who may do what").
TEST_F(DocumentCheckTest, ABoundSignerNamesItsAccount) {
  const auto bound = trust::SecretKey::generate(trust::KeyAlgorithm::kEd25519);
  trust_signer(bound, "bob-laptop", "bob");
  auto result = check(envelope({}, &bound));
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->signer_name, "bob-laptop");
  EXPECT_EQ(result->signer_user, "bob");
}

TEST_F(DocumentCheckTest, AFailedPayloadConsumesNoNonce) {
  const std::string good = envelope();
  std::string bad = good;
  bad.back() = static_cast<char>(bad.back() ^ 0x20);
  expect_refused(bad, EnvelopeProblem::kDigestMismatch, "", 1);
  EXPECT_TRUE(check(good, 2).ok());
}

TEST_F(DocumentCheckTest, TruncatedAndTrailingData) {
  const std::string bytes = envelope();
  expect_refused(bytes.substr(0, bytes.size() - 5), EnvelopeProblem::kTruncated);
  expect_refused(bytes + "X", EnvelopeProblem::kTrailingData);
}

TEST_F(DocumentCheckTest, TamperedEncryptedChunk) {
  std::string bytes = envelope([&](trust::SignOptions& o) { o.encrypt_to = printer_key_.public_key(); });
  bytes[bytes.size() - 30] = static_cast<char>(bytes[bytes.size() - 30] ^ 0x01);
  expect_refused(bytes, EnvelopeProblem::kTampered);
}

TEST_F(DocumentCheckTest, LicenceAllowsRepeatedSubmissionsUntilUsedUp) {
  const std::string bytes = envelope([](trust::SignOptions& o) { o.licence = trust::Licence{"lic-7", 2}; });
  auto first = check(bytes, 1, true, 1);
  ASSERT_TRUE(first.ok()) << first.error().message;
  ASSERT_TRUE(first->licence.has_value());
  EXPECT_EQ(first->licence->copies, 2U);
  EXPECT_TRUE(check(bytes, 2, true, 2).ok()) << "nothing is used before a print starts";
  const LicenceKey key{"mk4", trust::key_id_hex(signer_.id()), "lic-7"};
  ASSERT_TRUE(*store_->reserve_licence_copy(key, 2, 1, 1));
  ASSERT_TRUE(store_->commit_licence_copy("mk4", 1, 1).ok());
  // One copy used: a job asking for two is refused, one asking for one is not.
  auto two = check(bytes, 3, true, 2);
  ASSERT_FALSE(two.ok());
  EXPECT_EQ(two.error().problem, EnvelopeProblem::kLicenceUsedUp);
  EXPECT_THAT(two.error().message, HasSubstr("allows 2 copies"));
  EXPECT_TRUE(check(bytes, 4, true, 1).ok());
  ASSERT_TRUE(*store_->reserve_licence_copy(key, 2, 4, 1));
  expect_refused(bytes, EnvelopeProblem::kLicenceUsedUp, "2 are used", 5);
}

TEST_F(DocumentCheckTest, TheGateRefusesUnsafeGcodeWithoutConsumingTheNonce) {
  document_ = "G28\nM104 S400\nG1 X10 Y10 Z1 F3000\n";
  const std::string bytes = envelope();
  auto result = check(bytes, 1);
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(result.error().unprintable());
  EXPECT_FALSE(result.error().problem.has_value());
  ASSERT_TRUE(result.error().violation.has_value());
  EXPECT_EQ(result.error().violation->line, 2U);
  EXPECT_EQ(result.error().violation->command, "M104");
  EXPECT_THAT(result.error().message, HasSubstr("Unprintable: line 2: M104"));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "verified-1.gcode"));
  // Nothing consumed: once the limits allow it, the same envelope is accepted.
  limits_.hotend.max_temp = 450;
  EXPECT_TRUE(check(bytes, 2).ok());
  // Plain G-code where signatures are not required is gated too.
  limits_.hotend.max_temp = 280;
  security_.require_signature = false;
  auto plain = check(document_, 3, /*is_envelope=*/false);
  ASSERT_FALSE(plain.ok());
  EXPECT_TRUE(plain.error().unprintable());
}

TEST_F(DocumentCheckTest, TheGateChecksTheJobsMaterial) {
  document_ = "G28\nM104 S245\nG1 X10 Y10 Z1 F3000\n";
  gate_job_.material = gcode::MaterialRange{"pla", 190, 230, std::nullopt, std::nullopt};
  auto refused = check(envelope(), 1);
  ASSERT_FALSE(refused.ok());
  ASSERT_TRUE(refused.error().violation.has_value());
  EXPECT_EQ(refused.error().violation->rule, "temperature.material-range");
  gate_job_.material = gcode::MaterialRange{"petg", 220, 250, std::nullopt, std::nullopt};
  auto accepted = check(envelope(), 2);
  ASSERT_TRUE(accepted.ok()) << accepted.error().message;
  EXPECT_EQ(accepted->facts.max_hotend_temp, 245);
}

TEST_F(DocumentCheckTest, UnsupportedContentType) {
  expect_refused(envelope([](trust::SignOptions& o) { o.content_type = "model/3mf"; }),
                 EnvelopeProblem::kUnsupportedContent, "model/3mf");
}

TEST_F(DocumentCheckTest, DocumentLargerThanThePrinterAccepts) {
  security_.max_document_size_mb = 1;
  document_ = std::string((1 << 20) + 10, ';');
  expect_refused(envelope(), EnvelopeProblem::kTooLarge);
  security_.require_signature = false;
  auto plain = check(document_, 2, /*is_envelope=*/false);
  ASSERT_FALSE(plain.ok());
  EXPECT_EQ(plain.error().problem, EnvelopeProblem::kTooLarge);
}

TEST_F(DocumentCheckTest, TooLargeForTheMachineIsUnprintableAndConsumesNoNonce) {
  const std::string signed_job = envelope();
  capacity_.max_upload_bytes = document_.size() - 1;
  auto refused = check(signed_job);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(refused.error().unprintable());
  EXPECT_FALSE(refused.error().problem.has_value());
  EXPECT_THAT(refused.error().message, HasSubstr("Refused (too-large): the document is " +
                                                 std::to_string(document_.size()) + " bytes"));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "verified-1.gcode"));
  capacity_ = UploadCapacity{std::nullopt, document_.size() - 1};
  auto no_space = check(signed_job, 2);
  ASSERT_FALSE(no_space.ok());
  EXPECT_THAT(no_space.error().message, HasSubstr("Refused (no-space)"));
  // Once it fits, the same envelope is accepted: the refusals consumed nothing.
  capacity_ = UploadCapacity{document_.size(), document_.size()};
  auto accepted = check(signed_job, 3);
  ASSERT_TRUE(accepted.ok()) << accepted.error().message;
}

}  // namespace
}  // namespace ipp3d::server
