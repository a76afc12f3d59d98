// Tests of `ipp3d-server admin set-password` in its non-interactive form.
#include "state/admin_command.hpp"

#include "state/state_store.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <sstream>
#include <string>
#include <sys/stat.h>

namespace ipp3d::server {
namespace {

using ::testing::HasSubstr;

// A fresh temporary directory per test; the state directory inside it does
// not exist yet.
class AdminCommandTest : public ::testing::Test {
 protected:
  // Creates the directory.
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "ipp3d-admin-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    state_dir_ = dir_ / "state";
  }
  // Removes the directory.
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // Runs the command with `input` as standard input.
  int run(const std::string& user, const std::string& input) {
    std::istringstream in(input);
    return admin_set_password(state_dir_, user, in, /*interactive=*/false, out_, err_);
  }

  // Opens the store the command wrote.
  std::unique_ptr<StateStore> open_store() {
    auto store = StateStore::open(state_dir_ / "ipp3d.db");
    EXPECT_TRUE(store.ok()) << (store.ok() ? "" : store.error().message);
    return store.ok() ? std::move(store).value() : nullptr;
  }

  std::filesystem::path dir_;
  std::filesystem::path state_dir_;
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(AdminCommandTest, SetsThePasswordFromOneLine) {
  EXPECT_EQ(run("admin", "correct horse battery\nignored second line\n"), 0);
  EXPECT_EQ(out_.str(), "Password set for admin account 'admin'.\n");
  EXPECT_EQ(err_.str(), "");
  auto store = open_store();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->verify_password("admin", "correct horse battery"), Role::kAdmin);
  EXPECT_EQ(store->verify_password("admin", "ignored second line"), std::nullopt);
  EXPECT_TRUE(store->has_admin());
}

TEST_F(AdminCommandTest, CreatesThePrivateStateDirectory) {
  state_dir_ = dir_ / "var" / "lib" / "ipp3d";
  ASSERT_EQ(run("admin", "long-enough\n"), 0);
  EXPECT_TRUE(std::filesystem::is_directory(state_dir_));
  struct stat info {};
  ASSERT_EQ(::stat(state_dir_.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777U, 0700U);
  EXPECT_TRUE(std::filesystem::exists(state_dir_ / "ipp3d.db"));
}

TEST_F(AdminCommandTest, StripsCarriageReturnAndAcceptsMissingNewline) {
  ASSERT_EQ(run("ops.admin", "dos-password\r\n"), 0);
  ASSERT_EQ(run("other", "no-newline-at-end"), 0);
  auto store = open_store();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->verify_password("ops.admin", "dos-password"), Role::kAdmin);
  EXPECT_EQ(store->verify_password("other", "no-newline-at-end"), Role::kAdmin);
}

TEST_F(AdminCommandTest, ChangesAnExistingPassword) {
  ASSERT_EQ(run("admin", "first-password\n"), 0);
  ASSERT_EQ(run("admin", "second-password\n"), 0);
  auto store = open_store();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->verify_password("admin", "first-password"), std::nullopt);
  EXPECT_EQ(store->verify_password("admin", "second-password"), Role::kAdmin);
}

// With `interactive`, the password is asked twice (stdin of the test is no
// terminal, so turning echo off is skipped).
TEST_F(AdminCommandTest, InteractivePromptsTwice) {
  std::istringstream in("typed-password\ntyped-password\n");
  ASSERT_EQ(admin_set_password(state_dir_, "admin", in, /*interactive=*/true, out_, err_), 0);
  EXPECT_EQ(out_.str(), "New password for admin: \nRepeat: \nPassword set for admin account 'admin'.\n");
  auto store = open_store();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->verify_password("admin", "typed-password"), Role::kAdmin);
}

TEST_F(AdminCommandTest, InteractiveMismatchIsRefused) {
  std::istringstream in("typed-password\ntyped-passw0rd\n");
  EXPECT_EQ(admin_set_password(state_dir_, "admin", in, /*interactive=*/true, out_, err_), 1);
  EXPECT_THAT(err_.str(), HasSubstr("do not match"));
  auto store = open_store();
  ASSERT_NE(store, nullptr);
  EXPECT_FALSE(store->has_admin());
}

struct RefusedCase {
  const char* user;
  const char* input;
  const char* message;  // expected part of the error output
};

class AdminCommandRefuses : public AdminCommandTest, public ::testing::WithParamInterface<RefusedCase> {};

TEST_P(AdminCommandRefuses, ExitsOneWithTheReason) {
  EXPECT_EQ(run(GetParam().user, GetParam().input), 1);
  EXPECT_THAT(err_.str(), HasSubstr(GetParam().message));
  EXPECT_EQ(out_.str(), "");
  if (std::filesystem::exists(state_dir_ / "ipp3d.db")) {
    auto store = open_store();
    ASSERT_NE(store, nullptr);
    EXPECT_FALSE(store->has_admin());
  }
}

INSTANTIATE_TEST_SUITE_P(AdminCommand, AdminCommandRefuses,
                         ::testing::Values(RefusedCase{"admin", "short\n", "at least 8 characters"},
                                           RefusedCase{"admin", "\n", "at least 8 characters"},
                                           RefusedCase{"admin", "", "no password"},
                                           RefusedCase{"bad user", "long-enough\n", "invalid user name"},
                                           RefusedCase{"", "long-enough\n", "invalid user name"}));

}  // namespace
}  // namespace ipp3d::server
