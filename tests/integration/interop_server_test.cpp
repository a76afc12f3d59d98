// The independent Python implementation of the envelope format
// (tests/interop/ipp3d_envelope.py: OpenSSL through python3-cryptography
// and PyNaCl, written from docs/envelope.md alone) makes signed and
// encrypted envelopes that the real server accepts and prints, with a key
// the Python side generated and the server's printer key read from its
// printer-key command.
#include "ipp_client.hpp"
#include "server_process.hpp"
#include "signing.hpp"

#include <gtest/gtest.h>

namespace ipp3d::testing {
namespace {

using namespace std::chrono_literals;

const std::string kPython = "/usr/bin/python3";

std::string interop_tool() { return std::string(IPP3D_SOURCE_DIR) + "/tests/interop/ipp3d_envelope.py"; }

// Runs the Python tool; fails the test (with its output) unless it exits 0.
void run_python(std::vector<std::string> args) {
  args.insert(args.begin(), {kPython, interop_tool()});
  std::string out;
  ASSERT_EQ(run_command(args, out), 0) << out;
}

TEST(InteropServer, EnvelopesMadeByTheIndependentImplementationPrint) {
  const TestConfig config(0.02, /*auto_start_next=*/true);
  ServerProcess server(IPP3D_SERVER_BINARY, config.args());
  ASSERT_GT(server.pid(), 0);
  const TempDir dir;
  const auto key = dir.path() / "python-signer";
  const auto printer_pub = dir.path() / "printer.pub";
  run_python({"keygen", "--out", key.string()});
  std::string out;
  const std::string state = server.state_dir().string();
  ASSERT_EQ(run_command({IPP3D_SERVER_BINARY, "trust", "add", key.string() + ".pub", "--name", "python",
                         "--state-dir", state},
                        out),
            0)
      << out;
  ASSERT_EQ(
      run_command({IPP3D_SERVER_BINARY, "printer-key", "--printer", kPrinterName, "--state-dir", state}, out),
      0)
      << out;
  write_bytes(printer_pub, out);

  const auto signed_file = dir.path() / "torus-signed.ipp3d";
  const auto encrypted_file = dir.path() / "torus-encrypted.ipp3d";
  run_python({"sign", "--key", key.string(), torus_path().string(), "-o", signed_file.string(), "--for",
              printer_pub.string()});
  run_python({"sign", "--key", key.string(), torus_path().string(), "-o", encrypted_file.string(), "--for",
              printer_pub.string(), "--encrypt"});

  HttpPtr http = connect_tls(server.port());
  ASSERT_TRUE(http);
  const std::string uri = server.printer_uri(kPrinterName);
  for (const auto& file : {signed_file, encrypted_file}) {
    SCOPED_TRACE(file.filename().string());
    const int job_id = print_job(http.get(), uri, read_file(file), "application/octet-stream");
    ASSERT_GT(job_id, 0) << cupsLastErrorString();
    bool ended = false;
    const JobStatus status = wait_for_job(
        http.get(), uri, job_id, [](const JobStatus& s) { return s.terminal(); }, 30s, ended);
    ASSERT_TRUE(ended) << describe(status);
    EXPECT_EQ(status.state, IPP_JSTATE_COMPLETED) << describe(status) << "\n" << server.output();
    EXPECT_EQ(status.impressions, kTorusLayers) << describe(status);
  }
}

}  // namespace
}  // namespace ipp3d::testing
