// Tests of the state database's trust records: trusted signers, envelope
// nonces and licence counters (server/state/state_store_trust.cpp).
#include "state/state_store.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace ipp3d::server {
namespace {

using ::testing::HasSubstr;

const std::string kKeyA = std::string(32, 'a');
const std::string kKeyB = std::string(32, 'b');
const std::string kPublicA = std::string(64, '1');
const std::string kPublicB = std::string(64, '2');

class TrustRecordsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "ipp3d-trust-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    store_ = open();
    ASSERT_NE(store_, nullptr);
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::unique_ptr<StateStore> open() {
    auto store = StateStore::open(dir_ / "ipp3d.db");
    EXPECT_TRUE(store.ok()) << (store.ok() ? "" : store.error().message);
    return store.ok() ? std::move(store).value() : nullptr;
  }

  std::filesystem::path dir_;
  std::unique_ptr<StateStore> store_;
};

TEST_F(TrustRecordsTest, AddsListsFindsAndRemovesSigners) {
  ASSERT_TRUE(store_->add_trusted_signer({"bob", kKeyB, kPublicB, "Bob's laptop", 0, ""}).ok());
  ASSERT_TRUE(store_->add_trusted_signer({"alice", kKeyA, kPublicA, "", 1700000000, ""}).ok());
  const auto signers = store_->trusted_signers();
  ASSERT_EQ(signers.size(), 2U);
  EXPECT_EQ(signers[0].name, "alice");
  EXPECT_EQ(signers[0].added, 1700000000);
  EXPECT_EQ(signers[1].comment, "Bob's laptop");
  EXPECT_GT(signers[1].added, 1700000000);
  ASSERT_TRUE(store_->trusted_signer(kKeyA).has_value());
  EXPECT_EQ(store_->trusted_signer(kKeyA)->public_key, kPublicA);
  ASSERT_TRUE(store_->remove_trusted_signer("alice").ok());
  EXPECT_FALSE(store_->trusted_signer(kKeyA).has_value());
}

TEST_F(TrustRecordsTest, RefusesDuplicateNamesKeysAndBadNames) {
  ASSERT_TRUE(store_->add_trusted_signer({"alice", kKeyA, kPublicA, "", 0, ""}).ok());
  const Status same_name = store_->add_trusted_signer({"alice", kKeyB, kPublicB, "", 0, ""});
  ASSERT_FALSE(same_name.ok());
  EXPECT_THAT(same_name.error().message, HasSubstr("already trusted"));
  const Status same_key = store_->add_trusted_signer({"alice2", kKeyA, kPublicA, "", 0, ""});
  ASSERT_FALSE(same_key.ok());
  EXPECT_THAT(same_key.error().message, HasSubstr("already trusted as \"alice\""));
  for (const std::string& bad :
       std::vector<std::string>{"", "has space", std::string(65, 'x'), "semi;colon"}) {
    EXPECT_FALSE(store_->add_trusted_signer({bad, kKeyB, kPublicB, "", 0, ""}).ok()) << bad;
  }
  const Status missing = store_->remove_trusted_signer("nobody");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.error().message, HasSubstr("no trusted signer is named \"nobody\""));
}

TEST_F(TrustRecordsTest, NoncesAreFreshThenTheSameJobThenReplayed) {
  EXPECT_EQ(store_->nonce_use("p", kKeyA, "n1", 5), NonceUse::kFresh);
  auto first = store_->record_nonce("p", kKeyA, "n1", 5, 2000);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, NonceUse::kFresh);
  EXPECT_EQ(store_->nonce_use("p", kKeyA, "n1", 5), NonceUse::kSameJob);
  EXPECT_EQ(store_->nonce_use("p", kKeyA, "n1", 6), NonceUse::kReplayed);
  auto again = store_->record_nonce("p", kKeyA, "n1", 6, 2000);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, NonceUse::kReplayed);
  // Per printer and per signer.
  EXPECT_EQ(store_->nonce_use("q", kKeyA, "n1", 6), NonceUse::kFresh);
  EXPECT_EQ(store_->nonce_use("p", kKeyB, "n1", 6), NonceUse::kFresh);
}

