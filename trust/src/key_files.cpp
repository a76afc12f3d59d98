// Key files (docs/envelope.md §2): public and secret key files, optionally
// protected by a passphrase (Argon2id + XChaCha20-Poly1305), written
// atomically, secret files 0600 from creation.
#include "ipp3d/trust/atomic_file.hpp"
#include "ipp3d/trust/keys.hpp"

#include "detail.hpp"
#include "key_text.hpp"

#include <sodium.h>

#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ipp3d::trust {
namespace {

using detail::KeyFileLines;

constexpr std::string_view kPublicHeader = "ipp3d-public-key-v1";
constexpr std::string_view kSecretHeader = "ipp3d-secret-key-v1";
constexpr std::size_t kMaxKeyFileSize = std::size_t{64} * 1024;
constexpr std::size_t kSaltSize = crypto_pwhash_SALTBYTES;                        // 16
constexpr std::size_t kNonceSize = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;  // 24
constexpr std::size_t kTagSize = crypto_aead_xchacha20poly1305_ietf_ABYTES;       // 16
constexpr std::size_t kSealedSecretSize = kNonceSize + 32 + kTagSize;             // 72
constexpr std::uint64_t kWriteOpslimit = 3;
constexpr std::uint64_t kWriteMemlimit = 64ULL * 1024 * 1024;
constexpr std::uint64_t kMinOpslimit = 1;
constexpr std::uint64_t kMaxOpslimit = 10;
constexpr std::uint64_t kMinMemlimit = std::uint64_t{8} * 1024;
constexpr std::uint64_t kMaxMemlimit = 256ULL * 1024 * 1024;

static_assert(kSaltSize == 16 && kNonceSize == 24 && kTagSize == 16);

// The fields shared by both kinds of key file: algorithm, key-id, public-key.
struct KeyFields {
  KeyAlgorithm algorithm = KeyAlgorithm::kEd25519;
  PublicKeyBytes public_key{};
  std::size_t public_key_line = 0;
};

// Parses lines 2-4 and checks that the key ID matches the public key.
Result<KeyFields> parse_key_fields(KeyFileLines& lines) {
  KeyFields fields;
  auto algorithm = lines.expect("algorithm");
  if (!algorithm) return std::move(algorithm).error();
  if (*algorithm == "ed25519") {
    fields.algorithm = KeyAlgorithm::kEd25519;
  } else if (*algorithm == "x25519") {
    fields.algorithm = KeyAlgorithm::kX25519;
  } else {
    return lines.error("algorithm", "algorithm must be \"ed25519\" or \"x25519\"");
  }
  auto id_text = lines.expect("key-id");
  if (!id_text) return std::move(id_text).error();
  const std::optional<KeyId> id = parse_key_id(*id_text);
  if (!id || key_id_hex(*id) != *id_text)
    return lines.error("key-id", "key-id must be 32 lowercase hex digits");
  const std::size_t id_line = lines.line();
  auto key_text = lines.expect("public-key");
  if (!key_text) return std::move(key_text).error();
  if (!detail::from_base64(*key_text, fields.public_key)) {
    return lines.error("public-key", "public-key must be the base64 of 32 bytes");
  }
  fields.public_key_line = lines.line();
  const KeyId actual = key_id_of(fields.algorithm, fields.public_key);
  if (!detail::equal_ct(actual, *id)) {
    return detail::key_file_error(
        lines.source(), id_line, "key-id",
        "key-id does not match the public key (its key ID is " + key_id_hex(actual) + ")");
  }
  return fields;
}

// The associated data of a protected secret (§2).
std::vector<std::uint8_t> protection_ad(KeyAlgorithm algorithm, const PublicKeyBytes& public_key) {
  std::vector<std::uint8_t> ad;
  const auto append = [&](std::string_view text) {
    ad.insert(ad.end(), text.begin(), text.end());
    ad.push_back(0);
  };
  append(kSecretHeader);
  append(algorithm_name(algorithm));
  ad.insert(ad.end(), public_key.begin(), public_key.end());
  return ad;
}

// The Argon2id key of a passphrase; false when Argon2id fails (memory).
bool derive_key(std::span<std::uint8_t, 32> key, const std::string& passphrase,
                std::span<const std::uint8_t, kSaltSize> salt, std::uint64_t opslimit,
                std::uint64_t memlimit) {
  detail::ensure_sodium();
  return crypto_pwhash(key.data(), key.size(), passphrase.data(), passphrase.size(), salt.data(), opslimit,
                       static_cast<std::size_t>(memlimit), crypto_pwhash_ALG_ARGON2ID13) == 0;
}

// The parameters and sealed secret of a protected key file.
struct Protection {
  std::array<std::uint8_t, kSaltSize> salt{};
  std::uint64_t opslimit = 0;
  std::uint64_t memlimit = 0;
  std::array<std::uint8_t, kSealedSecretSize> sealed{};
};

// Parses the kdf-* and secret-key lines of a protected file.
Result<Protection> parse_protection(KeyFileLines& lines) {
  Protection p;
  auto salt = lines.expect("kdf-salt");
  if (!salt) return std::move(salt).error();
  if (!detail::from_base64(*salt, p.salt))
    return lines.error("kdf-salt", "kdf-salt must be the base64 of 16 bytes");
  auto ops = lines.expect("kdf-opslimit");
  if (!ops) return std::move(ops).error();
  const auto opslimit = detail::parse_decimal(*ops, kMinOpslimit, kMaxOpslimit);
  if (!opslimit) return lines.error("kdf-opslimit", "kdf-opslimit must be a number from 1 to 10");
  auto mem = lines.expect("kdf-memlimit");
  if (!mem) return std::move(mem).error();
  const auto memlimit = detail::parse_decimal(*mem, kMinMemlimit, kMaxMemlimit);
  if (!memlimit) return lines.error("kdf-memlimit", "kdf-memlimit must be a number from 8192 to 268435456");
  auto sealed = lines.expect("secret-key");
  if (!sealed) return std::move(sealed).error();
  if (!detail::from_base64(*sealed, p.sealed)) {
    return lines.error("secret-key", "secret-key must be the base64 of 72 bytes (nonce, ciphertext, tag)");
  }
  p.opslimit = *opslimit;
  p.memlimit = *memlimit;
  return p;
}

// Opens the sealed secret with the passphrase into `secret`.
Status open_protected(const Protection& p, const KeyFields& fields, const std::string& source,
                      const std::string& passphrase, std::span<std::uint8_t, 32> secret) {
  std::array<std::uint8_t, 32> key{};
  if (!derive_key(key, passphrase, p.salt, p.opslimit, p.memlimit)) {
    return Error{IPP_STATUS_ERROR_INTERNAL, source + ": Argon2id failed (not enough memory?)", "kdf-memlimit",
                 0};
  }
  const auto ad = protection_ad(fields.algorithm, fields.public_key);
  unsigned long long length = 0;
  const int rc = crypto_aead_xchacha20poly1305_ietf_decrypt(
      secret.data(), &length, nullptr, p.sealed.data() + kNonceSize, p.sealed.size() - kNonceSize, ad.data(),
      ad.size(), p.sealed.data(), key.data());
  detail::wipe(key);
  if (rc != 0 || length != secret.size()) {
    detail::wipe(secret);
    return Error{IPP_STATUS_ERROR_NOT_AUTHORIZED, source + ": wrong passphrase", "passphrase", 0};
  }
  return {};
}

// Reads the secret (lines 5-) into `secret`, asking for the passphrase when protected.
Status read_secret(KeyFileLines& lines, const KeyFields& fields, const PassphraseProvider& passphrase,
                   std::span<std::uint8_t, 32> secret) {
  auto protection = lines.expect("protection");
  if (!protection) return std::move(protection).error();
  if (*protection == "none") {
    auto text = lines.expect("secret-key");
    if (!text) return std::move(text).error();
    if (!detail::from_base64(*text, secret))
      return lines.error("secret-key", "secret-key must be the base64 of 32 bytes");
    return lines.expect_end();
  }
  if (*protection != "argon2id")
    return lines.error("protection", "protection must be \"none\" or \"argon2id\"");
  auto parsed = parse_protection(lines);
  if (!parsed) return std::move(parsed).error();
  if (Status end = lines.expect_end(); !end) return end;
  std::optional<std::string> given = passphrase ? passphrase() : std::nullopt;
  if (!given || given->empty()) {  // an empty passphrase is none (docs/envelope.md §2)
    return Error{IPP_STATUS_ERROR_NOT_AUTHORIZED,
                 lines.source() + " is protected by a passphrase and none was given", "passphrase", 0};
  }
  Status opened = open_protected(*parsed, fields, lines.source(), *given, secret);
  detail::wipe(*given);
  return opened;
}

// The text of a secret key file; the caller wipes it.
Result<std::string> format_secret_key(const SecretKey& key, const std::optional<std::string>& passphrase) {
  const PublicKey& pub = key.public_key();
  std::string text = std::string(kSecretHeader) + "\nalgorithm: " + algorithm_name(pub.algorithm) +
                     "\nkey-id: " + key_id_hex(pub.id) + "\npublic-key: " + detail::to_base64(pub.bytes) +
                     "\n";
  if (!passphrase || passphrase->empty()) {
    std::string secret = detail::to_base64(key.secret());
    text += "protection: none\nsecret-key: " + secret + "\n";
    detail::wipe(secret);
    return text;
  }
  Protection p;
  p.opslimit = kWriteOpslimit;
  p.memlimit = kWriteMemlimit;
  detail::ensure_sodium();
  randombytes_buf(p.salt.data(), p.salt.size());
  randombytes_buf(p.sealed.data(), kNonceSize);
  std::array<std::uint8_t, 32> derived{};
  if (!derive_key(derived, *passphrase, p.salt, p.opslimit, p.memlimit)) {
    detail::wipe(text);
    return Error{IPP_STATUS_ERROR_INTERNAL, "Argon2id failed (it needs 64 MiB of memory)", "passphrase", 0};
  }
  const auto ad = protection_ad(pub.algorithm, pub.bytes);
  const int rc = crypto_aead_xchacha20poly1305_ietf_encrypt(p.sealed.data() + kNonceSize, nullptr,
                                                            key.secret().data(), 32, ad.data(), ad.size(),
                                                            nullptr, p.sealed.data(), derived.data());
  detail::wipe(derived);
  detail::require_zero(rc, "crypto_aead_xchacha20poly1305_ietf_encrypt");
  text += "protection: argon2id\nkdf-salt: " + detail::to_base64(p.salt) +
          "\nkdf-opslimit: " + std::to_string(p.opslimit) + "\nkdf-memlimit: " + std::to_string(p.memlimit) +
          "\nsecret-key: " + detail::to_base64(p.sealed) + "\n";
  return text;
}

// Writes `text` to `path` atomically with `mode`.
Status write_atomically(const std::filesystem::path& path, std::string_view text, unsigned int mode) {
  auto file = AtomicFileWriter::create(path, mode);
  if (!file) return std::move(file).error();
  if (Status written = file->write(detail::bytes_of(text)); !written) return written;
  return file->commit();
}

// Reads a whole (small) file; `mode` receives its permission bits.
Result<std::string> read_small_file(const std::filesystem::path& path, mode_t& mode) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return detail::io_error("cannot open " + path.string(), errno);
  struct stat st {};
  std::string text;
  int failure = 0;
  if (::fstat(fd, &st) != 0) {
    failure = errno;
  } else if (!S_ISREG(st.st_mode)) {
    failure = EINVAL;
  } else if (st.st_size > static_cast<off_t>(kMaxKeyFileSize)) {
    failure = EFBIG;
  } else {
    text.resize(kMaxKeyFileSize + 1);
    std::size_t used = 0;
    while (used < text.size()) {
      const ssize_t n = ::read(fd, text.data() + used, text.size() - used);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) failure = errno;
      if (n <= 0) break;
      used += static_cast<std::size_t>(n);
    }
    if (failure == 0 && used > kMaxKeyFileSize) failure = EFBIG;
    text.resize(used);
  }
  (void)::close(fd);  // read-only descriptor
  mode = st.st_mode & 07777;
  if (failure == 0) return text;
  detail::wipe(text);
  if (failure == EINVAL)
    return Error{IPP_STATUS_ERROR_INTERNAL, path.string() + " is not a regular file", {}, 0};
  if (failure == EFBIG)
    return Error{IPP_STATUS_ERROR_INTERNAL, path.string() + " is too large for a key file", {}, 0};
  return detail::io_error("cannot read " + path.string(), failure);
}

}  // namespace

