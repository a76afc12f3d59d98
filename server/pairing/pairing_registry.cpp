#include "pairing/pairing_registry.hpp"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <cstdlib>

namespace ipp3d::server {
namespace {

Error pairing_error(ipp_status_t status, std::string message) {
  return Error{status, std::move(message), "", 0};
}

// A random request ID: 16 bytes as 32 hex digits.
std::string new_request_id() {
  std::array<std::uint8_t, 16> bytes{};
  randombytes_buf(bytes.data(), bytes.size());
  return trust::hex_text(bytes);
}

bool is_open(PairingState state) {
  return state == PairingState::kAwaitingReveal || state == PairingState::kPending;
}

}  // namespace

const char* pairing_state_name(PairingState state) {
  switch (state) {
    case PairingState::kAwaitingReveal:
      return "awaiting-reveal";
    case PairingState::kPending:
      return "pending";
    case PairingState::kApproved:
      return "approved";
    case PairingState::kRejected:
      return "rejected";
    case PairingState::kFailed:
      return "failed";
    case PairingState::kExpired:
      return "expired";
  }
  return "unknown";
}

PairingRegistry::PairingRegistry(PairingLimits limits, Now now) : limits_(limits), now_(std::move(now)) {
  if (sodium_init() < 0) std::abort();  // libsodium cannot work at all: nothing can be random
}

Result<PairingRequest> PairingRegistry::begin(const std::string& name, const std::string& account,
                                              const trust::PairingCommitment& commitment,
                                              const std::string& source) {
  const std::lock_guard lock(mutex_);
  expire_locked();
  const Clock::time_point now = now_();
  auto& began = began_[source];
  while (!began.empty() && now - began.front() >= limits_.lifetime) began.pop_front();
  if (began.size() >= static_cast<std::size_t>(limits_.per_source)) {
    const auto wait =
        std::chrono::duration_cast<std::chrono::seconds>(limits_.lifetime - (now - began.front()));
    return pairing_error(IPP_STATUS_ERROR_BUSY, "too many pairing requests from " + source + " (at most " +
                                                    std::to_string(limits_.per_source) + " in " +
                                                    std::to_string(limits_.lifetime.count() / 60) +
                                                    " minutes): try again in " +
                                                    std::to_string(wait.count() + 1) + " s");
  }
  const auto open = std::count_if(requests_.begin(), requests_.end(),
                                  [](const auto& entry) { return is_open(entry.second.state); });
  if (static_cast<std::size_t>(open) >= limits_.open) {
    return pairing_error(IPP_STATUS_ERROR_BUSY, "too many pairing requests are waiting for the operator (" +
                                                    std::to_string(open) + "): try again later");
  }
  began.push_back(now);
  PairingRequest request;
  request.id = new_request_id();
  request.source = source;
  request.commitment = commitment;
  request.server_nonce = trust::random_pairing_nonce();
  request.claim.name = name;
  request.claim.account = account;
  request.created = now;
  requests_[request.id] = request;
  return request;
}

Result<PairingRequest*> PairingRegistry::open_request(const std::string& id, PairingState wanted) {
  expire_locked();
  const auto found = requests_.find(id);
  if (found == requests_.end()) {
    return pairing_error(IPP_STATUS_ERROR_NOT_FOUND, "no pairing request " + id +
                                                         " (unknown, or ended long ago; the server "
                                                         "forgets requests when it restarts)");
  }
  PairingRequest& request = found->second;
  if (request.state != wanted) {
    return pairing_error(IPP_STATUS_ERROR_NOT_POSSIBLE,
                         "pairing request " + id + " is " + pairing_state_name(request.state) + ", not " +
                             pairing_state_name(wanted) + " (a request is single use)");
  }
  return &request;
}

Result<PairingRequest> PairingRegistry::reveal(const std::string& id, const trust::PublicKeyBytes& key,
                                               const trust::PairingNonce& nonce,
                                               const trust::CertificateDigest& certificate) {
  const std::lock_guard lock(mutex_);
  auto found = open_request(id, PairingState::kAwaitingReveal);
  if (!found) return std::move(found).error();
  PairingRequest& request = **found;
  trust::PairingClaim claim = request.claim;
  claim.client_key = key;
  claim.client_nonce = nonce;
  if (!trust::commitment_matches(request.commitment, claim)) {
    request.state = PairingState::kFailed;
    request.outcome = "the revealed key and nonce do not match the commitment";
    return pairing_error(IPP_STATUS_ERROR_BAD_REQUEST,
                         "pairing request " + id + " failed: " + request.outcome);
  }
  request.claim = claim;
  request.key = trust::make_public_key(trust::KeyAlgorithm::kEd25519, key);
  request.code = trust::pairing_code(claim, request.server_nonce, certificate);
  request.state = PairingState::kPending;
  return request;
}

Result<PairingRequest> PairingRegistry::decide(const std::string& id, bool approve,
                                               const std::string& outcome) {
  const std::lock_guard lock(mutex_);
  auto found = open_request(id, PairingState::kPending);
  if (!found) return std::move(found).error();
  PairingRequest& request = **found;
  request.state = approve ? PairingState::kApproved : PairingState::kRejected;
  request.outcome = outcome;
  return request;
}

Status PairingRegistry::reopen(const std::string& id) {
  const std::lock_guard lock(mutex_);
  const auto found = requests_.find(id);
  if (found == requests_.end() || found->second.state != PairingState::kApproved) {
    return pairing_error(IPP_STATUS_ERROR_NOT_POSSIBLE, "pairing request " + id + " is not approved");
  }
  found->second.state = PairingState::kPending;
  found->second.outcome.clear();
  return {};
}

Result<PairingRequest> PairingRegistry::fail(const std::string& id, const std::string& outcome) {
  const std::lock_guard lock(mutex_);
  expire_locked();
  const auto found = requests_.find(id);
  if (found == requests_.end()) return pairing_error(IPP_STATUS_ERROR_NOT_FOUND, "no pairing request " + id);
  PairingRequest& request = found->second;
  if (!is_open(request.state)) {
    return pairing_error(IPP_STATUS_ERROR_NOT_POSSIBLE, "pairing request " + id + " has already ended (" +
                                                            pairing_state_name(request.state) + ")");
  }
  request.state = PairingState::kFailed;
  request.outcome = outcome;
  return request;
}

std::optional<PairingRequest> PairingRegistry::find(const std::string& id) {
  const std::lock_guard lock(mutex_);
  expire_locked();
  const auto found = requests_.find(id);
  if (found == requests_.end()) return std::nullopt;
  return found->second;
}

std::vector<PairingRequest> PairingRegistry::pending() {
  const std::lock_guard lock(mutex_);
  expire_locked();
  std::vector<PairingRequest> waiting;
  for (const auto& [id, request] : requests_) {
    if (request.state == PairingState::kPending) waiting.push_back(request);
  }
  std::sort(waiting.begin(), waiting.end(),
            [](const auto& a, const auto& b) { return a.created < b.created; });
  return waiting;
}

std::vector<PairingRequest> PairingRegistry::expire() {
  const std::lock_guard lock(mutex_);
  expire_locked();
  std::vector<PairingRequest> expired;
  expired.swap(newly_expired_);
  return expired;
}

void PairingRegistry::expire_locked() {
  const Clock::time_point now = now_();
  for (auto it = requests_.begin(); it != requests_.end();) {
    PairingRequest& request = it->second;
    const auto age = now - request.created;
    if (is_open(request.state) && age >= limits_.lifetime) {
      request.state = PairingState::kExpired;
      request.outcome = "nobody decided within " + std::to_string(limits_.lifetime.count()) + " s";
      newly_expired_.push_back(request);
    }
    if (!is_open(request.state) && age >= 2 * limits_.lifetime) {
      it = requests_.erase(it);
    } else {
      ++it;
    }
  }
  std::erase_if(began_, [&](const auto& entry) {
    return entry.second.empty() || now - entry.second.back() >= limits_.lifetime;
  });
}

}  // namespace ipp3d::server
