// Tests of the audit log's verification: a chain tampered with through a
// separate SQLite connection (a field edited, a row deleted, inserted,
// rows swapped, a record rehashed) is caught and its first bad record named;
// signed checkpoints of another key, and a history truncated or rewritten
// after a checkpoint was fetched, are detected; `audit verify` and `audit
// export` as the command runs them.
#include "state/audit_chain.hpp"

#include "audit_checkpointer.hpp"
#include "printer_keys.hpp"
#include "state/audit_command.hpp"
#include "state/state_store.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>
#include <sstream>
#include <string>

namespace ipp3d::server {
namespace {

using ::testing::HasSubstr;

class AuditChainTest : public ::testing::Test {
 protected:
  // A fresh state directory with `kRecords` audit records.
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "ipp3d-audit-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    auto store = open_store();
    ASSERT_NE(store, nullptr);
    for (int i = 1; i <= kRecords; ++i) {
      ASSERT_TRUE(store
                      ->append_audit(AuditEvent{i % 2 == 0 ? "job-received" : "login",
                                                "user" + std::to_string(i),
                                                "127.0.0.1",
                                                "virtual-fdm",
                                                i,
                                                {{"n", std::to_string(i)}}})
                      .ok());
    }
  }
  // Removes the directory.
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // Opens the state database.
  std::unique_ptr<StateStore> open_store() {
    auto store = StateStore::open(dir_ / "ipp3d.db");
    EXPECT_TRUE(store.ok()) << (store.ok() ? "" : store.error().message);
    return store.ok() ? std::move(store).value() : nullptr;
  }

  // Runs SQL on the database through its own connection, as an attacker with the file would.
  void tamper(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2((dir_ / "ipp3d.db").c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
    char* message = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message);
    const std::string error = message != nullptr ? message : "";
    sqlite3_free(message);
    sqlite3_close(db);
    ASSERT_EQ(rc, SQLITE_OK) << error;
  }

  // The first bad record verify_audit_log() names ("" when none).
  std::string first_bad() {
    auto store = open_store();
    const AuditVerification result = verify_audit_log(*store, std::nullopt);
    return result.first_bad.value_or("");
  }

  // `ipp3d-server audit verify [--against FILE]`: exit code and output.
  std::pair<int, std::string> run_verify(const std::optional<std::filesystem::path>& against = std::nullopt) {
    std::ostringstream out;
    std::ostringstream err;
    const int code = audit_verify(dir_, against, out, err);
    return {code, out.str() + err.str()};
  }

  // A checkpoint of the chain as it is now, signed with the server's audit key (created now) and stored.
  AuditCheckpoint checkpoint_now(bool store_it = true) {
    auto key = load_or_create_audit_key(dir_);
    EXPECT_TRUE(key.ok());
    auto store = open_store();
    const AuditHead head = store->audit_head();
    const AuditCheckpoint checkpoint = trust::sign_audit_checkpoint(*key, head.seq, head.hash, 1733360000);
    if (store_it) {
      EXPECT_TRUE(store->add_audit_checkpoint(checkpoint).ok());
    }
    return checkpoint;
  }

  // Writes a checkpoint file as `ipp3d audit checkpoint -o` does.
  std::filesystem::path write_checkpoint_file(const AuditCheckpoint& checkpoint) {
    const std::filesystem::path path = dir_ / "fetched.json";
    std::ofstream(path) << trust::audit_checkpoint_json(checkpoint);
    return path;
  }

