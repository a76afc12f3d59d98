// Checking one job's document as soon as it has arrived (docs/security.md):
// a signed envelope is opened, its claims checked against the printer's
// trust store and policy, its payload verified (and decrypted) in one
// streaming pass into a 0600 file of verified plaintext; plain G-code is
// accepted only where the printer does not require signatures. Pure logic
// over files and the state database (no PAPPL), so it is unit-tested alone.
#pragma once

#include "ipp3d/config/config.hpp"
#include "ipp3d/trust/envelope.hpp"

#include "state/state_store.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace ipp3d::server {

// The document of one job.
struct DocumentRequest {
  std::string printer;  // printer name (trust records are per printer)
  int job_id = 0;
  std::filesystem::path spool_file;     // PAPPL's spooled document
  bool is_envelope = false;             // document-format is the envelope's (else G-code)
  int copies = 1;                       // the job's copies
  std::filesystem::path verified_file;  // where to write the verified plaintext (created 0600)
};

// What the printer knows and requires.
struct DocumentPolicy {
  const config::SecurityConfig& security;
  const trust::SecretKey& printer_key;  // X25519: decrypts, and names this printer
  StateStore& store;
  std::int64_t now = 0;  // UNIX seconds
};

// A document that passed every check.
struct VerifiedDocument {
  std::filesystem::path plaintext;  // the G-code to print
  bool owns_plaintext = false;      // plaintext is our verified file (delete it when the job ends)
  std::string sha256;               // lowercase hex SHA-256 of the plaintext
  std::uint64_t size = 0;           // bytes
  std::string signer_name;          // trusted signer ("" for plain G-code)
  std::string signer_key_id;        // hex ("" for plain G-code)
  std::optional<trust::Licence> licence;
  std::string document_name;
};

// Checks the document (docs/envelope.md §6, in that order) and returns the
// verified document, or the refusal with its problem and a message naming
// the exact reason. On refusal nothing is left behind (the verified file is
// removed) and nothing is consumed (no nonce, no licence copy). A nonce is
// recorded only after full verification; a job checked again (after a
// restart) is not a replay of itself.
Result<VerifiedDocument, trust::EnvelopeError> check_document(const DocumentRequest& request,
                                                              const DocumentPolicy& policy);

// The refusal text shown to users: "Refused (unknown-signer): MESSAGE".
std::string refusal_message(const trust::EnvelopeError& error);

}  // namespace ipp3d::server
