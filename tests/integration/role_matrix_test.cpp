// The role matrix (docs/security.md, "Who may do what"): every IPP operation
// the server supports and its protected web pages, sent by an admin, an
// operator, a user, a client without credentials and a plain-HTTP client,
// each answered as the policy says: allowed, or the exact refusal
// (401 -> client-error-not-authenticated, 403 -> client-error-forbidden,
// 426 Upgrade Required on plain HTTP). Each request uses a fresh connection.
#include "ipp_client.hpp"
#include "server_process.hpp"
#include "signing.hpp"

#include <gtest/gtest.h>

#include <array>

namespace ipp3d::testing {
namespace {

constexpr auto kOpGetJobFacts = static_cast<ipp_op_t>(0x4104);
constexpr auto kOpEmergencyStop = static_cast<ipp_op_t>(0x4105);

// Who sends a request.
enum class Caller { kAdmin, kOperator, kUser, kNoCredentials, kPlainHttp };
constexpr std::array kCallers = {Caller::kAdmin, Caller::kOperator, Caller::kUser, Caller::kNoCredentials,
                                 Caller::kPlainHttp};

// How the server answers.
enum class Outcome {
  kAllowed,     // passed the gate (the operation's own result may still be an error)
  kNeedsLogin,  // HTTP 401: client-error-not-authenticated
  kForbidden,   // HTTP 403: client-error-forbidden
  kNeedsTls,    // HTTP 426 Upgrade Required (plain HTTP)
};

const char* outcome_name(Outcome outcome) {
  switch (outcome) {
    case Outcome::kAllowed:
      return "allowed";
    case Outcome::kNeedsLogin:
      return "401 not-authenticated";
    case Outcome::kForbidden:
      return "403 forbidden";
    case Outcome::kNeedsTls:
      return "426 upgrade-required";
  }
  return "?";
}

const char* caller_name(Caller caller) {
  switch (caller) {
    case Caller::kAdmin:
      return "admin";
    case Caller::kOperator:
      return "operator";
    case Caller::kUser:
      return "user";
    case Caller::kNoCredentials:
      return "no credentials";
    case Caller::kPlainHttp:
      return "plain HTTP";
  }
  return "?";
}

// What a request is addressed to.
enum class Target {
  kPrinter,   // printer-uri
  kOwnJob,    // a job the caller created (Create-Job, no document: it never prints)
  kOtherJob,  // a job another user created
  kSystem,    // system-uri
};

// One row of the matrix.
struct Row {
  const char* name;
  ipp_op_t op;
  Target target;
  std::array<Outcome, 5> expected;  // admin, operator, user, no credentials, plain HTTP
};

constexpr Outcome ok = Outcome::kAllowed;
constexpr Outcome login = Outcome::kNeedsLogin;
constexpr Outcome no = Outcome::kForbidden;
constexpr Outcome tls = Outcome::kNeedsTls;

// In order: rows that change the printer are followed by the row undoing it.
const Row kRows[] = {
    // name                      operation                        target             admin op  user none plain
    {"Get-Printer-Attributes", IPP_OP_GET_PRINTER_ATTRIBUTES, Target::kPrinter, {ok, ok, ok, ok, ok}},
    {"Identify-Printer", IPP_OP_IDENTIFY_PRINTER, Target::kPrinter, {ok, ok, ok, ok, ok}},
    {"Get-System-Attributes", IPP_OP_GET_SYSTEM_ATTRIBUTES, Target::kSystem, {ok, ok, ok, ok, ok}},
    {"Print-Job", IPP_OP_PRINT_JOB, Target::kPrinter, {ok, ok, ok, login, tls}},
    {"Validate-Job", IPP_OP_VALIDATE_JOB, Target::kPrinter, {ok, ok, ok, login, tls}},
    {"Create-Job", IPP_OP_CREATE_JOB, Target::kPrinter, {ok, ok, ok, login, tls}},
    {"Send-Document (own job)", IPP_OP_SEND_DOCUMENT, Target::kOwnJob, {ok, ok, ok, login, tls}},
    {"Send-Document (another's job)", IPP_OP_SEND_DOCUMENT, Target::kOtherJob, {ok, ok, no, login, tls}},
    {"Get-Jobs", IPP_OP_GET_JOBS, Target::kPrinter, {ok, ok, ok, login, tls}},
    {"Get-Job-Attributes (own job)", IPP_OP_GET_JOB_ATTRIBUTES, Target::kOwnJob, {ok, ok, ok, login, tls}},
    {"Get-Job-Attributes (another's job)",
     IPP_OP_GET_JOB_ATTRIBUTES,
     Target::kOtherJob,
     {ok, ok, no, login, tls}},
    {"ipp3d-Get-Job-Facts (own job)", kOpGetJobFacts, Target::kOwnJob, {ok, ok, ok, login, tls}},
    {"ipp3d-Get-Job-Facts (another's job)", kOpGetJobFacts, Target::kOtherJob, {ok, ok, no, login, tls}},
    {"Cancel-Job (own job)", IPP_OP_CANCEL_JOB, Target::kOwnJob, {ok, ok, ok, login, tls}},
    {"Cancel-Job (another's job)", IPP_OP_CANCEL_JOB, Target::kOtherJob, {ok, ok, no, login, tls}},
    {"Hold-Job", IPP_OP_HOLD_JOB, Target::kOwnJob, {no, no, no, login, tls}},
    {"Release-Job", IPP_OP_RELEASE_JOB, Target::kOwnJob, {no, no, no, login, tls}},
    {"Cancel-Jobs", IPP_OP_CANCEL_JOBS, Target::kPrinter, {ok, ok, no, login, tls}},
    {"Cancel-My-Jobs", IPP_OP_CANCEL_MY_JOBS, Target::kPrinter, {ok, ok, no, login, tls}},
    {"Suspend-Current-Job", IPP_OP_SUSPEND_CURRENT_JOB, Target::kPrinter, {ok, ok, no, login, tls}},
    {"Resume-Job", IPP_OP_RESUME_JOB, Target::kOwnJob, {ok, ok, no, login, tls}},
    {"ipp3d-Unload-Material", kOpUnloadMaterial, Target::kPrinter, {ok, ok, no, login, tls}},
    {"ipp3d-Load-Material", kOpLoadMaterial, Target::kPrinter, {ok, ok, no, login, tls}},
    {"ipp3d-Confirm-Plate-Clear", kOpConfirmPlateClear, Target::kPrinter, {ok, ok, no, login, tls}},
    {"Set-Printer-Attributes", IPP_OP_SET_PRINTER_ATTRIBUTES, Target::kPrinter, {ok, no, no, login, tls}},
    {"Pause-Printer", IPP_OP_PAUSE_PRINTER, Target::kPrinter, {ok, no, no, login, tls}},
    {"Resume-Printer", IPP_OP_RESUME_PRINTER, Target::kPrinter, {ok, no, no, login, tls}},
    {"Disable-Printer", IPP_OP_DISABLE_PRINTER, Target::kPrinter, {ok, no, no, login, tls}},
    {"Enable-Printer", IPP_OP_ENABLE_PRINTER, Target::kPrinter, {ok, no, no, login, tls}},
    {"Pause-All-Printers", IPP_OP_PAUSE_ALL_PRINTERS, Target::kSystem, {ok, no, no, login, tls}},
    {"Resume-All-Printers", IPP_OP_RESUME_ALL_PRINTERS, Target::kSystem, {ok, no, no, login, tls}},
    {"Hold-New-Jobs", IPP_OP_HOLD_NEW_JOBS, Target::kPrinter, {no, no, no, login, tls}},
    {"ipp3d-Emergency-Stop", kOpEmergencyStop, Target::kPrinter, {ok, ok, no, login, tls}},
};

// The accounts of the matrix (the admin is ServerProcess's).
constexpr const char* kOperatorUser = "olga";
constexpr const char* kOperatorPassword = "olga-operator-password";
constexpr const char* kPlainUser = "uma";
constexpr const char* kPlainUserPassword = "uma-user-password";
constexpr const char* kOtherUser = "otto";
constexpr const char* kOtherUserPassword = "otto-user-password";

// The name and password a caller logs in with ("" for none).
std::pair<std::string, std::string> login_of(Caller caller) {
  switch (caller) {
    case Caller::kAdmin:
      return {kAdminUser, kAdminPassword};
    case Caller::kOperator:
      return {kOperatorUser, kOperatorPassword};
    case Caller::kUser:
      return {kPlainUser, kPlainUserPassword};
    default:
      return {"", ""};
  }
}

// The password libcups' prompt gets, once per request.
struct Prompt {
  std::string user;
  std::string password;
  bool asked = false;
};

const char* answer_prompt(const char*, http_t*, const char*, const char*, void* data) {
  auto* prompt = static_cast<Prompt*>(data);
  if (prompt->asked || prompt->password.empty()) return nullptr;
  prompt->asked = true;
  cupsSetUser(prompt->user.c_str());
  return prompt->password.c_str();
}

// Sends `request` (+ `document`) on a fresh TLS connection to `port`,
// logged in as `user` (none when empty); the IPP status libcups reports.
ipp_status_t send_as(int port, const std::string& user, const std::string& password, IppPtr request,
                     const std::string& document = "") {
  HttpPtr http = connect_tls(port);
  if (!http) return IPP_STATUS_ERROR_SERVICE_UNAVAILABLE;
  Prompt prompt{user, password};
  cupsSetUser(user.empty() ? "nobody" : user.c_str());
  cupsSetPasswordCB2(answer_prompt, &prompt);
  IppPtr response = document.empty() ? send_request(http.get(), std::move(request))
                                     : send_request_with_document(http.get(), std::move(request), document);
  use_test_user_credentials();
  return status_of(response);
}

class RoleMatrix : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    config_ = new TestConfig(0.05);
    server_ = new ServerProcess(IPP3D_SERVER_BINARY, config_->args());
    ASSERT_GT(server_->pid(), 0);
    ASSERT_TRUE(server_->add_account(kOperatorUser, kOperatorPassword, "operator"));
    ASSERT_TRUE(server_->add_account(kPlainUser, kPlainUserPassword, "user"));
    ASSERT_TRUE(server_->add_account(kOtherUser, kOtherUserPassword, "user"));
  }
  static void TearDownTestSuite() {
    delete server_;
    delete config_;
  }