std::string format_public_key(const PublicKey& key) {
  std::string text = std::string(kPublicHeader) + "\nalgorithm: " + algorithm_name(key.algorithm) +
                     "\nkey-id: " + key_id_hex(key_id_of(key.algorithm, key.bytes)) +
                     "\npublic-key: " + detail::to_base64(key.bytes) + "\n";
  if (!key.comment.empty()) {
    std::string comment = key.comment;
    // One line of text: control characters (a line feed would end the line) become spaces.
    for (char& c : comment) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
    }
    text += "comment: " + comment + "\n";
  }
  return text;
}

Result<PublicKey> parse_public_key(std::string_view text, const std::string& source) {
  return detail::guard<Result<PublicKey>>([&]() -> Result<PublicKey> {
    auto lines = KeyFileLines::split(text, source);
    if (!lines) return std::move(lines).error();
    if (Status header = lines->expect_header(kPublicHeader); !header) return header.error();
    auto fields = parse_key_fields(*lines);
    if (!fields) return std::move(fields).error();
    std::string comment;
    if (lines->next_is("comment")) {
      auto value = lines->expect("comment");
      if (!value) return std::move(value).error();
      if (!is_valid_key_comment(*value)) {
        return lines->error("comment", "comment must be valid UTF-8 without control characters");
      }
      comment = std::string(*value);
    }
    if (Status end = lines->expect_end(); !end) return end.error();
    return make_public_key(fields->algorithm, fields->public_key, std::move(comment));
  });
}

