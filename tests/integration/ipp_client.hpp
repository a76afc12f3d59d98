// Test helpers shared by the integration tests: a libcups IPP client for the
// running ipp3d-server (TLS connections, job requests, polling job state,
// the admin vendor operations), test configurations, and sample documents.
#pragma once

#include "ipp3d/ipp_handles.hpp"

#include "server_process.hpp"

#include <cups/cups.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace ipp3d::testing {

inline constexpr const char* kPrinterName = "virtual-fdm";
inline constexpr const char* kPrinterResource = "/ipp/print/virtual-fdm";
inline constexpr int kTorusLayers = 28;

// The ipp3d vendor operations (docs: server/ipp/operator_ops.hpp).
inline constexpr auto kOpLoadMaterial = static_cast<ipp_op_t>(0x4101);
inline constexpr auto kOpUnloadMaterial = static_cast<ipp_op_t>(0x4102);
inline constexpr auto kOpConfirmPlateClear = static_cast<ipp_op_t>(0x4103);

// A throwaway directory, removed with its contents by the destructor.
class TempDir {
 public:
  TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A TOML configuration equal to the built-in one (printer "virtual-fdm", PLA
// loaded, PETG in the database) except for the virtual printer's speed.
class TestConfig {
 public:
  explicit TestConfig(double seconds_per_layer, bool auto_start_next = false, bool require_signature = true);
  // "--config FILE", for ServerProcess's extra arguments.
  [[nodiscard]] std::vector<std::string> args() const;
  [[nodiscard]] std::filesystem::path file() const { return dir_.path() / "ipp3d-test.toml"; }

 private:
  TempDir dir_;
};

// TestConfig's printer ("virtual-fdm", PLA loaded, signed jobs only) on the
// "moonraker" backend: [printer.moonraker] with `url` and `api_key_file`, and
// `moonraker_extra` (TOML lines, e.g. "accept_risks = [...]\n") in that table.
class MoonrakerTestConfig {
 public:
  // `moonraker_lines` are added to the [printer.moonraker] table (e.g.
  // "delete_after_job = false\n" or "timeout_seconds = 2\n", which replaces the default 10).
  MoonrakerTestConfig(const std::string& url, const std::filesystem::path& api_key_file,
                      bool auto_start_next = true, const std::string& moonraker_lines = "");
  // "--config FILE", for ServerProcess's extra arguments.
  [[nodiscard]] std::vector<std::string> args() const;
  [[nodiscard]] std::filesystem::path file() const { return dir_.path() / "ipp3d-moonraker-test.toml"; }

 private:
  TempDir dir_;
};

// A sample from the shared test data, e.g. "torus-curaengine-marlin.gcode"
// (IPP3D_TESTDATA_DIR is defined for each integration test executable).
#ifdef IPP3D_TESTDATA_DIR
inline std::filesystem::path sample_path(const std::string& name) {
  return std::filesystem::path(IPP3D_TESTDATA_DIR) / "gcode" / name;
}
inline std::filesystem::path torus_path() { return sample_path("torus-curaengine-marlin.gcode"); }
#endif
// The whole content of a file ("" when unreadable).
std::string read_file(const std::filesystem::path& file);
// A valid 1x1 PNG image.
std::string tiny_png();

// A TLS connection to 127.0.0.1:port (null on failure). Installs the test
// user's credentials (kTestUser) as this thread's answer to libcups'
// password prompts.
HttpPtr connect_tls(int port);

// Makes libcups on this thread answer password prompts with kTestUser's
// credentials (the default of the tests).
void use_test_user_credentials();

// A new request with the operation attributes every test request carries:
// charset, language, printer-uri and requesting-user-name.
IppPtr new_printer_request(ipp_op_t op, const std::string& printer_uri, const std::string& user = kTestUser);
// The same plus job-id.
IppPtr new_job_request(ipp_op_t op, const std::string& printer_uri, int job_id,
                       const std::string& user = kTestUser);

// Sends a request without document on `http`; the response or null.
IppPtr send_request(http_t* http, IppPtr request);
// Sends a request followed by `document` (Print-Job, Send-Document).
IppPtr send_request_with_document(http_t* http, IppPtr request, const std::string& document);

// The status of a response; for no response, libcups' last error.
ipp_status_t status_of(const IppPtr& response);
// A text or keyword operation attribute of a response ("" when absent).
std::string response_text(const IppPtr& response, const char* name);
// The names of the attributes in the unsupported-attributes group.
std::vector<std::string> unsupported_attribute_names(const IppPtr& response);

// Submits a Print-Job of `document` declared as `format` (empty: none); the job-id or 0.
int print_job(http_t* http, const std::string& printer_uri, const std::string& document,
              const std::string& format, const std::function<void(ipp_t*)>& add_job_attributes = {});

// What Get-Job-Attributes says about a job.
struct JobStatus {
  bool found = false;
  ipp_jstate_t state = IPP_JSTATE_PENDING;
  std::vector<std::string> reasons;
  std::string message;
  int impressions = -1;
  int impressions_completed = -1;
  // Seconds since the printer started (PAPPL's clock); -1: no value yet.
  int time_at_processing = -1;
  int time_at_completed = -1;

  [[nodiscard]] bool has_reason(const std::string& reason) const;
  [[nodiscard]] bool terminal() const { return state >= IPP_JSTATE_CANCELED; }
};
JobStatus get_job(http_t* http, const std::string& printer_uri, int job_id);
// "processing (layer 3 of 28...)" for failure messages.
std::string describe(const JobStatus& status);

// Polls the job every 50 ms until `done` holds or `timeout` passes; calls
// `observe` with every status seen. Returns the last status; `reached` tells
// whether `done` held.
JobStatus wait_for_job(http_t* http, const std::string& printer_uri, int job_id,
                       const std::function<bool(const JobStatus&)>& done, std::chrono::milliseconds timeout,
                       bool& reached, const std::function<void(const JobStatus&)>& observe = {});

// The job ids of Get-Jobs (which-jobs), ascending.
std::vector<int> job_ids(http_t* http, const std::string& printer_uri, const std::string& which_jobs = "all");

// Sends `request` (+ `document`) as one HTTP POST to kPrinterResource (or
// `resource`) over a plain TCP connection to 127.0.0.1:port, without the
// upgrade libcups would do, and returns the HTTP status code the server
// answered (0 when no answer).
int plain_http_post(int port, ipp_t* request, const std::string& document = "",
                    const std::string& resource = kPrinterResource);

// Credentials for an admin operation.
enum class Credentials { kNone, kWrongPassword, kAdmin };

// The outcome of an operation that may be challenged for credentials.
struct AuthOutcome {
  ipp_status_t status = IPP_STATUS_OK;  // IPP status, or libcups' error without response
  // The HTTP status of each response that made libcups ask for a password
  // (HTTP_STATUS_UNAUTHORIZED for each challenge).
  std::vector<http_status_t> challenges;
};

// Sends `request` on a new TLS connection as user `admin`, answering a
// password challenge according to `credentials` (kNone: no password).
AuthOutcome send_with_credentials(int port, IppPtr request, Credentials credentials);
// An ipp3d vendor operation on the printer (material_key for Load-Material).
AuthOutcome operator_operation(const ServerProcess& server, ipp_op_t op, Credentials credentials,
                               const std::string& material_key = "");

// materials-col-ready material-key values from Get-Printer-Attributes.
std::vector<std::string> ready_material_keys(http_t* http, const std::string& printer_uri);

// Adds materials-col = { material-key KEY } to the job group of `request`.
void add_material_key(ipp_t* request, const std::string& key);

}  // namespace ipp3d::testing