  // A job `user` creates with Create-Job and no document (it waits for one).
  static int create_job_as(const std::string& user, const std::string& password) {
    HttpPtr http = connect_tls(server_->port());
    Prompt prompt{user, password};
    cupsSetUser(user.c_str());
    cupsSetPasswordCB2(answer_prompt, &prompt);
    IppPtr request = new_printer_request(IPP_OP_CREATE_JOB, server_->printer_uri(kPrinterName), user);
    ippAddString(request.get(), IPP_TAG_OPERATION, IPP_TAG_NAME, "job-name", nullptr, "fixture");
    IppPtr response = send_request(http.get(), std::move(request));
    use_test_user_credentials();
    return ippGetInteger(ippFindAttribute(response.get(), "job-id", IPP_TAG_INTEGER), 0);
  }

  // The request of `row` as `caller` sends it.
  static IppPtr request_for(const Row& row, Caller caller, bool encrypted) {
    const std::string printer = server_->printer_uri(kPrinterName, encrypted);
    IppPtr request(ippNewRequest(row.op));
    if (row.target == Target::kSystem) {
      const std::string system = std::string(encrypted ? "ipps" : "ipp") +
                                 "://127.0.0.1:" + std::to_string(server_->port()) + "/ipp/system";
      ippAddString(request.get(), IPP_TAG_OPERATION, IPP_TAG_URI, "system-uri", nullptr, system.c_str());
    } else {
      ippAddString(request.get(), IPP_TAG_OPERATION, IPP_TAG_URI, "printer-uri", nullptr, printer.c_str());
    }
    const auto [user, password] = login_of(caller);
    ippAddString(request.get(), IPP_TAG_OPERATION, IPP_TAG_NAME, "requesting-user-name", nullptr,
                 user.empty() ? kOtherUser : user.c_str());
    if (row.target == Target::kOwnJob || row.target == Target::kOtherJob) {
      // Callers without an account act on the other user's job.
      const bool own = row.target == Target::kOwnJob && !user.empty();
      const int job = own ? create_job_as(user, password) : create_job_as(kOtherUser, kOtherUserPassword);
      EXPECT_GT(job, 0) << "fixture job";
      ippAddInteger(request.get(), IPP_TAG_OPERATION, IPP_TAG_INTEGER, "job-id", job);
    }
    if (row.op == IPP_OP_PRINT_JOB || row.op == IPP_OP_SEND_DOCUMENT || row.op == IPP_OP_VALIDATE_JOB ||
        row.op == IPP_OP_CREATE_JOB) {
      ippAddString(request.get(), IPP_TAG_OPERATION, IPP_TAG_MIMETYPE, "document-format", nullptr,
                   kEnvelopeFormat);
    }
    if (row.op == IPP_OP_SEND_DOCUMENT) ippAddBoolean(request.get(), IPP_TAG_OPERATION, "last-document", 1);
    if (row.op == kOpLoadMaterial) add_material_key(request.get(), "pla-generic");
    if (row.op == IPP_OP_SET_PRINTER_ATTRIBUTES) {
      ippAddString(request.get(), IPP_TAG_PRINTER, IPP_TAG_TEXT, "printer-location", nullptr, "Lab 2");
    }
    return request;
  }

