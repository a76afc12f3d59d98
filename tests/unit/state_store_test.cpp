// Tests of the SQLite state store: opening and migrations, accounts, printer
// state, the job ledger and job IDs.
#include "state/state_store.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <vector>

namespace ipp3d::server {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// A fresh temporary directory per test, removed afterwards.
class StateStoreTest : public ::testing::Test {
 protected:
  // Creates the directory.
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "ipp3d-state-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    db_path_ = dir_ / "ipp3d.db";
  }
  // Removes the directory.
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // Opens the store at db_path_, failing the test on error.
  std::unique_ptr<StateStore> open_store() {
    auto store = StateStore::open(db_path_);
    EXPECT_TRUE(store.ok()) << (store.ok() ? "" : store.error().message);
    return store.ok() ? std::move(store).value() : nullptr;
  }

  // Runs a query on the file through a separate raw connection; returns the
  // first column of the first row as text.
  std::string raw_query(const char* sql) {
    sqlite3* db = nullptr;
    std::string text;
    if (sqlite3_open_v2(db_path_.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK) {
      sqlite3_stmt* statement = nullptr;
      if (sqlite3_prepare_v2(db, sql, -1, &statement, nullptr) == SQLITE_OK &&
          sqlite3_step(statement) == SQLITE_ROW) {
        const unsigned char* value = sqlite3_column_text(statement, 0);
        if (value != nullptr) text = reinterpret_cast<const char*>(value);
      }
      sqlite3_finalize(statement);
    }
    sqlite3_close(db);
    return text;
  }

  // The permission bits of `path`.
  static unsigned mode_of(const std::filesystem::path& path) {
    struct stat info {};
    EXPECT_EQ(::stat(path.c_str(), &info), 0);
    return static_cast<unsigned>(info.st_mode) & 0777U;
  }

  std::filesystem::path dir_;
  std::filesystem::path db_path_;
};

TEST_F(StateStoreTest, CreatesTheCurrentSchemaInWalMode) {
  auto store = open_store();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->schema_version(), StateStore::kSchemaVersion);
  EXPECT_EQ(StateStore::kSchemaVersion, 7);
  EXPECT_EQ(raw_query("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(raw_query("PRAGMA user_version"), "7");
  EXPECT_EQ(
      raw_query("SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_master WHERE type = 'table' "
                "ORDER BY name)"),
      "accounts audit_checkpoints audit_log envelope_nonces job_ids jobs licence_reservations licence_use "
      "login_accounts login_addresses machine_prints printers trusted_signers");
}

TEST_F(StateStoreTest, MigratesAVersionOneDatabaseKeepingItsData) {
  {
    auto store = open_store();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->set_password("admin", "correct horse", Role::kAdmin).ok());
  }
  // Turn the file back into a version 1 database (the tables of later migrations gone).
  for (const char* table :
       {"trusted_signers", "envelope_nonces", "licence_use", "licence_reservations", "machine_prints",
        "audit_log", "audit_checkpoints", "login_accounts", "login_addresses"}) {
    raw_query((std::string("DROP TABLE ") + table).c_str());
  }
  raw_query("PRAGMA user_version = 1");
  auto store = open_store();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->schema_version(), StateStore::kSchemaVersion);
  EXPECT_EQ(store->verify_password("admin", "correct horse"), Role::kAdmin);
  EXPECT_TRUE(store->trusted_signers().empty());
  EXPECT_FALSE(store->machine_print("mk4", 1).has_value());
}

