// Tests of the role policy (server/ipp/role_policy.hpp): which right each
// operation needs, and which role has which right.
#include "ipp/role_policy.hpp"

#include "ipp/operator_ops.hpp"

#include <cups/ipp.h>
#include <gtest/gtest.h>

namespace ipp3d::server {
namespace {

constexpr std::optional<Role> kAdmin = Role::kAdmin;
constexpr std::optional<Role> kOperator = Role::kOperator;
constexpr std::optional<Role> kUser = Role::kUser;
constexpr std::optional<Role> kAnonymous = std::nullopt;

// One row: an operation on a job of `owner`, and the decision for each role.
struct Row {
  int operation;
  JobOwner owner;
  Decision admin;
  Decision operator_;
  Decision user;
};

constexpr Decision A = Decision::kAllow;
constexpr Decision F = Decision::kForbidden;

TEST(RolePolicy, EveryOperationByRole) {
  const JobOwner own = JobOwner::kNone;
  const JobOwner other = JobOwner::kOther;
  const Row rows[] = {
      // operation                           owner  admin operator user
      {IPP_OP_PRINT_JOB, own, A, A, A},
      {IPP_OP_VALIDATE_JOB, own, A, A, A},
      {IPP_OP_CREATE_JOB, own, A, A, A},
      {IPP_OP_SEND_DOCUMENT, own, A, A, A},
      {IPP_OP_SEND_DOCUMENT, other, A, A, F},
      {IPP_OP_GET_JOBS, own, A, A, A},
      {IPP_OP_GET_JOB_ATTRIBUTES, own, A, A, A},
      {IPP_OP_GET_JOB_ATTRIBUTES, other, A, A, F},
      {IPP_OP_CANCEL_JOB, own, A, A, A},
      {IPP_OP_CANCEL_JOB, other, A, A, F},
      {IPP_OP_CLOSE_JOB, other, A, A, F},
      {kOpGetJobFacts, own, A, A, A},
      {kOpGetJobFacts, other, A, A, F},
      {IPP_OP_CANCEL_JOBS, own, A, A, F},
      {IPP_OP_CANCEL_MY_JOBS, own, A, A, F},  // PAPPL 1.3.1 cancels every job
      {IPP_OP_CANCEL_CURRENT_JOB, own, A, A, F},
      {IPP_OP_SUSPEND_CURRENT_JOB, own, A, A, F},
      {IPP_OP_RESUME_JOB, own, A, A, F},
      {kOpLoadMaterial, own, A, A, F},
      {kOpUnloadMaterial, own, A, A, F},
      {kOpConfirmPlateClear, own, A, A, F},
      {kOpEmergencyStop, own, A, A, F},
      {IPP_OP_PAUSE_PRINTER, own, A, F, F},
      {IPP_OP_RESUME_PRINTER, own, A, F, F},
      {IPP_OP_SET_PRINTER_ATTRIBUTES, own, A, F, F},
      {IPP_OP_ENABLE_PRINTER, own, A, F, F},
      {IPP_OP_DISABLE_PRINTER, own, A, F, F},
      {IPP_OP_SET_SYSTEM_ATTRIBUTES, own, A, F, F},
      {IPP_OP_SHUTDOWN_ALL_PRINTERS, own, A, F, F},
      {IPP_OP_CREATE_PRINTER, own, A, F, F},
      {IPP_OP_HOLD_JOB, own, F, F, F},
      {IPP_OP_RELEASE_JOB, own, F, F, F},
      {IPP_OP_HOLD_NEW_JOBS, own, F, F, F},
      {IPP_OP_RELEASE_HELD_NEW_JOBS, own, F, F, F},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(std::string(ippOpString(static_cast<ipp_op_t>(row.operation))) +
                 (row.owner == other ? " (another user's job)" : ""));
    const Right right = required_right(row.operation, row.owner);
    EXPECT_EQ(decide(kAdmin, right), row.admin) << "admin";
    EXPECT_EQ(decide(kOperator, right), row.operator_) << "operator";
    EXPECT_EQ(decide(kUser, right), row.user) << "user";
    EXPECT_EQ(decide(kAnonymous, right), Decision::kNeedCredentials) << "no credentials";
  }
}

TEST(RolePolicy, WebPages) {
  EXPECT_EQ(decide(kOperator, required_web_right(/*operator_page=*/true)), A);
  EXPECT_EQ(decide(kUser, required_web_right(true)), F);
  EXPECT_EQ(decide(kAdmin, required_web_right(true)), A);
  EXPECT_EQ(decide(kAdmin, required_web_right(false)), A);
  EXPECT_EQ(decide(kOperator, required_web_right(false)), F);
  EXPECT_EQ(decide(kUser, required_web_right(false)), F);
  EXPECT_EQ(decide(kAnonymous, required_web_right(true)), Decision::kNeedCredentials);
}

TEST(RolePolicy, RightsGrowWithTheRole) {
  for (const Right right : {Right::kPrint, Right::kManageJobs, Right::kOperate, Right::kAdminister}) {
    SCOPED_TRACE(right_name(right));
    EXPECT_TRUE(!role_has_right(Role::kUser, right) || role_has_right(Role::kOperator, right));
    EXPECT_TRUE(!role_has_right(Role::kOperator, right) || role_has_right(Role::kAdmin, right));
    EXPECT_TRUE(role_has_right(Role::kAdmin, right));
  }
  EXPECT_FALSE(role_has_right(Role::kAdmin, Right::kNobody));
}

}  // namespace
}  // namespace ipp3d::server