  // Sends `row` as `caller`; how the server answered.
  static Outcome outcome_of(const Row& row, Caller caller, std::string& detail) {
    const bool with_document = row.op == IPP_OP_PRINT_JOB || row.op == IPP_OP_SEND_DOCUMENT;
    const std::string document = with_document ? signed_torus() : "";
    if (caller == Caller::kPlainHttp) {
      IppPtr request = request_for(row, caller, /*tls=*/false);
      const std::string resource = row.target == Target::kSystem ? "/ipp/system" : kPrinterResource;
      const int http_status = plain_http_post(server_->port(), request.get(), document, resource);
      detail = "HTTP " + std::to_string(http_status);
      if (http_status == 426) return Outcome::kNeedsTls;
      if (http_status == 401) return Outcome::kNeedsLogin;
      if (http_status == 403) return Outcome::kForbidden;
      return Outcome::kAllowed;
    }
    const auto [user, password] = login_of(caller);
    const ipp_status_t status =
        send_as(server_->port(), user, password, request_for(row, caller, true), document);
    detail = ippErrorString(status);
    if (status == IPP_STATUS_ERROR_FORBIDDEN) return Outcome::kForbidden;
    if (status == IPP_STATUS_ERROR_NOT_AUTHENTICATED ||
        status == IPP_STATUS_ERROR_CUPS_AUTHENTICATION_CANCELED)
      return Outcome::kNeedsLogin;
    return Outcome::kAllowed;
  }

