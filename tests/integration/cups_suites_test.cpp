// CUPS's own conformance suites, ipp-1.1.test and ipp-2.0.test (which
// INCLUDEs ipp-1.1.test), run by ipptool against the live server over
// ipps:// with a signed G-code sample as the document ($filename/$filetype
// from -f). The suites print the file several times, so its envelope carries
// a licence (a plain envelope prints once).
// Every [FAIL] must be the loopback artefact described in
// docs/conformance.md (for a loopback client PAPPL lists one
// printer-uri-supported and one uri-authentication-supported value but two
// uri-security-supported values, so the SAME-COUNT-AS checks between them
// fail) or one of the two deliberate refusals documented there (JPEG
// documents; Release-Job). Any other failure fails the test, with
// ipptool's whole output.
#include "cupsd_process.hpp"
#include "ipp_client.hpp"
#include "server_process.hpp"
#include "signing.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

namespace ipp3d::testing {
namespace {

constexpr const char* kSuiteDir = "/usr/share/cups/ipptool";

// One test of ipptool's -t output: its name, result and detail lines.
struct SuiteResult {
  std::string name;
  std::string result;  // PASS, FAIL or SKIP
  std::vector<std::string> details;
};

// Splits ipptool's -t output into its tests. A test line ends with [PASS],
// [FAIL] or [SKIP]; the indented lines after a [FAIL] are its reasons.
std::vector<SuiteResult> parse_results(const std::string& output) {
  static const std::regex kTestLine(R"(^    (\S.*\S)\s+\[(PASS|FAIL|SKIP)\]\s*$)");
  std::vector<SuiteResult> results;
  std::istringstream in(output);
  std::string line;
  bool in_test = false;
  while (std::getline(in, line)) {
    std::smatch match;
    if (std::regex_match(line, match, kTestLine)) {
      results.push_back({match[1].str(), match[2].str(), {}});
      in_test = true;
    } else if (in_test && line.starts_with("        ")) {
      results.back().details.push_back(line.substr(8));
    } else {
      in_test = false;
    }
  }
  return results;
}

// True for an EXPECTED line of the loopback artefact: a SAME-COUNT-AS check
// between uri-security-supported and printer-uri-supported or
// uri-authentication-supported.
bool is_loopback_artefact(const std::string& expected) {
  static const std::regex kArtefact(
      R"(^EXPECTED: (printer-uri-supported \(\d+ values?\) SAME-COUNT-AS uri-security-supported|)"
      R"(uri-security-supported \(\d+ values?\) SAME-COUNT-AS uri-authentication-supported) \(\d+ values?\)$)");
  return std::regex_match(expected, kArtefact);
}

// True for the two deliberate refusals documented in docs/conformance.md:
// a JPEG document (PAPPL always advertises image/jpeg; ipp3d prints G-code
// only) refused with client-error-document-format-not-supported, and
// Release-Job refused with HTTP 403 (the scheduler alone releases jobs).
bool is_deliberate_refusal(const SuiteResult& result) {
  const auto has_detail = [&result](const std::string& text) {
    return std::any_of(result.details.begin(), result.details.end(),
                       [&text](const std::string& d) { return d.find(text) != std::string::npos; });
  };
  if (result.name.starts_with("Print-Job with Color JPEG") ||
      result.name.starts_with("Print-Job with Grayscale JPEG")) {
    return has_detail("(got client-error-document-format-not-supported)");
  }
  if (result.name == "Release-Job")
    return has_detail("IPP request failed with status client-error-forbidden");
  return false;
}

// The reasons of a failed test that are not accepted (empty if the failure
// is the loopback artefact or a deliberate refusal only). A failure without
// any EXPECTED line (e.g. an HTTP error without IPP response) is never
// accepted unless it is a deliberate refusal.
std::vector<std::string> unaccepted_reasons(const SuiteResult& result) {
  if (is_deliberate_refusal(result)) return {};
  std::vector<std::string> reasons;
  bool artefact_seen = false;
  for (const auto& detail : result.details) {
    if (detail.starts_with("EXPECTED:") || detail.starts_with("GOT:") ||
        detail.starts_with("IPP request failed")) {
      if (is_loopback_artefact(detail)) {
        artefact_seen = true;
      } else {
        reasons.push_back(detail);
      }
    }
  }
  if (!artefact_seen && reasons.empty()) reasons.emplace_back("(failed without an EXPECTED line)");
  return reasons;
}

// A copy of the suite directory: ipptool resolves INCLUDE and FILE names
// relative to the test file. Debian's cups-ipp-utils ships the .test files
// but not the documents that ipp-1.1.test names (document-a4.pdf, color.jpg,
// ...); ipptool checks them while parsing, even for tests it will skip, and
// stops at the first missing one. The missing ones are replaced by minimal
// documents of the declared type (the server refuses non-G-code formats by
// their declared type, whatever the content).
class SuiteDir {
 public:
  SuiteDir() {
    for (const auto& entry : std::filesystem::directory_iterator(kSuiteDir)) {
      std::filesystem::create_symlink(entry.path(), dir_.path() / entry.path().filename());
    }
    const std::vector<std::pair<std::string, std::string>> documents = {
        {"document-a4.pdf", "%PDF-1.0\n%%EOF\n"},
        {"document-letter.pdf", "%PDF-1.0\n%%EOF\n"},
        {"document-a4.ps", "%!PS-Adobe-3.0\nshowpage\n%%EOF\n"},
        {"document-letter.ps", "%!PS-Adobe-3.0\nshowpage\n%%EOF\n"},
        {"color.jpg", std::string("\xFF\xD8\xFF\xD9", 4)},
        {"gray.jpg", std::string("\xFF\xD8\xFF\xD9", 4)},
    };
    for (const auto& [name, content] : documents) {
      const auto file = dir_.path() / name;
      if (std::filesystem::exists(file)) continue;
      std::ofstream(file, std::ios::binary) << content;
    }
  }
  [[nodiscard]] const std::filesystem::path& path() const { return dir_.path(); }

