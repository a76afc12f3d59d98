// Pairing: the code derivation and commitment shared by client and server,
// the server's request lifecycle (expiry with an injected clock, single
// use, rate limits), and the service's trust store and audit events.
#include "ipp3d/client/pairing.hpp"
#include "ipp3d/trust/pairing.hpp"

#include "options.hpp"
#include "pairing/pairing_service.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <set>

namespace ipp3d {
namespace {

using server::PairingLimits;
using server::PairingRegistry;
using server::PairingState;
using ::testing::HasSubstr;

constexpr const char* kFingerprint =
    "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89";

// A claim with a fresh key and nonce.
trust::PairingClaim make_claim(const std::string& name = "alice@laptop",
                               const std::string& account = "alice") {
  trust::PairingClaim claim;
  claim.client_key = trust::SecretKey::generate(trust::KeyAlgorithm::kEd25519).public_key().bytes;
  claim.client_nonce = trust::random_pairing_nonce();
  claim.name = name;
  claim.account = account;
  return claim;
}

trust::CertificateDigest certificate() { return *trust::parse_certificate_fingerprint(kFingerprint); }

TEST(PairingCode, BothSidesAgreeOnSixDigits) {
  const trust::PairingClaim claim = make_claim();
  const trust::PairingNonce server_nonce = trust::random_pairing_nonce();
  const std::string client_side = trust::pairing_code(claim, server_nonce, certificate());
  // The server rebuilds the claim from what it received.
  trust::PairingClaim received;
  received.client_key = claim.client_key;
  received.client_nonce = claim.client_nonce;
  received.name = claim.name;
  received.account = claim.account;
  EXPECT_EQ(trust::pairing_code(received, server_nonce, certificate()), client_side);
  ASSERT_EQ(client_side.size(), 6U);
  EXPECT_EQ(client_side.find_first_not_of("0123456789"), std::string::npos);
  EXPECT_EQ(trust::grouped_pairing_code("012345"), "012 345");
}

TEST(PairingCode, AnyChangedInputChangesTheCode) {
  const trust::PairingClaim claim = make_claim();
  const trust::PairingNonce server_nonce = trust::random_pairing_nonce();
  const std::string code = trust::pairing_code(claim, server_nonce, certificate());

  trust::PairingClaim other_key = claim;
  other_key.client_key[0] ^= 1;
  trust::PairingClaim other_nonce = claim;
  other_nonce.client_nonce[31] ^= 0x80;
  trust::PairingClaim other_name = claim;
  other_name.name = "mallory@laptop";
  trust::PairingClaim other_account = claim;
  other_account.account = "mallory";
  trust::PairingNonce other_server_nonce = server_nonce;
  other_server_nonce[5] ^= 4;
  trust::CertificateDigest other_certificate = certificate();
  other_certificate[31] ^= 1;

  EXPECT_NE(trust::pairing_code(other_key, server_nonce, certificate()), code);
  EXPECT_NE(trust::pairing_code(other_nonce, server_nonce, certificate()), code);
  EXPECT_NE(trust::pairing_code(other_name, server_nonce, certificate()), code);
  EXPECT_NE(trust::pairing_code(other_account, server_nonce, certificate()), code);
  EXPECT_NE(trust::pairing_code(claim, other_server_nonce, certificate()), code);
  EXPECT_NE(trust::pairing_code(claim, server_nonce, other_certificate), code);
}

TEST(PairingCode, FieldsAreLengthPrefixed) {
  trust::PairingClaim a = make_claim("ab", "c");
  trust::PairingClaim b = a;
  b.name = "a";
  b.account = "bc";
  const trust::PairingNonce server_nonce = trust::random_pairing_nonce();
  EXPECT_NE(trust::pairing_commitment(a), trust::pairing_commitment(b));
  EXPECT_NE(trust::pairing_code(a, server_nonce, certificate()),
            trust::pairing_code(b, server_nonce, certificate()));
}

TEST(PairingCode, CodesSpreadOverTheRange) {
  // 200 random transcripts give (almost surely) many different codes, not a constant.
  std::set<std::string> codes;
  for (int i = 0; i < 200; ++i)
    codes.insert(trust::pairing_code(make_claim(), trust::random_pairing_nonce(), certificate()));
  EXPECT_GT(codes.size(), 190U);
}

TEST(PairingCommitment, MatchesOnlyTheCommittedClaim) {
  const trust::PairingClaim claim = make_claim();
  const trust::PairingCommitment commitment = trust::pairing_commitment(claim);
  EXPECT_TRUE(trust::commitment_matches(commitment, claim));
  trust::PairingClaim changed = claim;
  changed.client_nonce[0] ^= 1;
  EXPECT_FALSE(trust::commitment_matches(commitment, changed));
  changed = claim;
  changed.client_key[7] ^= 1;
  EXPECT_FALSE(trust::commitment_matches(commitment, changed));
  changed = claim;
  changed.account = "bob";
  EXPECT_FALSE(trust::commitment_matches(commitment, changed));
  // The commitment is not the code's hash (distinct domains).
  EXPECT_NE(trust::hex_text(commitment), trust::hex_text(trust::pairing_commitment(make_claim())));
}

TEST(PairingCommitment, FingerprintsParseInTheServersForm) {
  EXPECT_TRUE(trust::parse_certificate_fingerprint(kFingerprint));
  EXPECT_TRUE(trust::parse_certificate_fingerprint(
      "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789"));
  EXPECT_FALSE(trust::parse_certificate_fingerprint("AB:CD"));
  EXPECT_FALSE(trust::parse_certificate_fingerprint(std::string(kFingerprint) + ":00"));
}

TEST(PairingCodesMatch, IgnoresSpacesAndRefusesOthers) {
  EXPECT_TRUE(client::pairing_codes_match("123 456\n", "123456"));
  EXPECT_TRUE(client::pairing_codes_match(" 123456 ", "123456"));
  EXPECT_FALSE(client::pairing_codes_match("123457", "123456"));
  EXPECT_FALSE(client::pairing_codes_match("12345", "123456"));
  EXPECT_FALSE(client::pairing_codes_match("", "123456"));
}

// A registry on a clock the test moves.
class PairingRegistryTest : public ::testing::Test {
 protected:
  PairingRegistry::Clock::time_point now_ = PairingRegistry::Clock::time_point(std::chrono::hours(1));
  PairingLimits limits_;
  std::unique_ptr<PairingRegistry> registry_;