  static TestConfig* config_;
  static ServerProcess* server_;
};

TestConfig* RoleMatrix::config_ = nullptr;
ServerProcess* RoleMatrix::server_ = nullptr;

TEST_F(RoleMatrix, EveryOperationByEveryCaller) {
  for (const Row& row : kRows) {
    for (std::size_t i = 0; i < kCallers.size(); ++i) {
      std::string detail;
      const Outcome outcome = outcome_of(row, kCallers[i], detail);
      EXPECT_EQ(outcome, row.expected[i])
          << row.name << " by " << caller_name(kCallers[i]) << ": expected " << outcome_name(row.expected[i])
          << ", got " << outcome_name(outcome) << " (" << detail << ")";
    }
  }
}

TEST_F(RoleMatrix, UsersSeeOnlyTheirOwnJobs) {
  const int umas = create_job_as(kPlainUser, kPlainUserPassword);
  const int ottos = create_job_as(kOtherUser, kOtherUserPassword);
  ASSERT_GT(umas, 0);
  ASSERT_GT(ottos, 0);
  // Listed jobs by caller: a user sees its own only (even when asking for
  // everybody's with my-jobs=false); an operator sees all.
  const auto listed = [](const std::string& user, const std::string& password) {
    HttpPtr http = connect_tls(server_->port());
    Prompt prompt{user, password};
    cupsSetUser(user.c_str());
    cupsSetPasswordCB2(answer_prompt, &prompt);
    IppPtr request = new_printer_request(IPP_OP_GET_JOBS, server_->printer_uri(kPrinterName), kOtherUser);
    ippAddBoolean(request.get(), IPP_TAG_OPERATION, "my-jobs", 0);
    ippAddString(request.get(), IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "which-jobs", nullptr, "all");
    IppPtr response = send_request(http.get(), std::move(request));
    use_test_user_credentials();
    std::vector<int> ids;
    for (ipp_attribute_t* a = ippFirstAttribute(response.get()); a; a = ippNextAttribute(response.get())) {
      if (ippGetName(a) != nullptr && std::string(ippGetName(a)) == "job-id")
        ids.push_back(ippGetInteger(a, 0));
    }
    return ids;
  };
  const auto umas_view = listed(kPlainUser, kPlainUserPassword);
  EXPECT_NE(std::find(umas_view.begin(), umas_view.end(), umas), umas_view.end());
  EXPECT_EQ(std::find(umas_view.begin(), umas_view.end(), ottos), umas_view.end()) << "uma saw otto's job";
  const auto operators_view = listed(kOperatorUser, kOperatorPassword);
  EXPECT_NE(std::find(operators_view.begin(), operators_view.end(), umas), operators_view.end());
  EXPECT_NE(std::find(operators_view.begin(), operators_view.end(), ottos), operators_view.end());
}