TEST_F(StateStoreTest, RemembersAndForgetsPrintsHandedToTheMachine) {
  auto store = open_store();
  ASSERT_NE(store, nullptr);
  const MachinePrint print{
      "mk4", 7, "ipp/mk4-job-7.gcode", 2, 3, 120, {0, 512, 90210, 18446744073709551615U}};
  ASSERT_TRUE(store->save_machine_print(print).ok());
  EXPECT_EQ(store->machine_print("mk4", 7), print);
  EXPECT_FALSE(store->machine_print("mk4", 8).has_value());
  EXPECT_FALSE(store->machine_print("other", 7).has_value());
  MachinePrint next = print;
  next.copy = 3;
  next.layer_offsets.clear();
  ASSERT_TRUE(store->save_machine_print(next).ok());
  EXPECT_EQ(store->machine_print("mk4", 7), next);
  ASSERT_TRUE(store->forget_machine_print("mk4", 7).ok());
  EXPECT_FALSE(store->machine_print("mk4", 7).has_value());
}

TEST_F(StateStoreTest, CreatesTheFileWithMode0600) {
  auto store = open_store();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(mode_of(db_path_), 0600U);
  // The WAL and shared-memory files SQLite creates next to it are private too.
  ASSERT_TRUE(store->set_plate_clear("mk4", false).ok());
  for (const char* suffix : {"-wal", "-shm"}) {
    const std::filesystem::path side = db_path_.string() + suffix;
    if (std::filesystem::exists(side)) {
      EXPECT_EQ(mode_of(side), 0600U) << suffix;
    }
  }
}

TEST_F(StateStoreTest, TightensAWiderMode) {
  { std::ofstream create(db_path_); }
  ASSERT_EQ(::chmod(db_path_.c_str(), 0644), 0);
  auto store = open_store();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(mode_of(db_path_), 0600U);
}

TEST_F(StateStoreTest, CreatesAMissingParentDirectory) {
  db_path_ = dir_ / "state" / "ipp3d.db";
  auto store = open_store();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(mode_of(dir_ / "state"), 0700U);
  EXPECT_TRUE(std::filesystem::exists(db_path_));
}

TEST_F(StateStoreTest, ReopenKeepsData) {
  {
    auto store = open_store();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->set_password("admin", "correct horse", Role::kAdmin).ok());
    ASSERT_TRUE(store->set_loaded_material("mk4", "pla-red").ok());
  }
  auto store = open_store();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->schema_version(), StateStore::kSchemaVersion);
  EXPECT_EQ(store->verify_password("admin", "correct horse"), Role::kAdmin);
  EXPECT_EQ(store->printer_state("mk4", {}).loaded_material, "pla-red");
}

TEST_F(StateStoreTest, RefusesANewerSchema) {
  { ASSERT_NE(open_store(), nullptr); }
  const std::string newer = std::to_string(StateStore::kSchemaVersion + 1);
  raw_query(("PRAGMA user_version = " + newer).c_str());
  ASSERT_EQ(raw_query("PRAGMA user_version"), newer);
  auto store = StateStore::open(db_path_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().message,
            db_path_.string() + " has schema version " + newer + ", newer than this ipp3d-server (" +
                std::to_string(StateStore::kSchemaVersion) + "); upgrade ipp3d-server");
}

TEST_F(StateStoreTest, RefusesAGarbageFile) {
  {
    std::ofstream garbage(db_path_, std::ios::binary);
    for (int i = 0; i < 512; ++i) garbage << "this is not an SQLite database ";
  }
  auto store = StateStore::open(db_path_);
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.error().message, HasSubstr(db_path_.string()));
  EXPECT_THAT(store.error().message, HasSubstr("not a database"));
}

TEST_F(StateStoreTest, VerifiesPasswordsAndReturnsTheRole) {
  auto store = open_store();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->set_password("admin", "s3cret-pass", Role::kAdmin).ok());
  ASSERT_TRUE(store->set_password("op", "operator-pass", Role::kOperator).ok());
  EXPECT_EQ(store->verify_password("admin", "s3cret-pass"), Role::kAdmin);
  EXPECT_EQ(store->verify_password("op", "operator-pass"), Role::kOperator);
  EXPECT_EQ(store->verify_password("admin", "s3cret-pasS"), std::nullopt);
  EXPECT_EQ(store->verify_password("admin", ""), std::nullopt);
  EXPECT_EQ(store->verify_password("nobody", "s3cret-pass"), std::nullopt);
  EXPECT_EQ(store->verify_password("op", "s3cret-pass"), std::nullopt);

  // Changing the password replaces the old one; the role can change too.
  ASSERT_TRUE(store->set_password("admin", "another-pass", Role::kUser).ok());
  EXPECT_EQ(store->verify_password("admin", "s3cret-pass"), std::nullopt);
  EXPECT_EQ(store->verify_password("admin", "another-pass"), Role::kUser);
}