  static constexpr int kRecords = 30;
  std::filesystem::path dir_;
};

TEST_F(AuditChainTest, AnIntactChainWithItsCheckpointVerifies) {
  checkpoint_now();
  const auto [code, output] = run_verify();
  EXPECT_EQ(code, kAuditIntact) << output;
  EXPECT_THAT(output, HasSubstr("30 records, 1 signed checkpoints"));
  EXPECT_THAT(output, HasSubstr("ok: every record matches its hash"));
}

TEST_F(AuditChainTest, AnEditedFieldNamesTheRecordAsModified) {
  tamper("UPDATE audit_log SET actor = 'mallory' WHERE seq = 17");
  EXPECT_EQ(first_bad(), "record 17: hash does not match its contents (modified)");
  const auto [code, output] = run_verify();
  EXPECT_EQ(code, kAuditTampered);
  EXPECT_THAT(output, HasSubstr("FAILED: record 17: hash does not match its contents (modified)"));
}

TEST_F(AuditChainTest, AnEditedDetailOrTimeIsAModificationToo) {
  tamper("UPDATE audit_log SET details = '[[\"n\",\"999\"]]' WHERE seq = 3");
  EXPECT_EQ(first_bad(), "record 3: hash does not match its contents (modified)");
}

TEST_F(AuditChainTest, ADeletedRowIsNamedAsMissing) {
  tamper("DELETE FROM audit_log WHERE seq = 17");
  EXPECT_EQ(first_bad(), "record 18: follows record 16 (record 17 missing: deleted)");
}

TEST_F(AuditChainTest, DeletedFirstRowsAreNamed) {
  tamper("DELETE FROM audit_log WHERE seq <= 2");
  EXPECT_EQ(first_bad(), "record 3: the chain starts here (records 1 to 2 missing: deleted)");
}

TEST_F(AuditChainTest, ADeletionHiddenByRenumberingIsNamed) {
  tamper(
      "DELETE FROM audit_log WHERE seq = 17; UPDATE audit_log SET seq = -seq WHERE seq > 17; "
      "UPDATE audit_log SET seq = -seq - 1 WHERE seq < 0");
  EXPECT_EQ(first_bad(),
            "record 17: holds the contents of record 18 (record 17 deleted and the later ones renumbered, or "
            "reordered)");
}

TEST_F(AuditChainTest, AnInsertedRowWithAValidHashIsNamed) {
  // The attacker knows the (unkeyed) hash: the forged record links to record 9 and hashes right.
  AuditRecord forged;
  {
    auto store = open_store();
    forged.prev_hash = store->audit_records(8, 1).front().hash;
  }
  forged.seq = 10;
  forged.time = 1733360000;
  forged.event = AuditEvent{"trust-signer-added", "mallory", "", "", 0, {}};
  forged.hash = audit_record_hash(forged);
  tamper(
      "UPDATE audit_log SET seq = -seq WHERE seq >= 10; UPDATE audit_log SET seq = -seq + 1 WHERE seq < 0; "
      "INSERT INTO audit_log(seq, time, type, actor, source, printer, job_id, details, prev_hash, hash) "
      "VALUES(10, 1733360000, 'trust-signer-added', 'mallory', '', '', 0, '[]', '" +
      forged.prev_hash + "', '" + forged.hash + "')");
  EXPECT_EQ(first_bad(), "record 10: inserted (record 11 holds the former record 10, renumbered)");
}

TEST_F(AuditChainTest, AnInsertedJunkRowIsNamed) {
  tamper(
      "UPDATE audit_log SET seq = -seq WHERE seq >= 10; UPDATE audit_log SET seq = -seq + 1 WHERE seq < 0; "
      "INSERT INTO audit_log(seq, time, type, prev_hash, hash) VALUES(10, 1, 'login', 'x', 'y')");
  EXPECT_EQ(first_bad(), "record 10: inserted (record 11 holds the former record 10, renumbered)");
}

TEST_F(AuditChainTest, SwappedRowsAreNamedAsReordered) {
  tamper(
      "UPDATE audit_log SET seq = -1 WHERE seq = 5; UPDATE audit_log SET seq = 5 WHERE seq = 6; "
      "UPDATE audit_log SET seq = 6 WHERE seq = -1");
  EXPECT_EQ(first_bad(),
            "record 5: holds the contents of record 6 and record 6 those of record 5 (reordered)");
}

TEST_F(AuditChainTest, AModificationWithARecomputedHashIsNamed) {
  AuditRecord changed;
  {
    auto store = open_store();
    changed = store->audit_records(16, 1).front();
  }
  changed.event.actor = "mallory";
  changed.hash = audit_record_hash(changed);
  tamper("UPDATE audit_log SET actor = 'mallory', hash = '" + changed.hash + "' WHERE seq = 17");
  EXPECT_EQ(first_bad(), "record 17: changed and its hash recomputed (record 18 links to another hash)");
}

TEST_F(AuditChainTest, AStoredCheckpointOfAnotherKeyIsRejected) {
  checkpoint_now(false);  // creates the server's audit key
  const trust::SecretKey other = trust::SecretKey::generate(trust::KeyAlgorithm::kEd25519);
  {
    auto store = open_store();
    const AuditHead head = store->audit_head();
    ASSERT_TRUE(
        store->add_audit_checkpoint(trust::sign_audit_checkpoint(other, head.seq, head.hash, 5)).ok());
  }
  const auto [code, output] = run_verify();
  EXPECT_EQ(code, kAuditTampered);
  EXPECT_THAT(output, HasSubstr("FAILED: checkpoint 1 (record 30, 1970-01-01T00:00:05Z): signed by key " +
                                trust::key_id_hex(other.id()) + ", not by this server's audit key"));
}

TEST_F(AuditChainTest, AFetchedCheckpointOfAnotherKeyIsRejected) {
  checkpoint_now(false);
  const trust::SecretKey other = trust::SecretKey::generate(trust::KeyAlgorithm::kEd25519);
  AuditHead head;
  {
    auto store = open_store();
    head = store->audit_head();
  }
  const auto file = write_checkpoint_file(trust::sign_audit_checkpoint(other, head.seq, head.hash, 7));
  const auto [code, output] = run_verify(file);
  EXPECT_EQ(code, kAuditTampered);
  EXPECT_THAT(output, HasSubstr("not by this server's audit key"));
}

TEST_F(AuditChainTest, AnAlteredCheckpointSignatureIsRejected) {
  AuditCheckpoint checkpoint = checkpoint_now(false);
  checkpoint.seq = 29;  // claims an earlier record under the same signature
  auto store = open_store();
  const Status checked = check_audit_checkpoint_against(*store, checkpoint, std::nullopt);
  ASSERT_FALSE(checked.ok());
  EXPECT_THAT(checked.error().message, HasSubstr("signature does not verify"));
}

TEST_F(AuditChainTest, AHistoryTruncatedAfterAFetchedCheckpointIsDetected) {
  const auto file = write_checkpoint_file(checkpoint_now(false));
  EXPECT_EQ(run_verify(file).first, kAuditIntact);
  tamper("DELETE FROM audit_log WHERE seq > 25");
  // The remaining chain is consistent: only the fetched checkpoint shows the loss.
  EXPECT_EQ(first_bad(), "");
  const auto [code, output] = run_verify(file);
  EXPECT_EQ(code, kAuditTampered);
  EXPECT_THAT(output, HasSubstr("the checkpoint covers record 30 but the chain ends at record 25 (history "
                                "truncated)"));
}

TEST_F(AuditChainTest, AHistoryRewrittenAfterAFetchedCheckpointIsDetected) {
  const auto file = write_checkpoint_file(checkpoint_now(false));
  tamper("DELETE FROM audit_log");
  {
    auto store = open_store();
    for (int i = 0; i < 35; ++i)
      ASSERT_TRUE(store->append_audit(AuditEvent{"login", "x", "", "", 0, {}}).ok());
  }
  EXPECT_EQ(first_bad(), "");  // a rewritten chain is consistent in itself
  const auto [code, output] = run_verify(file);
  EXPECT_EQ(code, kAuditTampered);
  EXPECT_THAT(output, HasSubstr("(history rewritten)"));
}

TEST_F(AuditChainTest, StoredCheckpointsCatchATruncatedTail) {
  checkpoint_now();
  tamper("DELETE FROM audit_log WHERE seq = 30");
  const auto [code, output] = run_verify();
  EXPECT_EQ(code, kAuditTampered);
  EXPECT_THAT(output, HasSubstr("chain ends at record 29 (history truncated)"));
}

TEST_F(AuditChainTest, VerifyCannotCheckWithoutADatabaseOrWithABadFile) {
  std::ostringstream out;
  std::ostringstream err;
  EXPECT_EQ(audit_verify(dir_ / "nowhere", std::nullopt, out, err), kAuditCannotCheck);
  EXPECT_THAT(err.str(), HasSubstr("no state database"));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "nowhere" / "ipp3d.db"));
  std::ofstream(dir_ / "junk.json") << "{\"seq\": 1}";
  const auto [code, output] = run_verify(dir_ / "junk.json");
  EXPECT_EQ(code, kAuditCannotCheck);
  EXPECT_THAT(output, HasSubstr("not an ipp3d audit checkpoint: time is not an integer"));
}