Result<PublicKey> read_public_key_file(const std::filesystem::path& path) {
  return detail::guard<Result<PublicKey>>([&]() -> Result<PublicKey> {
    mode_t mode = 0;
    auto text = read_small_file(path, mode);
    if (!text) return std::move(text).error();
    return parse_public_key(*text, path.string());
  });
}

Status write_public_key_file(const std::filesystem::path& path, const PublicKey& key) {
  return detail::guard<Status>([&]() -> Status {
    if (!is_valid_key_comment(key.comment)) {
      return Error{IPP_STATUS_ERROR_INTERNAL, "the key comment must be one line of UTF-8 text", "comment", 0};
    }
    return write_atomically(path, format_public_key(key), 0644);
  });
}

Status write_secret_key_file(const std::filesystem::path& path, const SecretKey& key,
                             const std::optional<std::string>& passphrase) {
  return detail::guard<Status>([&]() -> Status {
    auto text = format_secret_key(key, passphrase);
    if (!text) return std::move(text).error();
    Status written = write_atomically(path, *text, 0600);
    detail::wipe(*text);
    return written;
  });
}

Result<SecretKey> parse_secret_key(std::string_view text, const std::string& source,
                                   const PassphraseProvider& passphrase) {
  return detail::guard<Result<SecretKey>>([&]() -> Result<SecretKey> {
    auto lines = KeyFileLines::split(text, source);
    if (!lines) return std::move(lines).error();
    if (Status header = lines->expect_header(kSecretHeader); !header) return header.error();
    auto fields = parse_key_fields(*lines);
    if (!fields) return std::move(fields).error();
    std::array<std::uint8_t, 32> secret{};
    if (Status read = read_secret(*lines, *fields, passphrase, secret); !read) return read.error();
    SecretKey key = SecretKey::from_secret(fields->algorithm, secret);
    detail::wipe(secret);
    if (!detail::equal_ct(key.public_key().bytes, fields->public_key)) {
      return detail::key_file_error(source, fields->public_key_line, "public-key",
                                    "the secret key does not belong to this public-key");
    }
    return key;
  });
}