TEST_F(StateStoreTest, StoresAnArgon2idHashNotThePassword) {
  auto store = open_store();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->set_password("admin", "plain-text-password", Role::kAdmin).ok());
  const std::string hash = raw_query("SELECT password_hash FROM accounts WHERE name = 'admin'");
  EXPECT_THAT(hash, StartsWith("$argon2id$"));
  EXPECT_THAT(hash, Not(HasSubstr("plain-text-password")));
  EXPECT_EQ(raw_query("SELECT role FROM accounts WHERE name = 'admin'"), "admin");
}

struct PasswordCase {
  const char* password;
  bool accepted;
};

class PasswordLength : public StateStoreTest, public ::testing::WithParamInterface<PasswordCase> {};

TEST_P(PasswordLength, NeedsEightCharacters) {
  auto store = open_store();
  ASSERT_NE(store, nullptr);
  const Status status = store->set_password("admin", GetParam().password, Role::kAdmin);
  EXPECT_EQ(status.ok(), GetParam().accepted);
  if (!status.ok()) {
    EXPECT_THAT(status.error().message, HasSubstr("at least 8 characters"));
  }
  EXPECT_EQ(store->has_admin(), GetParam().accepted);
}

INSTANTIATE_TEST_SUITE_P(
    StateStore, PasswordLength,
    ::testing::Values(PasswordCase{"", false}, PasswordCase{"1234567", false},
                      PasswordCase{"\xC3\xA4\xC3\xA4\xC3\xA4\xC3\xA4\xC3\xA4\xC3\xA4\xC3\xA4",
                                   false},  // 7 characters, 14 bytes
                      PasswordCase{"12345678", true}, PasswordCase{"pass phrase with spaces", true}));

struct UserNameCase {
  std::string user;
  bool accepted;
};

class UserName : public StateStoreTest, public ::testing::WithParamInterface<UserNameCase> {};

TEST_P(UserName, AllowsOnlySafeCharacters) {
  auto store = open_store();
  ASSERT_NE(store, nullptr);
  const Status status = store->set_password(GetParam().user, "long-enough", Role::kUser);
  EXPECT_EQ(status.ok(), GetParam().accepted);
  if (!status.ok()) {
    EXPECT_THAT(status.error().message, HasSubstr("user name"));
  }
  EXPECT_EQ(store->verify_password(GetParam().user, "long-enough").has_value(), GetParam().accepted);
}

INSTANTIATE_TEST_SUITE_P(StateStore, UserName,
                         ::testing::Values(UserNameCase{"admin", true}, UserNameCase{"a", true},
                                           UserNameCase{"A.b_c-9", true},
                                           UserNameCase{std::string(64, 'x'), true}, UserNameCase{"", false},
                                           UserNameCase{std::string(65, 'x'), false},
                                           UserNameCase{"has space", false}, UserNameCase{"a/b", false},
                                           UserNameCase{"quote'", false}, UserNameCase{"semi;colon", false},
                                           UserNameCase{"\xC3\xBC"
                                                        "ber",
                                                        false},
                                           UserNameCase{std::string("nul\0x", 5), false}));

TEST_F(StateStoreTest, HasAdminOnlyWithAnAdminAccount) {
  auto store = open_store();
  ASSERT_NE(store, nullptr);
  EXPECT_FALSE(store->has_admin());
  ASSERT_TRUE(store->set_password("alice", "user-password", Role::kUser).ok());
  ASSERT_TRUE(store->set_password("bob", "operator-password", Role::kOperator).ok());
  EXPECT_FALSE(store->has_admin());
  ASSERT_TRUE(store->set_password("root", "admin-password", Role::kAdmin).ok());
  EXPECT_TRUE(store->has_admin());
}

