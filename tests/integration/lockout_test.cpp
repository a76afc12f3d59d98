// Password guessing against the real server (docs/security.md, "Password
// guessing"): five wrong passwords lock the account and the right password is
// then refused with the same 401, the lock expires, the lock survives a
// restart, an address is throttled after too many failures, and an unknown
// user gets the same answer as a wrong password. Logins are tried with
// one request each carrying "Authorization: Basic" on an admin operation
// (Confirm-Plate-Clear). Timing equality is measured in bench/login_bench.cpp.
#include "ipp_client.hpp"
#include "server_process.hpp"
#include "state/state_store.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <thread>

namespace ipp3d::testing {
namespace {

using namespace std::chrono_literals;

// A password callback that never answers: libcups gives up after the first 401.
const char* no_password(const char*, http_t*, const char*, const char*, void*) { return nullptr; }

// The outcome of one login attempt.
struct Attempt {
  http_status_t http = HTTP_STATUS_ERROR;  // the HTTP status of the answer
  ipp_status_t ipp = IPP_STATUS_OK;        // the IPP status (or libcups' error)
};

// Sends one Confirm-Plate-Clear (an admin operation) with "Authorization:
// Basic" for `user` and `password` on a new connection, exactly once (libcups
// is given no password to retry with).
Attempt try_login(const ServerProcess& server, const std::string& user, const std::string& password) {
  Attempt attempt;
  HttpPtr http = connect_tls(server.port());
  if (!http) {
    ADD_FAILURE() << "cannot connect: " << cupsLastErrorString();
    return attempt;
  }
  const std::string pair = user + ":" + password;
  std::array<char, 512> encoded{};
  httpEncode64_2(encoded.data(), static_cast<int>(encoded.size()), pair.data(),
                 static_cast<int>(pair.size()));
  httpSetAuthString(http.get(), "Basic", encoded.data());
  cupsSetUser(user.c_str());
  cupsSetPasswordCB2(no_password, nullptr);
  IppPtr response = send_request(
      http.get(), new_printer_request(kOpConfirmPlateClear, server.printer_uri(kPrinterName), user));
  cupsSetPasswordCB2(nullptr, nullptr);
  attempt.http = httpGetStatus(http.get());
  attempt.ipp = status_of(response);
  return attempt;
}

// A refused login: the server answered 401 (libcups reports it as canceled
// authentication, having no password to retry with).
void expect_refused(const Attempt& attempt, const std::string& what) {
  EXPECT_TRUE(attempt.http == HTTP_STATUS_UNAUTHORIZED ||
              attempt.http == HTTP_STATUS_CUPS_AUTHORIZATION_CANCELED)
      << what << ": HTTP " << attempt.http;
  EXPECT_TRUE(attempt.ipp == IPP_STATUS_ERROR_NOT_AUTHENTICATED ||
              attempt.ipp == IPP_STATUS_ERROR_CUPS_AUTHENTICATION_CANCELED)
      << what << ": " << ippErrorString(attempt.ipp);
}

// The test configuration with a [server.login] table.
class LoginConfigFile {
 public:
  explicit LoginConfigFile(const std::string& login_lines) : config_(0.02) {
    std::ofstream out(config_.file(), std::ios::app);
    out << "\n[server.login]\n" << login_lines;
  }
  [[nodiscard]] std::vector<std::string> args() const { return config_.args(); }

