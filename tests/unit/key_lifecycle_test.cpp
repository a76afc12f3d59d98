// Keys at rest and their lifecycle: passphrase files, sealed files, the TLS
// identity's modes, sealing and renewal, protected printer keys, and
// `keys protect|unprotect` (docs/security.md "Keys at rest").
#include "keys/key_command.hpp"
#include "keys/key_passphrase.hpp"
#include "keys/sealed_file.hpp"
#include "printer_keys.hpp"
#include "tls.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace ipp3d::server {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr const char* kHost = "127.0.0.1";

// A temporary state directory, with the runtime directories made inside it.
class KeyLifecycleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "ipp3d-keys-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    state_ = dir_ / "state";
    fs::create_directories(state_);
    fs::create_directories(dir_ / "run");
    ::setenv("RUNTIME_DIRECTORY", (dir_ / "run").c_str(), 1);
  }
  void TearDown() override {
    ::unsetenv("RUNTIME_DIRECTORY");
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // A passphrase file with `text` and `mode`.
  fs::path passphrase_file(const std::string& text,
                           fs::perms mode = fs::perms::owner_read | fs::perms::owner_write) {
    const fs::path file = dir_ / "passphrase";
    std::ofstream(file) << text;
    fs::permissions(file, mode);
    return file;
  }

  // A loaded passphrase (fails the test when it cannot be read).
  KeyPassphrase passphrase(const std::string& text) {
    auto loaded = KeyPassphrase::read_file(passphrase_file(text));
    EXPECT_TRUE(loaded.ok()) << loaded.error().message;
    return loaded ? std::move(loaded).value() : KeyPassphrase();
  }

  static std::string read(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  static unsigned mode_of(const fs::path& file) {
    struct stat info {};
    EXPECT_EQ(::stat(file.c_str(), &info), 0) << file;
    return info.st_mode & 0777;
  }

  fs::path dir_;
  fs::path state_;
};

TEST_F(KeyLifecycleTest, PassphraseFilesMustBePrivateAndNotEmpty) {
  auto loaded = KeyPassphrase::read_file(passphrase_file("correct horse\nsecond line\n"));
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->text(), "correct horse");

  const fs::path open_file = passphrase_file("secret\n", fs::perms(0644));
  auto refused = KeyPassphrase::read_file(open_file);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.error().message, HasSubstr("chmod 600 " + open_file.string()));
  EXPECT_THAT(refused.error().message, HasSubstr("0644"));

  auto empty = KeyPassphrase::read_file(passphrase_file("\n"));
  ASSERT_FALSE(empty.ok());
  EXPECT_THAT(empty.error().message, HasSubstr("is empty"));
}

TEST_F(KeyLifecycleTest, TheSystemdCredentialIsUsedWhenNoFileIsConfigured) {
  EXPECT_FALSE(key_passphrase_file(std::nullopt));
  const fs::path credentials = dir_ / "credentials";
  fs::create_directories(credentials);
  ::setenv("CREDENTIALS_DIRECTORY", credentials.c_str(), 1);
  EXPECT_FALSE(key_passphrase_file(std::nullopt));  // no such credential
  std::ofstream(credentials / kKeyPassphraseCredential) << "from systemd\n";
  EXPECT_EQ(key_passphrase_file(std::nullopt), credentials / kKeyPassphraseCredential);
  EXPECT_EQ(key_passphrase_file(fs::path("/etc/other")), fs::path("/etc/other"));  // the flag wins
  ::unsetenv("CREDENTIALS_DIRECTORY");
}

TEST_F(KeyLifecycleTest, SealedFilesOpenOnlyWithTheirPassphraseAndPurpose) {
  const std::string secret = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
  auto sealed = seal_with_passphrase({reinterpret_cast<const std::uint8_t*>(secret.data()), secret.size()},
                                     "pw", "tls-key");
  ASSERT_TRUE(sealed.ok()) << sealed.error().message;
  EXPECT_TRUE(is_sealed_text(*sealed));
  EXPECT_EQ(sealed->find("PRIVATE KEY"), std::string::npos);
  auto opened = open_sealed(*sealed, "pw", "tls-key", "f");
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(*opened, secret);

  EXPECT_THAT(open_sealed(*sealed, "wrong", "tls-key", "f").error().message, HasSubstr("wrong passphrase"));
  EXPECT_THAT(open_sealed(*sealed, "pw", "backup", "f").error().message, HasSubstr("sealed for \"tls-key\""));
  // The parameters are authenticated: a lower memory limit does not open.
  std::string weakened = *sealed;
  weakened.replace(weakened.find("67108864"), 8, "33554432");
  EXPECT_THAT(open_sealed(weakened, "pw", "tls-key", "f").error().message, HasSubstr("wrong passphrase"));
  EXPECT_THAT(open_sealed("not sealed\n", "pw", "tls-key", "f").error().message,
              HasSubstr("not a sealed file"));
}

