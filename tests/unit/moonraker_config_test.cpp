// Tests of the [printer.moonraker] configuration: required keys, the URL
// rule (loopback http:// or https:// only), the timeout range, the table's
// link to backend = "moonraker"; and the API key file check done at start.
#include "ipp3d/config/config.hpp"

#include "backend/moonraker_backend.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

namespace ipp3d::config {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

// A printer with `backend` (line 3) followed by `extra` (from line 4).
std::string printer_toml(const std::string& backend, const std::string& extra) {
  return "[[printer]]\n"    // 1
         "name = \"k1\"\n"  // 2
         "backend = \"" +
         backend + "\"\n" + extra +  // 3..
         "[printer.volume]\n"
         "x = { min = 0, max = 220 }\n"
         "y = { min = 0, max = 220 }\n"
         "z = { min = 0, max = 250 }\n"
         "[printer.hotend]\n"
         "min_temp = 0\n"
         "max_temp = 280\n"
         "[[printer.material]]\n"
         "key = \"pla\"\n"
         "name = \"PLA\"\n"
         "type = \"pla\"\n"
         "hotend_temp = [190, 230]\n";
}

// A [printer.moonraker] table with `url` (line 5 when it follows printer_toml's line 3).
std::string moonraker_table(const std::string& url, const std::string& more = "") {
  return "[printer.moonraker]\n"  // 4
         "url = \"" +
         url +
         "\"\n"                                             // 5
         "api_key_file = \"/etc/ipp3d/moonraker.key\"\n" +  // 6
         more;                                              // 7..
}

// The errors of parsing `text` (empty when it is valid).
ConfigErrors errors_of(const std::string& text) {
  auto result = parse_config(text, "m.toml");
  return result.ok() ? ConfigErrors{} : result.error();
}

TEST(MoonrakerConfig, ValidTableIsRead) {
  auto result = parse_config(
      printer_toml("moonraker", moonraker_table("http://127.0.0.1:7125", "timeout_seconds = 5\n")), "m.toml");
  ASSERT_TRUE(result.ok()) << format_errors(result.error());
  const PrinterConfig& p = result->printers[0];
  EXPECT_EQ(p.backend, "moonraker");
  ASSERT_TRUE(p.moonraker.has_value());
  EXPECT_EQ(p.moonraker->url, "http://127.0.0.1:7125");
  EXPECT_EQ(p.moonraker->api_key_file, "/etc/ipp3d/moonraker.key");
  EXPECT_EQ(p.moonraker->timeout_seconds, 5);
}

TEST(MoonrakerConfig, TimeoutDefaultsToTenSecondsAndFilesAreDeletedAfterTheJob) {
  auto result = parse_config(printer_toml("moonraker", moonraker_table("http://localhost:7125")), "m.toml");
  ASSERT_TRUE(result.ok()) << format_errors(result.error());
  EXPECT_EQ(result->printers[0].moonraker->timeout_seconds, 10);
  EXPECT_TRUE(result->printers[0].moonraker->delete_after_job);
}

TEST(MoonrakerConfig, DeleteAfterJobCanBeTurnedOff) {
  auto result = parse_config(
      printer_toml("moonraker", moonraker_table("http://127.0.0.1:7125", "delete_after_job = false\n")),
      "m.toml");
  ASSERT_TRUE(result.ok()) << format_errors(result.error());
  EXPECT_FALSE(result->printers[0].moonraker->delete_after_job);
  const ConfigErrors errors = errors_of(
      printer_toml("moonraker", moonraker_table("http://127.0.0.1:7125", "delete_after_job = \"no\"\n")));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].attribute, "printer[0].moonraker.delete_after_job");
}

TEST(MoonrakerConfig, BackendWithoutTableIsAnError) {
  const ConfigErrors errors = errors_of(printer_toml("moonraker", ""));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].attribute, "printer[0].moonraker");
  EXPECT_THAT(errors[0].message, HasSubstr("required for backend \"moonraker\""));
}

TEST(MoonrakerConfig, TableWithVirtualBackendIsAnError) {
  const ConfigErrors errors = errors_of(printer_toml("virtual", moonraker_table("http://127.0.0.1:7125")));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].attribute, "printer[0].moonraker");
  EXPECT_EQ(errors[0].line, 4);
}

TEST(MoonrakerConfig, UrlAndKeyFileAreRequired) {
  const ConfigErrors errors =
      errors_of(printer_toml("moonraker", "[printer.moonraker]\ntimeout_seconds = 3\n"));
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].attribute, "printer[0].moonraker.url");
  EXPECT_THAT(errors[0].message, HasSubstr("required key is missing"));
  EXPECT_EQ(errors[1].attribute, "printer[0].moonraker.api_key_file");
}

TEST(MoonrakerConfig, UnknownKeyIsAnError) {
  const ConfigErrors errors =
      errors_of(printer_toml("moonraker", moonraker_table("http://127.0.0.1:7125", "api_key = \"abc\"\n")));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].attribute, "printer[0].moonraker.api_key");
  EXPECT_THAT(errors[0].message, HasSubstr("url, api_key_file, timeout_seconds, delete_after_job"));
}

