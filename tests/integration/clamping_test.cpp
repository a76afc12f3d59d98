// PWG 5100.21 §12 through the real server: clamped temperatures are reported
// as substituted values and recorded in the job's -actual attributes.
#include "server_process.hpp"

#include <gtest/gtest.h>

namespace ipp3d::testing {
namespace {

TEST(Clamping, TemperaturesOutsideTheMaterialAreClampedAndReported) {
  ServerProcess server(IPP3D_SERVER_BINARY);
  ASSERT_GT(server.pid(), 0);
  std::string out;
  const int status = run_command({"ipptool", "-t", server.user_uri("virtual-fdm"),
                                  std::string(IPP3D_SOURCE_DIR) + "/conformance/ipp3d-clamping.test"},
                                 out);
  EXPECT_EQ(status, 0) << out;
  EXPECT_NE(out.find("was clamped to 230"), std::string::npos) << out;
  EXPECT_NE(out.find("platform-temperature 90 was clamped to 70"), std::string::npos) << out;
}

}  // namespace
}  // namespace ipp3d::testing