  void make_registry() {
    registry_ = std::make_unique<PairingRegistry>(limits_, [this] { return now_; });
  }
  void SetUp() override { make_registry(); }

  // begin + reveal of a fresh claim from `source`; the request's ID.
  std::string pending_request(const std::string& source = "192.0.2.1") {
    const trust::PairingClaim claim = make_claim();
    auto begun = registry_->begin(claim.name, claim.account, trust::pairing_commitment(claim), source);
    EXPECT_TRUE(begun) << begun.error().message;
    if (!begun) return {};
    auto revealed = registry_->reveal(begun->id, claim.client_key, claim.client_nonce, certificate());
    EXPECT_TRUE(revealed) << revealed.error().message;
    return begun->id;
  }
};

TEST_F(PairingRegistryTest, RevealComputesTheClientsCode) {
  const trust::PairingClaim claim = make_claim();
  auto begun = registry_->begin(claim.name, claim.account, trust::pairing_commitment(claim), "192.0.2.1");
  ASSERT_TRUE(begun);
  EXPECT_EQ(begun->state, PairingState::kAwaitingReveal);
  EXPECT_EQ(begun->id.size(), 32U);
  auto revealed = registry_->reveal(begun->id, claim.client_key, claim.client_nonce, certificate());
  ASSERT_TRUE(revealed) << revealed.error().message;
  EXPECT_EQ(revealed->state, PairingState::kPending);
  EXPECT_EQ(revealed->code, trust::pairing_code(claim, begun->server_nonce, certificate()));
  ASSERT_EQ(registry_->pending().size(), 1U);
  EXPECT_EQ(registry_->pending()[0].id, begun->id);
}

TEST_F(PairingRegistryTest, AWrongRevealFailsTheRequestForGood) {
  const trust::PairingClaim claim = make_claim();
  auto begun = registry_->begin(claim.name, claim.account, trust::pairing_commitment(claim), "192.0.2.1");
  ASSERT_TRUE(begun);
  trust::PairingNonce other = claim.client_nonce;
  other[0] ^= 1;
  auto wrong = registry_->reveal(begun->id, claim.client_key, other, certificate());
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().status, IPP_STATUS_ERROR_BAD_REQUEST);
  EXPECT_THAT(wrong.error().message, HasSubstr("do not match the commitment"));
  // Even the right values are refused now: one guess per request.
  auto right = registry_->reveal(begun->id, claim.client_key, claim.client_nonce, certificate());
  ASSERT_FALSE(right);
  EXPECT_EQ(right.error().status, IPP_STATUS_ERROR_NOT_POSSIBLE);
  EXPECT_EQ(registry_->find(begun->id)->state, PairingState::kFailed);
  EXPECT_TRUE(registry_->pending().empty());
}

TEST_F(PairingRegistryTest, ADecisionIsSingleUse) {
  const std::string id = pending_request();
  auto approved = registry_->decide(id, true, "approved by admin");
  ASSERT_TRUE(approved);
  EXPECT_EQ(approved->state, PairingState::kApproved);
  auto again = registry_->decide(id, true, "approved by admin");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().status, IPP_STATUS_ERROR_NOT_POSSIBLE);
  EXPECT_THAT(again.error().message, HasSubstr("single use"));
  EXPECT_FALSE(registry_->decide(id, false, "rejected"));
  EXPECT_FALSE(registry_->fail(id, "late cancel"));
  EXPECT_EQ(registry_->find(id)->state, PairingState::kApproved);
  EXPECT_FALSE(registry_->decide("00000000000000000000000000000000", true, ""));
}