// The HTTP status of GET https://127.0.0.1:PORT`path` as `caller`.
std::string web_status(const ServerProcess& server, const std::string& path, Caller caller) {
  const auto [user, password] = login_of(caller);
  std::vector<std::string> args = {"curl", "-s", "-k", "-o", "/dev/null", "-w", "%{http_code}"};
  if (!user.empty()) args.insert(args.end(), {"-u", user + ":" + password});
  const std::string scheme = caller == Caller::kPlainHttp ? "http" : "https";
  args.push_back(scheme + "://127.0.0.1:" + std::to_string(server.port()) + path);
  std::string out;
  run_command(args, out);
  return out;
}

TEST_F(RoleMatrix, WebPagesByEveryCaller) {
  struct Page {
    std::string path;
    // admin, operator, user, no credentials, plain HTTP (PAPPL redirects
    // every plain-HTTP page to https:// before any authorization).
    std::array<const char*, 5> expected;
  };
  const std::string printer = std::string("/") + kPrinterName;
  const Page pages[] = {
      {printer + "/operator", {"200", "200", "403", "401", "301"}},
      {printer + "/config", {"200", "403", "403", "401", "301"}},
      {printer + "/printing", {"200", "403", "403", "401", "301"}},
      {printer + "/delete", {"200", "403", "403", "401", "301"}},
      {"/config", {"200", "403", "403", "401", "301"}},
  };
  for (const Page& page : pages) {
    for (std::size_t i = 0; i < kCallers.size(); ++i) {
      EXPECT_EQ(web_status(*server_, page.path, kCallers[i]), page.expected[i])
          << page.path << " by " << caller_name(kCallers[i]);
    }
  }
}