TEST(Roles, ParseAndNameRoundTrip) {
  for (const Role role : {Role::kAdmin, Role::kOperator, Role::kUser}) {
    EXPECT_EQ(parse_role(role_name(role)), role);
  }
  EXPECT_STREQ(role_name(Role::kAdmin), "admin");
  EXPECT_STREQ(role_name(Role::kOperator), "operator");
  EXPECT_STREQ(role_name(Role::kUser), "user");
  EXPECT_EQ(parse_role("Admin"), std::nullopt);
  EXPECT_EQ(parse_role("root"), std::nullopt);
  EXPECT_EQ(parse_role(""), std::nullopt);
}

TEST_F(StateStoreTest, PrinterNeverStoredGetsInitialWithoutInsertingIt) {
  auto store = open_store();
  ASSERT_NE(store, nullptr);
  const PrinterState initial{"petg-black", false};
  EXPECT_EQ(store->printer_state("mk4", initial), initial);
  EXPECT_EQ(store->printer_state("mk4", PrinterState{}), PrinterState{});
  EXPECT_EQ(raw_query("SELECT count(*) FROM printers"), "0");
}

TEST_F(StateStoreTest, PrinterStateStoresMaterialAndNothingLoaded) {
  auto store = open_store();
  ASSERT_NE(store, nullptr);
  const PrinterState initial{"petg-black", true};
  ASSERT_TRUE(store->set_loaded_material("mk4", "pla-red").ok());
  EXPECT_EQ(store->printer_state("mk4", initial), (PrinterState{"pla-red", true}));
  // Nothing loaded is stored, not confused with "never stored".
  ASSERT_TRUE(store->set_loaded_material("mk4", std::nullopt).ok());
  EXPECT_EQ(store->printer_state("mk4", initial), (PrinterState{std::nullopt, true}));
  // Other printers are unaffected.
  EXPECT_EQ(store->printer_state("other", initial), initial);
}

TEST_F(StateStoreTest, PlateFlagAloneKeepsTheInitialMaterial) {
  auto store = open_store();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->set_plate_clear("mk4", false).ok());
  EXPECT_EQ(store->printer_state("mk4", PrinterState{"pla-red", true}), (PrinterState{"pla-red", false}));
  EXPECT_EQ(store->printer_state("mk4", PrinterState{}), (PrinterState{std::nullopt, false}));
  // Setting the material afterwards keeps the plate flag.
  ASSERT_TRUE(store->set_loaded_material("mk4", "asa-white").ok());
  EXPECT_EQ(store->printer_state("mk4", PrinterState{}), (PrinterState{"asa-white", false}));
}

TEST_F(StateStoreTest, MaterialAloneKeepsTheInitialPlateFlag) {
  auto store = open_store();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->set_loaded_material("mk4", "pla-red").ok());
  EXPECT_EQ(store->printer_state("mk4", PrinterState{std::nullopt, false}), (PrinterState{"pla-red", false}));
  ASSERT_TRUE(store->set_plate_clear("mk4", true).ok());
  EXPECT_EQ(store->printer_state("mk4", PrinterState{std::nullopt, false}), (PrinterState{"pla-red", true}));
}

TEST_F(StateStoreTest, PlateFlagPersistsAcrossReopen) {
  {
    auto store = open_store();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->set_plate_clear("mk4", false).ok());
    ASSERT_TRUE(store->set_plate_clear("mini", true).ok());
  }
  auto store = open_store();
  ASSERT_NE(store, nullptr);
  EXPECT_FALSE(store->printer_state("mk4", PrinterState{}).plate_clear);
  EXPECT_TRUE(store->printer_state("mini", PrinterState{std::nullopt, false}).plate_clear);
  ASSERT_TRUE(store->set_plate_clear("mk4", true).ok());
  EXPECT_TRUE(store->printer_state("mk4", PrinterState{}).plate_clear);
}

