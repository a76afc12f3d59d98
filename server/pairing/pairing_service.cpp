#include "pairing/pairing_service.hpp"

#include <cstdio>

namespace ipp3d::server {
namespace {

// Checks a name or account given by the client or the operator.
Status check_name(const std::string& what, const std::string& value) {
  if (is_valid_signer_name(value)) return {};
  return Error{IPP_STATUS_ERROR_BAD_REQUEST,
               what + " \"" + value + "\" must be 1 to 64 letters, digits, '.', '_', '@' or '-'", what, 0};
}

}  // namespace

std::string paired_signer_comment(const std::string& source, const std::string& account,
                                  const std::string& by) {
  return "paired from " + source + " for account " + account + ", approved by " + by;
}

PairingService::PairingService(StateStore& store, PairingLimits limits, FingerprintSource fingerprint,
                               PairingRegistry::Now now)
    : store_(store), registry_(limits, now), fingerprint_(std::move(fingerprint)), now_(std::move(now)) {}

void PairingService::audit(const std::string& type, const PairingRequest& request, const std::string& actor,
                           const std::string& source,
                           std::vector<std::pair<std::string, std::string>> extra) {
  AuditEvent event;
  event.type = type;
  event.actor = actor;
  event.source = source;
  event.details.emplace_back("request", request.id);
  if (request.key) event.details.emplace_back("key-id", trust::key_id_hex(request.key->id));
  event.details.emplace_back("name", request.claim.name);
  event.details.emplace_back("account", request.claim.account);
  if (source != request.source) event.details.emplace_back("client", request.source);
  for (auto& detail : extra) event.details.push_back(std::move(detail));
  if (Status appended = store_.append_audit(event); !appended) {
    static_cast<void>(std::fprintf(stderr, "ipp3d-server: audit event %s lost: %s\n", type.c_str(),
                                   appended.error().message.c_str()));
  }
}

Result<PairingRequest> PairingService::begin(const std::string& name, const std::string& account,
                                             const trust::PairingCommitment& commitment,
                                             const std::string& source) {
  if (Status valid = check_name("name", name); !valid) return std::move(valid).error();
  if (Status valid = check_name("account", account); !valid) return std::move(valid).error();
  auto begun = registry_.begin(name, account, commitment, source);
  if (!begun && begun.error().status == IPP_STATUS_ERROR_BUSY) {
    bool first = false;
    {
      const std::lock_guard lock(limited_mutex_);
      const auto now = now_();
      const auto last = limited_audited_.find(source);
      first = last == limited_audited_.end() || now - last->second >= registry_.limits().lifetime;
      if (first) limited_audited_[source] = now;
    }
    if (first) {
      PairingRequest refused;
      refused.source = source;
      refused.claim.name = name;
      refused.claim.account = account;
      audit("pairing-failed", refused, "", source, {{"reason", begun.error().message}});
    }
  }
  return begun;
}

Result<PairingRequest> PairingService::reveal(const std::string& id, const trust::PublicKeyBytes& key,
                                              const trust::PairingNonce& nonce, const std::string& source) {
  const auto certificate = trust::parse_certificate_fingerprint(fingerprint_());
  if (!certificate) {
    return Error{IPP_STATUS_ERROR_INTERNAL, "the server's certificate fingerprint is unknown", "", 0};
  }
  auto revealed = registry_.reveal(id, key, nonce, *certificate);
  if (revealed) {
    audit("pairing-requested", *revealed, "", source);
  } else if (revealed.error().status == IPP_STATUS_ERROR_BAD_REQUEST) {
    if (auto failed = registry_.find(id)) {
      failed->key = trust::make_public_key(trust::KeyAlgorithm::kEd25519, key);
      audit("pairing-failed", *failed, "", source, {{"reason", failed->outcome}});
    }
  }
  return revealed;
}

Result<PairingRequest> PairingService::cancel(const std::string& id, const std::string& reason,
                                              const std::string& source) {
  auto failed = registry_.fail(id, "the client gave up: " + reason);
  if (failed) audit("pairing-failed", *failed, "", source, {{"reason", failed->outcome}});
  return failed;
}

Result<std::string> PairingService::approve(const std::string& id, const std::string& name,
                                            const std::string& account, const std::string& by,
                                            const std::string& source) {
  if (Status valid = check_name("name", name); !valid) return std::move(valid).error();
  if (Status valid = check_name("account", account); !valid) return std::move(valid).error();
  const std::lock_guard lock(approve_mutex_);
  auto decided = registry_.decide(id, true, "approved by " + by);
  if (!decided) return std::move(decided).error();
  const PairingRequest& request = *decided;
  const std::string key_id = trust::key_id_hex(request.key->id);
  std::string sentence;
  std::string signer_name = name;
  if (const auto existing = store_.trusted_signer(key_id)) {
    signer_name = existing->name;
    sentence = "Key " + key_id + " was already trusted as \"" + signer_name +
               "\"; the client may now pin the certificate.";
  } else {
    // The signer is bound to the account when it exists (docs/security.md,
    // "Who may do what"); otherwise it stays unbound and the page says so.
    const bool bound = store_.account(account).has_value();
    const TrustedSigner signer{name,
                               key_id,
                               trust::hex_text(request.key->bytes),
                               paired_signer_comment(request.source, account, by),
                               0,
                               bound ? account : std::string()};
    if (Status added = store_.add_trusted_signer(signer); !added) {
      static_cast<void>(registry_.reopen(id));
      return std::move(added).error();
    }
    sentence = "Key " + key_id + " is now trusted as \"" + name + "\"" +
               (bound ? ", its jobs recorded as account " + account + "."
                      : "; there is no account " + account +
                            ", so it is bound to none (`ipp3d-server trust remove` and `trust add --user` "
                            "bind it later).");
  }
  audit("pairing-approved", request, by, source, {{"signer", signer_name}, {"approved-account", account}});
  return sentence;
}

Result<PairingRequest> PairingService::reject(const std::string& id, const std::string& by,
                                              const std::string& source) {
  auto decided = registry_.decide(id, false, "rejected by " + by);
  if (decided) audit("pairing-rejected", *decided, by, source);
  return decided;
}

void PairingService::expire() {
  for (const PairingRequest& request : registry_.expire()) {
    audit("pairing-expired", request, "", request.source);
  }
}

}  // namespace ipp3d::server
