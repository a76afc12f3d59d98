#include "intake/document_check.hpp"

#include "ipp3d/trust/sha256.hpp"

#include "intake/parallel_gate.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <unistd.h>

namespace ipp3d::server {
namespace {

using trust::EnvelopeError;
using trust::EnvelopeProblem;
using CheckResult = Result<VerifiedDocument, EnvelopeError>;

// The largest document the printer accepts, in bytes.
std::uint64_t max_document_size(const DocumentPolicy& policy) {
  return std::uint64_t(policy.security.max_document_size_mb) << 20;
}

constexpr std::size_t kReadBlock = 1 << 20;

// Owns an open file descriptor.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  [[nodiscard]] int get() const { return fd_; }
  // Closes now; false when close reports an error (a write that failed late).
  bool close() {
    const int fd = fd_;
    fd_ = -1;
    return ::close(fd) == 0;
  }

 private:
  int fd_;
};

EnvelopeError io_error(const std::string& what) {
  return EnvelopeError{EnvelopeProblem::kIo, what + ": " + std::strerror(errno)};
}

// Plain G-code (printers that do not require signatures): the spool file is
// the plaintext; its SHA-256 and size are computed and the gate is fed.
CheckResult check_plain(const DocumentRequest& request, std::uint64_t max_size, ParallelGate& gate) {
  Fd file(::open(request.spool_file.c_str(), O_RDONLY | O_CLOEXEC));
  if (file.get() < 0) return io_error("cannot read the spooled document");
  trust::Sha256 hash;
  std::vector<std::uint8_t> buffer(kReadBlock);
  std::uint64_t size = 0;
  for (;;) {
    const ssize_t got = ::read(file.get(), buffer.data(), buffer.size());
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return io_error("cannot read the spooled document");
    if (got == 0) break;
    size += static_cast<std::uint64_t>(got);
    if (size > max_size) {
      return EnvelopeError{
          EnvelopeProblem::kTooLarge,
          "the document is larger than the " + std::to_string(max_size >> 20) + " MiB this printer accepts"};
    }
    const std::span<const std::uint8_t> chunk{buffer.data(), static_cast<std::size_t>(got)};
    gate.feed(chunk);
    if (!hash.update(chunk)) break;
  }
  const auto digest = hash.finish();
  if (!digest) return EnvelopeError{EnvelopeProblem::kIo, "cannot compute SHA-256"};
  VerifiedDocument document;
  document.plaintext = request.spool_file;
  document.sha256 = trust::hex_text(*digest);
  document.size = size;
  return document;
}

// Steps 4-8 of docs/envelope.md §6 on the authenticated header: signer,
// signature, recipient and times, replay or licence, content type.
trust::EnvelopeStatus check_claims(const trust::EnvelopeReader& reader, const DocumentRequest& request,
                                   const DocumentPolicy& policy, VerifiedDocument& document) {
  const trust::Manifest& manifest = reader.manifest();
  const std::string signer_id = trust::key_id_hex(manifest.signer);
  const auto signer = policy.store.trusted_signer(signer_id);
  const auto signer_bytes = signer ? trust::parse_key_bytes_hex(signer->public_key) : std::nullopt;
  if (!signer_bytes) {
    return EnvelopeError{EnvelopeProblem::kUnknownSigner,
                         "the document is signed by key " + signer_id +
                             ", which this printer does not trust (an administrator adds it with "
                             "`ipp3d-server trust add`)"};
  }
  if (auto verified =
          reader.verify_signature(trust::make_public_key(trust::KeyAlgorithm::kEd25519, *signer_bytes));
      !verified) {
    return verified;
  }
  document.signer_name = signer->name;
  document.signer_key_id = signer_id;
  document.signer_user = signer->user;
  const trust::ClaimPolicy claim_policy{policy.printer_key.id(),
                                        policy.security.accept_unaddressed,
                                        policy.now,
                                        std::int64_t{policy.security.max_envelope_lifetime_days} * 86400,
                                        300,
                                        trust::build_time()};
  if (auto claims = trust::check_claims(manifest, claim_policy); !claims) return claims;
  if (manifest.licence) {
    const LicenceKey key{request.printer, signer_id, manifest.licence->id};
    const int taken = policy.store.licence_copies_taken(key);
    const auto allowed = static_cast<std::int64_t>(manifest.licence->copies);
    if (taken + request.copies > allowed) {
      return EnvelopeError{EnvelopeProblem::kLicenceUsedUp,
                           "licence \"" + manifest.licence->id + "\" allows " + std::to_string(allowed) +
                               " copies on this printer; " + std::to_string(taken) +
                               " are used and the job asks for " + std::to_string(request.copies)};
    }
  } else if (policy.store.nonce_use(request.printer, signer_id, trust::hex_text(manifest.nonce),
                                    request.job_id) == NonceUse::kReplayed) {
    return EnvelopeError{
        EnvelopeProblem::kReplayed,
        "this envelope (nonce " + trust::hex_text(manifest.nonce) +
            ") was already printed on this printer; without a licence an envelope prints once"};
  }
  if (manifest.content_type != "text/x-gcode") {
    return EnvelopeError{
        EnvelopeProblem::kUnsupportedContent,
        "the envelope carries " + manifest.content_type + "; this printer prints text/x-gcode"};
  }
  return {};
}

// Step 9: streams the payload into the verified file (created 0600) and the gate.
trust::EnvelopeStatus write_payload(trust::EnvelopeReader& reader, const std::filesystem::path& output,
                                    ParallelGate& gate) {
  ::unlink(output.c_str());  // a stale file of an interrupted check
  Fd out(::open(output.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (out.get() < 0) return io_error("cannot create " + output.string());
  auto status = reader.read_payload([&out, &gate](std::span<const std::uint8_t> bytes) -> Status {
    gate.feed(bytes);
    while (!bytes.empty()) {
      const ssize_t written = ::write(out.get(), bytes.data(), bytes.size());
      if (written < 0 && errno == EINTR) continue;
      if (written <= 0) {
        return Error{IPP_STATUS_ERROR_INTERNAL,
                     std::string("cannot write the verified document: ") + std::strerror(errno), "", 0};
      }
      bytes = bytes.subspan(static_cast<std::size_t>(written));
    }
    return {};
  });
  if (status && !out.close()) status = io_error("cannot write " + output.string());
  return status;
}

// Steps 1-9 of an envelope; `manifest_out` receives the manifest once read.
CheckResult check_envelope(const DocumentRequest& request, const DocumentPolicy& policy, ParallelGate& gate,
                           std::optional<trust::Manifest>& manifest_out) {
  Fd file(::open(request.spool_file.c_str(), O_RDONLY | O_CLOEXEC));
  if (file.get() < 0) return io_error("cannot read the spooled document");
  auto opened = trust::EnvelopeReader::open(trust::fd_source(file.get()), &policy.printer_key,
                                            max_document_size(policy));
  if (!opened) return opened.error();
  trust::EnvelopeReader& reader = **opened;
  manifest_out = reader.manifest();
  VerifiedDocument document;
  if (auto claims = check_claims(reader, request, policy, document); !claims) return claims.error();
  if (auto payload = write_payload(reader, request.verified_file, gate); !payload) {
    ::unlink(request.verified_file.c_str());
    return payload.error();
  }
  const trust::Manifest& manifest = reader.manifest();
  document.plaintext = request.verified_file;
  document.owns_plaintext = true;
  document.sha256 = trust::hex_text(manifest.payload_sha256);
  document.size = manifest.payload_length;
  document.licence = manifest.licence;
  document.document_name = manifest.document_name;
  return document;
}

// Records the nonce of an unlicensed envelope once everything passed.
trust::EnvelopeStatus record_nonce(const DocumentRequest& request, const DocumentPolicy& policy,
                                   const trust::Manifest& manifest) {
  if (manifest.licence) return {};
  auto recorded =
      policy.store.record_nonce(request.printer, trust::key_id_hex(manifest.signer),
                                trust::hex_text(manifest.nonce), request.job_id, manifest.not_after);
  if (!recorded) return EnvelopeError{EnvelopeProblem::kIo, recorded.error().message};
  if (*recorded == NonceUse::kReplayed) {
    return EnvelopeError{EnvelopeProblem::kReplayed,
                         "this envelope was printed by another job meanwhile; without a licence an envelope "
                         "prints once"};
  }
  return {};
}

// An envelope refusal: "Refused (KEYWORD): MESSAGE".
DocumentRefusal envelope_refusal(const EnvelopeError& error) {
  return DocumentRefusal{
      error.problem, std::nullopt,
      std::string("Refused (") + trust::envelope_problem_keyword(error.problem) + "): " + error.message};
}

// The gate's refusal: its first violation, and how many there are.
DocumentRefusal gate_refusal(const gcode::Report& report) {
  const gcode::Violation& first = report.violations.front();
  std::string message = "Unprintable: " + gcode::describe(first);
  if (report.violation_count > 1) {
    message += " (and " + std::to_string(report.violation_count - 1) + " more; `ipp3d check` lists them)";
  }
  return DocumentRefusal{std::nullopt, first, message};
}

// The refusal with the manifest's claims, when it was read.
DocumentRefusal with_claims(DocumentRefusal refusal, const std::optional<trust::Manifest>& manifest) {
  if (manifest) {
    refusal.claimed_signer_key_id = trust::key_id_hex(manifest->signer);
    refusal.claimed_payload_sha256 = trust::hex_text(manifest->payload_sha256);
  }
  return refusal;
}

}  // namespace

std::string DocumentRefusal::reason() const {
  if (problem) return trust::envelope_problem_keyword(*problem);
  if (violation) return violation->rule;
  return "too-large";
}

Result<VerifiedDocument, DocumentRefusal> check_document(const DocumentRequest& request,
                                                         const DocumentPolicy& policy) {
  if (!request.is_envelope && policy.security.require_signature) {
    return envelope_refusal(
        EnvelopeError{EnvelopeProblem::kMalformed,
                      "this printer prints signed jobs only: sign the G-code with `ipp3d sign`"});
  }
  ParallelGate gate(policy.limits, request.job);
  std::optional<trust::Manifest> manifest;
  auto checked = request.is_envelope ? check_envelope(request, policy, gate, manifest)
                                     : check_plain(request, max_document_size(policy), gate);
  if (!checked) return with_claims(envelope_refusal(checked.error()), manifest);
  VerifiedDocument document = std::move(checked).value();
  gcode::Report report = gate.finish();
  const auto discard = [&document] {
    if (document.owns_plaintext) ::unlink(document.plaintext.c_str());
  };
  if (!report.accepted) {
    discard();
    return with_claims(gate_refusal(report), manifest);
  }
  // Before the nonce: a document refused for its size may be sent again once it fits.
  if (std::string too_large = upload_refusal(document.size, policy.capacity); !too_large.empty()) {
    discard();
    return with_claims(DocumentRefusal{std::nullopt, std::nullopt, std::move(too_large)}, manifest);
  }
  if (manifest) {
    if (auto recorded = record_nonce(request, policy, *manifest); !recorded) {
      discard();
      return with_claims(envelope_refusal(recorded.error()), manifest);
    }
  }
  document.facts = std::move(report.facts);
  return document;
}

}  // namespace ipp3d::server
