// A real cupsd, started on loopback with a throwaway configuration, prints
// `lp FILE.ipp3d` (a signed envelope) through a raw queue whose device is the
// server's ipps:// URI: the server receives the envelope byte for byte (its
// spool copy), the virtual printer receives the verified G-code byte for
// byte (both compared while the job prints), and the job completes on the
// server and in cupsd.
//
// The ipps backend of CUPS 2.4 accepts the server's self-signed certificate
// on first use (trust on first use; with a fresh ServerRoot there are no
// stored credentials to contradict it), so nothing needs to be pinned.
#include "cupsd_process.hpp"
#include "ipp_client.hpp"
#include "server_process.hpp"
#include "signing.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <pwd.h>
#include <regex>
#include <thread>
#include <unistd.h>

namespace ipp3d::testing {
namespace {

// The first file in `dir` whose name matches `pattern` (empty path if none).
std::filesystem::path find_file(const std::filesystem::path& dir, const std::regex& pattern) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (std::regex_match(entry.path().filename().string(), pattern)) return entry.path();
  }
  return {};
}

TEST(CupsdInterop, LpThroughARawQueueDeliversTheGcodeByteForByte) {
  const auto started = std::chrono::steady_clock::now();
  // Slow enough (28 layers x 0.4 s) to look at the files while the job prints.
  const TestConfig config(0.4, /*auto_start_next=*/true);
  ServerProcess server(IPP3D_SERVER_BINARY, config.args());
  ASSERT_GT(server.pid(), 0);
  CupsdProcess cupsd;
  ASSERT_GT(cupsd.pid(), 0);

  std::string out;
  // -m raw: CUPS 2.4 warns that raw queues are deprecated, and makes one.
  // (-m everywhere would rasterize the G-code text into a picture.)
  ASSERT_EQ(
      cupsd.client({"lpadmin", "-p", "ipp3d", "-E", "-v", server.user_uri(kPrinterName), "-m", "raw"}, out),
      0)
      << out << cupsd.error_log();

  const std::string gcode = read_file(torus_path());
  ASSERT_FALSE(gcode.empty());
  const TempDir dir;
  const auto sample = dir.path() / "torus.ipp3d";
  const std::string expected = signed_torus();
  write_bytes(sample, expected);
  ASSERT_EQ(cupsd.client({"lp", "-d", "ipp3d", sample.string()}, out), 0) << out << cupsd.error_log();
  EXPECT_NE(out.find("request id is ipp3d-1"), std::string::npos) << out;

  // While the server prints: its spool copy (PAPPL's p00001j<ID>-*.prn) is
  // byte-identical to the envelope given to lp, the virtual printer's copy to
  // the G-code inside it.
  const auto spool_dir = server.state_dir() / "spool";
  const auto virtual_dir = server.state_dir() / "virtual" / kPrinterName / "ipp";
  const std::regex spool_name(R"(p\d+j0*(\d+)-.*\.prn)");
  const std::regex virtual_name(std::string(kPrinterName) + R"(-job-(\d+)\.gcode)");
  std::filesystem::path spool_file;
  std::filesystem::path virtual_file;
  bool spool_identical = false;
  bool virtual_identical = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!(spool_identical && virtual_identical) && std::chrono::steady_clock::now() < deadline) {
    if (!spool_identical) {
      spool_file = find_file(spool_dir, spool_name);
      spool_identical = !spool_file.empty() && read_file(spool_file) == expected;
    }
    if (!virtual_identical) {
      virtual_file = find_file(virtual_dir, virtual_name);
      virtual_identical = !virtual_file.empty() && read_file(virtual_file) == gcode;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(spool_identical) << "spool copy " << spool_file << " (" << read_file(spool_file).size()
                               << " bytes) differs from " << sample << " (" << expected.size() << " bytes)";
  ASSERT_TRUE(virtual_identical) << "virtual printer copy " << virtual_file << " ("
                                 << read_file(virtual_file).size() << " bytes) differs from the torus ("
                                 << gcode.size() << " bytes)\n"
                                 << server.output() << cupsd.error_log();

  std::smatch match;
  const std::string virtual_name_text = virtual_file.filename().string();
  ASSERT_TRUE(std::regex_match(virtual_name_text, match, virtual_name));
  const int job_id = std::stoi(match[1].str());

  // The job prints to completion on the server. The server knows clients
  // without credentials by requesting-user-name: cupsd's backend sends the
  // name of the user who ran lp.
  const passwd* user = ::getpwuid(::geteuid());
  ASSERT_NE(user, nullptr);
  HttpPtr http = connect_tls(server.port());
  ASSERT_TRUE(http);
  ipp_jstate_t state = IPP_JSTATE_PENDING;
  std::string last;
  const auto print_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (state < IPP_JSTATE_CANCELED && std::chrono::steady_clock::now() < print_deadline) {
    IppPtr response = send_request(
        http.get(),
        new_job_request(IPP_OP_GET_JOB_ATTRIBUTES, server.printer_uri(kPrinterName), job_id, user->pw_name));
    ASSERT_EQ(status_of(response), IPP_STATUS_OK) << cupsLastErrorString();
    state = static_cast<ipp_jstate_t>(
        ippGetInteger(ippFindAttribute(response.get(), "job-state", IPP_TAG_ENUM), 0));
    last = response_text(response, "job-state-message");
    if (state < IPP_JSTATE_CANCELED) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(state, IPP_JSTATE_COMPLETED) << ippEnumString("job-state", state) << ": " << last << "\n"
                                         << server.output();
  EXPECT_EQ(job_ids(http.get(), server.printer_uri(kPrinterName)), std::vector<int>{job_id})
      << "cupsd submitted exactly one job";

  // And cupsd considers its job done.
  const auto cupsd_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (cupsd.error_log().find("[Job 1] Job completed.") == std::string::npos &&
         std::chrono::steady_clock::now() < cupsd_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_NE(cupsd.error_log().find("[Job 1] Job completed."), std::string::npos) << cupsd.error_log();
  const std::string log = cupsd.error_log();
  EXPECT_NE(log.find("Credentials are OK/trusted"), std::string::npos)
      << "the ipps backend did not trust the server's certificate:\n"
      << log;

  EXPECT_EQ(cupsd.stop(), 0);
  EXPECT_EQ(server.stop(), 0) << server.output();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(60));
}

}  // namespace
}  // namespace ipp3d::testing
