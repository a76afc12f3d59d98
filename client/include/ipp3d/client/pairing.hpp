// libipp3d's side of pairing (docs/security.md, "Pairing"): asks a printer
// to trust a signing key and authenticates the printer's certificate by a
// 6-digit code that the client's user and the printer's operator compare.
//
//   OpenOptions open;  open.unverified = true;          // nothing pinned yet
//   auto printer = Printer::open(uri, open);
//   auto pairing = Pairing::start(*printer, key.public_key(), {.name = "alice@laptop", .account = "alice"});
//   show(pairing->code());  ... the operator approves, the user confirms the code ...
//   if (pairing->status()->state == PairingState::kApproved && confirmed) printer->pin_certificate();
//
// Only both checks together authenticate the printer: the operator's
// approval travels over a connection that is not trusted yet, so the user
// must also see that the printer shows the same code.
#pragma once

#include "ipp3d/client/printer.hpp"
#include "ipp3d/result.hpp"
#include "ipp3d/trust/keys.hpp"

#include <chrono>
#include <string>

namespace ipp3d::client {

// What the client asks the printer for.
struct PairingRequestOptions {
  std::string name;     // signer name in the printer's trust store
  std::string account;  // the account the key is for
};

// Where a request stands on the printer.
enum class PairingState { kAwaitingReveal, kPending, kApproved, kRejected, kFailed, kExpired };

// What the printer says about a request.
struct PairingStatus {
  PairingState state = PairingState::kPending;
  std::string message;  // why it ended ("approved by NAME", ...); "" while pending
};

// True when `typed` (what the user read on the printer's page; spaces
// ignored) is `code`; constant-time for codes of the same length.
bool pairing_codes_match(const std::string& typed, const std::string& code);

// One pairing request. Borrows the Printer, which must outlive it.
class Pairing {
 public:
  // Sends the commitment, receives the printer's nonce, reveals the key and
  // the nonce, and computes the code with the certificate this connection
  // saw. `printer` must be open with OpenOptions::unverified. Errors: the
  // printer's refusal (rate limit: IPP_STATUS_ERROR_BUSY), an answer that
  // is not the protocol, the connection failing.
  static Result<Pairing> start(Printer& printer, const trust::PublicKey& key,
                               const PairingRequestOptions& options);

  // The 6 digits to compare with the printer's page.
  [[nodiscard]] const std::string& code() const { return code_; }
  // The printer's ID of the request.
  [[nodiscard]] const std::string& request_id() const { return request_id_; }
  // How long the printer keeps the request open.
  [[nodiscard]] std::chrono::seconds lifetime() const { return lifetime_; }

  // Asks the printer where the request stands. Errors: unknown to the
  // printer (IPP_STATUS_ERROR_NOT_FOUND: restarted or forgotten), the connection.
  Result<PairingStatus> status();

  // Tells the printer that the client gives up (`reason`), ending the request.
  Status cancel(const std::string& reason);

 private:
  Pairing(Printer& printer, std::string request_id, std::string code, std::chrono::seconds lifetime)
      : printer_(&printer), request_id_(std::move(request_id)), code_(std::move(code)), lifetime_(lifetime) {}

  Printer* printer_;  // borrowed
  std::string request_id_;
  std::string code_;
  std::chrono::seconds lifetime_;
};

}  // namespace ipp3d::client
