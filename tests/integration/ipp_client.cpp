#include "ipp_client.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <cstdlib>
#include <fstream>
#include <netinet/in.h>
#include <sstream>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace ipp3d::testing {
namespace {

// Answers libcups' password prompts for send_with_credentials().
struct PasswordAnswer {
  Credentials credentials = Credentials::kNone;
  int prompts = 0;
  std::vector<http_status_t> challenges;
};

const char* answer_password(const char*, http_t* http, const char*, const char*, void* data) {
  auto* answer = static_cast<PasswordAnswer*>(data);
  ++answer->prompts;
  answer->challenges.push_back(httpGetStatus(http));
  if (answer->prompts > 1) return nullptr;  // one try only: never loop on a refused password
  switch (answer->credentials) {
    case Credentials::kAdmin:
      return kAdminPassword;
    case Credentials::kWrongPassword:
      return "not-the-admin-password";
    case Credentials::kNone:
      break;
  }
  return nullptr;
}

// An integer attribute of `ipp`, or `fallback`.
int integer_of(ipp_t* ipp, const char* name, int fallback) {
  ipp_attribute_t* attr = ippFindAttribute(ipp, name, IPP_TAG_ZERO);
  if (attr == nullptr) return fallback;
  const ipp_tag_t tag = ippGetValueTag(attr);
  if (tag != IPP_TAG_INTEGER && tag != IPP_TAG_ENUM) return fallback;
  return ippGetInteger(attr, 0);
}

}  // namespace

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "ipp3d-it-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

namespace {

// The tables every test printer shares: a 220 x 220 x 250 mm volume, hotend
// 0-280 °C, bed 0-110 °C, the PRINT_START/PRINT_END macros, and PLA and PETG.
constexpr const char* kPrinterTables =
    "[printer.volume]\n"
    "x = { min = 0, max = 220 }\n"
    "y = { min = 0, max = 220 }\n"
    "z = { min = 0, max = 250 }\n"
    "[printer.home]\n"
    "x = 0\ny = 0\nz = 0\n"
    "[printer.hotend]\n"
    "min_temp = 0\nmax_temp = 280\n"
    "[printer.bed]\n"
    "min_temp = 0\nmax_temp = 110\n"
    "[[printer.macro]]\n"
    "name = \"PRINT_START\"\n"
    "hotend_temperature_params = [\"EXTRUDER\"]\n"
    "bed_temperature_params = [\"BED\"]\n"
    "[[printer.macro]]\n"
    "name = \"PRINT_END\"\n"
    "[[printer.material]]\n"
    "key = \"pla-generic\"\nname = \"Generic PLA\"\ntype = \"pla\"\n"
    "hotend_temp = [190, 230]\nbed_temp = [50, 70]\n"
    "[[printer.material]]\n"
    "key = \"petg-generic\"\nname = \"Generic PETG\"\ntype = \"pet\"\n"
    "hotend_temp = [220, 250]\nbed_temp = [70, 90]\n";

// The [[printer]] keys every test printer shares, then its `backend`.
void write_printer_head(std::ostream& out, const char* backend, bool auto_start_next) {
  out << "[[printer]]\n"
         "name = \"virtual-fdm\"\n"
      << "backend = \"" << backend << "\"\n"
      << "platform_shape = \"rectangle\"\n"
      << "auto_start_next = " << (auto_start_next ? "true" : "false") << "\n"
      << "nozzle_diameter = 0.4\n"
         "filament_diameter = 1.75\n"
         "loaded_material = \"pla-generic\"\n";
}

}  // namespace

TestConfig::TestConfig(double seconds_per_layer, bool auto_start_next, bool require_signature) {
  std::ofstream out(file());
  write_printer_head(out, "virtual", auto_start_next);
  out << "[printer.virtual]\n"
      << "seconds_per_layer = " << seconds_per_layer << "\n"
      << "[printer.security]\n"
      << "require_signature = " << (require_signature ? "true" : "false") << "\n"
      << kPrinterTables;
  if (!out) ADD_FAILURE() << "cannot write " << file();
}

std::vector<std::string> TestConfig::args() const { return {"--config", file().string()}; }

