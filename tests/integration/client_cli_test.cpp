// `ipp3d print/status/jobs/job/cancel/materials` against the real server
// (virtual backend): TLS pinning on first contact, a pinned or given
// fingerprint that does not match is refused before anything is sent, plain
// ipp:// refused without --insecure, a signed job printed to completion with
// progress lines, a refused ticket shows the server's reason, cancel.
#include "ipp3d/trust/keys.hpp"

#include "ipp_client.hpp"
#include "server_process.hpp"
#include "signing.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <csignal>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace ipp3d::testing {
namespace {

constexpr const char* kZeroFingerprint =
    "00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00";

// The fingerprint the server printed at start.
std::string server_fingerprint(const ServerProcess& server) {
  const std::string out = server.output();
  const std::string marker = "certificate SHA-256: ";
  const auto at = out.find(marker);
  if (at == std::string::npos) return {};
  return out.substr(at + marker.size(), out.find('\n', at) - at - marker.size());
}

// "IPP3D_USER=tester IPP3D_PASSWORD=..." for a shell command line.
std::string test_user_environment() {
  return std::string("IPP3D_USER=") + kTestUser + " IPP3D_PASSWORD=" + kTestUserPassword;
}

// A server (0.05 s per layer unless told) and a client configuration
// directory holding the test signer's key as the default key.
class ClientCli : public ::testing::Test {
 protected:
  explicit ClientCli(double seconds_per_layer = 0.05)
      : config_(seconds_per_layer, /*auto_start_next=*/true), server_(IPP3D_SERVER_BINARY, config_.args()) {}

  void SetUp() override {
    std::filesystem::create_directories(config_dir());
    ASSERT_TRUE(trust::write_secret_key_file(config_dir() / "key", test_signer()));
  }

  std::filesystem::path config_dir() const { return dir_.path() / "config"; }
  std::string uri() const { return server_.printer_uri(kPrinterName); }

  // Runs `ipp3d ARGS...` without a terminal, IPP3D_CONFIG_DIR = config_dir(),
  // plus `env` ("NAME=VALUE"); as the test user (kTestUser, with its
  // password) unless `env` names another IPP3D_USER.
  int ipp3d(const std::vector<std::string>& args, std::string& output,
            const std::vector<std::string>& env = {}) const {
    return run_client(IPP3D_CLIENT_BINARY, config_dir(), args, output, env);
  }

