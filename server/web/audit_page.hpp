// The audit log's web resources (docs/audit.md), both admin-only (PAPPL asks
// the request gate: TLS and the admin account):
//  - GET /ipp3d/audit/checkpoint: a fresh signed checkpoint as JSON
//    (audit_checkpoint_json), what `ipp3d audit checkpoint URI` stores;
//  - /ipp3d/audit: the "Audit log" page listing the most recent events,
//    linked from the system's and every printer's pages.
#pragma once

#include "audit_checkpointer.hpp"
#include "state/state_store.hpp"

#include <pappl/pappl.h>

#include <vector>

namespace ipp3d::server {

// The checkpoint resource's path.
inline constexpr const char* kAuditCheckpointPath = "/ipp3d/audit/checkpoint";
// The page's path.
inline constexpr const char* kAuditPagePath = "/ipp3d/audit";
// How many events the page lists (newest first).
inline constexpr std::size_t kAuditPageEvents = 200;

// What the resources use; must outlive the PAPPL system.
struct AuditResources {
  StateStore& store;
  AuditCheckpointer& checkpointer;
};

// Registers both resources and the page's links on `printers` and the system.
void add_audit_resources(pappl_system_t* system, const std::vector<pappl_printer_t*>& printers,
                         AuditResources& resources);

}  // namespace ipp3d::server
