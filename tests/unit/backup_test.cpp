// `ipp3d-server backup` / `restore` (state/backup.hpp): a round trip keeps
// every file and mode, and a damaged archive is refused before anything is
// written.
#include "state/backup.hpp"

#include "printer_keys.hpp"
#include "state/backup_seal.hpp"
#include "state/state_store.hpp"
#include "tls.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace ipp3d::server {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class BackupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "ipp3d-backup-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    state_ = dir_ / "state";
    fs::create_directories(state_);
    auto store = StateStore::open(state_ / "ipp3d.db");
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(store).value();  // kept open: the backup copies a database in use
    ASSERT_TRUE(
        store_->add_trusted_signer({"alice", std::string(32, 'a'), std::string(64, 'b'), "", 1, ""}).ok());
    ASSERT_TRUE(load_or_create_printer_keys(state_, "mk4", KeyPassphrase()).ok());
    ASSERT_TRUE(prepare_tls_identity(state_, "127.0.0.1", KeyPassphrase()).ok());
    std::ofstream(state_ / "pappl.state") << "State\n";
    fs::permissions(state_ / "pappl.state", fs::perms(0600));
    std::ofstream(dir_ / "server.toml") << "[server]\nlisten = \"127.0.0.1:8631\"\n";
    fs::create_directories(state_ / "spool");
    std::ofstream(state_ / "spool" / "job.gcode") << "G28\n";  // not part of a backup
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
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
  // Writes `bytes` over `file`.
  static void write(const fs::path& file, const std::string& bytes) {
    std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes;
  }

  // Backs up the state directory into dir_/backup.ipp3d.
  fs::path make_backup() {
    const fs::path archive = dir_ / "backup.ipp3d";
    auto summary = backup_state(state_, dir_ / "server.toml", archive);
    EXPECT_TRUE(summary.ok()) << summary.error().message;
    return archive;
  }

  fs::path dir_;
  fs::path state_;
  std::unique_ptr<StateStore> store_;
};

TEST_F(BackupTest, ARoundTripRestoresEveryFileWithItsMode) {
  const fs::path archive = make_backup();
  EXPECT_EQ(mode_of(archive), 0600U);
  const fs::path restored = dir_ / "restored";
  auto summary = restore_state(archive, restored, false, nullptr);
  ASSERT_TRUE(summary.ok()) << summary.error().message;
  for (const char* file : {"keys/mk4-identity.key", "keys/mk4-identity.key.pub", "keys/mk4-encryption.key",
                           "tls/127.0.0.1.crt", "tls/127.0.0.1.key", "pappl.state"}) {
    EXPECT_EQ(read(restored / file), read(state_ / file)) << file;
    EXPECT_EQ(mode_of(restored / file), mode_of(state_ / file)) << file;
  }
  EXPECT_EQ(mode_of(restored / "keys/mk4-identity.key"), 0600U);
  EXPECT_EQ(mode_of(restored / "tls/127.0.0.1.key"), 0600U);
  EXPECT_EQ(mode_of(restored / "keys"), 0700U);
  EXPECT_EQ(read(restored / "config.toml"), read(dir_ / "server.toml"));
  EXPECT_FALSE(fs::exists(restored / "spool"));
  auto store = StateStore::open(restored / "ipp3d.db");
  ASSERT_TRUE(store.ok()) << store.error().message;
  ASSERT_EQ((*store)->trusted_signers().size(), 1U);
  EXPECT_EQ((*store)->trusted_signers()[0].name, "alice");
  // The restored keys load.
  EXPECT_TRUE(load_or_create_printer_keys(restored, "mk4", KeyPassphrase()).ok());
}

TEST_F(BackupTest, AFlippedByteAnywhereIsDetectedAndNothingIsWritten) {
  const fs::path archive = make_backup();
  const std::string good = read(archive);
  const std::size_t body = good.find("manifest-sha256: ");
  ASSERT_NE(body, std::string::npos);
  // One byte in the manifest, one in the first member, one in the last.
  for (const std::size_t at : {std::size_t{30}, good.find('\n', body) + 100, good.size() - 3}) {
    std::string damaged = good;
    damaged[at] = static_cast<char>(damaged[at] ^ 0x01);
    write(archive, damaged);
    const fs::path target = dir_ / ("target-" + std::to_string(at));
    auto refused = restore_state(archive, target, false, nullptr);
    ASSERT_FALSE(refused.ok()) << "byte " << at;
    EXPECT_THAT(refused.error().message, HasSubstr("SHA-256")) << refused.error().message;
    EXPECT_FALSE(fs::exists(target)) << "byte " << at;
    EXPECT_FALSE(verify_backup(archive).ok());
  }
  for (const auto& entry : fs::directory_iterator(dir_)) {
    EXPECT_EQ(entry.path().filename().string().find(".restore-"), std::string::npos) << entry.path();
  }
}