MoonrakerTestConfig::MoonrakerTestConfig(const std::string& url, const std::filesystem::path& api_key_file,
                                         bool auto_start_next, const std::string& moonraker_lines) {
  std::ofstream out(file());
  write_printer_head(out, "moonraker", auto_start_next);
  out << "[printer.moonraker]\n"
      << "url = \"" << url << "\"\n"
      << "api_key_file = \"" << api_key_file.string() << "\"\n"
      << (moonraker_lines.find("timeout_seconds") == std::string::npos ? "timeout_seconds = 10\n" : "")
      << moonraker_lines << kPrinterTables;
  if (!out) ADD_FAILURE() << "cannot write " << file();
}

std::vector<std::string> MoonrakerTestConfig::args() const { return {"--config", file().string()}; }

std::string read_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string tiny_png() {
  static constexpr std::array<unsigned char, 67> kPng = {
      0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00,
      0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00,
      0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00, 0x05, 0x00, 0x01,
      0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82};
  return {reinterpret_cast<const char*>(kPng.data()), kPng.size()};
}

namespace {

// The connection the test user's password was last given on (libcups keeps
// credentials per connection: a second prompt there means they were refused).
thread_local http_t* answered_connection = nullptr;

// Answers libcups' password prompt with the test user's credentials, once
// per connection (never loops on a refusal).
const char* answer_test_user(const char*, http_t* http, const char*, const char*, void*) {
  if (http == answered_connection) return nullptr;
  answered_connection = http;
  cupsSetUser(kTestUser);
  return kTestUserPassword;
}

}  // namespace

void use_test_user_credentials() {
  answered_connection = nullptr;
  cupsSetUser(kTestUser);
  cupsSetPasswordCB2(answer_test_user, nullptr);
}

HttpPtr connect_tls(int port) {
  use_test_user_credentials();
  return HttpPtr(
      httpConnect2("127.0.0.1", port, nullptr, AF_INET, HTTP_ENCRYPTION_ALWAYS, 1, 10000, nullptr));
}

IppPtr new_printer_request(ipp_op_t op, const std::string& printer_uri, const std::string& user) {
  IppPtr request(ippNewRequest(op));
  ippAddString(request.get(), IPP_TAG_OPERATION, IPP_TAG_URI, "printer-uri", nullptr, printer_uri.c_str());
  ippAddString(request.get(), IPP_TAG_OPERATION, IPP_TAG_NAME, "requesting-user-name", nullptr, user.c_str());
  return request;
}

IppPtr new_job_request(ipp_op_t op, const std::string& printer_uri, int job_id, const std::string& user) {
  IppPtr request = new_printer_request(op, printer_uri, user);
  ippAddInteger(request.get(), IPP_TAG_OPERATION, IPP_TAG_INTEGER, "job-id", job_id);
  return request;
}

IppPtr send_request(http_t* http, IppPtr request) {
  return IppPtr(cupsDoRequest(http, request.release(), kPrinterResource));  // frees the request
}

IppPtr send_request_with_document(http_t* http, IppPtr request, const std::string& document) {
  // A 401 answer makes libcups ask for the password; the request is then
  // sent again with the credentials (as cupsDoIORequest does), once.
  for (int attempt = 0;; ++attempt) {
    // The length covers the IPP message and the document.
    http_status_t status =
        cupsSendRequest(http, request.get(), kPrinterResource, ippLength(request.get()) + document.size());
    // In pieces, as ipptool and lp send files.
    constexpr std::size_t kPiece = 65536;
    for (std::size_t at = 0; status == HTTP_STATUS_CONTINUE && at < document.size(); at += kPiece) {
      status = cupsWriteRequestData(http, document.data() + at, std::min(kPiece, document.size() - at));
    }
    // Also after an early answer (e.g. a refusal): read what the server said.
    IppPtr response(cupsGetResponse(http, kPrinterResource));
    if (response || attempt > 0 || cupsLastError() != IPP_STATUS_ERROR_NOT_AUTHENTICATED ||
        httpGetAuthString(http) == nullptr) {
      return response;
    }
  }
}

ipp_status_t status_of(const IppPtr& response) {
  return response ? ippGetStatusCode(response.get()) : cupsLastError();
}

std::string response_text(const IppPtr& response, const char* name) {
  if (!response) return "";
  const char* text = ippGetString(ippFindAttribute(response.get(), name, IPP_TAG_ZERO), 0, nullptr);
  return text != nullptr ? text : "";
}

std::vector<std::string> unsupported_attribute_names(const IppPtr& response) {
  std::vector<std::string> names;
  if (!response) return names;
  for (ipp_attribute_t* a = ippFirstAttribute(response.get()); a != nullptr;
       a = ippNextAttribute(response.get())) {
    if (ippGetGroupTag(a) == IPP_TAG_UNSUPPORTED_GROUP && ippGetName(a) != nullptr) {
      names.emplace_back(ippGetName(a));
    }
  }
  return names;
}

