// Who may do what (docs/security.md, "Who may do what"): the pure decision
// the request gate applies to every IPP operation and web page that needs
// authorization. No PAPPL, no I/O: testable without a server.
//
//   user      submits jobs; sees, cancels and subscribes to its own jobs only
//   operator  also manages every job, loads materials, confirms the plate,
//             suspends/resumes prints, emergency-stops; the Operator web page
//   admin     also configures printers and the system (Set-Printer-Attributes,
//             Pause/Resume-Printer, PAPPL's configuration pages)
// Nobody holds or releases jobs by hand: the scheduler owns the queue order.
#pragma once

#include "state/state_store.hpp"

#include <optional>

namespace ipp3d::server {

// A right an operation needs, from least to most privileged.
enum class Right {
  kPrint,       // submit jobs; read and act on one's own jobs
  kManageJobs,  // read and act on every user's jobs
  kOperate,     // act on the machine: materials, plate, suspend/resume, emergency stop
  kAdminister,  // configure printers and the system
  kNobody,      // refused to every role (hand-made queue changes)
};

// Whose job an operation acts on.
enum class JobOwner {
  kNone,   // no job named, or the requester's own job
  kOther,  // a job submitted by another account
};

// The outcome for one request.
enum class Decision {
  kAllow,
  kNeedCredentials,  // no (valid) credentials: HTTP 401
  kForbidden,        // authenticated, but the role lacks the right: HTTP 403
};

// The right IPP operation `operation` (standard or ipp3d vendor code) needs
// when it acts on a job of `owner`. Operations not listed need kAdminister
// (PAPPL only asks for operations that change something or read jobs).
Right required_right(int operation, JobOwner owner);

// The right a web page needs: the Operator page needs kOperate, every other
// page PAPPL protects (its configuration pages) kAdminister.
Right required_web_right(bool operator_page);

// True when `role` has `right`.
bool role_has_right(Role role, Right right);

// The decision for a requester with `role` (nullopt: no valid credentials)
// asking for something that needs `right`.
Decision decide(std::optional<Role> role, Right right);

// "print", "manage-jobs", "operate", "administer", "nobody" (for messages).
const char* right_name(Right right);

}  // namespace ipp3d::server