TEST_F(PairingRegistryTest, ReopenUndoesAnApprovalThatCouldNotBeCarriedOut) {
  const std::string id = pending_request();
  ASSERT_TRUE(registry_->decide(id, true, "approved"));
  ASSERT_TRUE(registry_->reopen(id));
  EXPECT_EQ(registry_->find(id)->state, PairingState::kPending);
  EXPECT_FALSE(registry_->reopen(id));  // only an approved request
}

TEST_F(PairingRegistryTest, OpenRequestsExpireAfterTheLifetime) {
  const std::string pending = pending_request();
  const trust::PairingClaim claim = make_claim();
  auto unrevealed =
      registry_->begin(claim.name, claim.account, trust::pairing_commitment(claim), "192.0.2.2");
  ASSERT_TRUE(unrevealed);
  const std::string decided = pending_request();
  ASSERT_TRUE(registry_->decide(decided, false, "rejected"));

  now_ += std::chrono::seconds(599);
  EXPECT_TRUE(registry_->expire().empty());
  now_ += std::chrono::seconds(1);
  const auto expired = registry_->expire();
  ASSERT_EQ(expired.size(), 2U);
  EXPECT_TRUE(registry_->expire().empty());  // reported once
  EXPECT_EQ(registry_->find(pending)->state, PairingState::kExpired);
  EXPECT_EQ(registry_->find(decided)->state, PairingState::kRejected);
  EXPECT_FALSE(registry_->decide(pending, true, "too late"));
  EXPECT_FALSE(registry_->reveal(unrevealed->id, claim.client_key, claim.client_nonce, certificate()));
  // Ended requests are forgotten after another lifetime.
  now_ += std::chrono::seconds(600);
  EXPECT_FALSE(registry_->find(pending));
}

TEST_F(PairingRegistryTest, ExpiryFoundByAnotherCallIsStillReported) {
  const std::string id = pending_request();
  now_ += std::chrono::minutes(10);
  EXPECT_EQ(registry_->find(id)->state, PairingState::kExpired);  // expires it
  const auto expired = registry_->expire();
  ASSERT_EQ(expired.size(), 1U);
  EXPECT_EQ(expired[0].id, id);
}

