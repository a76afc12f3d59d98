// ipptool, a client the server did not write, runs our conformance files
// against the live server: the validation refusals per operation and a
// signed G-code job printing to completion with layer progress.
#include "ipp_client.hpp"
#include "server_process.hpp"
#include "signing.hpp"

#include <gtest/gtest.h>

namespace ipp3d::testing {
namespace {

std::string conformance_file(const char* name) {
  return std::string(IPP3D_SOURCE_DIR) + "/conformance/" + name;
}

// How often `needle` occurs in `text`.
std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++n;
  return n;
}

// Runs ipptool with `args` on the file; checks the exit status and that every
// test of the file ran and passed (ipptool stops quietly at a syntax error).
void expect_ipptool_passes(const char* file, std::vector<std::string> args) {
  const std::string path = conformance_file(file);
  args.insert(args.begin(), {"ipptool", "-t", "-V", "2.0"});
  args.push_back(path);
  std::string out;
  const int status = run_command(args, out);
  EXPECT_EQ(status, 0) << out;
  EXPECT_EQ(count(out, "[PASS]"), count(read_file(path), "\n  NAME \"")) << "not every test passed:\n" << out;
}

TEST(IpptoolConformance, InvalidTicketsAreRefusedPerOperation) {
  const TestConfig config(0.02);
  ServerProcess server(IPP3D_SERVER_BINARY, config.args());
  ASSERT_GT(server.pid(), 0);
  // The Print-Jobs of the file are refused for their tickets before any job exists.
  const TempDir dir;
  const auto envelope = dir.path() / "torus.ipp3d";
  write_bytes(envelope, signed_torus());
  std::string out;
  const int status = run_command({"ipptool", "-t", "-V", "2.0", "-f", envelope.string(),
                                  server.user_uri(kPrinterName), conformance_file("ipp3d-validation.test")},
                                 out);
  EXPECT_EQ(status, 0) << out;
}

TEST(IpptoolConformance, AGcodeJobPrintsToCompletionWithLayerProgress) {
  const TestConfig config(0.1);
  ServerProcess server(IPP3D_SERVER_BINARY, config.args());
  ASSERT_GT(server.pid(), 0);
  const TempDir dir;
  const auto envelope = dir.path() / "torus.ipp3d";
  write_bytes(envelope, signed_torus());
  expect_ipptool_passes("ipp3d-print.test",
                        {"-f", envelope.string(), "-d", "layers=" + std::to_string(kTorusLayers),
                         server.user_uri(kPrinterName)});
}

TEST(IpptoolConformance, TheQuickstartsSecondPrintAfterConfirmingThePlate) {
  // docs/quickstart.md: after a print the next job waits for the plate; the
  // admin confirms it with ipp3d-confirm-plate-clear.test, then a fresh
  // envelope prints to completion with progress.
  const TestConfig config(0.05);  // auto_start_next = false: the plate gate is on
  ServerProcess server(IPP3D_SERVER_BINARY, config.args());
  ASSERT_GT(server.pid(), 0);
  const TempDir dir;
  const auto first = dir.path() / "first.ipp3d";
  const auto second = dir.path() / "second.ipp3d";
  write_bytes(first, signed_torus());
  write_bytes(second, signed_torus());
  const std::vector<std::string> print = {"-d", "layers=" + std::to_string(kTorusLayers),
                                          server.user_uri(kPrinterName)};
  std::vector<std::string> args = {"-f", first.string()};
  args.insert(args.end(), print.begin(), print.end());
  expect_ipptool_passes("ipp3d-print.test", args);
  expect_ipptool_passes("ipp3d-confirm-plate-clear.test", {server.admin_uri(kPrinterName)});
  args = {"-f", second.string()};
  args.insert(args.end(), print.begin(), print.end());
  expect_ipptool_passes("ipp3d-print.test", args);
}

}  // namespace
}  // namespace ipp3d::testing
