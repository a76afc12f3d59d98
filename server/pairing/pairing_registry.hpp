// The server's pairing requests (docs/security.md, "Pairing"): their life
// from the client's commitment to the operator's decision, in memory.
//
//   begin (commitment) -> awaiting-reveal -> reveal (commitment checked) -> pending
//   pending -> approved | rejected (the operator) | failed (the client gave up)
//   awaiting-reveal or pending for longer than the lifetime -> expired
//   a wrong reveal -> failed
//
// Every request is single use: once it has left awaiting-reveal or pending it
// never changes again. Ended requests are kept for another lifetime so the
// client can read the outcome, then forgotten. Requests are not persisted: a
// restart forgets them and the client starts again (they live 10 minutes).
// Thread-safe: `mutex_` guards everything below it.
#pragma once

#include "ipp3d/result.hpp"
#include "ipp3d/trust/pairing.hpp"

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace ipp3d::server {

// Where a pairing request stands.
enum class PairingState { kAwaitingReveal, kPending, kApproved, kRejected, kFailed, kExpired };

// "awaiting-reveal", "pending", "approved", "rejected", "failed", "expired".
const char* pairing_state_name(PairingState state);

// How long requests live and how many a client may make.
struct PairingLimits {
  std::chrono::seconds lifetime{600};  // from begin to the operator's decision
  int per_source = 5;                  // requests one address may begin within one lifetime
  std::size_t open = 16;               // requests awaiting reveal or pending at once (all sources)
};

// One request as the registry knows it.
struct PairingRequest {
  std::string id;      // 32 lowercase hex digits (random)
  std::string source;  // the client's address
  trust::PairingCommitment commitment{};
  trust::PairingNonce server_nonce{};
  trust::PairingClaim claim;            // name and account from begin; key and nonce after reveal
  std::optional<trust::PublicKey> key;  // after reveal
  std::string code;                     // after reveal: the 6 digits the operator compares
  std::chrono::steady_clock::time_point created;
  PairingState state = PairingState::kAwaitingReveal;
  std::string outcome;  // why it ended ("" while open)
};

// The requests. Errors carry an IPP status only as a category: not-found
// (unknown ID), not-possible (wrong state, expired), too-many (rate limit,
// IPP_STATUS_ERROR_BUSY), bad-request (a commitment that does not match).
class PairingRegistry {
 public:
  using Clock = std::chrono::steady_clock;
  // The clock (tests inject their own).
  using Now = std::function<Clock::time_point()>;

  explicit PairingRegistry(PairingLimits limits, Now now = Clock::now);

  // Starts a request for `source`. Errors: the source began `per_source`
  // requests within one lifetime, or `open` requests are open.
  Result<PairingRequest> begin(const std::string& name, const std::string& account,
                               const trust::PairingCommitment& commitment, const std::string& source);

  // The client's reveal: checks the commitment against (key, nonce, and the
  // name and account given at begin) and computes the code with the server's
  // `certificate` digest. A mismatch fails the request for good. Errors: unknown
  // ID, not awaiting a reveal, expired, the commitment does not match.
  Result<PairingRequest> reveal(const std::string& id, const trust::PublicKeyBytes& key,
                                const trust::PairingNonce& nonce,
                                const trust::CertificateDigest& certificate);

  // Ends a pending request as approved or rejected (`outcome` says by whom).
  // Errors: unknown ID, not pending (already decided: single use), expired.
  Result<PairingRequest> decide(const std::string& id, bool approve, const std::string& outcome);

  // Puts an approved request back to pending when the approval could not be
  // carried out (e.g. the signer name is taken). Errors: not approved.
  Status reopen(const std::string& id);

  // Ends an open request as failed (the client gave up, or the codes differed
  // on its side). Errors: unknown ID, already ended.
  Result<PairingRequest> fail(const std::string& id, const std::string& outcome);

  // The request `id`, after expiring what is due; nullopt when unknown or forgotten.
  std::optional<PairingRequest> find(const std::string& id);

  // Requests waiting for the operator (pending), oldest first.
  std::vector<PairingRequest> pending();

  // Ends open requests older than the lifetime as expired (every method does
  // that first) and returns those that expired since the last call, each
  // once (for the audit log); forgets ended requests older than two lifetimes.
  std::vector<PairingRequest> expire();

  [[nodiscard]] const PairingLimits& limits() const { return limits_; }

 private:
  // Expires and forgets what is due (see expire()); the caller holds mutex_.
  void expire_locked();
  // The open request `id` (awaiting-reveal or pending), or an error.
  Result<PairingRequest*> open_request(const std::string& id, PairingState wanted);

  const PairingLimits limits_;
  const Now now_;
  std::mutex mutex_;                                            // guards the members below
  std::map<std::string, PairingRequest> requests_;              // by ID
  std::map<std::string, std::deque<Clock::time_point>> began_;  // per source: when requests began
  std::vector<PairingRequest> newly_expired_;                   // expired, not yet returned by expire()
};

}  // namespace ipp3d::server