TEST_F(PairingRegistryTest, OneSourceMayBeginOnlyAFewRequests) {
  for (int i = 0; i < limits_.per_source; ++i) pending_request("192.0.2.7");
  const trust::PairingClaim claim = make_claim();
  auto refused = registry_->begin(claim.name, claim.account, trust::pairing_commitment(claim), "192.0.2.7");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().status, IPP_STATUS_ERROR_BUSY);
  EXPECT_THAT(refused.error().message, HasSubstr("too many pairing requests from 192.0.2.7"));
  // Another source is not affected; the source may try again after the window.
  EXPECT_TRUE(registry_->begin(claim.name, claim.account, trust::pairing_commitment(claim), "192.0.2.8"));
  now_ += std::chrono::minutes(10);
  EXPECT_TRUE(registry_->begin(claim.name, claim.account, trust::pairing_commitment(claim), "192.0.2.7"));
}

TEST_F(PairingRegistryTest, OpenRequestsAreBoundedOverAllSources) {
  limits_.open = 3;
  make_registry();
  for (int i = 0; i < 3; ++i) pending_request("192.0.2." + std::to_string(10 + i));
  const trust::PairingClaim claim = make_claim();
  auto refused = registry_->begin(claim.name, claim.account, trust::pairing_commitment(claim), "192.0.2.99");
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().message, HasSubstr("waiting for the operator"));
}

// The service on a real state database in a temporary directory.
class PairingServiceTest : public PairingRegistryTest {
 protected:
  std::filesystem::path dir_;
  std::unique_ptr<server::StateStore> store_;
  std::unique_ptr<server::PairingService> service_;

  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "ipp3d-pairing-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    auto store = server::StateStore::open(dir_ / "ipp3d.db");
    ASSERT_TRUE(store) << store.error().message;
    store_ = std::move(store).value();
    service_ = std::make_unique<server::PairingService>(
        *store_, limits_, [] { return std::string(kFingerprint); }, [this] { return now_; });
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // A pending request made through the service; its ID and key.
  std::pair<std::string, trust::PublicKey> pending_via_service() {
    trust::PairingClaim claim = make_claim();
    auto begun = service_->begin(claim.name, claim.account, trust::pairing_commitment(claim), "192.0.2.1");
    EXPECT_TRUE(begun);
    if (!begun) return {};
    EXPECT_TRUE(service_->reveal(begun->id, claim.client_key, claim.client_nonce, "192.0.2.1"));
    return {begun->id, trust::make_public_key(trust::KeyAlgorithm::kEd25519, claim.client_key)};
  }

  // The types of the audit records so far.
  std::vector<std::string> audit_types() {
    std::vector<std::string> types;
    for (const auto& record : store_->audit_records(0, 100)) types.push_back(record.event.type);
    return types;
  }
};

TEST_F(PairingServiceTest, ApprovalTrustsTheKeyWithTheAccountInTheComment) {
  const auto [id, key] = pending_via_service();
  auto approved = service_->approve(id, "alice@laptop", "alice", "operator1", "192.0.2.50");
  ASSERT_TRUE(approved) << approved.error().message;
  EXPECT_THAT(*approved, HasSubstr("now trusted as \"alice@laptop\""));
  const auto signer = store_->trusted_signer(trust::key_id_hex(key.id));
  ASSERT_TRUE(signer);
  EXPECT_EQ(signer->name, "alice@laptop");
  EXPECT_EQ(signer->public_key, trust::hex_text(key.bytes));
  EXPECT_EQ(signer->comment, "paired from 192.0.2.1 for account alice, approved by operator1");
  EXPECT_EQ(audit_types(), (std::vector<std::string>{"pairing-requested", "pairing-approved"}));
  const auto records = store_->audit_records(0, 10);
  EXPECT_EQ(records[1].event.actor, "operator1");
  EXPECT_EQ(records[1].event.source, "192.0.2.50");
  EXPECT_THAT(records[1].event.details,
              ::testing::Contains(std::pair<std::string, std::string>{"key-id", trust::key_id_hex(key.id)}));
  EXPECT_THAT(records[1].event.details,
              ::testing::Contains(std::pair<std::string, std::string>{"client", "192.0.2.1"}));
  // Single use: a second approval is refused.
  EXPECT_FALSE(service_->approve(id, "alice@laptop", "alice", "operator1", "192.0.2.50"));
}

