#include "ipp3d/trust/audit_checkpoint.hpp"

#include <nlohmann/json.hpp>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <tuple>

namespace ipp3d::trust {
namespace {

// Domain tag of the checkpoint signature: no other signed message of ipp3d starts with it.
constexpr std::string_view kCheckpointDomain = "ipp3d audit checkpoint v1";

// Appends one length-prefixed field (8-byte little-endian length, then the bytes).
void append_field(std::vector<std::uint8_t>& out, std::string_view field) {
  std::uint64_t size = field.size();
  for (int i = 0; i < 8; ++i) {
    out.push_back(static_cast<std::uint8_t>(size & 0xffU));
    size >>= 8U;
  }
  out.insert(out.end(), field.begin(), field.end());
}

// An Error about a checkpoint's signature.
Error signature_error(std::string message) {
  return Error{IPP_STATUS_ERROR_NOT_AUTHORIZED, std::move(message), "", 0};
}

// True when `text` is `length` lowercase hex digits.
bool is_hex(const std::string& text, std::size_t length) {
  return text.size() == length && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// Decodes lowercase hex of a known length into `out`.
template <std::size_t N>
bool decode_hex(const std::string& text, std::array<std::uint8_t, N>& out) {
  std::size_t written = 0;
  return is_hex(text, N * 2) &&
         sodium_hex2bin(out.data(), out.size(), text.data(), text.size(), nullptr, &written, nullptr) == 0 &&
         written == N;
}

}  // namespace

std::vector<std::uint8_t> audit_checkpoint_message(std::int64_t seq, const std::string& hash,
                                                   std::int64_t time) {
  std::vector<std::uint8_t> message;
  append_field(message, kCheckpointDomain);
  append_field(message, std::to_string(seq));
  append_field(message, hash);
  append_field(message, std::to_string(time));
  return message;
}

AuditCheckpoint sign_audit_checkpoint(const SecretKey& key, std::int64_t seq, const std::string& hash,
                                      std::int64_t time) {
  assert(key.algorithm() == KeyAlgorithm::kEd25519);
  AuditCheckpoint checkpoint{seq, hash, time, key_id_hex(key.id()), hex_text(key.public_key().bytes), ""};
  checkpoint.signature = hex_text(key.sign(audit_checkpoint_message(seq, hash, time)));
  return checkpoint;
}

Status check_audit_checkpoint_signature(const AuditCheckpoint& checkpoint) {
  PublicKeyBytes key_bytes{};
  std::array<std::uint8_t, 64> signature{};
  if (!decode_hex(checkpoint.public_key, key_bytes)) {
    return signature_error("the checkpoint's public key is not 64 hex digits");
  }
  if (!decode_hex(checkpoint.signature, signature)) {
    return signature_error("the checkpoint's signature is not 128 hex digits");
  }
  const PublicKey key = make_public_key(KeyAlgorithm::kEd25519, key_bytes);
  if (key_id_hex(key.id) != checkpoint.key_id) {
    return signature_error("the checkpoint's key ID " + checkpoint.key_id +
                           " is not that of its public key (" + key_id_hex(key.id) + ")");
  }
  if (!verify_signature(key, audit_checkpoint_message(checkpoint.seq, checkpoint.hash, checkpoint.time),
                        signature)) {
    return signature_error("the checkpoint's signature does not verify with key " + checkpoint.key_id +
                           " (the checkpoint was altered or signed by another key)");
  }
  return {};
}

std::string audit_checkpoint_json(const AuditCheckpoint& checkpoint) {
  nlohmann::ordered_json json;
  json["seq"] = checkpoint.seq;
  json["hash"] = checkpoint.hash;
  json["time"] = checkpoint.time;
  json["key_id"] = checkpoint.key_id;
  json["public_key"] = checkpoint.public_key;
  json["signature"] = checkpoint.signature;
  return json.dump() + "\n";
}

Result<AuditCheckpoint> parse_audit_checkpoint_json(const std::string& text) {
  const auto json = nlohmann::json::parse(text, nullptr, false);
  const auto bad = [](const std::string& what) {
    return Error{IPP_STATUS_ERROR_BAD_REQUEST, "not an ipp3d audit checkpoint: " + what, "", 0};
  };
  if (!json.is_object()) return bad("not a JSON object");
  AuditCheckpoint checkpoint;
  for (const auto& [name, target] :
       {std::pair{"seq", &checkpoint.seq}, std::pair{"time", &checkpoint.time}}) {
    if (!json.contains(name) || !json[name].is_number_integer())
      return bad(std::string(name) + " is not an integer");
    *target = json[name].get<std::int64_t>();
  }
  const std::array<std::tuple<const char*, std::string*, std::size_t>, 4> texts{
      {{"hash", &checkpoint.hash, 64},
       {"key_id", &checkpoint.key_id, 32},
       {"public_key", &checkpoint.public_key, 64},
       {"signature", &checkpoint.signature, 128}}};
  for (const auto& [name, target, length] : texts) {
    if (!json.contains(name) || !json[name].is_string() || !is_hex(json[name].get<std::string>(), length)) {
      return bad(std::string(name) + " is not " + std::to_string(length) + " lowercase hex digits");
    }
    *target = json[name].get<std::string>();
  }
  if (checkpoint.seq < 0) return bad("seq is negative");
  return checkpoint;
}

}  // namespace ipp3d::trust
