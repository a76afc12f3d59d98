// The manifest (docs/envelope.md §3): canonical encoding, strict decoding,
// field rules, and the exact bytes the signature covers.
#include "ipp3d/trust/envelope.hpp"

#include "detail.hpp"

#include <sodium.h>

#include <algorithm>
#include <cassert>

namespace ipp3d::trust {
namespace {

constexpr std::uint8_t kManifestVersion = 1;
constexpr std::uint8_t kFlagEncrypted = 0x01;
constexpr std::size_t kMaxContentType = 127;
constexpr std::size_t kMaxRecipients = 16;
constexpr std::size_t kMaxLicenceId = 64;
constexpr std::uint32_t kMaxCopies = 1'000'000;
constexpr std::size_t kMaxDocumentName = 255;
constexpr std::string_view kSignatureDomain = "ipp3d-envelope-v1/manifest";

// A kMalformed error about the manifest.
EnvelopeError malformed(const std::string& message) {
  return EnvelopeError{EnvelopeProblem::kMalformed, "manifest: " + message};
}

// A restricted-name of RFC 6838 in lower case: [a-z0-9][a-z0-9!#$&^_.+-]*.
bool is_restricted_name(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || std::string_view("!#$&^_.+-").find(c) == std::string_view::npos)) return false;
  }
  return true;
}

// "type/subtype" in lower case.
bool is_mime_type(std::string_view text) {
  const std::size_t slash = text.find('/');
  return slash != std::string_view::npos && is_restricted_name(text.substr(0, slash)) &&
         is_restricted_name(text.substr(slash + 1));
}