TEST_F(BackupTest, TruncatedOrExtendedArchivesAreRefused) {
  const fs::path archive = make_backup();
  const std::string good = read(archive);
  write(archive, good.substr(0, good.size() - 1));
  EXPECT_THAT(verify_backup(archive).error().message, HasSubstr("truncated"));
  write(archive, good + "x");
  EXPECT_THAT(verify_backup(archive).error().message, HasSubstr("data after the last member"));
  write(archive, "not a backup\n");
  EXPECT_THAT(verify_backup(archive).error().message, HasSubstr("not an ipp3d backup"));
  write(archive, good);
  EXPECT_TRUE(verify_backup(archive).ok());
}

TEST_F(BackupTest, ANonEmptyStateDirectoryIsReplacedOnlyWithForce) {
  const fs::path archive = make_backup();
  const std::string identity = read(state_ / "keys/mk4-identity.key");
  fs::remove_all(state_ / "keys");
  auto refused = restore_state(archive, state_, false, nullptr);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.error().message, HasSubstr("--force"));
  EXPECT_FALSE(fs::exists(state_ / "keys"));

  fs::path replaced;
  store_.reset();
  auto restored = restore_state(archive, state_, true, &replaced);
  ASSERT_TRUE(restored.ok()) << restored.error().message;
  EXPECT_EQ(read(state_ / "keys/mk4-identity.key"), identity);
  ASSERT_FALSE(replaced.empty());
  EXPECT_TRUE(fs::exists(replaced / "spool" / "job.gcode")) << "the old directory is kept aside";
}

TEST_F(BackupTest, AnEncryptedArchiveOpensOnlyWithItsPassphraseAndWhole) {
  const fs::path archive = make_backup();
  const fs::path sealed = dir_ / "backup.sealed";
  ASSERT_TRUE(seal_archive(archive, sealed, "backup passphrase").ok());
  EXPECT_TRUE(is_sealed_archive(sealed));
  EXPECT_FALSE(is_sealed_archive(archive));
  EXPECT_EQ(mode_of(sealed), 0600U);
  EXPECT_EQ(read(sealed).find("ipp3d-secret-key-v1"), std::string::npos) << "no key in clear";

  ASSERT_TRUE(open_sealed_archive(sealed, dir_ / "opened", "backup passphrase").ok());
  EXPECT_EQ(read(dir_ / "opened"), read(archive));
  EXPECT_EQ(mode_of(dir_ / "opened"), 0600U);

  auto wrong = open_sealed_archive(sealed, dir_ / "wrong", "another one");
  ASSERT_FALSE(wrong.ok());
  EXPECT_THAT(wrong.error().message, HasSubstr("wrong passphrase"));
  EXPECT_FALSE(fs::exists(dir_ / "wrong"));

  const std::string good = read(sealed);
  std::string flipped = good;
  flipped[good.size() / 2] = static_cast<char>(flipped[good.size() / 2] ^ 0x20);
  write(sealed, flipped);
  EXPECT_FALSE(open_sealed_archive(sealed, dir_ / "flipped", "backup passphrase").ok());
  EXPECT_FALSE(fs::exists(dir_ / "flipped"));
  write(sealed, good.substr(0, good.size() - 40));
  EXPECT_FALSE(open_sealed_archive(sealed, dir_ / "short", "backup passphrase").ok());
  // The last chunk of a whole file is FINAL: dropping it leaves a truncated stream.
  EXPECT_FALSE(fs::exists(dir_ / "short"));
}

TEST_F(BackupTest, AManifestNamingAPathOutsideTheStateIsRefused) {
  const fs::path archive = make_backup();
  std::string text = read(archive);
  const std::size_t at = text.find(" pappl.state\n");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 13, " ../evil.sh\n");
  write(archive, text);
  auto refused = verify_backup(archive);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.error().message, HasSubstr("not a state file"));
}

}  // namespace
}  // namespace ipp3d::server