int print_job(http_t* http, const std::string& printer_uri, const std::string& document,
              const std::string& format, const std::function<void(ipp_t*)>& add_job_attributes) {
  IppPtr request = new_printer_request(IPP_OP_PRINT_JOB, printer_uri);
  ippAddString(request.get(), IPP_TAG_OPERATION, IPP_TAG_NAME, "job-name", nullptr, "integration-test");
  if (!format.empty()) {
    ippAddString(request.get(), IPP_TAG_OPERATION, IPP_TAG_MIMETYPE, "document-format", nullptr,
                 format.c_str());
  }
  if (add_job_attributes) add_job_attributes(request.get());
  IppPtr response = send_request_with_document(http, std::move(request), document);
  if (status_of(response) > IPP_STATUS_OK_CONFLICTING) {
    ADD_FAILURE() << "Print-Job failed: " << ippErrorString(status_of(response)) << " "
                  << response_text(response, "detailed-status-message") << cupsLastErrorString();
    return 0;
  }
  return integer_of(response.get(), "job-id", 0);
}

bool JobStatus::has_reason(const std::string& reason) const {
  return std::find(reasons.begin(), reasons.end(), reason) != reasons.end();
}

JobStatus get_job(http_t* http, const std::string& printer_uri, int job_id) {
  static const char* const kWanted[] = {"job-state",        "job-state-reasons",         "job-state-message",
                                        "job-impressions",  "job-impressions-completed", "time-at-processing",
                                        "time-at-completed"};
  IppPtr request = new_job_request(IPP_OP_GET_JOB_ATTRIBUTES, printer_uri, job_id);
  ippAddStrings(request.get(), IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "requested-attributes",
                static_cast<int>(std::size(kWanted)), nullptr, kWanted);
  IppPtr response = send_request(http, std::move(request));
  JobStatus status;
  if (status_of(response) > IPP_STATUS_OK_CONFLICTING) return status;
  status.found = true;
  status.state = static_cast<ipp_jstate_t>(integer_of(response.get(), "job-state", IPP_JSTATE_PENDING));
  if (ipp_attribute_t* reasons = ippFindAttribute(response.get(), "job-state-reasons", IPP_TAG_KEYWORD)) {
    for (int i = 0; i < ippGetCount(reasons); ++i)
      status.reasons.emplace_back(ippGetString(reasons, i, nullptr));
  }
  status.message = response_text(response, "job-state-message");
  status.impressions = integer_of(response.get(), "job-impressions", -1);
  status.impressions_completed = integer_of(response.get(), "job-impressions-completed", -1);
  status.time_at_processing = integer_of(response.get(), "time-at-processing", -1);
  status.time_at_completed = integer_of(response.get(), "time-at-completed", -1);
  return status;
}

std::string describe(const JobStatus& status) {
  if (!status.found) return "(job not found)";
  std::string text = ippEnumString("job-state", static_cast<int>(status.state));
  text += " [";
  for (const auto& reason : status.reasons) text += reason + " ";
  text += "] \"" + status.message + "\" impressions " + std::to_string(status.impressions_completed) + "/" +
          std::to_string(status.impressions);
  return text;
}