TEST_F(KeyLifecycleTest, APlainTlsKeyIsMadePrivateAndRefusedWhenOthersMayReadIt) {
  auto identity = prepare_tls_identity(state_, kHost, KeyPassphrase());
  ASSERT_TRUE(identity.ok()) << identity.error().message;
  EXPECT_FALSE(identity->key_sealed);
  EXPECT_EQ(identity->private_key, state_ / "tls" / "127.0.0.1.key");
  EXPECT_EQ(mode_of(identity->private_key), 0600U);
  EXPECT_EQ(identity->directory, state_ / "tls");
  // libcups asks for 365 days; Debian's libcups (GnuTLS) makes 10 years whatever it is asked.
  const auto now = static_cast<std::int64_t>(std::time(nullptr));
  EXPECT_GE(identity->not_after, now + kCertificateLifetimeSeconds - 86400);
  EXPECT_EQ(identity->not_after, certificate_not_after(identity->certificate).value());
  // No temporary directory is left behind.
  for (const auto& entry : fs::directory_iterator(state_ / "tls")) {
    EXPECT_NE(entry.path().filename().string().rfind(".new-", 0), 0U) << entry.path();
  }

  fs::permissions(identity->private_key, fs::perms(0644));
  auto refused = prepare_tls_identity(state_, kHost, KeyPassphrase());
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.error().message, HasSubstr("chmod 600 " + identity->private_key.string()));
  EXPECT_EQ(mode_of(identity->private_key), 0644U);  // refused, not silently changed
}

TEST_F(KeyLifecycleTest, ASealedTlsKeyIsDecryptedOnlyIntoAPrivateRuntimeDirectory) {
  const KeyPassphrase pw = passphrase("tls passphrase");
  fs::path runtime;
  {
    auto identity = prepare_tls_identity(state_, kHost, pw);
    ASSERT_TRUE(identity.ok()) << identity.error().message;
    EXPECT_TRUE(identity->key_sealed);
    EXPECT_FALSE(fs::exists(state_ / "tls" / "127.0.0.1.key"));
    EXPECT_EQ(identity->private_key, state_ / "tls" / "127.0.0.1.key.sealed");
    EXPECT_EQ(mode_of(identity->private_key), 0600U);
    runtime = identity->directory;
    EXPECT_EQ(runtime.parent_path(), dir_ / "run");
    EXPECT_EQ(mode_of(runtime), 0700U);
    EXPECT_EQ(mode_of(runtime / "127.0.0.1.key"), 0600U);
    EXPECT_THAT(read(runtime / "127.0.0.1.key"), HasSubstr("PRIVATE KEY"));
    EXPECT_EQ(read(runtime / "127.0.0.1.crt"), read(identity->certificate));
    auto opened = open_sealed(read(identity->private_key), "tls passphrase", kTlsKeyPurpose, "t");
    ASSERT_TRUE(opened.ok());
    EXPECT_EQ(*opened, read(runtime / "127.0.0.1.key"));
  }
  EXPECT_FALSE(fs::exists(runtime)) << "the runtime directory goes with the identity";

  auto again = prepare_tls_identity(state_, kHost, pw);
  ASSERT_TRUE(again.ok()) << again.error().message;
  auto without = prepare_tls_identity(state_, kHost, KeyPassphrase());
  ASSERT_FALSE(without.ok());
  EXPECT_THAT(without.error().message, HasSubstr("--key-passphrase-file"));
  auto wrong = prepare_tls_identity(state_, kHost, passphrase("not it"));
  ASSERT_FALSE(wrong.ok());
  EXPECT_THAT(wrong.error().message, HasSubstr("wrong passphrase"));
}