bool is_licence_id(std::string_view id) {
  return !id.empty() && id.size() <= kMaxLicenceId && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

// Field rules on the recipients.
EnvelopeStatus validate_recipients(const Manifest& m) {
  if (m.recipients.size() > kMaxRecipients) {
    return malformed("recipient count " + std::to_string(m.recipients.size()) + " is above 16");
  }
  if (m.encrypted && m.recipients.size() != 1) {
    return malformed("an encrypted envelope has exactly one recipient, not " +
                     std::to_string(m.recipients.size()));
  }
  for (std::size_t i = 1; i < m.recipients.size(); ++i) {
    if (!(m.recipients[i - 1] < m.recipients[i])) {
      return malformed("recipients must be in strictly increasing order (recipient " + std::to_string(i + 1) +
                       ", " + key_id_hex(m.recipients[i]) + ", is out of order or repeated)");
    }
  }
  return {};
}

// Reads manifest fields from bytes; every read names its field.
class FieldReader {
 public:
  explicit FieldReader(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}

  // The next `size` bytes, or an error naming `field` when they are missing.
  EnvelopeResult<std::span<const std::uint8_t>> take(std::size_t size, const char* field) {
    if (bytes_.size() - offset_ < size)
      return malformed("the manifest ends inside the " + std::string(field));
    const auto out = bytes_.subspan(offset_, size);
    offset_ += size;
    return out;
  }
  EnvelopeResult<std::uint64_t> integer(std::size_t size, const char* field) {
    auto bytes = take(size, field);
    if (!bytes) return std::move(bytes).error();
    return detail::get_be(*bytes, size);
  }
  // A length-prefixed string (prefix of `prefix_size` bytes).
  EnvelopeResult<std::string> text(std::size_t prefix_size, const char* field) {
    auto length = integer(prefix_size, field);
    if (!length) return std::move(length).error();
    auto bytes = take(static_cast<std::size_t>(*length), field);
    if (!bytes) return std::move(bytes).error();
    return std::string(bytes->begin(), bytes->end());
  }
  template <std::size_t N>
  EnvelopeResult<std::array<std::uint8_t, N>> fixed(const char* field) {
    auto bytes = take(N, field);
    if (!bytes) return std::move(bytes).error();
    std::array<std::uint8_t, N> out{};
    std::copy(bytes->begin(), bytes->end(), out.begin());
    return out;
  }
  [[nodiscard]] std::size_t remaining() const { return bytes_.size() - offset_; }

 private:
  std::span<const std::uint8_t> bytes_;
  std::size_t offset_ = 0;
};

// Unwraps an EnvelopeResult into `out`, or returns its error from the caller.
#define IPP3D_TAKE(out, expr)                      \
  do {                                             \
    auto taken_ = (expr);                          \
    if (!taken_) return std::move(taken_).error(); \
    (out) = std::move(taken_).value();             \
  } while (false)

// The fields up to and including the recipients.
EnvelopeStatus decode_head(FieldReader& in, Manifest& m) {
  std::uint64_t version = 0;
  std::uint64_t flags = 0;
  IPP3D_TAKE(version, in.integer(1, "manifest version"));
  if (version != kManifestVersion) return malformed("version " + std::to_string(version) + " is not 1");
  IPP3D_TAKE(flags, in.integer(1, "flags"));
  if ((flags & ~std::uint64_t{kFlagEncrypted}) != 0)
    return malformed("unknown flag bits " + std::to_string(flags));
  m.encrypted = (flags & kFlagEncrypted) != 0;
  IPP3D_TAKE(m.content_type, in.text(1, "content type"));
  IPP3D_TAKE(m.payload_length, in.integer(8, "payload length"));
  IPP3D_TAKE(m.payload_sha256, in.fixed<32>("payload digest"));
  IPP3D_TAKE(m.signer, in.fixed<16>("signer key ID"));
  std::uint64_t time = 0;
  IPP3D_TAKE(time, in.integer(8, "created"));
  m.created = static_cast<std::int64_t>(time);  // two's complement (C++20)
  IPP3D_TAKE(time, in.integer(8, "not-after"));
  m.not_after = static_cast<std::int64_t>(time);
  std::uint64_t count = 0;
  IPP3D_TAKE(count, in.integer(1, "recipient count"));
  if (count > kMaxRecipients) return malformed("recipient count " + std::to_string(count) + " is above 16");
  m.recipients.resize(static_cast<std::size_t>(count));
  for (KeyId& id : m.recipients) IPP3D_TAKE(id, in.fixed<16>("recipients"));
  return {};
}

// The fields after the recipients.
EnvelopeStatus decode_tail(FieldReader& in, Manifest& m) {
  IPP3D_TAKE(m.nonce, in.fixed<16>("nonce"));
  std::uint64_t licence_flag = 0;
  IPP3D_TAKE(licence_flag, in.integer(1, "licence flag"));
  if (licence_flag > 1) return malformed("licence flag " + std::to_string(licence_flag) + " is not 0 or 1");
  if (licence_flag == 1) {
    Licence licence;
    std::uint64_t copies = 0;
    IPP3D_TAKE(licence.id, in.text(1, "licence ID"));
    IPP3D_TAKE(copies, in.integer(4, "licence copies"));
    licence.copies = static_cast<std::uint32_t>(copies);
    m.licence = std::move(licence);
  }
  IPP3D_TAKE(m.document_name, in.text(2, "document name"));
  return {};
}

#undef IPP3D_TAKE

}  // namespace