 private:
  TempDir dir_;
};

// The number of tests (NAME lines) in an ipptool file and the files it
// INCLUDEs (relative to its folder).
size_t count_tests(const std::filesystem::path& file) {
  static const std::regex kName(R"(^\s*NAME\s+".*)");
  static const std::regex kInclude(R"re(^\s*INCLUDE\s+"([^"]+)".*)re");
  std::ifstream in(file);
  std::string line;
  size_t count = 0;
  while (std::getline(in, line)) {
    std::smatch match;
    if (std::regex_match(line, kName)) {
      ++count;
    } else if (std::regex_match(line, match, kInclude)) {
      count += count_tests(file.parent_path() / match[1].str());
    }
  }
  return count;
}

// Runs `suite` with ipptool at IPP `version` against `uri`; checks that
// ipptool ran the whole suite and that every failure is the artefact.
void run_suite(const std::string& suite, const std::string& version, bool as_admin) {
  const TestConfig config(0.02, /*auto_start_next=*/true);
  ServerProcess server(IPP3D_SERVER_BINARY, config.args());
  ASSERT_GT(server.pid(), 0);
  const SuiteDir dir;
  // printer-up-time counts whole seconds since the start and is 0 during the
  // first one; the suite wants it > 0 (RFC 8011: integer(1:MAX)).
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  const std::string uri = as_admin ? server.admin_uri(kPrinterName) : server.user_uri(kPrinterName);
  const TempDir documents;
  const auto envelope = documents.path() / "torus.ipp3d";
  write_bytes(envelope, sign_document(read_file(torus_path()), [](trust::SignOptions& o) {
                o.licence = trust::Licence{"cups-suites", 1000};
              }));
  std::string out;
  const int status = run_command_in(
      {"ipptool", "-I", "-t", "-V", version, "-f", envelope.string(), uri, suite}, dir.path(), {}, out);
  const auto results = parse_results(out);
  // ipptool prints a "Summary:" line only for a file without INCLUDE, and
  // stops early with an "ipptool: ..." message when it cannot read a file:
  // check instead that every test of the suite has a result.
  EXPECT_EQ(out.find("\nipptool:"), std::string::npos) << out;
  ASSERT_EQ(results.size(), count_tests(dir.path() / suite))
      << "ipptool did not run the whole suite (exit " << status << "):\n"
      << out;

  int passed = 0;
  for (const auto& result : results) {
    if (result.result == "PASS") ++passed;
    if (result.result != "FAIL") continue;
    const auto reasons = unaccepted_reasons(result);
    if (reasons.empty()) continue;
    std::string text;
    for (const auto& reason : reasons) text += "\n    " + reason;
    ADD_FAILURE() << suite << ": \"" << result.name << "\" failed:" << text;
  }
  EXPECT_GT(passed, 0);
  if (::testing::Test::HasFailure()) ADD_FAILURE() << "ipptool output:\n" << out;
  server.stop();
}

// Anonymous: Print-Job, Create-Job and Send-Document need no credentials
// over TLS, and the suites never need admin rights.
TEST(CupsSuites, Ipp11PassesAnonymously) { run_suite("ipp-1.1.test", "1.1", false); }

TEST(CupsSuites, Ipp20PassesAnonymously) { run_suite("ipp-2.0.test", "2.0", false); }

// With the admin credentials in the URI (ipptool sends them as Basic
// authentication), the results are the same.
TEST(CupsSuites, Ipp20PassesAsAdmin) { run_suite("ipp-2.0.test", "2.0", true); }

TEST(CupsSuites, ParserAcceptsOnlyTheArtefactAndTheDeliberateRefusals) {
  const std::string sample =
      "\"ipp-1.1.test\":\n"
      "    RFC 8011 section 4.2.5: Get-Printer-Attributes Operation (default)   [FAIL]\n"
      "        RECEIVED: 11113 bytes in response\n"
      "        status-code = successful-ok (successful-ok)\n"
      "        EXPECTED: printer-uri-supported (1 values) SAME-COUNT-AS uri-security-supported (2 values)\n"
      "        EXPECTED: uri-security-supported (2 values) SAME-COUNT-AS uri-authentication-supported (1 "
      "values)\n"
      "        ipp-versions-supported (1setOf keyword) = 1.1,2.0\n"
      "    RFC 8011 section 4.2.2: Print-URI Operation                          [SKIP]\n"
      "    Release-Job                                                          [FAIL]\n"
      "        RECEIVED: 0 bytes in response\n"
      "        IPP request failed with status client-error-forbidden (Forbidden)\n"
      "    Other                                                                [FAIL]\n"
      "        EXPECTED: printer-uri-supported (1 values) SAME-COUNT-AS uri-security-supported (2 values)\n"
      "        EXPECTED: orientation-requested-default WITH-VALUE \"3,4,5,6\"\n"
      "        GOT: orientation-requested-default=7\n"
      "Summary: 3 tests, 0 passed, 3 failed, 1 skipped\n";
  const auto results = parse_results(sample);
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(results[0].result, "FAIL");
  EXPECT_TRUE(unaccepted_reasons(results[0]).empty());
  EXPECT_EQ(results[1].result, "SKIP");
  EXPECT_TRUE(unaccepted_reasons(results[2]).empty());  // Release-Job refused with 403: deliberate
  EXPECT_EQ(unaccepted_reasons(results[3]).size(), 2u);
}

}  // namespace
}  // namespace ipp3d::testing
