// `ipp3d pair` against the real server, the operator driving the Pairing
// page with curl: matching codes approved -> the key is trusted (a signed job
// from it prints) and the certificate pinned; rejected; expired; a decided
// request cannot be used again; an attacker's TLS relay in the middle shows
// another code and the client pins nothing, even when the operator approves
// without comparing; matching codes replace a pin of another certificate.
#include "ipp3d/trust/keys.hpp"

#include "ipp_client.hpp"
#include "server_process.hpp"
#include "signing.hpp"
#include "state/state_store.hpp"
#include "tls_relay.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <poll.h>
#include <regex>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace ipp3d::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// The fingerprint the server printed at start.
std::string server_fingerprint(const ServerProcess& server) {
  const std::string out = server.output();
  const std::string marker = "certificate SHA-256: ";
  const auto at = out.find(marker);
  if (at == std::string::npos) return {};
  return out.substr(at + marker.size(), out.find('\n', at) - at - marker.size());
}

// `ipp3d pair ...` running with pipes on its standard input and output
// (stderr joined), stopped by PID when still running at destruction.
class PairProcess {
 public:
  PairProcess(const std::filesystem::path& config_dir, const std::vector<std::string>& args) {
    int to_child[2];
    int from_child[2];
    if (::pipe(to_child) != 0 || ::pipe(from_child) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(to_child[0], 0);
      ::dup2(from_child[1], 1);
      ::dup2(from_child[1], 2);
      ::close(to_child[1]);
      ::close(from_child[0]);
      ::setenv("IPP3D_CONFIG_DIR", config_dir.c_str(), 1);
      ::unsetenv("IPP3D_PASSWORD");
      ::unsetenv("IPP3D_USER");
      ::setsid();  // no controlling terminal: the client reads the code from stdin
      std::vector<std::string> all = {IPP3D_CLIENT_BINARY, "pair"};
      all.insert(all.end(), args.begin(), args.end());
      std::vector<char*> argv;
      for (auto& arg : all) argv.push_back(arg.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(to_child[0]);
    ::close(from_child[1]);
    input_ = to_child[1];
    output_ = from_child[0];
  }
  PairProcess(const PairProcess&) = delete;
  PairProcess& operator=(const PairProcess&) = delete;
  ~PairProcess() {
    if (input_ >= 0) ::close(input_);
    if (pid_ > 0 && exit_status_ < 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (output_ >= 0) ::close(output_);
  }

  // Reads until the output contains `marker` (or `timeout`); all output so far.
  const std::string& read_until(const std::string& marker,
                                std::chrono::seconds timeout = std::chrono::seconds(20)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (text_.find(marker) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      pollfd fd{output_, POLLIN, 0};
      if (::poll(&fd, 1, 200) <= 0) continue;
      char buffer[4096];
      const ssize_t n = ::read(output_, buffer, sizeof buffer);
      if (n <= 0) break;
      text_.append(buffer, static_cast<std::size_t>(n));
    }
    return text_;
  }

  // Types a line.
  void type(const std::string& line) {
    const std::string text = line + "\n";
    ASSERT_EQ(::write(input_, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  }

  // Waits for the exit (reading the rest of the output); the exit status, -1 on timeout.
  int wait(std::chrono::seconds timeout = std::chrono::seconds(30)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      read_until("\x01", std::chrono::seconds(1));
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        read_until("\x01", std::chrono::seconds(1));
        exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return exit_status_;
      }
    }
    return -1;
  }

  // The code the client printed ("123456"), "" when none.
  std::string code() {
    std::smatch match;
    if (!std::regex_search(read_until("Code shown by the printer:"), match,
                           std::regex("Pairing code:  ([0-9]{3}) ([0-9]{3})"))) {
      return {};
    }
    return match[1].str() + match[2].str();
  }
  [[nodiscard]] const std::string& output() const { return text_; }

 private:
  pid_t pid_ = -1;
  int input_ = -1;
  int output_ = -1;
  int exit_status_ = -1;
  std::string text_;
};

// One pending request as the operator's page shows it.
struct PageRequest {
  std::string id;
  std::string code;  // "123456"
};

// The operator at the printer: the Pairing page through curl, with a cookie jar.
class OperatorPage {
 public:
  explicit OperatorPage(const ServerProcess& server)
      : server_(server), jar_((server.state_dir() / "pairing-cookies").string()) {}

  // GETs the page (with `credentials`); the HTML and the HTTP status line.
  // Remembers the forms' CSRF token when the page has a form.
  std::string get(const std::string& credentials = std::string(kAdminUser) + ":" + kAdminPassword) {
    std::string page = curl(credentials, {});
    std::smatch token;
    if (std::regex_search(page, token, std::regex("name=\"session\" value=\"([0-9a-f]+)\"")))
      token_ = token[1];
    return page;
  }

  // The pending requests the page lists.
  std::vector<PageRequest> pending() {
    const std::string page = get();
    std::vector<PageRequest> requests;
    const std::regex row(
        "monospace\">([0-9]{3}) ([0-9]{3})</td>[\\s\\S]*?name=\"request\" value=\"([0-9a-f]{32})\"");
    for (auto it = std::sregex_iterator(page.begin(), page.end(), row); it != std::sregex_iterator(); ++it) {
      requests.push_back({(*it)[3].str(), (*it)[1].str() + (*it)[2].str()});
    }
    return requests;
  }

  // Posts `action` for request `id` with the CSRF token of the last page
  // that had a form (as a stale page in the operator's browser would); the answer page.
  std::string decide(const std::string& id, const std::string& action,
                     const std::string& name = "alice-laptop", const std::string& account = "alice") {
    static_cast<void>(get());
    return curl(std::string(kAdminUser) + ":" + kAdminPassword,
                {"-d", "session=" + token_ + "&request=" + id + "&action=" + action + "&name=" + name +
                           "&account=" + account});
  }

  // curl with credentials and extra arguments on the page.
  std::string curl(const std::string& credentials, const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"curl", "-sk", "-c", jar_, "-b", jar_, "-w", "\nHTTP %{http_code}\n"};
    if (!credentials.empty()) args.insert(args.end(), {"-u", credentials});
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back("https://127.0.0.1:" + std::to_string(server_.port()) + "/ipp3d/pairing");
    std::string out;
    run_command(args, out);
    return out;
  }

 private:
  const ServerProcess& server_;
  std::string jar_;
  std::string token_;  // the CSRF token of the last page with a form
};

// A server that prints quickly, a client configuration directory with a
// fresh signing key (not trusted yet), and the operator's page.
class Pairing : public ::testing::Test {
 protected:
  explicit Pairing(std::vector<std::string> extra_args = {})
      : config_(0.05, /*auto_start_next=*/true),
        server_(IPP3D_SERVER_BINARY, with(config_.args(), extra_args)),
        page_(server_),
        key_(trust::SecretKey::generate(trust::KeyAlgorithm::kEd25519)) {}

  static std::vector<std::string> with(std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  }

  void SetUp() override {
    std::filesystem::create_directories(config_dir());
    ASSERT_TRUE(trust::write_secret_key_file(config_dir() / "key", key_));
  }

  std::filesystem::path config_dir() const { return dir_.path() / "config"; }
  std::string uri() const { return server_.printer_uri(kPrinterName); }
  std::string key_id() const { return trust::key_id_hex(key_.id()); }
  std::filesystem::path known_printers() const { return config_dir() / "known_printers"; }

  // The audit records' types.
  std::vector<std::string> audit_types() {
    auto store = server::StateStore::open(server_.state_dir() / "ipp3d.db");
    EXPECT_TRUE(store);
    std::vector<std::string> types;
    if (!store) return types;
    for (const auto& record : (*store)->audit_records(0, 100)) {
      if (record.event.type.starts_with("pairing-")) types.push_back(record.event.type);
    }
    return types;
  }

  // `ipp3d-server trust list` on the server's state directory.
  std::string trust_list() {
    std::string out;
    run_command({IPP3D_SERVER_BINARY, "trust", "list", "--state-dir", server_.state_dir().string()}, out);
    return out;
  }

  TempDir dir_;
  TestConfig config_;
  ServerProcess server_;
  OperatorPage page_;
  trust::SecretKey key_;
};

TEST_F(Pairing, MatchingCodesApprovedOnThePageTrustTheKeyAndPinTheCertificate) {
  ASSERT_TRUE(server_.add_account("alice", "alice-password-1", "user"));
  PairProcess pair(config_dir(), {uri(), "--name", "alice-laptop", "--account", "alice"});
  const std::string code = pair.code();
  ASSERT_EQ(code.size(), 6U) << pair.output();
  EXPECT_THAT(pair.output(), HasSubstr(server_fingerprint(server_)));
  EXPECT_THAT(pair.output(), HasSubstr(key_id()));
  EXPECT_FALSE(std::filesystem::exists(known_printers()));  // nothing pinned before the decision

  const auto pending = page_.pending();
  ASSERT_EQ(pending.size(), 1U) << page_.get();
  EXPECT_EQ(pending[0].code, code);
  EXPECT_THAT(page_.get(), HasSubstr(key_id()));
  const std::string answer = page_.decide(pending[0].id, "approve");
  EXPECT_THAT(answer,
              HasSubstr("is now trusted as &quot;alice-laptop&quot;, its jobs recorded as account alice."))
      << answer;

  pair.type(code.substr(0, 3) + " " + code.substr(3));
  ASSERT_EQ(pair.wait(), 0) << pair.output();
  EXPECT_THAT(pair.output(), HasSubstr("Paired"));
  EXPECT_THAT(read_file(known_printers()),
              HasSubstr("127.0.0.1:" + std::to_string(server_.port()) + " " + server_fingerprint(server_)));
  EXPECT_THAT(trust_list(), HasSubstr("for account alice, approved by admin"));
  EXPECT_THAT(trust_list(), HasSubstr("user alice"));
  EXPECT_EQ(audit_types(), (std::vector<std::string>{"pairing-requested", "pairing-approved"}));

  // A job signed with the paired key prints, over the pinned connection.
  std::string out;
  ASSERT_EQ(run_client(IPP3D_CLIENT_BINARY, config_dir(), {"print", uri(), torus_path().string()}, out,
                       {"IPP3D_USER=alice", "IPP3D_PASSWORD=alice-password-1"}),
            0)
      << out;
  EXPECT_THAT(out, HasSubstr("completed"));
  EXPECT_THAT(out, Not(HasSubstr("first contact")));
}

TEST_F(Pairing, MatchingCodesReplaceAPinOfAnotherCertificate) {
  std::string zeros;
  for (int i = 0; i < 32; ++i) zeros += i == 0 ? "00" : ":00";
  write_bytes(known_printers(), "127.0.0.1:" + std::to_string(server_.port()) + " " + zeros + "\n");
  std::filesystem::permissions(known_printers(),
                               std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  PairProcess pair(config_dir(), {uri()});
  const std::string code = pair.code();
  ASSERT_EQ(code.size(), 6U) << pair.output();
  EXPECT_THAT(pair.output(), HasSubstr("another certificate than the one pinned"));
  EXPECT_THAT(read_file(known_printers()), HasSubstr(zeros));  // unchanged until both sides confirmed
  const auto pending = page_.pending();
  ASSERT_EQ(pending.size(), 1U);
  EXPECT_THAT(page_.decide(pending[0].id, "approve", "renewed-laptop"), HasSubstr("now trusted"));
  pair.type(code);
  ASSERT_EQ(pair.wait(), 0) << pair.output();
  EXPECT_THAT(read_file(known_printers()), HasSubstr(server_fingerprint(server_)));
  EXPECT_THAT(read_file(known_printers()), Not(HasSubstr(zeros)));
}

TEST_F(Pairing, ARejectedRequestTrustsAndPinsNothing) {
  PairProcess pair(config_dir(), {uri()});
  const std::string code = pair.code();
  ASSERT_EQ(code.size(), 6U) << pair.output();
  const auto pending = page_.pending();
  ASSERT_EQ(pending.size(), 1U);
  EXPECT_THAT(page_.decide(pending[0].id, "reject"), HasSubstr("Rejected"));
  pair.type(code);
  EXPECT_EQ(pair.wait(), 1) << pair.output();
  EXPECT_THAT(pair.output(), HasSubstr("was rejected (rejected by admin); nothing was pinned"));
  EXPECT_FALSE(std::filesystem::exists(known_printers()));
  EXPECT_THAT(trust_list(), Not(HasSubstr(key_id())));
  EXPECT_EQ(audit_types(), (std::vector<std::string>{"pairing-requested", "pairing-rejected"}));
}

TEST_F(Pairing, ADecidedRequestCannotBeUsedAgain) {
  PairProcess pair(config_dir(), {uri()});
  const std::string code = pair.code();
  ASSERT_EQ(code.size(), 6U) << pair.output();
  const auto pending = page_.pending();
  ASSERT_EQ(pending.size(), 1U);
  EXPECT_THAT(page_.decide(pending[0].id, "reject"), HasSubstr("Rejected"));
  // Approving it afterwards (a stale page, a replayed form) is refused.
  EXPECT_THAT(page_.decide(pending[0].id, "approve"),
              HasSubstr("is rejected, not pending (a request is single use)"));
  // So is revealing again to it.
  std::string out;
  run_command({"curl", "-sk", "-w", "\nHTTP %{http_code}\n", "-d",
               R"({"request":")" + pending[0].id + R"(","public-key":")" + std::string(64, 'a') +
                   R"(","nonce":")" + std::string(64, 'b') + "\"}",
               "https://127.0.0.1:" + std::to_string(server_.port()) + "/ipp3d/pairing/reveal"},
              out);
  EXPECT_THAT(out, HasSubstr("HTTP 409"));
  EXPECT_THAT(out, HasSubstr("single use"));
  pair.type(code);
  EXPECT_EQ(pair.wait(), 1) << pair.output();
  EXPECT_THAT(trust_list(), Not(HasSubstr(key_id())));
}

TEST_F(Pairing, ThePageNeedsAnOperatorOrAdminOverTls) {
  EXPECT_THAT(page_.get(""), HasSubstr("HTTP 401"));
  EXPECT_THAT(page_.get("admin:wrong-password"), HasSubstr("HTTP 401"));
  std::string out;
  run_command({"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
               "http://127.0.0.1:" + std::to_string(server_.port()) + "/ipp3d/pairing"},
              out);
  EXPECT_EQ(out, "301");
  EXPECT_THAT(page_.get(), HasSubstr("No pairing requests are waiting."));
  {
    auto store = server::StateStore::open(server_.state_dir() / "ipp3d.db");
    ASSERT_TRUE(store);
    ASSERT_TRUE((*store)->set_password("op1", "operator-password", server::Role::kOperator));
    ASSERT_TRUE((*store)->set_password("user1", "user1-password", server::Role::kUser));
  }
  EXPECT_THAT(page_.get("op1:operator-password"), HasSubstr("No pairing requests are waiting."));
  EXPECT_THAT(page_.get("user1:user1-password"), HasSubstr("HTTP 403"));
  // A form without the CSRF token does nothing.
  EXPECT_THAT(page_.curl(std::string(kAdminUser) + ":" + kAdminPassword, {"-d", "request=x&action=approve"}),
              HasSubstr("Invalid form submission."));
}

// A server whose requests expire after 3 s.
class ShortLivedPairing : public Pairing {
 protected:
  ShortLivedPairing() : Pairing({"--pairing-lifetime", "3"}) {}
};

TEST_F(ShortLivedPairing, ARequestNobodyDecidesExpires) {
  PairProcess pair(config_dir(), {uri()});
  const std::string code = pair.code();
  ASSERT_EQ(code.size(), 6U) << pair.output();
  EXPECT_EQ(pair.wait(std::chrono::seconds(20)), 1) << pair.output();
  EXPECT_THAT(pair.output(), HasSubstr("expired"));
  EXPECT_THAT(page_.get(), HasSubstr("No pairing requests are waiting."));
  EXPECT_FALSE(std::filesystem::exists(known_printers()));
  EXPECT_THAT(trust_list(), Not(HasSubstr(key_id())));
  EXPECT_EQ(audit_types(), (std::vector<std::string>{"pairing-requested", "pairing-expired"}));
}

TEST_F(Pairing, AnAttackersCertificateInTheMiddleShowsAnotherCodeAndNothingIsPinned) {
  TlsRelay relay(server_.port());
  ASSERT_NE(relay.fingerprint(), server_fingerprint(server_));
  const std::string relayed_uri = "ipps://127.0.0.1:" + std::to_string(relay.port()) + kPrinterResource;
  PairProcess pair(config_dir(), {relayed_uri, "--name", "alice-laptop", "--account", "alice"});
  const std::string code = pair.code();
  ASSERT_EQ(code.size(), 6U) << pair.output();
  EXPECT_THAT(pair.output(), HasSubstr(relay.fingerprint()));  // the client saw the attacker's certificate

  const auto pending = page_.pending();
  ASSERT_EQ(pending.size(), 1U);
  EXPECT_NE(pending[0].code, code);  // the codes differ
  // Even an operator who approves without comparing does not make the
  // client pin: its user types the code the printer shows, which differs.
  EXPECT_THAT(page_.decide(pending[0].id, "approve"), HasSubstr("now trusted"));
  pair.type(pending[0].code);
  EXPECT_EQ(pair.wait(), 5) << pair.output();
  EXPECT_THAT(pair.output(), HasSubstr("someone may be between you and the printer"));
  EXPECT_FALSE(std::filesystem::exists(known_printers()));
}

TEST_F(Pairing, ACodeMistypedOnTheClientCancelsTheRequest) {
  PairProcess pair(config_dir(), {uri()});
  const std::string code = pair.code();
  ASSERT_EQ(code.size(), 6U) << pair.output();
  pair.type(code == "000000" ? "111111" : "000000");
  EXPECT_EQ(pair.wait(), 5) << pair.output();
  EXPECT_TRUE(page_.pending().empty());  // canceled: the operator cannot approve it any more
  EXPECT_EQ(audit_types(), (std::vector<std::string>{"pairing-requested", "pairing-failed"}));
  EXPECT_FALSE(std::filesystem::exists(known_printers()));
}

}  // namespace
}  // namespace ipp3d::testing