TEST_F(AuditChainTest, ExportWritesJsonLinesSinceATime) {
  tamper("UPDATE audit_log SET time = 1733360000 + seq");
  std::ostringstream out;
  std::ostringstream err;
  ASSERT_EQ(audit_export(dir_, 1733360000 + 28, out, err), 0) << err.str();
  std::istringstream lines(out.str());
  std::string line;
  std::vector<std::string> read;
  while (std::getline(lines, line)) read.push_back(line);
  ASSERT_EQ(read.size(), 3U);
  EXPECT_THAT(read[0], HasSubstr("\"seq\":28,\"time\":1733360028,\"time_utc\":\"2024-12-05T00:53:48Z\","
                                 "\"type\":\"job-received\",\"actor\":\"user28\""));
  EXPECT_THAT(read[0], HasSubstr("\"details\":[[\"n\",\"28\"]]"));
}

TEST_F(AuditChainTest, TheCheckpointerSignsWhenDueAndReusesAnUnchangedHead) {
  auto key = load_or_create_audit_key(dir_);
  ASSERT_TRUE(key.ok());
  auto store = open_store();
  AuditCheckpointer checkpointer(*store, std::move(key).value());
  checkpointer.tick();  // no checkpoint yet and records not covered: due at once
  ASSERT_EQ(store->audit_checkpoints().size(), 1U);
  EXPECT_EQ(store->audit_checkpoints().back().seq, kRecords);
  for (int i = 1; i < kCheckpointRecords; ++i) {
    ASSERT_TRUE(store->append_audit(AuditEvent{"login", "x", "", "", 0, {}}).ok());
  }
  checkpointer.tick();  // 99 new records, well within the interval: not due
  EXPECT_EQ(store->audit_checkpoints().size(), 1U);
  ASSERT_TRUE(store->append_audit(AuditEvent{"login", "x", "", "", 0, {}}).ok());
  checkpointer.tick();
  ASSERT_EQ(store->audit_checkpoints().size(), 2U);
  EXPECT_EQ(store->audit_checkpoints().back().seq, kRecords + kCheckpointRecords);
  // On request: the last one while nothing was appended, a new one after.
  auto same = checkpointer.checkpoint_now();
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(*same, store->audit_checkpoints().back());
  ASSERT_TRUE(store->append_audit(AuditEvent{"login", "x", "", "", 0, {}}).ok());
  auto fresh = checkpointer.checkpoint_now();
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(fresh->seq, kRecords + kCheckpointRecords + 1);
  EXPECT_TRUE(trust::check_audit_checkpoint_signature(*fresh).ok());
  EXPECT_EQ(store->audit_checkpoints().size(), 3U);
  EXPECT_EQ(verify_audit_log(*store, checkpointer.public_key()).ok(), true);
}

