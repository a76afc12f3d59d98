// The role policy table (docs/security.md, "Who may do what").
#include "ipp/role_policy.hpp"

#include "ipp/operator_ops.hpp"

#include <cups/ipp.h>

namespace ipp3d::server {
namespace {

// Operations on one job or on the requester's own requests: kPrint for the
// owner, kManageJobs for anybody else's job.
bool owner_checked(int operation) {
  switch (operation) {
    case IPP_OP_SEND_DOCUMENT:
    case IPP_OP_GET_JOB_ATTRIBUTES:
    case IPP_OP_CANCEL_JOB:
    case IPP_OP_CLOSE_JOB:
    case kOpGetJobFacts:
    case IPP_OP_CREATE_JOB_SUBSCRIPTIONS:
      return true;
    default:
      return false;
  }
}

// Operations every account with print rights may send (no job of another named).
bool print_operation(int operation) {
  switch (operation) {
    case IPP_OP_PRINT_JOB:
    case IPP_OP_VALIDATE_JOB:
    case IPP_OP_CREATE_JOB:
    case IPP_OP_GET_JOBS:  // a user's Get-Jobs is narrowed to its own jobs by the gate
    case IPP_OP_CREATE_PRINTER_SUBSCRIPTIONS:
    case IPP_OP_GET_SUBSCRIPTION_ATTRIBUTES:
    case IPP_OP_GET_SUBSCRIPTIONS:
    case IPP_OP_RENEW_SUBSCRIPTION:
    case IPP_OP_CANCEL_SUBSCRIPTION:
    case IPP_OP_GET_NOTIFICATIONS:
      return true;
    default:
      return false;
  }
}

}  // namespace

Right required_right(int operation, JobOwner owner) {
  if (owner_checked(operation)) return owner == JobOwner::kOther ? Right::kManageJobs : Right::kPrint;
  if (print_operation(operation)) return Right::kPrint;
  switch (operation) {
    // PAPPL 1.3.1 serves Cancel-My-Jobs as Cancel-Jobs (every job), and
    // Cancel-Current-Job names no job: both act on other users' jobs.
    case IPP_OP_CANCEL_JOBS:
    case IPP_OP_CANCEL_MY_JOBS:
    case IPP_OP_CANCEL_CURRENT_JOB:
      return Right::kManageJobs;
    case IPP_OP_SUSPEND_CURRENT_JOB:
    case IPP_OP_RESUME_JOB:
    case kOpLoadMaterial:
    case kOpUnloadMaterial:
    case kOpConfirmPlateClear:
    case kOpEmergencyStop:
      return Right::kOperate;
    case IPP_OP_HOLD_JOB:
    case IPP_OP_RELEASE_JOB:
    case IPP_OP_HOLD_NEW_JOBS:
    case IPP_OP_RELEASE_HELD_NEW_JOBS:
      return Right::kNobody;
    default:
      return Right::kAdminister;
  }
}

Right required_web_right(bool operator_page) { return operator_page ? Right::kOperate : Right::kAdminister; }

bool role_has_right(Role role, Right right) {
  switch (right) {
    case Right::kPrint:
      return true;
    case Right::kManageJobs:
    case Right::kOperate:
      return role == Role::kOperator || role == Role::kAdmin;
    case Right::kAdminister:
      return role == Role::kAdmin;
    case Right::kNobody:
      return false;
  }
  return false;
}

Decision decide(std::optional<Role> role, Right right) {
  if (!role) return Decision::kNeedCredentials;
  return role_has_right(*role, right) ? Decision::kAllow : Decision::kForbidden;
}

const char* right_name(Right right) {
  switch (right) {
    case Right::kPrint:
      return "print";
    case Right::kManageJobs:
      return "manage-jobs";
    case Right::kOperate:
      return "operate";
    case Right::kAdminister:
      return "administer";
    case Right::kNobody:
      return "nobody";
  }
  return "nobody";
}

}  // namespace ipp3d::server
