// The audit log against the real server: a printed job's lifecycle appears
// in `ipp3d-server audit export` in order; `ipp3d audit checkpoint` fetches a
// signed checkpoint (admin credentials) that `ipp3d-server audit verify
// --against` accepts, and rejects once the history was truncated; operator
// actions, a refused job, a configuration change and a job canceled while it
// waits are recorded; the checkpoint resource and the Audit log page need the
// admin account, and the page escapes what it shows.
#include "ipp_client.hpp"
#include "server_process.hpp"
#include "signing.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <filesystem>
#include <sstream>
#include <thread>

namespace ipp3d::testing {
namespace {

class AuditLog : public ::testing::Test {
 protected:
  AuditLog() : config_(0.02, /*auto_start_next=*/true), server_(IPP3D_SERVER_BINARY, config_.args()) {}

  void SetUp() override {
    std::filesystem::create_directories(config_dir());
    ASSERT_TRUE(trust::write_secret_key_file(config_dir() / "key", test_signer()));
  }

  std::filesystem::path config_dir() const { return dir_.path() / "config"; }
  std::string uri() const { return server_.printer_uri(kPrinterName); }

  // Runs `ipp3d ARGS...` without a terminal, with `env` ("NAME=VALUE"), as
  // the test account unless `env` names another IPP3D_USER.
  int ipp3d(const std::vector<std::string>& args, std::string& output,
            const std::vector<std::string>& env = {}) const {
    return run_client(IPP3D_CLIENT_BINARY, config_dir(), args, output, env);
  }

  // Runs `ipp3d-server audit ARGS... --state-dir DIR`.
  int audit(const std::vector<std::string>& args, std::string& output) const {
    std::vector<std::string> argv = {IPP3D_SERVER_BINARY, "audit"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"--state-dir", server_.state_dir().string()});
    return run_command(argv, output);
  }

  // The exported records, parsed.
  std::vector<nlohmann::json> exported() const {
    std::string out;
    EXPECT_EQ(audit({"export"}, out), 0) << out;
    std::vector<nlohmann::json> records;
    std::istringstream lines(out);
    std::string line;
    while (std::getline(lines, line)) {
      if (!line.empty()) records.push_back(nlohmann::json::parse(line));
    }
    return records;
  }