TEST_F(TrustRecordsTest, PrunesOnlyExpiredNonces) {
  ASSERT_TRUE(store_->record_nonce("p", kKeyA, "old", 1, 1000).ok());
  ASSERT_TRUE(store_->record_nonce("p", kKeyA, "new", 2, 3000).ok());
  EXPECT_EQ(store_->prune_nonces(2000), 1);
  EXPECT_EQ(store_->nonce_use("p", kKeyA, "old", 9), NonceUse::kFresh);
  EXPECT_EQ(store_->nonce_use("p", kKeyA, "new", 9), NonceUse::kReplayed);
}

TEST_F(TrustRecordsTest, LicenceCopiesAreReservedCommittedAndReleased) {
  const LicenceKey key{"p", kKeyA, "lic-1"};
  ASSERT_TRUE(*store_->reserve_licence_copy(key, 2, 10, 1));
  EXPECT_EQ(store_->licence_copies_taken(key), 1);
  // The same job and copy again is the same reservation.
  ASSERT_TRUE(*store_->reserve_licence_copy(key, 2, 10, 1));
  EXPECT_EQ(store_->licence_copies_taken(key), 1);
  ASSERT_TRUE(*store_->reserve_licence_copy(key, 2, 11, 1));
  EXPECT_FALSE(*store_->reserve_licence_copy(key, 2, 12, 1));
  ASSERT_TRUE(store_->release_licence_copy("p", 11, 1).ok());
  EXPECT_EQ(store_->licence_copies_taken(key), 1);
  ASSERT_TRUE(store_->commit_licence_copy("p", 10, 1).ok());
  EXPECT_EQ(store_->licence_copies_taken(key), 1);
  ASSERT_TRUE(*store_->reserve_licence_copy(key, 2, 12, 1));
  ASSERT_TRUE(store_->commit_licence_copy("p", 12, 1).ok());
  EXPECT_EQ(store_->licence_copies_taken(key), 2);
  EXPECT_FALSE(*store_->reserve_licence_copy(key, 2, 13, 1));
  // Counters are per printer and per licence.
  EXPECT_TRUE(*store_->reserve_licence_copy({"q", kKeyA, "lic-1"}, 2, 1, 1));
  EXPECT_TRUE(*store_->reserve_licence_copy({"p", kKeyA, "lic-2"}, 2, 14, 1));
}

TEST_F(TrustRecordsTest, ReservationsLeftByACrashCountAsUsedAfterRestart) {
  const LicenceKey key{"p", kKeyA, "lic"};
  ASSERT_TRUE(*store_->reserve_licence_copy(key, 3, 1, 1));
  ASSERT_TRUE(*store_->reserve_licence_copy(key, 3, 1, 2));
  store_ = open();  // "restart"
  ASSERT_NE(store_, nullptr);
  EXPECT_EQ(store_->commit_stale_reservations(), 2);
  EXPECT_EQ(store_->licence_copies_taken(key), 2);
  EXPECT_EQ(store_->commit_stale_reservations(), 0);
  EXPECT_TRUE(*store_->reserve_licence_copy(key, 3, 2, 1));
  EXPECT_FALSE(*store_->reserve_licence_copy(key, 3, 3, 1));
}

TEST_F(TrustRecordsTest, ConcurrentReservationsNeverExceedTheLicence) {
  const LicenceKey key{"p", kKeyA, "lic"};
  std::atomic<int> granted{0};
  std::vector<std::thread> threads;
  for (int job = 1; job <= 8; ++job) {
    threads.emplace_back([&, job] {
      auto reserved = store_->reserve_licence_copy(key, 3, job, 1);
      if (reserved.ok() && *reserved) ++granted;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(granted.load(), 3);
  EXPECT_EQ(store_->licence_copies_taken(key), 3);
}

}  // namespace
}  // namespace ipp3d::server
