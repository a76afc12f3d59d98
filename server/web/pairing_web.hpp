// Pairing over HTTPS (docs/ipp-extensions.md, "Pairing"):
//  - the JSON endpoints `ipp3d pair` calls, without credentials (the client
//    does not trust the certificate yet): POST /ipp3d/pairing/begin,
//    /reveal, /status and /cancel;
//  - the operator's page /ipp3d/pairing (admin or operator account, TLS,
//    CSRF-checked forms), which lists pending requests with their codes and
//    approves or rejects them.
#pragma once

#include "ipp/credentials.hpp"
#include "pairing/pairing_service.hpp"

#include <pappl/pappl.h>

namespace ipp3d::server {

// The page's path.
inline constexpr const char* kPairingPagePath = "/ipp3d/pairing";

// Registers the four JSON endpoints. `service` must outlive PAPPL.
void add_pairing_endpoints(pappl_system_t* system, PairingService& service);

// What the operator page works with (borrowed).
struct PairingPage {
  PairingService& service;
  CredentialVerifier& verifier;  // checks the admin or operator account
};

// Registers the operator page and its navigation link. `page` must outlive PAPPL.
void add_pairing_page(pappl_system_t* system, PairingPage& page);

}  // namespace ipp3d::server