// A job record with every field set.
JobRecord sample_job(const std::string& printer, int job_id) {
  JobRecord job;
  job.printer = printer;
  job.job_id = job_id;
  job.name = "benchy-" + std::to_string(job_id);
  job.user = "alice";
  job.state = 9;
  job.reasons = {"job-completed-successfully", "job-printed-successfully"};
  job.message = "Printed; remove the part from the plate.";
  job.created = 1'700'000'000;
  job.processing = 1'700'000'060;
  job.completed = 1'700'003'600;
  job.impressions = 250;
  job.impressions_completed = 250;
  job.copies = 2;
  job.copies_completed = 2;
  job.material_key = "pla-red";
  return job;
}

TEST_F(StateStoreTest, JobLedgerSavesReplacesAndListsInOrder) {
  auto store = open_store();
  ASSERT_NE(store, nullptr);
  for (const int id : {3, 1, 2}) ASSERT_TRUE(store->save_job(sample_job("mk4", id)).ok());
  ASSERT_TRUE(store->save_job(sample_job("mini", 1)).ok());
  EXPECT_EQ(store->job("mk4", 2), sample_job("mk4", 2));
  EXPECT_EQ(store->job("mk4", 4), std::nullopt);
  EXPECT_EQ(store->job("nope", 1), std::nullopt);

  JobRecord replaced = sample_job("mk4", 2);
  replaced.state = 7;
  replaced.reasons = {};
  replaced.message = "";
  replaced.completed = 0;
  ASSERT_TRUE(store->save_job(replaced).ok());
  EXPECT_EQ(store->job("mk4", 2), replaced);

  const std::vector<JobRecord> jobs = store->jobs("mk4");
  ASSERT_EQ(jobs.size(), 3U);
  EXPECT_EQ(jobs[0], sample_job("mk4", 1));
  EXPECT_EQ(jobs[1], replaced);
  EXPECT_EQ(jobs[2], sample_job("mk4", 3));
  EXPECT_EQ(store->jobs("mini").size(), 1U);
  EXPECT_TRUE(store->jobs("none").empty());
}

// One step of the job-ID scenario: an action, then the expected next ID.
struct JobIdStep {
  const char* action;  // "save N", "reserve N" or "reopen"
  int value;
  int expected_next;
};

TEST_F(StateStoreTest, NextJobIdFollowsTheRulesAndNeverDecreases) {
  const std::vector<JobIdStep> steps = {
      {"start", 0, 1},     {"save", 5, 6},      {"reserve", 3, 6}, {"reserve", 10, 10},
      {"reopen", 0, 10},   {"reserve", 4, 10},  {"save", 12, 13},  {"reopen", 0, 13},
      {"reserve", 13, 13}, {"reserve", 20, 20}, {"save", 1, 20},   {"reopen", 0, 20},
  };
  auto store = open_store();
  ASSERT_NE(store, nullptr);
  int previous = 0;
  for (const JobIdStep& step : steps) {
    const std::string action = step.action;
    if (action == "save") {
      ASSERT_TRUE(store->save_job(sample_job("mk4", step.value)).ok());
    }
    if (action == "reserve") {
      ASSERT_TRUE(store->reserve_job_ids("mk4", step.value).ok());
    }
    if (action == "reopen") {
      store.reset();
      store = open_store();
      ASSERT_NE(store, nullptr);
    }
    const int next = store->next_job_id("mk4");
    EXPECT_EQ(next, step.expected_next) << action << " " << step.value;
    EXPECT_GE(next, previous);
    previous = next;
  }
  EXPECT_EQ(store->next_job_id("other"), 1);
}

