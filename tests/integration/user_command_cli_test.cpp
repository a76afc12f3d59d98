// `ipp3d-server user ...` as installed: the subcommands parse, read the
// password from standard input (never from the command line), and refuse to
// leave the server without an admin.
#include "ipp_client.hpp"
#include "server_process.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace ipp3d::testing {
namespace {

class UserCommandCli : public ::testing::Test {
 protected:
  // Runs `ipp3d-server ARGS... --state-dir DIR` with `input` on stdin.
  int server_command(std::vector<std::string> args, std::string& out, const std::string& input = "") const {
    args.insert(args.begin(), IPP3D_SERVER_BINARY);
    args.insert(args.end(), {"--state-dir", state_dir()});
    return run_command_with_input(args, input, out);
  }
  std::string state_dir() const { return (dir_.path() / "state").string(); }

  TempDir dir_;
};

TEST_F(UserCommandCli, ManagesAccountsAndKeepsTheLastAdmin) {
  std::string out;
  ASSERT_EQ(server_command({"user", "add", "root-admin", "--role", "admin"}, out, "first-admin-password\n"),
            0)
      << out;
  ASSERT_EQ(server_command({"user", "add", "olga", "--role", "operator"}, out, "olga-password-1\n"), 0)
      << out;
  EXPECT_EQ(server_command({"user", "add", "x", "--role", "superuser"}, out, "some-password-1\n"), 105)
      << out;
  EXPECT_NE(out.find("superuser"), std::string::npos) << out;

  ASSERT_EQ(server_command({"user", "list", "--json"}, out), 0) << out;
  const auto list = nlohmann::json::parse(out);
  ASSERT_EQ(list.size(), 2u) << out;
  EXPECT_EQ(list[0]["name"], "olga");
  EXPECT_EQ(list[0]["role"], "operator");
  EXPECT_EQ(list[1]["name"], "root-admin");
  EXPECT_EQ(list[1]["role"], "admin");

  EXPECT_EQ(server_command({"user", "del", "root-admin"}, out), 1) << out;
  EXPECT_NE(out.find("it is the last admin account"), std::string::npos) << out;
  EXPECT_EQ(server_command({"user", "role", "root-admin", "user"}, out), 1) << out;
  ASSERT_EQ(server_command({"user", "role", "olga", "admin"}, out), 0) << out;
  ASSERT_EQ(server_command({"user", "del", "root-admin"}, out), 0) << out;
  ASSERT_EQ(server_command({"user", "passwd", "olga"}, out, "olga-password-2\n"), 0) << out;
  EXPECT_EQ(server_command({"user", "passwd", "nobody"}, out, "whatever-password\n"), 1) << out;

  ASSERT_EQ(server_command({"user", "list"}, out), 0) << out;
  EXPECT_NE(out.find("olga"), std::string::npos) << out;
  EXPECT_NE(out.find("admin"), std::string::npos) << out;
  EXPECT_EQ(out.find("root-admin"), std::string::npos) << out;
}

TEST_F(UserCommandCli, AdminSetPasswordStillCreatesTheFirstAdmin) {
  std::string out;
  ASSERT_EQ(server_command({"admin", "set-password"}, out, "the-admin-password\n"), 0) << out;
  ASSERT_EQ(server_command({"user", "list", "--json"}, out), 0) << out;
  const auto list = nlohmann::json::parse(out);
  ASSERT_EQ(list.size(), 1u) << out;
  EXPECT_EQ(list[0]["name"], "admin");
  EXPECT_EQ(list[0]["role"], "admin");
}

}  // namespace
}  // namespace ipp3d::testing
