// Problem keywords and the claim checks of docs/envelope.md §6 steps 5-6.
#include "ipp3d/trust/envelope.hpp"

#include "detail.hpp"

#include <limits>

namespace ipp3d::trust {
namespace {

// `a + b` clamped to the int64 range.
std::int64_t saturating_add(std::int64_t a, std::int64_t b) {
  std::int64_t sum = 0;
  if (!__builtin_add_overflow(a, b, &sum)) return sum;
  return b > 0 ? std::numeric_limits<std::int64_t>::max() : std::numeric_limits<std::int64_t>::min();
}

// "2026-11-21T10:00:00Z (1795255200)".
std::string when(std::int64_t t) { return detail::utc_time(t) + " (" + std::to_string(t) + ")"; }

// Step 5: the recipients name this printer, or none and unaddressed envelopes are accepted.
EnvelopeStatus check_recipients(const Manifest& m, const ClaimPolicy& policy) {
  if (!policy.printer) return {};
  if (m.recipients.empty()) {
    if (policy.accept_unaddressed && !m.encrypted) return {};
    return EnvelopeError{
        EnvelopeProblem::kWrongRecipient,
        "the envelope names no printer and this printer accepts only envelopes addressed to it (" +
            key_id_hex(*policy.printer) + ")"};
  }
  bool found = false;
  std::string names;
  for (const KeyId& id : m.recipients) {
    found = detail::equal_ct(id, *policy.printer) || found;
    names += (names.empty() ? "" : ", ") + key_id_hex(id);
  }
  if (found) return {};
  return EnvelopeError{EnvelopeProblem::kWrongRecipient, "the envelope is for printer key(s) " + names +
                                                             ", not this printer (" +
                                                             key_id_hex(*policy.printer) + ")"};
}

}  // namespace

const char* envelope_problem_keyword(EnvelopeProblem problem) {
  switch (problem) {
    case EnvelopeProblem::kMalformed:
      return "malformed";
    case EnvelopeProblem::kWrongRecipient:
      return "wrong-recipient";
    case EnvelopeProblem::kCannotDecrypt:
      return "cannot-decrypt";
    case EnvelopeProblem::kUnknownSigner:
      return "unknown-signer";
    case EnvelopeProblem::kBadSignature:
      return "bad-signature";
    case EnvelopeProblem::kNotYetValid:
      return "not-yet-valid";
    case EnvelopeProblem::kClockNotSet:
      return "clock-not-set";
    case EnvelopeProblem::kExpired:
      return "expired";
    case EnvelopeProblem::kLifetimeTooLong:
      return "lifetime-too-long";
    case EnvelopeProblem::kReplayed:
      return "replayed";
    case EnvelopeProblem::kLicenceUsedUp:
      return "licence-used-up";
    case EnvelopeProblem::kUnsupportedContent:
      return "unsupported-content";
    case EnvelopeProblem::kTooLarge:
      return "too-large";
    case EnvelopeProblem::kTampered:
      return "tampered";
    case EnvelopeProblem::kTruncated:
      return "truncated";
    case EnvelopeProblem::kTrailingData:
      return "trailing-data";
    case EnvelopeProblem::kDigestMismatch:
      return "digest-mismatch";
    case EnvelopeProblem::kIo:
      return "io-error";
  }
  return "malformed";
}

EnvelopeStatus check_claims(const Manifest& m, const ClaimPolicy& policy) {
  return detail::guard_envelope<EnvelopeStatus>([&]() -> EnvelopeStatus {
    if (EnvelopeStatus recipients = check_recipients(m, policy); !recipients) return recipients;
    if (policy.now < policy.earliest_now) {
      // Expiry means nothing against a clock stuck in the past: refuse rather than accept.
      return EnvelopeError{EnvelopeProblem::kClockNotSet,
                           "this host's clock says " + when(policy.now) +
                               ", before this software was built (" + when(policy.earliest_now) +
                               "); set the clock (NTP, or `date -s`) so that envelope expiry can be checked"};
    }
    if (m.created > saturating_add(policy.now, policy.clock_skew)) {
      return EnvelopeError{EnvelopeProblem::kNotYetValid, "created " + when(m.created) + " is more than " +
                                                              std::to_string(policy.clock_skew) +
                                                              " s after now, " + when(policy.now)};
    }
    if (policy.now >= m.not_after) {
      return EnvelopeError{EnvelopeProblem::kExpired, "expired: not-after " + when(m.not_after) +
                                                          " is not after now, " + when(policy.now)};
    }
    if (m.not_after <= m.created) {
      return EnvelopeError{EnvelopeProblem::kMalformed, "manifest: not-after must be later than created"};
    }
    // not_after > created: the difference fits in uint64 (modular subtraction).
    const std::uint64_t lifetime =
        static_cast<std::uint64_t>(m.not_after) - static_cast<std::uint64_t>(m.created);
    if (policy.max_lifetime < 0 || lifetime > static_cast<std::uint64_t>(policy.max_lifetime)) {
      return EnvelopeError{EnvelopeProblem::kLifetimeTooLong,
                           "lifetime " + std::to_string(lifetime) + " s (created " + when(m.created) +
                               ", not-after " + when(m.not_after) + ") is above this printer's maximum of " +
                               std::to_string(policy.max_lifetime) + " s"};
    }
    return {};
  });
}

}  // namespace ipp3d::trust