 private:
  TestConfig config_;
};

// The audit event types in the stopped server's state database.
std::vector<std::string> audit_types(const std::filesystem::path& state_dir) {
  auto store = server::StateStore::open(state_dir / "ipp3d.db");
  EXPECT_TRUE(store.ok()) << store.error().message;
  std::vector<std::string> types;
  if (!store.ok()) return types;
  for (const auto& record : store.value()->audit_records(0, 1000)) types.push_back(record.event.type);
  return types;
}

TEST(Lockout, FiveWrongPasswordsLockTheAccountUntilTheLockExpires) {
  const LoginConfigFile config("max_failed_logins = 5\nlockout_seconds = 3\nmax_address_failures = 100\n");
  ServerProcess server(IPP3D_SERVER_BINARY, config.args());
  ASSERT_GT(server.pid(), 0);
  for (int i = 0; i < 5; ++i)
    expect_refused(try_login(server, kAdminUser, "wrong-password-" + std::to_string(i)), "wrong password");
  const auto locked_at = std::chrono::steady_clock::now();
  expect_refused(try_login(server, kAdminUser, kAdminPassword), "the right password during the lock");
  expect_refused(try_login(server, "no-such-user", "wrong-password"), "an unknown user");

  std::this_thread::sleep_until(locked_at + 3500ms);
  const Attempt after = try_login(server, kAdminUser, kAdminPassword);
  EXPECT_EQ(after.http, HTTP_STATUS_OK);
  EXPECT_EQ(after.ipp, IPP_STATUS_OK) << ippErrorString(after.ipp) << "\n" << server.output();

  const std::string log = server.output();
  EXPECT_NE(log.find("the account is locked for 3 seconds"), std::string::npos) << log;
  EXPECT_NE(log.find("(unknown user)"), std::string::npos) << log;
  ASSERT_EQ(server.stop(), 0);
  const std::vector<std::string> types = audit_types(server.state_dir());
  EXPECT_EQ(std::count(types.begin(), types.end(), "login-failed"), 6);
  EXPECT_EQ(std::count(types.begin(), types.end(), "account-locked"), 1);
  EXPECT_EQ(std::count(types.begin(), types.end(), "login-refused-locked"), 1);
  EXPECT_EQ(std::count(types.begin(), types.end(), "login-succeeded"), 1);
}

TEST(Lockout, TheLockSurvivesARestart) {
  const LoginConfigFile config("lockout_seconds = 600\nmax_address_failures = 100\n");
  ServerProcess first(IPP3D_SERVER_BINARY, config.args());
  ASSERT_GT(first.pid(), 0);
  for (int i = 0; i < 5; ++i)
    expect_refused(try_login(first, kAdminUser, "wrong-password-" + std::to_string(i)), "wrong password");
  ASSERT_EQ(first.stop(), 0) << first.output();

  ServerProcess second(IPP3D_SERVER_BINARY, config.args(), first.state_dir());
  ASSERT_GT(second.pid(), 0);
  expect_refused(try_login(second, kAdminUser, kAdminPassword), "the right password after a restart");
  EXPECT_NE(second.output().find("the account is locked"), std::string::npos) << second.output();
}

TEST(Lockout, AnAddressIsThrottledAfterTooManyFailures) {
  const LoginConfigFile config("max_address_failures = 3\naddress_window_seconds = 600\n");
  ServerProcess server(IPP3D_SERVER_BINARY, config.args());
  ASSERT_GT(server.pid(), 0);
  // Unknown names: no account is ever locked, only the address counts.
  for (const char* user : {"guess1", "guess2", "guess3"}) {
    expect_refused(try_login(server, user, "wrong-password"), std::string("unknown user ") + user);
  }
  expect_refused(try_login(server, kAdminUser, kAdminPassword),
                 "the right password from a throttled address");
  const std::string log = server.output();
  EXPECT_NE(log.find("the address is throttled until"), std::string::npos) << log;
  ASSERT_EQ(server.stop(), 0);

  // The throttle is stored too: a restarted server still refuses the address.
  ServerProcess second(IPP3D_SERVER_BINARY, config.args(), server.state_dir());
  ASSERT_GT(second.pid(), 0);
  expect_refused(try_login(second, kAdminUser, kAdminPassword), "the right password after a restart");
  ASSERT_EQ(second.stop(), 0);
  const std::vector<std::string> types = audit_types(server.state_dir());
  EXPECT_EQ(std::count(types.begin(), types.end(), "address-throttled"), 1);
  EXPECT_EQ(std::count(types.begin(), types.end(), "login-succeeded"), 0);
}

}  // namespace
}  // namespace ipp3d::testing