JobStatus wait_for_job(http_t* http, const std::string& printer_uri, int job_id,
                       const std::function<bool(const JobStatus&)>& done, std::chrono::milliseconds timeout,
                       bool& reached, const std::function<void(const JobStatus&)>& observe) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  JobStatus status;
  for (;;) {
    status = get_job(http, printer_uri, job_id);
    if (observe) observe(status);
    reached = status.found && done(status);
    if (reached || std::chrono::steady_clock::now() > deadline) return status;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

std::vector<int> job_ids(http_t* http, const std::string& printer_uri, const std::string& which_jobs) {
  IppPtr request = new_printer_request(IPP_OP_GET_JOBS, printer_uri);
  ippAddString(request.get(), IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "which-jobs", nullptr, which_jobs.c_str());
  ippAddString(request.get(), IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "requested-attributes", nullptr, "job-id");
  IppPtr response = send_request(http, std::move(request));
  std::vector<int> ids;
  EXPECT_EQ(status_of(response), IPP_STATUS_OK) << "Get-Jobs: " << cupsLastErrorString();
  if (!response) return ids;
  for (ipp_attribute_t* a = ippFirstAttribute(response.get()); a != nullptr;
       a = ippNextAttribute(response.get())) {
    if (ippGetName(a) != nullptr && std::string(ippGetName(a)) == "job-id")
      ids.push_back(ippGetInteger(a, 0));
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

AuthOutcome send_with_credentials(int port, IppPtr request, Credentials credentials) {
  AuthOutcome outcome;
  HttpPtr http = connect_tls(port);
  if (!http) {
    ADD_FAILURE() << "cannot connect: " << cupsLastErrorString();
    outcome.status = IPP_STATUS_ERROR_SERVICE_UNAVAILABLE;
    return outcome;
  }
  PasswordAnswer answer{credentials, 0, {}};
  cupsSetUser(kAdminUser);
  cupsSetPasswordCB2(answer_password, &answer);
  IppPtr response = send_request(http.get(), std::move(request));
  use_test_user_credentials();
  outcome.status = status_of(response);
  outcome.challenges = answer.challenges;
  return outcome;
}

AuthOutcome operator_operation(const ServerProcess& server, ipp_op_t op, Credentials credentials,
                               const std::string& material_key) {
  IppPtr request = new_printer_request(op, server.printer_uri(kPrinterName), kAdminUser);
  if (!material_key.empty()) {
    ippAddString(request.get(), IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "material-key", nullptr,
                 material_key.c_str());
  }
  return send_with_credentials(server.port(), std::move(request), credentials);
}

std::vector<std::string> ready_material_keys(http_t* http, const std::string& printer_uri) {
  IppPtr request = new_printer_request(IPP_OP_GET_PRINTER_ATTRIBUTES, printer_uri);
  ippAddString(request.get(), IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "requested-attributes", nullptr,
               "materials-col-ready");
  IppPtr response = send_request(http, std::move(request));
  std::vector<std::string> keys;
  EXPECT_EQ(status_of(response), IPP_STATUS_OK) << cupsLastErrorString();
  ipp_attribute_t* ready = ippFindAttribute(response.get(), "materials-col-ready", IPP_TAG_ZERO);
  if (ready == nullptr || ippGetValueTag(ready) != IPP_TAG_BEGIN_COLLECTION) return keys;
  for (int i = 0; i < ippGetCount(ready); ++i) {
    const char* key =
        ippGetString(ippFindAttribute(ippGetCollection(ready, i), "material-key", IPP_TAG_ZERO), 0, nullptr);
    keys.emplace_back(key != nullptr ? key : "");
  }
  return keys;
}

void add_material_key(ipp_t* request, const std::string& key) {
  IppPtr material = make_ipp();
  ippAddString(material.get(), IPP_TAG_ZERO, IPP_TAG_KEYWORD, "material-key", nullptr, key.c_str());
  ippAddCollection(request, IPP_TAG_JOB, "materials-col", material.get());
}

namespace {

// ippWriteIO callback appending to a std::string.
ssize_t append_to_string(void* context, ipp_uchar_t* buffer, size_t bytes) {
  static_cast<std::string*>(context)->append(reinterpret_cast<const char*>(buffer), bytes);
  return static_cast<ssize_t>(bytes);
}

// Sends `request` over a plain TCP connection to 127.0.0.1:port and returns
// what the server answered (at least the header), or "" on failure.
std::string raw_http_exchange(int port, const std::string& request) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return "";
  timeval timeout{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string answer;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    std::size_t sent = 0;
    while (sent < request.size()) {
      const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) break;  // the server may answer and close before reading everything
      sent += static_cast<std::size_t>(n);
    }
    char buffer[4096];
    ssize_t n = 0;
    while (answer.find("\r\n\r\n") == std::string::npos && (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0) {
      answer.append(buffer, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  return answer;
}

}  // namespace

int plain_http_post(int port, ipp_t* request, const std::string& document, const std::string& resource) {
  std::string body;
  if (ippWriteIO(&body, append_to_string, 1, nullptr, request) != IPP_STATE_DATA)
    ADD_FAILURE() << "ippWriteIO";
  body += document;
  const std::string http_request =
      "POST " + resource + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
      "\r\nContent-Type: application/ipp\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
      body;
  const std::string answer = raw_http_exchange(port, http_request);
  if (answer.rfind("HTTP/1.", 0) != 0 || answer.size() < 12) return 0;
  return std::atoi(answer.substr(9, 3).c_str());
}

}  // namespace ipp3d::testing
