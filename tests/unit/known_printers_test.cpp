// known_printers: fingerprints in the server's form, parsing what users
// type, the pin file (missing, malformed lines, permissions, rewrite 0600).
#include "ipp3d/client/known_printers.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sys/stat.h>

namespace ipp3d::client {
namespace {

const std::string kCanonical =
    "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89";

class KnownPrintersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "ipp3d-pins-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path file() const { return dir_ / "sub" / "known_printers"; }
  void write(const std::string& text, std::filesystem::perms perms) const {
    std::filesystem::create_directories(file().parent_path());
    std::ofstream(file()) << text;
    std::filesystem::permissions(file(), perms);
  }
  std::filesystem::path dir_;
};

constexpr auto kPrivate = std::filesystem::perms::owner_read | std::filesystem::perms::owner_write;

TEST(Fingerprint, IsTheSha256OfTheDerBytesInTheServersForm) {
  const std::string der = "abc";
  EXPECT_EQ(
      certificate_fingerprint({reinterpret_cast<const unsigned char*>(der.data()), der.size()}),
      "BA:78:16:BF:8F:01:CF:EA:41:41:40:DE:5D:AE:22:23:B0:03:61:A3:96:17:7A:9C:B4:10:FF:61:F2:00:15:AD");
}

TEST(Fingerprint, NormalizesWhatUsersType) {
  std::string lower_plain;
  for (const char c : kCanonical) {
    if (c != ':') lower_plain += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  EXPECT_EQ(normalize_fingerprint(kCanonical), kCanonical);
  EXPECT_EQ(normalize_fingerprint(lower_plain), kCanonical);
  EXPECT_EQ(normalize_fingerprint("sha256:" + lower_plain), kCanonical);
  EXPECT_FALSE(normalize_fingerprint(lower_plain.substr(2)));
  EXPECT_FALSE(normalize_fingerprint(lower_plain + "00"));
  EXPECT_FALSE(normalize_fingerprint("zz" + lower_plain.substr(2)));
  EXPECT_FALSE(normalize_fingerprint(""));
}

TEST_F(KnownPrintersTest, AMissingFileHasNoPins) {
  auto pins = KnownPrinters::load(file());
  ASSERT_TRUE(pins) << pins.error().message;
  EXPECT_FALSE(pins->find("host:631"));
}

TEST_F(KnownPrintersTest, PinWritesAPrivateFileThatLoadsBack) {
  auto pins = KnownPrinters::load(file());
  ASSERT_TRUE(pins);
  ASSERT_TRUE(pins->pin("127.0.0.1:8631", kCanonical));
  ASSERT_TRUE(pins->pin("printer.local:631", kCanonical));
  struct stat st {};
  ASSERT_EQ(::stat(file().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  auto again = KnownPrinters::load(file());
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->find("127.0.0.1:8631"), kCanonical);
  EXPECT_EQ(again->find("printer.local:631"), kCanonical);
  EXPECT_FALSE(again->find("127.0.0.1:8632"));
}

TEST_F(KnownPrintersTest, CommentsBlankLinesAndLowercaseAreAccepted) {
  write("# comment\n\nhost:631 " + kCanonical.substr(0, 3) + "cd" + kCanonical.substr(5) + "\n", kPrivate);
  auto pins = KnownPrinters::load(file());
  ASSERT_TRUE(pins) << pins.error().message;
  EXPECT_EQ(pins->find("host:631"), kCanonical);
}

TEST_F(KnownPrintersTest, AMalformedLineIsAnErrorNamingIt) {
  write("# ok\nhost:631 not-a-fingerprint\n", kPrivate);
  auto pins = KnownPrinters::load(file());
  ASSERT_FALSE(pins);
  EXPECT_EQ(pins.error().line, 2);
  EXPECT_NE(pins.error().message.find("known_printers:2"), std::string::npos) << pins.error().message;
  write("host:631 " + kCanonical + " extra\n", kPrivate);
  EXPECT_FALSE(KnownPrinters::load(file()));
}

TEST_F(KnownPrintersTest, AFileOthersCanWriteIsRefused) {
  write("host:631 " + kCanonical + "\n", kPrivate | std::filesystem::perms::group_write);
  auto pins = KnownPrinters::load(file());
  ASSERT_FALSE(pins);
  EXPECT_NE(pins.error().message.find("chmod 600"), std::string::npos) << pins.error().message;
}

TEST(ConfigDirectory, FollowsIpp3dConfigDir) {
  ::setenv("IPP3D_CONFIG_DIR", "/tmp/ipp3d-conf-test", 1);
  auto path = default_known_printers_path();
  ::unsetenv("IPP3D_CONFIG_DIR");
  ASSERT_TRUE(path);
  EXPECT_EQ(*path, std::filesystem::path("/tmp/ipp3d-conf-test/known_printers"));
}

}  // namespace
}  // namespace ipp3d::client