// Cancel-Current-Job names no job, so it needs the manage-jobs right (PAPPL
// answers not-found before asking when nothing prints, which the matrix
// would see). The same print shows both identities of a job: the transport
// account owns it, the signer's bound account is in ipp3d-signer-user.
TEST(RoleRules, CancelCurrentJobNeedsAnOperatorAndJobsNameTheSignersAccount) {
  using namespace std::chrono_literals;
  const TestConfig config(0.5);
  ServerProcess server(IPP3D_SERVER_BINARY, config.args());
  ASSERT_GT(server.pid(), 0);
  ASSERT_TRUE(server.add_account(kOperatorUser, kOperatorPassword, "operator"));
  ASSERT_TRUE(server.add_account(kOtherUser, kOtherUserPassword, "user"));
  // The test signer, bound to otto.
  const std::string dir = server.state_dir().string();
  std::string out;
  ASSERT_EQ(run_command({IPP3D_SERVER_BINARY, "trust", "remove", kTestSignerName, "--state-dir", dir}, out),
            0)
      << out;
  ASSERT_EQ(run_command({IPP3D_SERVER_BINARY, "trust", "add", dir + "/test-signer.pub", "--name",
                         kTestSignerName, "--user", kOtherUser, "--state-dir", dir},
                        out),
            0)
      << out;

  // The test user (role user) prints.
  HttpPtr http = connect_tls(server.port());
  const std::string uri = server.printer_uri(kPrinterName);
  const int job = print_job(http.get(), uri, signed_torus(), kEnvelopeFormat);
  ASSERT_GT(job, 0);
  bool printing = false;
  const JobStatus status = wait_for_job(
      http.get(), uri, job, [](const JobStatus& s) { return s.state == IPP_JSTATE_PROCESSING; }, 20s,
      printing);
  ASSERT_TRUE(printing) << describe(status);
  IppPtr facts = send_request(http.get(), new_job_request(kOpGetJobFacts, uri, job));
  EXPECT_EQ(response_text(facts, "ipp3d-signer-name"), kTestSignerName);
  EXPECT_EQ(response_text(facts, "ipp3d-signer-user"), kOtherUser);
  IppPtr attributes = send_request(http.get(), new_job_request(IPP_OP_GET_JOB_ATTRIBUTES, uri, job));
  EXPECT_EQ(response_text(attributes, "job-originating-user-name"), kTestUser);

  const auto cancel_current = [&](const std::string& user, const std::string& password) {
    return send_as(server.port(), user, password, new_printer_request(IPP_OP_CANCEL_CURRENT_JOB, uri));
  };
  EXPECT_EQ(cancel_current(kTestUser, kTestUserPassword), IPP_STATUS_ERROR_FORBIDDEN);
  const ipp_status_t anonymous = cancel_current("", "");
  EXPECT_TRUE(anonymous == IPP_STATUS_ERROR_NOT_AUTHENTICATED ||
              anonymous == IPP_STATUS_ERROR_CUPS_AUTHENTICATION_CANCELED)
      << ippErrorString(anonymous);
  EXPECT_EQ(get_job(http.get(), uri, job).state, IPP_JSTATE_PROCESSING);
  EXPECT_EQ(cancel_current(kOperatorUser, kOperatorPassword), IPP_STATUS_OK);
  bool ended = false;
  const JobStatus final_status = wait_for_job(
      http.get(), uri, job, [](const JobStatus& s) { return s.terminal(); }, 20s, ended);
  EXPECT_EQ(final_status.state, IPP_JSTATE_CANCELED) << describe(final_status);
}

}  // namespace
}  // namespace ipp3d::testing