Result<SecretKey> read_secret_key_file(const std::filesystem::path& path,
                                       const PassphraseProvider& passphrase) {
  return detail::guard<Result<SecretKey>>([&]() -> Result<SecretKey> {
    mode_t mode = 0;
    auto text = read_small_file(path, mode);
    if (!text) return std::move(text).error();
    if ((mode & (S_IRGRP | S_IROTH)) != 0) {
      detail::wipe(*text);
      char octal[16];
      (void)std::snprintf(octal, sizeof octal, "%04o", static_cast<unsigned>(mode & 07777));
      return Error{IPP_STATUS_ERROR_INTERNAL,
                   path.string() + " may be read by group or others (mode " + octal +
                       "); a secret key must be private: chmod 600 " + path.string(),
                   "mode", 0};
    }
    auto key = parse_secret_key(*text, path.string(), passphrase);
    detail::wipe(*text);
    return key;
  });
}

bool is_protected_secret_key_file(const std::filesystem::path& path) {
  mode_t mode = 0;
  auto text = read_small_file(path, mode);
  if (!text) return false;
  bool is_protected = false;
  if (auto lines = KeyFileLines::split(*text, path.string()); lines && lines->expect_header(kSecretHeader)) {
    bool ok = true;
    for (const char* name : {"algorithm", "key-id", "public-key"}) ok = ok && lines->expect(name).ok();
    auto protection = lines->expect("protection");
    is_protected = ok && protection && *protection == "argon2id";
  }
  detail::wipe(*text);
  return is_protected;
}

void secure_wipe(std::string& secret) { detail::wipe(secret); }

bool is_valid_key_comment(std::string_view comment) { return detail::is_clean_utf8(comment); }

}  // namespace ipp3d::trust