TEST_F(PairingServiceTest, ATakenNameLeavesTheRequestPending) {
  ASSERT_TRUE(
      store_->add_trusted_signer({"alice@laptop", std::string(32, 'a'), std::string(64, 'b'), "", 0}));
  const auto [id, key] = pending_via_service();
  auto approved = service_->approve(id, "alice@laptop", "alice", "admin", "192.0.2.50");
  ASSERT_FALSE(approved);
  EXPECT_THAT(approved.error().message, HasSubstr("already trusted"));
  EXPECT_EQ(service_->registry().find(id)->state, PairingState::kPending);
  EXPECT_TRUE(service_->approve(id, "alice2", "alice", "admin", "192.0.2.50"));
}

TEST_F(PairingServiceTest, RejectionExpiryAndFailuresAreAudited) {
  const auto rejected = pending_via_service();
  ASSERT_TRUE(service_->reject(rejected.first, "admin", "192.0.2.50"));
  EXPECT_FALSE(store_->trusted_signer(trust::key_id_hex(rejected.second.id)));
  const auto canceled = pending_via_service();
  ASSERT_TRUE(service_->cancel(canceled.first, "the codes differ on the client", "192.0.2.1"));
  const auto expired = pending_via_service();
  now_ += std::chrono::minutes(10);
  service_->expire();
  // A wrong reveal.
  const trust::PairingClaim claim = make_claim();
  auto begun = service_->begin(claim.name, claim.account, trust::pairing_commitment(claim), "192.0.2.3");
  ASSERT_TRUE(begun);
  EXPECT_FALSE(service_->reveal(begun->id, claim.client_key, trust::random_pairing_nonce(), "192.0.2.3"));
  EXPECT_EQ(audit_types(), (std::vector<std::string>{
                               "pairing-requested", "pairing-rejected", "pairing-requested", "pairing-failed",
                               "pairing-requested", "pairing-expired", "pairing-failed"}));
}

TEST_F(PairingServiceTest, RateLimitRefusalsAreAuditedOncePerWindow) {
  for (int i = 0; i < limits_.per_source + 3; ++i) {
    const trust::PairingClaim claim = make_claim();
    static_cast<void>(
        service_->begin(claim.name, claim.account, trust::pairing_commitment(claim), "192.0.2.9"));
  }
  EXPECT_EQ(audit_types(), (std::vector<std::string>{"pairing-failed"}));
}

TEST_F(PairingServiceTest, BadNamesAreRefused) {
  const trust::PairingClaim claim = make_claim();
  auto refused = service_->begin("alice laptop", "alice", trust::pairing_commitment(claim), "192.0.2.1");
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().message, HasSubstr("name \"alice laptop\" must be 1 to 64"));
  EXPECT_FALSE(service_->begin("alice", "", trust::pairing_commitment(claim), "192.0.2.1"));
}

TEST(PairingLifetimeFlag, IsOneToSixHundredSecondsAndTenMinutesByDefault) {
  server::CommandLine command_line;
  command_line.state_dir = std::filesystem::temp_directory_path() / "ipp3d-unused-state";
  auto settings = server::resolve_settings(command_line);
  ASSERT_TRUE(settings) << settings.error().message;
  EXPECT_EQ(settings->pairing_lifetime_seconds, 600);
  command_line.pairing_lifetime = 3;
  settings = server::resolve_settings(command_line);
  ASSERT_TRUE(settings) << settings.error().message;
  EXPECT_EQ(settings->pairing_lifetime_seconds, 3);
  for (const int wrong : {0, 601}) {
    command_line.pairing_lifetime = wrong;
    settings = server::resolve_settings(command_line);
    ASSERT_FALSE(settings);
    EXPECT_EQ(settings.error().attribute, "pairing-lifetime");
    EXPECT_THAT(settings.error().message, HasSubstr("must be 1 to 600 seconds"));
  }
}

}  // namespace
}  // namespace ipp3d