TEST_F(KeyLifecycleTest, TheCertificateIsRenewedOnlyWhenFewerThan30DaysRemain) {
  auto identity = prepare_tls_identity(state_, kHost, KeyPassphrase());
  ASSERT_TRUE(identity.ok()) << identity.error().message;
  const std::string old_fingerprint = identity->sha256_fingerprint;
  const std::string old_key = read(identity->private_key);
  const std::int64_t old_not_after = identity->not_after;

  auto early = renew_tls_certificate_if_due(*identity, KeyPassphrase(), old_not_after - kRenewBeforeSeconds);
  ASSERT_TRUE(early.ok()) << early.error().message;
  EXPECT_FALSE(early->has_value());
  EXPECT_EQ(identity->sha256_fingerprint, old_fingerprint);

  // An injected clock 10 days before the expiry.
  const std::int64_t now = old_not_after - 10 * 86400;
  auto renewed = renew_tls_certificate_if_due(*identity, KeyPassphrase(), now);
  ASSERT_TRUE(renewed.ok()) << renewed.error().message;
  ASSERT_TRUE(renewed->has_value());
  const TlsRenewal& renewal = **renewed;
  EXPECT_EQ(renewal.old_fingerprint, old_fingerprint);
  EXPECT_NE(renewal.new_fingerprint, old_fingerprint);
  EXPECT_EQ(renewal.old_not_after, old_not_after);
  EXPECT_EQ(renewal.new_not_after, certificate_not_after(identity->certificate).value());
  EXPECT_EQ(certificate_fingerprint(identity->certificate).value(), renewal.new_fingerprint);
  EXPECT_EQ(identity->sha256_fingerprint, renewal.new_fingerprint);
  EXPECT_NE(read(identity->private_key), old_key) << "the key is rotated with the certificate";
  EXPECT_EQ(mode_of(identity->private_key), 0600U);
}

TEST_F(KeyLifecycleTest, AShortLivedCertificateIsRenewedAtStartAndThenNotAgain) {
  // A certificate with 10 days left, made with the openssl tool.
  fs::create_directories(state_ / "tls");
  const fs::path crt = state_ / "tls" / "127.0.0.1.crt";
  const fs::path key = state_ / "tls" / "127.0.0.1.key";
  const std::string command =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 10 "
      "-subj /CN=127.0.0.1 -keyout '" +
      key.string() + "' -out '" + crt.string() + "' >/dev/null 2>&1";
  if (std::system(command.c_str()) != 0) GTEST_SKIP() << "no openssl tool";
  fs::permissions(key, fs::perms(0600));
  auto identity = prepare_tls_identity(state_, kHost, KeyPassphrase());
  ASSERT_TRUE(identity.ok()) << identity.error().message;
  const auto now = static_cast<std::int64_t>(std::time(nullptr));
  EXPECT_LT(identity->not_after, now + 11 * 86400);
  const std::string old_fingerprint = identity->sha256_fingerprint;

  auto renewed = renew_tls_certificate_if_due(*identity, KeyPassphrase(), now);
  ASSERT_TRUE(renewed.ok()) << renewed.error().message;
  ASSERT_TRUE(renewed->has_value());
  EXPECT_EQ((*renewed)->old_fingerprint, old_fingerprint);
  EXPECT_EQ(certificate_fingerprint(crt).value(), (*renewed)->new_fingerprint);
  EXPECT_GE(identity->not_after, now + kCertificateLifetimeSeconds - 86400);
  EXPECT_EQ(mode_of(key), 0600U);

  auto again = renew_tls_certificate_if_due(*identity, KeyPassphrase(), now + 86400);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_FALSE(again->has_value()) << "the next daily check finds nothing to do";
}

TEST_F(KeyLifecycleTest, RenewingASealedCertificateKeepsTheKeySealed) {
  const KeyPassphrase pw = passphrase("renew me");
  auto identity = prepare_tls_identity(state_, kHost, pw);
  ASSERT_TRUE(identity.ok()) << identity.error().message;
  const std::string old_runtime_key = read(identity->directory / "127.0.0.1.key");
  auto renewed = renew_tls_certificate_if_due(*identity, pw, identity->not_after - 86400);
  ASSERT_TRUE(renewed.ok()) << renewed.error().message;
  ASSERT_TRUE(renewed->has_value());
  EXPECT_FALSE(fs::exists(state_ / "tls" / "127.0.0.1.key"));
  const std::string runtime_key = read(identity->directory / "127.0.0.1.key");
  EXPECT_NE(runtime_key, old_runtime_key);
  EXPECT_EQ(open_sealed(read(identity->private_key), "renew me", kTlsKeyPurpose, "t").value(), runtime_key);
  EXPECT_EQ(read(identity->directory / "127.0.0.1.crt"), read(identity->certificate));
}

