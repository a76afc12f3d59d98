// Appending audit events from the server's code paths (docs/audit.md lists
// the event types): a failed append is logged and never stops or delays the
// operation beyond the database write.
#pragma once

#include "state/state_store.hpp"

#include <pappl/pappl.h>

#include <string>

namespace ipp3d::server {

// Who asked for an action: the authenticated account (or requesting user
// name) and the client's network address.
struct Requester {
  std::string user;
  std::string address;
};

// The requester of a PAPPL client: papplClientGetUsername ("" when none) and
// the peer's address.
Requester requester_of(pappl_client_t* client);

// The actor of a command run on the host (`ipp3d-server trust add`, ...):
// "local:NAME" for the effective user.
std::string local_actor();

// Appends `event` to the audit log; a failure is written to the server log
// (stderr) with the event's type. Never throws.
void audit(StateStore& store, const AuditEvent& event) noexcept;

}  // namespace ipp3d::server