TEST(MoonrakerConfig, TimeoutOutOfRangeIsAnError) {
  for (const char* value : {"0", "601", "-1"}) {
    const ConfigErrors errors = errors_of(printer_toml(
        "moonraker",
        moonraker_table("http://127.0.0.1:7125", "timeout_seconds = " + std::string(value) + "\n")));
    ASSERT_EQ(errors.size(), 1u) << value;
    EXPECT_EQ(errors[0].attribute, "printer[0].moonraker.timeout_seconds");
    EXPECT_EQ(errors[0].line, 7);
    EXPECT_THAT(errors[0].message, HasSubstr("1 to 600 seconds"));
  }
}

TEST(MoonrakerConfig, NonLoopbackHttpIsRefusedWithTheReason) {
  const ConfigErrors errors =
      errors_of(printer_toml("moonraker", moonraker_table("http://192.168.1.20:7125")));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].attribute, "printer[0].moonraker.url");
  EXPECT_EQ(errors[0].line, 5);
  EXPECT_THAT(errors[0].message,
              HasSubstr("m.toml:5: printer[0].moonraker.url: \"http://192.168.1.20:7125\" is refused"));
  EXPECT_THAT(errors[0].message, HasSubstr("only to a loopback address"));
  EXPECT_THAT(errors[0].message, HasSubstr("use https://"));
}

TEST(MoonrakerConfig, AcceptedUrls) {
  for (const char* url :
       {"http://127.0.0.1:7125", "http://127.1.2.3:80/", "http://localhost:7125", "http://LOCALHOST",
        "http://[::1]:7125", "https://printer.example:7130", "https://10.0.0.5"}) {
    EXPECT_THAT(moonraker_url_problem(url), IsEmpty()) << url;
  }
}

TEST(MoonrakerConfig, RefusedUrlsSayWhy) {
  EXPECT_THAT(moonraker_url_problem("ftp://127.0.0.1"), HasSubstr("http:// or https://"));
  EXPECT_THAT(moonraker_url_problem("http://10.0.0.5:7125"), HasSubstr("loopback"));
  EXPECT_THAT(moonraker_url_problem("http://128.0.0.1"), HasSubstr("loopback"));
  EXPECT_THAT(moonraker_url_problem("http://127.0.0.1.evil.example"), HasSubstr("loopback"));
  EXPECT_THAT(moonraker_url_problem("http://localhost.evil.example"), HasSubstr("loopback"));
  EXPECT_THAT(moonraker_url_problem("http://[::2]:7125"), HasSubstr("loopback"));
  EXPECT_THAT(moonraker_url_problem("http://user:pw@127.0.0.1"), HasSubstr("user information"));
  EXPECT_THAT(moonraker_url_problem("http://127.0.0.1:7125/printer"), HasSubstr("no path"));
  EXPECT_THAT(moonraker_url_problem("http://127.0.0.1:70000"), HasSubstr("port"));
  EXPECT_THAT(moonraker_url_problem("http://127.0.0.1:"), HasSubstr("port"));
  EXPECT_THAT(moonraker_url_problem("https://"), HasSubstr("no host"));
  EXPECT_THAT(moonraker_url_problem("http://::1:7125"), HasSubstr("brackets"));
}

// A key file in a fresh temporary directory, removed afterwards.
class KeyFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/ipp3d-keyfile-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    file_ = dir_ / "moonraker.key";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  // Writes `text` to the key file with `mode`.
  void write(const std::string& text, std::filesystem::perms mode) {
    std::ofstream(file_) << text;
    std::filesystem::permissions(file_, mode);
  }

  std::filesystem::path dir_;
  std::filesystem::path file_;
};

using std::filesystem::perms;

TEST_F(KeyFileTest, OwnerOnlyKeyIsReadAndTrimmed) {
  write("  0123456789abcdef0123456789abcdef\n", perms::owner_read | perms::owner_write);
  const auto key = server::load_moonraker_api_key(file_);
  ASSERT_TRUE(key.ok()) << key.error().message;
  EXPECT_EQ(*key, "0123456789abcdef0123456789abcdef");
}

TEST_F(KeyFileTest, GroupOrOthersReadableIsRefusedWithTheFix) {
  for (const perms extra : {perms::group_read, perms::others_read, perms::others_write}) {
    write("0123456789abcdef0123456789abcdef\n", perms::owner_read | perms::owner_write | extra);
    const auto key = server::load_moonraker_api_key(file_);
    ASSERT_FALSE(key.ok());
    EXPECT_THAT(key.error().message, HasSubstr("chmod 600 " + file_.string()));
  }
}

TEST_F(KeyFileTest, MissingEmptyOrMalformedKeyIsRefusedNamingTheFile) {
  auto missing = server::load_moonraker_api_key(dir_ / "absent.key");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.error().message, HasSubstr((dir_ / "absent.key").string()));
  for (const char* text : {"", " \n", "two words\n", "bad\x01key"}) {
    write(text, perms::owner_read | perms::owner_write);
    const auto key = server::load_moonraker_api_key(file_);
    ASSERT_FALSE(key.ok()) << text;
    EXPECT_THAT(key.error().message, HasSubstr(file_.string()));
  }
}

}  // namespace
}  // namespace ipp3d::config