  // The integer the query returns (-1 when none).
  std::int64_t scalar(const std::string& sql) const {
    sqlite3* db = nullptr;
    std::int64_t value = -1;
    if (sqlite3_open_v2((server_.state_dir() / "ipp3d.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) ==
        SQLITE_OK) {
      sqlite3_stmt* statement = nullptr;
      if (sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr) == SQLITE_OK &&
          sqlite3_step(statement) == SQLITE_ROW) {
        value = sqlite3_column_int64(statement, 0);
      }
      sqlite3_finalize(statement);
    }
    sqlite3_close(db);
    return value;
  }

  // Deletes the records from `seq` on, as someone with the database file would.
  void truncate_from(std::int64_t seq) const {
    sqlite3* db = nullptr;
    ASSERT_EQ(
        sqlite3_open_v2((server_.state_dir() / "ipp3d.db").c_str(), &db, SQLITE_OPEN_READWRITE, nullptr),
        SQLITE_OK);
    const std::string sql = "DELETE FROM audit_log WHERE seq >= " + std::to_string(seq);
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }

  TempDir dir_;
  TestConfig config_;
  ServerProcess server_;
};

TEST_F(AuditLog, APrintedJobsLifecycleIsExportedInOrder) {
  std::string out;
  ASSERT_EQ(ipp3d({"print", uri(), torus_path().string()}, out), 0) << out;
  std::vector<std::string> types;
  std::string signer_key;
  std::string received_user;
  for (const auto& record : exported()) {
    if (record["job_id"] != 1) continue;
    types.push_back(record["type"]);
    EXPECT_EQ(record["printer"], kPrinterName);
    for (const auto& detail : record["details"]) {
      if (record["type"] == "job-verified" && detail[0] == "signer-key-id") signer_key = detail[1];
    }
    if (record["type"] == "job-received") received_user = record["actor"];
  }
  const std::vector<std::string> expected = {"job-received", "job-verified", "job-handed-to-backend",
                                             "job-started", "job-completed"};
  EXPECT_EQ(types, expected) << out;
  EXPECT_EQ(signer_key, trust::key_id_hex(test_signer().id()));
  EXPECT_FALSE(received_user.empty());
  // The harness adds the test account and trusts the test signer before the
  // first start; the server's start follows.
  const auto records = exported();
  ASSERT_GE(records.size(), 3U);
  EXPECT_EQ(records[0]["type"], "user-added");
  EXPECT_EQ(records[0]["details"][0], nlohmann::json::array({"account", kTestUser}));
  EXPECT_EQ(records[1]["type"], "trust-signer-added");
  EXPECT_EQ(records[1]["details"][0], nlohmann::json::array({"signer", kTestSignerName}));
  EXPECT_EQ(records[2]["type"], "server-started");
  ASSERT_EQ(audit({"verify"}, out), 0) << out;
}

TEST_F(AuditLog, AFetchedCheckpointVerifiesUntilTheHistoryIsTruncated) {
  std::string out;
  ASSERT_EQ(ipp3d({"print", uri(), torus_path().string()}, out), 0) << out;
  const std::filesystem::path file = dir_.path() / "checkpoint.json";
  ASSERT_EQ(ipp3d({"audit", "checkpoint", uri(), "-o", file.string()}, out,
                  {"IPP3D_USER=admin", std::string("IPP3D_PASSWORD=") + kAdminPassword}),
            0)
      << out;
  EXPECT_NE(out.find("signed by audit key"), std::string::npos) << out;
  const auto checkpoint = nlohmann::json::parse(read_file(file));
  const std::int64_t seq = checkpoint["seq"];
  ASSERT_GE(seq, 5);
  ASSERT_EQ(server_.stop(), 0);
  // A clean shutdown ends the log with server-stopped, covered by a last checkpoint.
  const auto records = exported();
  ASSERT_FALSE(records.empty());
  EXPECT_EQ(records.back()["type"], "server-stopped");
  EXPECT_EQ(scalar("SELECT MAX(seq) FROM audit_checkpoints"), records.back()["seq"].get<std::int64_t>());
  ASSERT_EQ(audit({"verify", "--against", file.string()}, out), 0) << out;
  EXPECT_NE(out.find("the chain still holds it"), std::string::npos) << out;
  truncate_from(seq - 1);
  EXPECT_EQ(audit({"verify", "--against", file.string()}, out), 1) << out;
  EXPECT_NE(out.find("FAILED: checkpoint " + file.string()), std::string::npos) << out;
  EXPECT_NE(out.find("(history truncated)"), std::string::npos) << out;
}

TEST_F(AuditLog, OperatorActionsAreRecordedWithWhoAndWhere) {
  ASSERT_EQ(operator_operation(server_, kOpLoadMaterial, Credentials::kAdmin, "petg-generic").status,
            IPP_STATUS_OK);
  ASSERT_NE(operator_operation(server_, kOpLoadMaterial, Credentials::kAdmin, "unobtainium").status,
            IPP_STATUS_OK);
  ASSERT_EQ(operator_operation(server_, kOpConfirmPlateClear, Credentials::kAdmin).status, IPP_STATUS_OK);
  std::vector<nlohmann::json> actions;
  for (const auto& record : exported()) {
    if (record["type"] == "material-loaded" || record["type"] == "plate-confirmed-clear") {
      actions.push_back(record);
    }
  }
  ASSERT_EQ(actions.size(), 3U);
  for (const auto& action : actions) {
    EXPECT_EQ(action["actor"], kAdminUser);
    EXPECT_EQ(action["source"], "127.0.0.1");
  }
  EXPECT_EQ(actions[0]["details"],
            nlohmann::json::parse(R"([["material-key","petg-generic"],)"
                                  R"(["previous","pla-generic"],["outcome","done"]])"));
  EXPECT_EQ(actions[1]["details"][2][1].get<std::string>().rfind("failed: ", 0), 0U) << actions[1];
  EXPECT_EQ(actions[2]["type"], "plate-confirmed-clear");
}

TEST_F(AuditLog, ARefusedJobAndAConfigurationChangeAreRecorded) {
  const auto stranger = trust::SecretKey::generate(trust::KeyAlgorithm::kEd25519);
  const std::filesystem::path key = dir_.path() / "stranger.key";
  ASSERT_TRUE(trust::write_secret_key_file(key, stranger));
  std::string out;
  EXPECT_EQ(ipp3d({"print", uri(), torus_path().string(), "--key", key.string()}, out), 1) << out;
  IppPtr request = new_printer_request(IPP_OP_SET_PRINTER_ATTRIBUTES, uri(), kAdminUser);
  ippAddString(request.get(), IPP_TAG_PRINTER, IPP_TAG_TEXT, "printer-location", nullptr, "lab 2");
  EXPECT_EQ(send_with_credentials(server_.port(), std::move(request), Credentials::kAdmin).status,
            IPP_STATUS_OK);
  // A ticket refused before any job exists.
  HttpPtr http = connect_tls(server_.port());
  ASSERT_NE(http, nullptr);
  IppPtr create = new_printer_request(IPP_OP_CREATE_JOB, uri());
  ippAddInteger(create.get(), IPP_TAG_JOB, IPP_TAG_INTEGER, "platform-temperature", 999);
  EXPECT_EQ(status_of(send_request(http.get(), std::move(create))), IPP_STATUS_ERROR_ATTRIBUTES_OR_VALUES);
  nlohmann::json refused;
  nlohmann::json configured;
  nlohmann::json request_refused;
  for (const auto& record : exported()) {
    if (record["type"] == "job-refused") refused = record;
    if (record["type"] == "printer-configuration-requested") configured = record;
    if (record["type"] == "job-request-refused") request_refused = record;
  }
  ASSERT_FALSE(request_refused.is_null());
  EXPECT_EQ(request_refused["actor"], kTestUser);
  EXPECT_EQ(request_refused["details"][0], nlohmann::json::array({"operation", "Create-Job"}));
  EXPECT_EQ(request_refused["details"][1], nlohmann::json::array({"attribute", "platform-temperature"}));
  ASSERT_FALSE(refused.is_null());
  EXPECT_EQ(refused["details"][0], nlohmann::json::array({"reason", "unknown-signer"}));
  EXPECT_EQ(refused["details"][2],
            nlohmann::json::array({"signer-key-id", trust::key_id_hex(stranger.id())}));
  ASSERT_FALSE(configured.is_null());
  EXPECT_EQ(configured["actor"], kAdminUser);
  EXPECT_EQ(configured["details"][1], nlohmann::json::array({"attributes", "printer-location=lab 2"}));
}

TEST_F(AuditLog, AJobCanceledWhileItWaitsIsRecordedOnce) {
  HttpPtr http = connect_tls(server_.port());
  ASSERT_NE(http, nullptr);
  // Held as its client asked: it waits, verified, until it is canceled.
  const int id = print_job(http.get(), uri(), signed_torus(), kEnvelopeFormat, [](ipp_t* attributes) {
    ippAddString(attributes, IPP_TAG_JOB, IPP_TAG_KEYWORD, "job-hold-until", nullptr, "indefinite");
  });
  ASSERT_GT(id, 0);
  bool reached = false;
  wait_for_job(
      http.get(), uri(), id,
      [](const JobStatus& job) { return job.message.rfind("Held as requested", 0) == 0; },
      std::chrono::seconds(20), reached);
  ASSERT_TRUE(reached);
  EXPECT_EQ(status_of(send_request(http.get(), new_job_request(IPP_OP_CANCEL_JOB, uri(), id))),
            IPP_STATUS_OK);
  const auto job_ends = [&] {
    std::vector<nlohmann::json> ends;
    for (const auto& record : exported()) {
      const std::string type = record["type"];
      if (record["job_id"] == id &&
          (type == "job-canceled" || type == "job-completed" || type == "job-aborted")) {
        ends.push_back(record);
      }
    }
    return ends;
  };
  for (int attempt = 0; attempt < 50 && job_ends().empty(); ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // a few scheduler ticks more: still one
  const auto ends = job_ends();
  ASSERT_EQ(ends.size(), 1U);
  EXPECT_EQ(ends[0]["type"], "job-canceled");
  EXPECT_EQ(ends[0]["details"][0], nlohmann::json::array({"when", "before printing"}));
}

TEST_F(AuditLog, TheCheckpointNeedsTheAdminAccount) {
  std::string out;
  EXPECT_EQ(ipp3d({"audit", "checkpoint", uri()}, out), 4) << out;
  EXPECT_EQ(ipp3d({"audit", "checkpoint", uri()}, out, {"IPP3D_USER=admin", "IPP3D_PASSWORD=wrong-password"}),
            4)
      << out;
}

TEST_F(AuditLog, TheAdminPageListsRecentEventsEscaped) {
  const std::filesystem::path named = dir_.path() / "<script>torus.gcode";
  std::filesystem::copy_file(torus_path(), named);
  std::string out;
  ASSERT_EQ(ipp3d({"print", uri(), named.string()}, out), 0) << out;
  const std::string page_url = "https://127.0.0.1:" + std::to_string(server_.port()) + "/ipp3d/audit";
  run_command({"curl", "-sk", "-w", "\nHTTP %{http_code}\n", page_url}, out);
  EXPECT_NE(out.find("HTTP 401"), std::string::npos) << out;
  const std::string admin = std::string(kAdminUser) + ":" + kAdminPassword;
  ASSERT_EQ(run_command({"curl", "-sk", "-u", admin, "-w", "\nHTTP %{http_code}\n", page_url}, out), 0)
      << out;
  EXPECT_NE(out.find("HTTP 200"), std::string::npos) << out;
  EXPECT_NE(out.find("job-completed"), std::string::npos) << out;
  EXPECT_NE(out.find("server-started"), std::string::npos) << out;
  // PAPPL's escaping turns '<' and '&' into entities (enough to keep text out of markup).
  EXPECT_NE(out.find("&lt;script>torus.gcode"), std::string::npos) << out;
  EXPECT_EQ(out.find("<script>torus"), std::string::npos) << out;
  // Linked from the printer's pages.
  run_command(
      {"curl", "-sk", "-u", admin, "https://127.0.0.1:" + std::to_string(server_.port()) + "/virtual-fdm/"},
      out);
  EXPECT_NE(out.find("/ipp3d/audit"), std::string::npos) << out;
}

}  // namespace
}  // namespace ipp3d::testing
