// Signed checkpoints of ipp3d-server's audit log (docs/audit.md,
// "Checkpoints"): the signed message, signing, checking a signature, and the
// JSON form that GET /ipp3d/audit/checkpoint returns and `ipp3d audit
// checkpoint` stores. Here because the server (signing) and the client
// (checking what it fetched) must use exactly one definition.
#pragma once

#include "ipp3d/result.hpp"
#include "ipp3d/trust/keys.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace ipp3d::trust {

// At `time` the audit chain ended at record `seq`, whose hash was `hash`.
struct AuditCheckpoint {
  std::int64_t seq = 0;    // the last record covered (0: the empty chain)
  std::string hash;        // that record's hash (64 lowercase hex digits)
  std::int64_t time = 0;   // UNIX time of the signature
  std::string key_id;      // the signing key's ID (32 hex digits)
  std::string public_key;  // the Ed25519 public key (64 hex digits)
  std::string signature;   // Ed25519 signature of audit_checkpoint_message() (128 hex digits)
  bool operator==(const AuditCheckpoint&) const = default;
};

// The bytes a checkpoint's signature covers: the domain tag
// "ipp3d audit checkpoint v1", then seq and time as decimal text and the
// hash, each field preceded by its length (8 bytes, little-endian).
std::vector<std::uint8_t> audit_checkpoint_message(std::int64_t seq, const std::string& hash,
                                                   std::int64_t time);

// A checkpoint of (seq, hash) at `time`, signed with `key` (Ed25519; asserts).
AuditCheckpoint sign_audit_checkpoint(const SecretKey& key, std::int64_t seq, const std::string& hash,
                                      std::int64_t time);

// Checks that the key ID belongs to the public key and that the signature
// verifies. Errors (IPP_STATUS_ERROR_NOT_AUTHORIZED) name what is wrong.
Status check_audit_checkpoint_signature(const AuditCheckpoint& checkpoint);

// The checkpoint as one line of JSON: seq, hash, time, key_id, public_key, signature.
std::string audit_checkpoint_json(const AuditCheckpoint& checkpoint);
// Parses audit_checkpoint_json()'s format. Errors (IPP_STATUS_ERROR_BAD_REQUEST):
// not JSON, a missing or mistyped member, malformed hex (the member is named).
Result<AuditCheckpoint> parse_audit_checkpoint_json(const std::string& text);

}  // namespace ipp3d::trust