EnvelopeStatus validate_manifest(const Manifest& m) {
  return detail::guard_envelope<EnvelopeStatus>([&]() -> EnvelopeStatus {
    if (m.content_type.empty() || m.content_type.size() > kMaxContentType || !is_mime_type(m.content_type)) {
      return malformed("content type must be a lower-case MIME type of 1-127 characters");
    }
    if (m.payload_length > kMaxPayloadLength) {
      return malformed("payload length " + std::to_string(m.payload_length) + " is above 2^40");
    }
    if (m.not_after <= m.created) {
      return malformed("not-after (" + std::to_string(m.not_after) + ") must be later than created (" +
                       std::to_string(m.created) + ")");
    }
    if (EnvelopeStatus recipients = validate_recipients(m); !recipients) return recipients;
    if (m.licence) {
      if (!is_licence_id(m.licence->id)) {
        return malformed("licence ID must be 1-64 characters of A-Z a-z 0-9 . _ -");
      }
      if (m.licence->copies < 1 || m.licence->copies > kMaxCopies) {
        return malformed("licence copies " + std::to_string(m.licence->copies) + " is not within 1-1000000");
      }
    }
    if (m.document_name.size() > kMaxDocumentName) {
      return malformed("document name is " + std::to_string(m.document_name.size()) + " bytes, above 255");
    }
    if (!detail::is_clean_utf8(m.document_name)) {
      return malformed("document name must be valid UTF-8 without control characters");
    }
    return {};
  });
}

std::vector<std::uint8_t> encode_manifest(const Manifest& m) {
  const bool valid = validate_manifest(m).ok();
  assert(valid);
  if (!valid) return {};
  std::vector<std::uint8_t> out;
  detail::put_u8(out, kManifestVersion);
  detail::put_u8(out, m.encrypted ? kFlagEncrypted : 0);
  detail::put_u8(out, static_cast<std::uint8_t>(m.content_type.size()));
  out.insert(out.end(), m.content_type.begin(), m.content_type.end());
  detail::put_u64(out, m.payload_length);
  out.insert(out.end(), m.payload_sha256.begin(), m.payload_sha256.end());
  out.insert(out.end(), m.signer.begin(), m.signer.end());
  detail::put_u64(out, static_cast<std::uint64_t>(m.created));
  detail::put_u64(out, static_cast<std::uint64_t>(m.not_after));
  detail::put_u8(out, static_cast<std::uint8_t>(m.recipients.size()));
  for (const KeyId& id : m.recipients) out.insert(out.end(), id.begin(), id.end());
  out.insert(out.end(), m.nonce.begin(), m.nonce.end());
  detail::put_u8(out, m.licence ? 1 : 0);
  if (m.licence) {
    detail::put_u8(out, static_cast<std::uint8_t>(m.licence->id.size()));
    out.insert(out.end(), m.licence->id.begin(), m.licence->id.end());
    detail::put_u32(out, m.licence->copies);
  }
  detail::put_u16(out, static_cast<std::uint16_t>(m.document_name.size()));
  out.insert(out.end(), m.document_name.begin(), m.document_name.end());
  return out;
}

EnvelopeResult<Manifest> decode_manifest(std::span<const std::uint8_t> bytes) {
  return detail::guard_envelope<EnvelopeResult<Manifest>>([&]() -> EnvelopeResult<Manifest> {
    if (bytes.empty() || bytes.size() > kMaxManifestSize) {
      return malformed("length " + std::to_string(bytes.size()) + " is not within 1-4030");
    }
    FieldReader in(bytes);
    Manifest m;
    if (EnvelopeStatus head = decode_head(in, m); !head) return std::move(head).error();
    if (EnvelopeStatus tail = decode_tail(in, m); !tail) return std::move(tail).error();
    if (in.remaining() != 0)
      return malformed(std::to_string(in.remaining()) + " bytes left over after the document name");
    if (EnvelopeStatus valid = validate_manifest(m); !valid) return std::move(valid).error();
    return m;
  });
}

std::string random_licence_id() {
  detail::ensure_sodium();
  std::array<std::uint8_t, 16> random{};
  randombytes_buf(random.data(), random.size());
  return detail::hex(random);
}

std::vector<std::uint8_t> signed_message(std::span<const std::uint8_t> manifest_bytes) {
  std::vector<std::uint8_t> message(kSignatureDomain.begin(), kSignatureDomain.end());
  message.push_back(0);
  message.insert(message.end(), manifest_bytes.begin(), manifest_bytes.end());
  return message;
}

}  // namespace ipp3d::trust
