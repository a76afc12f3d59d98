// Keys at rest with the real server: a short-lived TLS certificate is
// renewed at start (logged, audited, served), protected keys need the
// passphrase file, and a private key readable by others stops the start
// with the fix (docs/security.md "Keys at rest").
#include "ipp_client.hpp"
#include "server_process.hpp"
#include "state/state_store.hpp"
#include "tls.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace ipp3d::testing {
namespace {

namespace fs = std::filesystem;

// The fingerprint the server printed at start.
std::string printed_fingerprint(const ServerProcess& server) {
  const std::string out = server.output();
  const std::string marker = "certificate SHA-256: ";
  const auto at = out.find(marker);
  if (at == std::string::npos) return {};
  return out.substr(at + marker.size(), out.find('\n', at) - at - marker.size());
}

// Runs ipp3d-server ARGS on `state_dir` (no server is started by it, or it fails at once).
int run_server_command(const std::vector<std::string>& args, const fs::path& state_dir, std::string& output,
                       const std::string& input = "") {
  std::vector<std::string> argv = {IPP3D_SERVER_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"--state-dir", state_dir.string(), "--listen",
                           "127.0.0.1:" + std::to_string(free_loopback_port())});
  return run_command_with_input(argv, input, output);
}

TEST(KeysAtRest, AShortLivedCertificateIsRenewedAtStartLoggedAndAudited) {
  ServerProcess first(IPP3D_SERVER_BINARY);
  const fs::path state = first.state_dir();
  ASSERT_EQ(first.stop(), 0);
  const fs::path crt = state / "tls" / "127.0.0.1.crt";
  const fs::path key = state / "tls" / "127.0.0.1.key";
  std::string out;
  if (run_command(
          {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
           "-days", "5", "-subj", "/CN=127.0.0.1", "-keyout", key.string(), "-out", crt.string()},
          out) != 0) {
    GTEST_SKIP() << "no openssl tool: " << out;
  }
  fs::permissions(key, fs::perms(0600));
  const std::string short_lived = server::certificate_fingerprint(crt).value();

  ServerProcess second(IPP3D_SERVER_BINARY, {}, state);
  const std::string renewed = printed_fingerprint(second);
  EXPECT_NE(renewed, short_lived);
  EXPECT_EQ(server::certificate_fingerprint(crt).value(), renewed);
  EXPECT_NE(second.output().find("The TLS certificate was renewed"), std::string::npos) << second.output();
  EXPECT_NE(second.output().find("ipp3d pair"), std::string::npos) << second.output();
  // The server answers over TLS with its renewed identity.
  HttpPtr http = connect_tls(second.port());
  EXPECT_TRUE(http != nullptr);
  ASSERT_EQ(second.stop(), 0);

  auto store = server::StateStore::open(state / "ipp3d.db");
  ASSERT_TRUE(store.ok()) << store.error().message;
  bool found = false;
  for (const auto& record : (*store)->audit_records(0, 1000)) {
    if (record.event.type != "tls-certificate-renewed") continue;
    found = true;
    const auto& details = record.event.details;
    ASSERT_GE(details.size(), 2U);
    EXPECT_EQ(details[0], std::make_pair(std::string("old-fingerprint"), short_lived));
    EXPECT_EQ(details[1], std::make_pair(std::string("new-fingerprint"), renewed));
  }
  EXPECT_TRUE(found);
}

TEST(KeysAtRest, ProtectedKeysNeedThePassphraseFile) {
  ServerProcess first(IPP3D_SERVER_BINARY);
  const fs::path state = first.state_dir();
  const std::string fingerprint = printed_fingerprint(first);
  ASSERT_EQ(first.stop(), 0);
  std::string out;
  ASSERT_EQ(run_server_command({"keys", "protect"}, state, out, "a long passphrase\n"), 0) << out;
  EXPECT_FALSE(fs::exists(state / "tls" / "127.0.0.1.key"));
  EXPECT_TRUE(fs::exists(state / "tls" / "127.0.0.1.key.sealed"));

  // Without the passphrase the server does not start, and says how to give it.
  EXPECT_NE(run_server_command({}, state, out), 0);
  EXPECT_NE(out.find("--key-passphrase-file"), std::string::npos) << out;

  TempDir secrets;
  const fs::path passphrase = secrets.path() / "passphrase";
  std::ofstream(passphrase) << "a long passphrase\n";
  fs::permissions(passphrase, fs::perms(0644));
  EXPECT_NE(run_server_command({"--key-passphrase-file", passphrase.string()}, state, out), 0);
  EXPECT_NE(out.find("chmod 600 " + passphrase.string()), std::string::npos) << out;
  fs::permissions(passphrase, fs::perms(0600));

  ServerProcess second(IPP3D_SERVER_BINARY, {"--key-passphrase-file", passphrase.string()}, state);
  EXPECT_EQ(printed_fingerprint(second), fingerprint) << "the same key and certificate, unsealed";
  HttpPtr http = connect_tls(second.port());
  EXPECT_TRUE(http != nullptr);
  ASSERT_EQ(second.stop(), 0);
}

TEST(KeysAtRest, ATlsKeyReadableByOthersStopsTheStartWithTheFix) {
  ServerProcess first(IPP3D_SERVER_BINARY);
  const fs::path state = first.state_dir();
  ASSERT_EQ(first.stop(), 0);
  const fs::path key = state / "tls" / "127.0.0.1.key";
  fs::permissions(key, fs::perms(0644));
  std::string out;
  EXPECT_NE(run_server_command({}, state, out), 0);
  EXPECT_NE(out.find("chmod 600 " + key.string()), std::string::npos) << out;
}

}  // namespace
}  // namespace ipp3d::testing
