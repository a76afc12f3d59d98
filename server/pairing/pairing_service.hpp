// Pairing as the server carries it out: the registry's requests, the trust
// store (an approved key becomes a trusted signer) and the audit log
// (pairing-requested, -approved, -rejected, -expired, -failed;
// docs/audit.md). Used by the JSON endpoints the client calls and by the
// operator's Pairing page. Thread-safe (the registry and the store are).
#pragma once

#include "pairing/pairing_registry.hpp"
#include "state/state_store.hpp"

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace ipp3d::server {

// The server's side of pairing.
class PairingService {
 public:
  // The current TLS certificate's fingerprint ("AB:CD:..."), read at each reveal.
  using FingerprintSource = std::function<std::string()>;

  PairingService(StateStore& store, PairingLimits limits, FingerprintSource fingerprint,
                 PairingRegistry::Now now = PairingRegistry::Clock::now);

  // A client starts pairing. Errors: a name or account that is not 1-64
  // characters of [A-Za-z0-9._@-], the rate limits (IPP_STATUS_ERROR_BUSY;
  // audited as pairing-failed once per source and window).
  Result<PairingRequest> begin(const std::string& name, const std::string& account,
                               const trust::PairingCommitment& commitment, const std::string& source);

  // The client reveals its key and nonce: pending with a code (audited as
  // pairing-requested), or failed when the commitment does not match
  // (audited as pairing-failed). Errors as PairingRegistry::reveal.
  Result<PairingRequest> reveal(const std::string& id, const trust::PublicKeyBytes& key,
                                const trust::PairingNonce& nonce, const std::string& source);

  // The client gives up (e.g. its user saw another code): failed, audited.
  Result<PairingRequest> cancel(const std::string& id, const std::string& reason, const std::string& source);

  // The operator `by` confirmed that the codes match: the key becomes the
  // trusted signer `name` (kept when it is trusted already), the comment
  // records the account it is for; audited as pairing-approved. Returns a
  // sentence for the page. Errors: not pending or expired (single use), a
  // name that is invalid or taken (the request stays pending).
  Result<std::string> approve(const std::string& id, const std::string& name, const std::string& account,
                              const std::string& by, const std::string& source);

  // The operator `by` rejected the request; audited as pairing-rejected.
  Result<PairingRequest> reject(const std::string& id, const std::string& by, const std::string& source);

  // Expires requests nobody decided in time and audits them (pairing-expired).
  void expire();

  // The registry (status queries, the page's list).
  PairingRegistry& registry() { return registry_; }

 private:
  // Appends an event about `request`; a failure is logged, never fatal.
  void audit(const std::string& type, const PairingRequest& request, const std::string& actor,
             const std::string& source, std::vector<std::pair<std::string, std::string>> extra = {});

  StateStore& store_;
  PairingRegistry registry_;
  FingerprintSource fingerprint_;
  PairingRegistry::Now now_;
  std::mutex approve_mutex_;  // serializes approvals (decide, then add the signer)
  std::mutex limited_mutex_;  // guards limited_audited_
  // When a rate-limit refusal of each source was last audited (one event per
  // source and lifetime, so that a flood of requests cannot flood the log).
  std::map<std::string, PairingRegistry::Clock::time_point> limited_audited_;
};

// "paired from ADDRESS for account ACCOUNT, approved by OPERATOR": the trusted
// signer's comment; the account is what the signer is bound to.
std::string paired_signer_comment(const std::string& source, const std::string& account,
                                  const std::string& by);

}  // namespace ipp3d::server