  TempDir dir_;
  TestConfig config_;
  ServerProcess server_;
};

TEST_F(ClientCli, FirstContactPinsTheServersFingerprintInAPrivateFile) {
  std::string out;
  ASSERT_EQ(ipp3d({"status", uri()}, out), 0) << out;
  const std::string fingerprint = server_fingerprint(server_);
  ASSERT_FALSE(fingerprint.empty());
  EXPECT_NE(out.find("first contact"), std::string::npos) << out;
  EXPECT_NE(out.find(fingerprint), std::string::npos) << out;
  const auto file = config_dir() / "known_printers";
  EXPECT_NE(read_file(file).find("127.0.0.1:" + std::to_string(server_.port()) + " " + fingerprint),
            std::string::npos)
      << read_file(file);
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  // The second contact is silent.
  ASSERT_EQ(ipp3d({"status", uri()}, out), 0) << out;
  EXPECT_EQ(out.find("first contact"), std::string::npos) << out;
}

TEST_F(ClientCli, APinnedFingerprintThatDiffersIsRefusedShowingBoth) {
  std::ofstream(config_dir() / "known_printers")
      << "127.0.0.1:" << server_.port() << " " << kZeroFingerprint << "\n";
  std::filesystem::permissions(config_dir() / "known_printers",
                               std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  std::string out;
  EXPECT_EQ(ipp3d({"print", uri(), torus_path().string(), "--no-wait"}, out), 5) << out;
  EXPECT_NE(out.find(kZeroFingerprint), std::string::npos) << out;
  EXPECT_NE(out.find(server_fingerprint(server_)), std::string::npos) << out;
  EXPECT_NE(out.find("--fingerprint"), std::string::npos) << out;
  // Nothing was submitted.
  HttpPtr http = connect_tls(server_.port());
  EXPECT_TRUE(job_ids(http.get(), uri()).empty());
}

TEST_F(ClientCli, AGivenFingerprintMustMatchAndThenReplacesThePin) {
  std::string out;
  EXPECT_EQ(ipp3d({"jobs", uri(), "--fingerprint", kZeroFingerprint}, out), 5) << out;
  EXPECT_FALSE(std::filesystem::exists(config_dir() / "known_printers"));
  std::string lower = server_fingerprint(server_);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  ASSERT_EQ(ipp3d({"jobs", uri(), "--fingerprint", lower}, out), 0) << out;
  EXPECT_NE(read_file(config_dir() / "known_printers").find(server_fingerprint(server_)), std::string::npos);
}

TEST_F(ClientCli, PlainIppIsRefusedWithoutInsecure) {
  std::string out;
  EXPECT_EQ(ipp3d({"status", server_.printer_uri(kPrinterName, /*tls=*/false)}, out), 2) << out;
  EXPECT_NE(out.find("--insecure"), std::string::npos) << out;
  // With --insecure the connection is made, but no credentials are sent
  // over it: the status's job list, which needs an account, is refused.
  EXPECT_EQ(ipp3d({"status", server_.printer_uri(kPrinterName, false), "--insecure"}, out), 4) << out;
  EXPECT_NE(out.find("wants credentials"), std::string::npos) << out;
}

TEST_F(ClientCli, PrintsASignedJobToCompletionWithProgressLines) {
  std::string out;
  ASSERT_EQ(ipp3d({"print", uri(), torus_path().string()}, out), 0) << out;
  EXPECT_NE(out.find("job 1 submitted"), std::string::npos) << out;
  EXPECT_NE(out.find("layer 28/28"), std::string::npos) << out;
  EXPECT_NE(out.find("job 1 completed"), std::string::npos) << out;
  EXPECT_NE(out.find("Z job 1 processing: layer"), std::string::npos) << out;  // timestamped lines
  ASSERT_EQ(ipp3d({"job", uri(), "1", "--json"}, out), 0) << out;
  const auto job = nlohmann::json::parse(out.substr(out.find('{')));
  EXPECT_EQ(job["state"], "completed");
  EXPECT_EQ(job["layers_done"], kTorusLayers);
}

TEST_F(ClientCli, PrintsWithAPassphraseProtectedKey) {
  ASSERT_TRUE(
      trust::write_secret_key_file(config_dir() / "key", test_signer(), std::string("correct horse")));
  std::string out;
  // Without a terminal and without the variable: a clear error, nothing submitted.
  EXPECT_NE(ipp3d({"print", uri(), torus_path().string(), "--no-wait"}, out, {"IPP3D_KEY_PASSPHRASE="}), 0);
  EXPECT_NE(out.find("IPP3D_PASSPHRASE"), std::string::npos) << out;
  EXPECT_NE(ipp3d({"print", uri(), torus_path().string(), "--no-wait"}, out, {"IPP3D_KEY_PASSPHRASE=wrong"}),
            0);
  EXPECT_NE(out.find("wrong passphrase"), std::string::npos) << out;
  HttpPtr http = connect_tls(server_.port());
  EXPECT_TRUE(job_ids(http.get(), uri()).empty());
  ASSERT_EQ(ipp3d({"print", uri(), torus_path().string()}, out, {"IPP3D_KEY_PASSPHRASE=correct horse"}), 0)
      << out;
  EXPECT_NE(out.find("job 1 completed"), std::string::npos) << out;
  ASSERT_EQ(
      ipp3d({"print", uri(), torus_path().string(), "--no-wait"}, out, {"IPP3D_PASSPHRASE=correct horse"}), 0)
      << out;
}

TEST_F(ClientCli, OnATerminalProgressIsOneLiveLine) {
  // script(1) gives the command a terminal.
  std::string out;
  const std::string command = "IPP3D_CONFIG_DIR=" + config_dir().string() + " " + test_user_environment() +
                              " " + IPP3D_CLIENT_BINARY + " print " + uri() + " " + torus_path().string();
  ASSERT_EQ(run_command({"script", "-qec", command, "/dev/null"}, out), 0) << out;
  EXPECT_NE(out.find("\r\033[Kjob 1 processing: layer"), std::string::npos) << out;
  EXPECT_NE(out.find("elapsed"), std::string::npos) << out;
  EXPECT_NE(out.find("\r\033[Kjob 1 completed: layer 28/28 (100%)"), std::string::npos) << out;
  EXPECT_EQ(out.find("Z job 1 processing"), std::string::npos) << out;  // no timestamped lines
}

TEST_F(ClientCli, PrintsAnEncryptedJob) {
  std::string out;
  ASSERT_EQ(ipp3d({"print", uri(), torus_path().string(), "--encrypt", "--material", "pla-generic"}, out), 0)
      << out;
  EXPECT_NE(out.find("(encrypted)"), std::string::npos) << out;
  EXPECT_NE(out.find("completed"), std::string::npos) << out;
}

TEST_F(ClientCli, ARefusedTicketShowsTheServersReasonAndCreatesNoJob) {
  std::string out;
  EXPECT_EQ(
      ipp3d({"print", uri(), torus_path().string(), "--platform-temperature", "999", "--no-preflight"}, out),
      1)
      << out;
  EXPECT_NE(out.find("platform-temperature"), std::string::npos) << out;
  EXPECT_NE(out.find("Create-Job refused"), std::string::npos) << out;
  // With the preflight too: the printer's own refusal of the ticket is shown.
  EXPECT_EQ(ipp3d({"print", uri(), torus_path().string(), "--platform-temperature", "999"}, out), 1) << out;
  EXPECT_NE(out.find("Create-Job refused: platform-temperature 999"), std::string::npos) << out;
  // check --printer says the ticket would be refused.
  EXPECT_EQ(ipp3d({"check", torus_path().string(), "--printer", uri(), "--platform-temperature", "999"}, out),
            1)
      << out;
  EXPECT_NE(out.find("platform-temperature 999 is outside the printer's bed range (0-110 °C)"),
            std::string::npos)
      << out;
  EXPECT_EQ(
      ipp3d({"print", uri(), torus_path().string(), "--material", "unobtainium", "--no-preflight"}, out), 1)
      << out;
  EXPECT_NE(out.find("unobtainium"), std::string::npos) << out;
  ASSERT_EQ(ipp3d({"jobs", uri(), "--all", "--json"}, out), 0) << out;
  EXPECT_EQ(nlohmann::json::parse(out.substr(out.find('['))).size(), 0U) << out;
}

TEST_F(ClientCli, StatusAndMaterialsAsJson) {
  std::string out;
  ASSERT_EQ(ipp3d({"materials", uri(), "--json"}, out), 0) << out;
  const auto materials = nlohmann::json::parse(out.substr(out.find('[')));
  bool pla_loaded = false;
  for (const auto& m : materials)
    pla_loaded = pla_loaded || (m.value("key", "") == "pla-generic" && m["loaded"] == true);
  EXPECT_TRUE(pla_loaded) << out;
  ASSERT_EQ(ipp3d({"status", uri(), "--json"}, out), 0) << out;
  const auto status = nlohmann::json::parse(out.substr(out.find('{')));
  EXPECT_EQ(status["printer"], kPrinterName);
  EXPECT_EQ(status["loaded_materials"][0]["key"], "pla-generic");
}

TEST_F(ClientCli, ABigFileIsStreamedWithBoundedMemory) {
  // 128 MiB of G-code (the torus again and again): the client's peak RSS
  // stays far below the file's size, so no copy of it is held.
  const std::string torus = read_file(torus_path());
  const auto big = dir_.path() / "big.gcode";
  {
    std::ofstream out(big, std::ios::binary);
    for (std::size_t written = 0; written < (std::size_t{128} << 20); written += torus.size()) out << torus;
  }
  std::string out;
  const int status =
      run_command({"env", "IPP3D_CONFIG_DIR=" + config_dir().string(), std::string("IPP3D_USER=") + kTestUser,
                   std::string("IPP3D_PASSWORD=") + kTestUserPassword, "/usr/bin/time", "-f", "maxrss_kib=%M",
                   "setsid", "-w", IPP3D_CLIENT_BINARY, "print", uri(), big.string(), "--no-wait"},
                  out);
  ASSERT_EQ(status, 0) << out;
  const auto at = out.find("maxrss_kib=");
  ASSERT_NE(at, std::string::npos) << out;
  const long peak_kib = std::stol(out.substr(at + 11));
  std::cout << "ipp3d print of 128 MiB: peak RSS " << peak_kib << " KiB\n";
  EXPECT_LT(peak_kib, 32L * 1024) << out;
  std::filesystem::remove(big);
}

TEST_F(ClientCli, SignForAPrinterUriEncryptsToTheKeyItPublishes) {
  HttpPtr http = connect_tls(server_.port());
  const auto key = printer_public_key(http.get(), uri());
  ASSERT_TRUE(key);
  std::string out;
  const auto envelope = dir_.path() / "torus.ipp3d";
  ASSERT_EQ(ipp3d({"sign", torus_path().string(), "-o", envelope.string(), "--for", uri(), "--encrypt"}, out),
            0)
      << out;
  EXPECT_NE(out.find("encrypted to " + trust::key_id_hex(key->id)), std::string::npos) << out;
  EXPECT_NE(out.find("first contact"), std::string::npos) << out;  // the key came over a pinned connection
}

TEST_F(ClientCli, PreflightStopsAFileThePrinterWouldRefuseBeforeSendingIt) {
  std::string out;
  EXPECT_EQ(ipp3d({"print", uri(), torus_path().string(), "--material", "petg-generic"}, out), 1) << out;
  EXPECT_NE(out.find("would be refused by the printer"), std::string::npos) << out;
  EXPECT_NE(out.find("line 13: M140: temperature.material-range"), std::string::npos) << out;  // PETG's bed
  EXPECT_NE(out.find("line 16: M104: temperature.material-range"), std::string::npos) << out;
  EXPECT_EQ(ipp3d({"print", uri(), torus_path().string(), "--material", "unobtainium"}, out), 1) << out;
  EXPECT_NE(out.find("petg-generic, pla-generic"), std::string::npos) << out;  // the known keys
  ASSERT_EQ(ipp3d({"jobs", uri(), "--all", "--json"}, out), 0) << out;
  EXPECT_EQ(nlohmann::json::parse(out.substr(out.find('['))).size(), 0U) << out;  // nothing was sent
}

// The verdict and first violation of `ipp3d check ... --json`.
struct Verdict {
  bool accepted = false;
  long violations = 0;
  long first_line = 0;
  std::string first_rule;
  std::string digest;
};

Verdict verdict_of(const std::string& out) {
  const auto j = nlohmann::json::parse(out.substr(out.find("{\n")));
  Verdict v{j["accepted"], j["violation_count"], 0, "", j["policy_digest"]};
  if (!j["violations"].empty()) {
    v.first_line = j["violations"][0]["line"];
    v.first_rule = j["violations"][0]["rule"];
  }
  return v;
}

TEST_F(ClientCli, CheckWithThePrintersPolicyHasTheConfigurationsDigest) {
  // The published policy is reproduced byte for byte (same digest as the
  // configuration's), and a file the printer prints is accepted by both.
  std::string remote;
  std::string local;
  ASSERT_EQ(ipp3d({"check", torus_path().string(), "--printer", uri(), "--material", "pla-generic", "--json"},
                  remote),
            0)
      << remote;
  ASSERT_EQ(ipp3d({"check", torus_path().string(), "--config", config_.file().string(), "--material",
                   "pla-generic", "--json"},
                  local),
            0)
      << local;
  EXPECT_EQ(verdict_of(remote).digest, verdict_of(local).digest);
  EXPECT_EQ(verdict_of(remote).violations, 0);
  std::string out;
  EXPECT_EQ(ipp3d({"print", uri(), torus_path().string(), "--material", "pla-generic"}, out), 0) << out;
}

TEST_F(ClientCli, CheckWithThePrintersPolicyRefusesWhatTheServerRefuses) {
  // The torus heats the bed to 60 °C, below PETG's published bed range
  // (70-90 °C): check names the line the server's refusal names
  // (check_agreement_test compares whole messages).
  std::string out;
  ASSERT_EQ(
      ipp3d({"check", torus_path().string(), "--printer", uri(), "--material", "petg-generic", "--json"},
            out),
      1)
      << out;
  const Verdict v = verdict_of(out);
  EXPECT_EQ(v.first_rule, "temperature.material-range");
  EXPECT_EQ(
      ipp3d({"print", uri(), torus_path().string(), "--material", "petg-generic", "--no-preflight"}, out), 1)
      << out;
  EXPECT_NE(out.find("Unprintable: line " + std::to_string(v.first_line) + ": "), std::string::npos) << out;
  EXPECT_NE(out.find("temperature.material-range"), std::string::npos) << out;
}

// A slower printer, for cancelling in the middle of a print.
class ClientCliSlow : public ClientCli {
 protected:
  ClientCliSlow() : ClientCli(0.5) {}
};

TEST_F(ClientCliSlow, CancelEndsAWatchedPrintAndPrintExitsOne) {
  std::string print_out;
  int print_status = -1;
  std::thread print([&] { print_status = ipp3d({"print", uri(), torus_path().string()}, print_out); });
  // Wait (with the CLI itself) until the first layer is done.
  bool reached = false;
  std::string out;
  for (int i = 0; i < 300 && !reached; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (ipp3d({"job", uri(), "1", "--json"}, out) != 0) continue;
    const auto job = nlohmann::json::parse(out.substr(out.find('{')), nullptr, false);
    reached = !job.is_discarded() && job.value("layers_done", 0) >= 1;
  }
  const int cancel_status = ipp3d({"cancel", uri(), "1"}, out);
  print.join();
  ASSERT_TRUE(reached) << print_out;
  EXPECT_EQ(cancel_status, 0) << out;
  EXPECT_EQ(print_status, 1) << print_out;
  EXPECT_NE(print_out.find("job 1 canceled"), std::string::npos) << print_out;
  EXPECT_EQ(ipp3d({"cancel", uri(), "1"}, out), 1) << out;  // already ended: the server's refusal
  EXPECT_EQ(ipp3d({"job", uri(), "99"}, out), 1) << out;
}

TEST_F(ClientCliSlow, AnotherUsersJobNeedsCredentialsGivenOnlyWhenAsked) {
  std::string out;
  ASSERT_TRUE(server_.add_account("alice", "alice-password-1", "user"));
  const std::vector<std::string> alice = {"IPP3D_USER=alice", "IPP3D_PASSWORD=alice-password-1"};
  ASSERT_EQ(ipp3d({"print", uri(), torus_path().string(), "--no-wait"}, out, alice), 0) << out;
  // bob without a password and without a terminal: no credentials to give.
  EXPECT_EQ(ipp3d({"cancel", uri(), "1"}, out, {"IPP3D_USER=bob"}), 4) << out;
  EXPECT_NE(out.find("IPP3D_PASSWORD"), std::string::npos) << out;
  EXPECT_EQ(ipp3d({"cancel", uri(), "1"}, out, {"IPP3D_USER=admin", "IPP3D_PASSWORD=wrong"}), 4) << out;
  EXPECT_NE(out.find("refused those given"), std::string::npos) << out;
  ASSERT_EQ(ipp3d({"cancel", uri(), "1"}, out,
                  {"IPP3D_USER=admin", std::string("IPP3D_PASSWORD=") + kAdminPassword}),
            0)
      << out;
  ASSERT_EQ(ipp3d({"job", uri(), "1", "--json"}, out, alice), 0) << out;
  EXPECT_NE(out.find("\"user\": \"alice\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"state\": \"canceled\""), std::string::npos) << out;
}

TEST_F(ClientCliSlow, CtrlCWithoutATerminalLeavesTheJobRunningAndExits130) {
  const auto log = dir_.path() / "print.log";
  const std::string config = "IPP3D_CONFIG_DIR=" + config_dir().string();
  const std::string user = std::string("IPP3D_USER=") + kTestUser;
  const std::string password = std::string("IPP3D_PASSWORD=") + kTestUserPassword;
  const std::string file = torus_path().string();
  const std::string printer = uri();
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    (void)::setsid();  // no controlling terminal: nobody to ask
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    (void)::dup2(fd, STDOUT_FILENO);
    (void)::dup2(fd, STDERR_FILENO);
    ::execl("/usr/bin/env", "env", config.c_str(), user.c_str(), password.c_str(), IPP3D_CLIENT_BINARY,
            "print", printer.c_str(), file.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // Printing (any layer from 1 on: a poll may skip layer 1).
  const std::regex printing("processing: layer [1-9][0-9]*/");
  for (int i = 0; i < 300 && !std::regex_search(read_file(log), printing); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(::kill(pid, SIGINT), 0);
  EXPECT_EQ(wait_for_exit(pid, std::chrono::seconds(10)), 130) << read_file(log);
  EXPECT_NE(read_file(log).find("goes on; cancel it with: ipp3d cancel"), std::string::npos)
      << read_file(log);
  std::string out;
  ASSERT_EQ(ipp3d({"job", uri(), "1", "--json"}, out), 0) << out;
  EXPECT_NE(out.find("\"state\": \"processing\""), std::string::npos) << out;
}

}  // namespace
}  // namespace ipp3d::testing
