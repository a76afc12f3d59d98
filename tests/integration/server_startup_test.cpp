// ipp3d-server starts with its default configuration, shows its URI and
// certificate fingerprint, keeps its TLS key private, and answers
// Get-Printer-Attributes over ipps:// with the PWG 5100.21 attributes, each once.
#include "ipp3d/attributes/ipp_codec.hpp"
#include "ipp3d/attributes/required.hpp"
#include "ipp3d/ipp_handles.hpp"

#include "server_process.hpp"

#include <cups/cups.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <sys/stat.h>

namespace ipp3d::testing {
namespace {

constexpr const char* kDefaultPrinter = "virtual-fdm";

// Sends Get-Printer-Attributes (requested-attributes=all) over TLS.
IppPtr get_printer_attributes(int port, const std::string& uri) {
  HttpPtr http(httpConnect2("127.0.0.1", port, nullptr, AF_INET, HTTP_ENCRYPTION_ALWAYS, 1, 10000, nullptr));
  if (!http) return nullptr;
  ipp_t* request = ippNewRequest(IPP_OP_GET_PRINTER_ATTRIBUTES);
  ippAddString(request, IPP_TAG_OPERATION, IPP_TAG_URI, "printer-uri", nullptr, uri.c_str());
  ippAddString(request, IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "requested-attributes", nullptr, "all");
  return IppPtr(cupsDoRequest(http.get(), request, "/ipp/print/virtual-fdm"));  // cupsDoRequest frees request
}

TEST(ServerStartup, PrintsUriAndFingerprintAndKeepsKeyPrivate) {
  ServerProcess server(IPP3D_SERVER_BINARY);
  ASSERT_GT(server.pid(), 0);
  const std::string out = server.output();
  EXPECT_NE(out.find("printer: " + server.printer_uri(kDefaultPrinter)), std::string::npos) << out;
  std::smatch match;
  ASSERT_TRUE(std::regex_search(out, match, std::regex("certificate SHA-256: ([0-9A-F:]{95})"))) << out;

  const auto key = server.state_dir() / "tls" / "127.0.0.1.key";
  struct stat info {};
  ASSERT_EQ(::stat(key.c_str(), &info), 0) << key;
  EXPECT_EQ(info.st_mode & 0777, 0600u);

  std::string openssl_out;
  ASSERT_EQ(run_command({"openssl", "x509", "-in", (server.state_dir() / "tls" / "127.0.0.1.crt").string(),
                         "-noout", "-fingerprint", "-sha256"},
                        openssl_out),
            0);
  EXPECT_NE(openssl_out.find(match[1].str()), std::string::npos) << openssl_out;
  EXPECT_EQ(server.stop(), 0) << server.output();
}

TEST(ServerStartup, AdvertisesEach3DAttributeOnce) {
  ServerProcess server(IPP3D_SERVER_BINARY);
  ASSERT_GT(server.pid(), 0);
  IppPtr response = get_printer_attributes(server.port(), server.printer_uri(kDefaultPrinter));
  ASSERT_TRUE(response) << cupsLastErrorString();
  ASSERT_EQ(ippGetStatusCode(response.get()), IPP_STATUS_OK);

  std::map<std::string, int> counts;
  for (ipp_attribute_t* a = ippFirstAttribute(response.get()); a; a = ippNextAttribute(response.get())) {
    if (ippGetName(a) != nullptr) ++counts[ippGetName(a)];
  }
  for (const auto& [name, count] : counts) EXPECT_EQ(count, 1) << name << " appears " << count << " times";
  for (const auto& required : attributes::required_filament_printer_attributes()) {
    if (required.source == attributes::AttributeSource::kModel) {
      EXPECT_EQ(counts.count(required.name), 1u) << "missing REQUIRED " << required.name;
    }
  }

  auto caps = attributes::decode_capabilities(response.get());
  ASSERT_TRUE(caps.ok()) << caps.error().message;
  EXPECT_EQ(caps->printer_volume_supported, (attributes::BuildVolume{22000, 22000, 25000}));
  ASSERT_EQ(caps->materials_col_ready.size(), 1u);
  EXPECT_EQ(caps->materials_col_ready[0].material_key, "pla-generic");
  EXPECT_EQ(caps->materials_col_ready[0].material_diameter, 1'750'000);
  EXPECT_NE(std::find(caps->ipp_features_supported.begin(), caps->ipp_features_supported.end(), "ipp-3d"),
            caps->ipp_features_supported.end());
}

TEST(ServerStartup, PassesTheIpptool3DAttributeSuite) {
  ServerProcess server(IPP3D_SERVER_BINARY);
  ASSERT_GT(server.pid(), 0);
  std::string out;
  const int status =
      run_command({"ipptool", "-t", "-V", "2.0", "-d", "volume_x=22000", "-d", "volume_y=22000", "-d",
                   "volume_z=25000", "-d", "filament_nm=1750000", server.printer_uri(kDefaultPrinter),
                   std::string(IPP3D_SOURCE_DIR) + "/conformance/ipp3d-printer-attributes.test"},
                  out);
  EXPECT_EQ(status, 0) << out;
}

TEST(ServerStartup, RefusesABadConfigurationNamingFileLineAndKey) {
  const auto dir = std::filesystem::temp_directory_path() / ("ipp3d-badcfg-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto file = dir / "bad.toml";
  std::ofstream(file) << "[server]\nlisten = \"127.0.0.1:8631\"\ncolour = \"blue\"\n";
  std::string out;
  const int status =
      run_command({IPP3D_SERVER_BINARY, "--config", file.string(), "--state-dir", dir.string()}, out);
  EXPECT_EQ(status, 2) << out;
  EXPECT_NE(out.find(file.string() + ":3"), std::string::npos) << out;
  EXPECT_NE(out.find("colour"), std::string::npos) << out;
  std::filesystem::remove_all(dir);
}

TEST(ServerStartup, HelpDocumentsEveryOption) {
  std::string out;
  ASSERT_EQ(run_command({IPP3D_SERVER_BINARY, "--help"}, out), 0);
  for (const char* option : {"--config", "--listen", "--state-dir", "--log-level", "--log-file"}) {
    EXPECT_NE(out.find(option), std::string::npos) << option;
  }
}

}  // namespace
}  // namespace ipp3d::testing