TEST_F(StateStoreTest, ConcurrentSavesAllLand) {
  auto store = open_store();
  ASSERT_NE(store, nullptr);
  constexpr int kThreads = 4;
  constexpr int kJobsPerThread = 25;
  std::vector<std::thread> threads;
  std::vector<int> failures(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&store, &failures, t] {
      for (int i = 0; i < kJobsPerThread; ++i) {
        const int id = t * kJobsPerThread + i + 1;
        if (!store->save_job(sample_job("mk4", id)).ok()) ++failures[static_cast<std::size_t>(t)];
        if (!store->reserve_job_ids("mk4", id + 1).ok()) ++failures[static_cast<std::size_t>(t)];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures, std::vector<int>(kThreads, 0));
  const std::vector<JobRecord> jobs = store->jobs("mk4");
  ASSERT_EQ(jobs.size(), static_cast<std::size_t>(kThreads * kJobsPerThread));
  for (std::size_t i = 0; i < jobs.size(); ++i) EXPECT_EQ(jobs[i].job_id, static_cast<int>(i) + 1);
  EXPECT_EQ(store->next_job_id("mk4"), kThreads * kJobsPerThread + 1);
}

TEST_F(StateStoreTest, AuditRecordsFormAHashChain) {
  auto store = open_store();
  ASSERT_NE(store, nullptr);
  const AuditEvent login{"login-failed", "alice", "127.0.0.1", "", 0, {{"reason", "wrong password"}}};
  const AuditEvent job{"job-received", "bob", "::1", "mk4", 7, {{"signer", "bob-laptop"}, {"digest", "ab"}}};
  ASSERT_TRUE(store->append_audit(login).ok());
  ASSERT_TRUE(store->append_audit(job).ok());
  const auto records = store->audit_records(0, 10);
  ASSERT_EQ(records.size(), 2U);
  EXPECT_EQ(records[0].seq, 1);
  EXPECT_EQ(records[0].event, login);
  EXPECT_EQ(records[0].prev_hash, std::string(64, '0'));
  EXPECT_EQ(records[0].hash, audit_record_hash(records[0]));
  EXPECT_EQ(records[1].seq, 2);
  EXPECT_EQ(records[1].event, job);
  EXPECT_EQ(records[1].prev_hash, records[0].hash);
  EXPECT_EQ(records[1].hash, audit_record_hash(records[1]));
  EXPECT_EQ(store->audit_records(1, 10).size(), 1U);
  EXPECT_EQ(store->audit_records(0, 1).size(), 1U);
}

TEST(AuditHash, EveryFieldChangesTheHash) {
  AuditRecord record{
      3, 1700000000, {"trust-added", "admin", "", "", 0, {{"name", "x"}}}, std::string(64, '1'), ""};
  const std::string original = audit_record_hash(record);
  EXPECT_EQ(original.size(), 64U);
  auto changed = [&](auto&& edit) {
    AuditRecord copy = record;
    edit(copy);
    return audit_record_hash(copy);
  };
  EXPECT_NE(changed([](AuditRecord& r) { r.seq = 4; }), original);
  EXPECT_NE(changed([](AuditRecord& r) { r.time += 1; }), original);
  EXPECT_NE(changed([](AuditRecord& r) { r.event.type = "trust-removed"; }), original);
  EXPECT_NE(changed([](AuditRecord& r) { r.event.actor = "root"; }), original);
  EXPECT_NE(changed([](AuditRecord& r) { r.event.source = "10.0.0.1"; }), original);
  EXPECT_NE(changed([](AuditRecord& r) { r.event.printer = "mk4"; }), original);
  EXPECT_NE(changed([](AuditRecord& r) { r.event.job_id = 1; }), original);
  EXPECT_NE(changed([](AuditRecord& r) { r.event.details[0].second = "y"; }), original);
  EXPECT_NE(changed([](AuditRecord& r) { r.prev_hash[0] = '2'; }), original);
  // Fields are length-prefixed: moving a character across a boundary changes the hash.
  EXPECT_NE(changed([](AuditRecord& r) {
              r.event.actor = "admi";
              r.event.source = "n";
            }),
            original);
  EXPECT_EQ(changed([](AuditRecord& r) { r.hash = "ignored"; }), original);
}

}  // namespace
}  // namespace ipp3d::server
