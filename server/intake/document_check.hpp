// Checking one job's document as soon as it has arrived (docs/security.md,
// docs/gcode-policy.md): a signed envelope is opened, its claims checked
// against the printer's trust store and policy, and its payload verified
// (and decrypted) and run through the G-code gate in one streaming pass into
// a 0600 file of verified plaintext; plain G-code is accepted only where the
// printer does not require signatures (and is gated too). Pure logic over
// files and the state database (no PAPPL), so it is unit-tested alone.
#pragma once

#include "ipp3d/config/config.hpp"
#include "ipp3d/gcode/limits.hpp"
#include "ipp3d/gcode/report.hpp"
#include "ipp3d/trust/envelope.hpp"

#include "intake/upload_capacity.hpp"
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
  gcode::Job job;                       // the job's material and platform temperature, for the gate
};

// What the printer knows and requires.
struct DocumentPolicy {
  const config::SecurityConfig& security;
  const trust::SecretKey& printer_key;  // X25519: decrypts, and names this printer
  StateStore& store;
  const gcode::Limits& limits;  // the printer's G-code gate limits
  std::int64_t now = 0;         // UNIX seconds
  UploadCapacity capacity{};    // what the machine accepts (unknown values are not checked)
};

// A document that passed every check.
struct VerifiedDocument {
  std::filesystem::path plaintext;  // the G-code to print
  bool owns_plaintext = false;      // plaintext is our verified file (delete it when the job ends)
  std::string sha256;               // lowercase hex SHA-256 of the plaintext
  std::uint64_t size = 0;           // bytes
  std::string signer_name;          // trusted signer ("" for plain G-code)
  std::string signer_key_id;        // hex ("" for plain G-code)
  std::string signer_user;          // the account the signer is bound to ("" when not bound)
  std::optional<trust::Licence> licence;
  std::string document_name;
  gcode::Facts facts;  // what the G-code does (layers, estimate, ...), from the gate
};

// Why a document is refused: an envelope problem (the job ends with
// document-permission-error), or a G-code gate verdict or a document too
// large for the machine (document-unprintable-error).
struct DocumentRefusal {
  std::optional<trust::EnvelopeProblem> problem;  // set for envelope refusals
  std::optional<gcode::Violation> violation;      // the gate's first violation
  std::string message;                            // the job-state-message, naming the reason
  // What the envelope claimed, when its manifest could be read (unverified:
  // for the audit log): the signer's key ID and the payload's SHA-256, hex.
  std::string claimed_signer_key_id = {};
  std::string claimed_payload_sha256 = {};
  [[nodiscard]] bool unprintable() const { return !problem.has_value(); }
  // The reason's keyword: the envelope problem's, the gate rule's, or "too-large".
  [[nodiscard]] std::string reason() const;
};

// Checks the document (docs/envelope.md §6, in that order, with the gate
// fed the plaintext as it streams) and returns the verified document, or the
// refusal: "Refused (unknown-signer): ..." for an envelope,
// "Unprintable: line 12: M104: temperature.printer-limit: ..." (the first
// violation, and how many there are) for the gate, "Refused (too-large): ..."
// when the verified plaintext does not fit `policy.capacity`. On refusal nothing is left
// behind (the verified file is removed) and nothing is consumed (no nonce,
// no licence copy). A nonce is recorded only after full verification; a job
// checked again (after a restart, or for another material) is not a replay.
Result<VerifiedDocument, DocumentRefusal> check_document(const DocumentRequest& request,
                                                         const DocumentPolicy& policy);

}  // namespace ipp3d::server