TEST_F(KeyLifecycleTest, ProtectedPrinterKeysNeedTheirPassphrase) {
  const KeyPassphrase pw = passphrase("printer pw");
  auto made = load_or_create_printer_keys(state_, "mk4", pw);
  ASSERT_TRUE(made.ok()) << made.error().message;
  const fs::path key = printer_key_path(state_, "mk4", "identity");
  EXPECT_TRUE(trust::is_protected_secret_key_file(key));
  auto again = load_or_create_printer_keys(state_, "mk4", pw);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ((*again)->identity.id(), (*made)->identity.id());

  auto without = load_or_create_printer_keys(state_, "mk4", KeyPassphrase());
  ASSERT_FALSE(without.ok());
  EXPECT_THAT(without.error().message, HasSubstr("--key-passphrase-file"));
  EXPECT_THAT(without.error().message, HasSubstr(kKeyPassphraseCredential));

  fs::permissions(key, fs::perms(0640));
  auto open_mode = load_or_create_printer_keys(state_, "mk4", pw);
  ASSERT_FALSE(open_mode.ok());
  EXPECT_THAT(open_mode.error().message, HasSubstr("chmod 600 " + key.string()));
}

TEST_F(KeyLifecycleTest, KeysProtectAndUnprotectConvertEveryKeyInPlace) {
  ASSERT_TRUE(load_or_create_printer_keys(state_, "mk4", KeyPassphrase()).ok());
  auto identity = prepare_tls_identity(state_, kHost, KeyPassphrase());
  ASSERT_TRUE(identity.ok()) << identity.error().message;
  const std::string tls_key = read(identity->private_key);
  const KeyPassphrase pw = passphrase("at rest");

  std::ostringstream out;
  std::ostringstream err;
  ASSERT_EQ(protect_keys(state_, pw, out, err), 0) << err.str();
  EXPECT_THAT(out.str(), HasSubstr("mk4-identity.key: protected"));
  EXPECT_THAT(out.str(), HasSubstr("127.0.0.1.key: sealed"));
  EXPECT_TRUE(trust::is_protected_secret_key_file(printer_key_path(state_, "mk4", "identity")));
  EXPECT_TRUE(trust::is_protected_secret_key_file(printer_key_path(state_, "mk4", "encryption")));
  EXPECT_FALSE(fs::exists(state_ / "tls" / "127.0.0.1.key"));
  EXPECT_EQ(
      open_sealed(read(state_ / "tls" / "127.0.0.1.key.sealed"), "at rest", kTlsKeyPurpose, "t").value(),
      tls_key);
  // Protecting twice changes nothing; the server starts with the passphrase.
  ASSERT_EQ(protect_keys(state_, pw, out, err), 0) << err.str();
  EXPECT_TRUE(load_or_create_printer_keys(state_, "mk4", pw).ok());
  EXPECT_TRUE(prepare_tls_identity(state_, kHost, pw).ok());
  // Another passphrase cannot unprotect them.
  std::ostringstream wrong_err;
  EXPECT_EQ(unprotect_keys(state_, passphrase("other"), out, wrong_err), 1);
  EXPECT_THAT(wrong_err.str(), HasSubstr("wrong passphrase"));

  ASSERT_EQ(unprotect_keys(state_, pw, out, err), 0) << err.str();
  EXPECT_FALSE(trust::is_protected_secret_key_file(printer_key_path(state_, "mk4", "identity")));
  EXPECT_EQ(read(state_ / "tls" / "127.0.0.1.key"), tls_key);
  EXPECT_EQ(mode_of(state_ / "tls" / "127.0.0.1.key"), 0600U);
  EXPECT_FALSE(fs::exists(state_ / "tls" / "127.0.0.1.key.sealed"));
  EXPECT_TRUE(prepare_tls_identity(state_, kHost, KeyPassphrase()).ok());
}

}  // namespace
}  // namespace ipp3d::server