TEST(AuditTime, ParsesUnixSecondsAndIso8601) {
  EXPECT_EQ(parse_audit_time("1733360000"), 1733360000);
  EXPECT_EQ(parse_audit_time("2024-12-05"), 1733356800);
  EXPECT_EQ(parse_audit_time("2024-12-05T01:00Z"), 1733360400);
  EXPECT_EQ(parse_audit_time("2024-12-05T01:00:30"), 1733360430);
  EXPECT_EQ(parse_audit_time("2024-12-05T03:00:00+02:00"), 1733360400);
  EXPECT_EQ(parse_audit_time("yesterday"), std::nullopt);
  EXPECT_EQ(parse_audit_time("2024-13-05"), std::nullopt);
}

TEST(AuditCheckpointJson, RoundTripsAndNamesBadMembers) {
  const trust::SecretKey key = trust::SecretKey::generate(trust::KeyAlgorithm::kEd25519);
  const auto checkpoint = trust::sign_audit_checkpoint(key, 12, std::string(64, 'a'), 1733360000);
  EXPECT_TRUE(trust::check_audit_checkpoint_signature(checkpoint).ok());
  const auto parsed = trust::parse_audit_checkpoint_json(trust::audit_checkpoint_json(checkpoint));
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, checkpoint);
  auto bad = trust::parse_audit_checkpoint_json(
      R"({"seq":1,"time":2,"hash":"zz","key_id":"","public_key":"","signature":""})");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "not an ipp3d audit checkpoint: hash is not 64 lowercase hex digits");
  // The same numbers under another domain or order do not verify.
  auto moved = checkpoint;
  moved.time += 1;
  EXPECT_FALSE(trust::check_audit_checkpoint_signature(moved).ok());
}

}  // namespace
}  // namespace ipp3d::server
