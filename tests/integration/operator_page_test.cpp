// The Operator web page: admin-only over TLS, CSRF-checked, and its actions
// change what the printer advertises.
#include "server_process.hpp"

#include <gtest/gtest.h>

#include <regex>

namespace ipp3d::testing {
namespace {

// curl arguments common to every request of one session (cookies kept).
std::vector<std::string> curl(const ServerProcess& server, const std::string& cookie_jar,
                              const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"curl", "-sk",      "-c", cookie_jar,
                                   "-b",   cookie_jar, "-w", "\nHTTP %{http_code}\n"};
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back("https://127.0.0.1:" + std::to_string(server.port()) + "/virtual-fdm/operator");
  return args;
}

TEST(OperatorPage, NeedsTheAdminAccount) {
  ServerProcess server(IPP3D_SERVER_BINARY);
  ASSERT_GT(server.pid(), 0);
  const std::string jar = (server.state_dir() / "cookies").string();
  std::string out;
  run_command(curl(server, jar, {}), out);
  EXPECT_NE(out.find("HTTP 401"), std::string::npos) << out;
  run_command(curl(server, jar, {"-u", "admin:wrong-password"}), out);
  EXPECT_NE(out.find("HTTP 401"), std::string::npos) << out;
  const std::string plain = "http://127.0.0.1:" + std::to_string(server.port()) + "/virtual-fdm/operator";
  run_command({"curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", plain}, out);
  EXPECT_EQ(out, "301 https://127.0.0.1:" + std::to_string(server.port()) + "/virtual-fdm/operator");
}

TEST(OperatorPage, LoadsMaterialOnlyWithAValidFormToken) {
  ServerProcess server(IPP3D_SERVER_BINARY);
  ASSERT_GT(server.pid(), 0);
  const std::string jar = (server.state_dir() / "cookies").string();
  const std::string admin = std::string(kAdminUser) + ":" + kAdminPassword;
  std::string page;
  ASSERT_EQ(run_command(curl(server, jar, {"-u", admin}), page), 0);
  EXPECT_NE(page.find("Loaded: <b>pla-generic"), std::string::npos) << page;
  std::smatch token;
  ASSERT_TRUE(std::regex_search(page, token, std::regex("name=\"session\" value=\"([0-9a-f]+)\""))) << page;

  std::string out;
  run_command(curl(server, jar, {"-u", admin, "-d", "action=load&material-key=petg-generic"}), out);
  EXPECT_NE(out.find("Invalid form submission."), std::string::npos) << out;
  EXPECT_NE(out.find("Loaded: <b>pla-generic"), std::string::npos) << out;

  run_command(
      curl(server, jar,
           {"-u", admin, "-d", "session=" + token[1].str() + "&action=load&material-key=petg-generic"}),
      out);
  EXPECT_NE(out.find("Loaded petg-generic."), std::string::npos) << out;
  EXPECT_NE(out.find("Loaded: <b>petg-generic"), std::string::npos) << out;

  run_command(
      curl(server, jar, {"-u", admin, "-d", "session=" + token[1].str() + "&action=load&material-key=nylon"}),
      out);
  EXPECT_NE(
      out.find("material-key 'nylon' is not in the materials database of virtual-fdm (known: pla-generic, "
               "petg-generic)"),
      std::string::npos)
      << out;

  // What the page did is what IPP clients see.
  run_command({"ipptool", "-tv", server.printer_uri("virtual-fdm"), "get-printer-attributes.test"}, out);
  EXPECT_NE(out.find("materials-col-ready (collection) = {material-key=petg-generic"), std::string::npos)
      << out;
}

}  // namespace
}  // namespace ipp3d::testing
