#include "keys/sealed_file.hpp"

#include "ipp3d/trust/atomic_file.hpp"

#include "keys/key_passphrase.hpp"

#include <sodium.h>

#include <array>
#include <charconv>
#include <fstream>
#include <optional>
#include <vector>

namespace ipp3d::server {
namespace {

constexpr std::string_view kHeader = "ipp3d-sealed-v1";
constexpr std::uint64_t kOpslimit = 3;
constexpr std::uint64_t kMemlimit = 64ULL * 1024 * 1024;
constexpr std::uint64_t kMaxOpslimit = 10;
constexpr std::uint64_t kMinMemlimit = 8192;
constexpr std::uint64_t kMaxMemlimit = 256ULL * 1024 * 1024;
constexpr std::size_t kMaxFile = std::size_t{1} << 20;
constexpr std::size_t kTag = crypto_aead_xchacha20poly1305_ietf_ABYTES;

// An Error about sealed file `source`.
Error sealed_error(const std::string& source, const std::string& reason) {
  return Error{IPP_STATUS_ERROR_INTERNAL, source + ": " + reason, "keys", 0};
}

// Base64 (original alphabet, padded) of `bytes`.
std::string to_base64(std::span<const std::uint8_t> bytes) {
  std::string text(sodium_base64_encoded_len(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(text.data(), text.size(), bytes.data(), bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  text.pop_back();  // the terminating NUL
  return text;
}

// Decodes base64; nullopt for anything malformed.
std::optional<std::vector<std::uint8_t>> from_base64(std::string_view text) {
  std::vector<std::uint8_t> bytes(text.size());
  std::size_t length = 0;
  if (sodium_base642bin(bytes.data(), bytes.size(), text.data(), text.size(), nullptr, &length, nullptr,
                        sodium_base64_VARIANT_ORIGINAL) != 0) {
    return std::nullopt;
  }
  bytes.resize(length);
  return bytes;
}

// The 32-byte key of `passphrase`; false when Argon2id fails (memory).
bool derive(std::span<std::uint8_t, 32> key, const std::string& passphrase,
            std::span<const std::uint8_t> salt, std::uint64_t opslimit, std::uint64_t memlimit) {
  return crypto_pwhash(key.data(), key.size(), passphrase.data(), passphrase.size(), salt.data(), opslimit,
                       static_cast<std::size_t>(memlimit), crypto_pwhash_ALG_ARGON2ID13) == 0;
}

// The fields of a sealed file, in order.
struct SealedFields {
  std::string associated;  // every line before "ciphertext:", with their line ends
  std::string purpose;
  std::vector<std::uint8_t> salt, nonce, ciphertext;
  std::uint64_t opslimit = 0, memlimit = 0;
};

// "NAME: VALUE" lines of `text` from `pos`: the value of NAME, advancing `pos`.
std::optional<std::string_view> field(std::string_view text, std::size_t& pos, std::string_view name) {
  const std::size_t end = text.find('\n', pos);
  if (end == std::string_view::npos) return std::nullopt;
  const std::string_view line = text.substr(pos, end - pos);
  const std::string prefix = std::string(name) + ": ";
  if (line.substr(0, prefix.size()) != prefix) return std::nullopt;
  pos = end + 1;
  return line.substr(prefix.size());
}

// A decimal in [low, high]; nullopt otherwise.
std::optional<std::uint64_t> decimal(std::string_view text, std::uint64_t low, std::uint64_t high) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value < low || value > high)
    return std::nullopt;
  return value;
}

// Parses a sealed file's text; errors name `source` and the bad line.
Result<SealedFields> parse(std::string_view text, const std::string& source) {
  SealedFields f;
  std::size_t pos = 0;
  if (text.substr(0, kHeader.size() + 1) != std::string(kHeader) + "\n") {
    return sealed_error(source, "not a sealed file (no \"ipp3d-sealed-v1\" line)");
  }
  pos = kHeader.size() + 1;
  const auto purpose = field(text, pos, "purpose");
  const auto salt = field(text, pos, "kdf-salt");
  const auto ops = field(text, pos, "kdf-opslimit");
  const auto mem = field(text, pos, "kdf-memlimit");
  const auto nonce = field(text, pos, "nonce");
  const std::size_t associated_end = pos;
  const auto ciphertext = field(text, pos, "ciphertext");
  if (!purpose || !salt || !ops || !mem || !nonce || !ciphertext || pos != text.size()) {
    return sealed_error(source,
                        "malformed sealed file (expected purpose, kdf-salt, kdf-opslimit, "
                        "kdf-memlimit, nonce, ciphertext lines)");
  }
  f.associated = std::string(text.substr(0, associated_end));
  f.purpose = std::string(*purpose);
  const auto opslimit = decimal(*ops, 1, kMaxOpslimit);
  const auto memlimit = decimal(*mem, kMinMemlimit, kMaxMemlimit);
  auto salt_bytes = from_base64(*salt);
  auto nonce_bytes = from_base64(*nonce);
  auto sealed_bytes = from_base64(*ciphertext);
  if (!opslimit || !memlimit || !salt_bytes || salt_bytes->size() != crypto_pwhash_SALTBYTES ||
      !nonce_bytes || nonce_bytes->size() != crypto_aead_xchacha20poly1305_ietf_NPUBBYTES || !sealed_bytes ||
      sealed_bytes->size() < kTag) {
    return sealed_error(source, "malformed sealed file (a field is out of range or not base64)");
  }
  f.opslimit = *opslimit;
  f.memlimit = *memlimit;
  f.salt = std::move(*salt_bytes);
  f.nonce = std::move(*nonce_bytes);
  f.ciphertext = std::move(*sealed_bytes);
  return f;
}

}  // namespace

Result<std::string> seal_with_passphrase(std::span<const std::uint8_t> plaintext,
                                         const std::string& passphrase, std::string_view purpose) {
  if (passphrase.empty()) return sealed_error("seal", "the passphrase is empty");
  if (sodium_init() < 0) return sealed_error("seal", "libsodium cannot start");
  std::array<std::uint8_t, crypto_pwhash_SALTBYTES> salt{};
  std::array<std::uint8_t, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES> nonce{};
  randombytes_buf(salt.data(), salt.size());
  randombytes_buf(nonce.data(), nonce.size());
  const std::string associated =
      std::string(kHeader) + "\npurpose: " + std::string(purpose) + "\nkdf-salt: " + to_base64(salt) +
      "\nkdf-opslimit: " + std::to_string(kOpslimit) + "\nkdf-memlimit: " + std::to_string(kMemlimit) +
      "\nnonce: " + to_base64(nonce) + "\n";
  std::array<std::uint8_t, 32> key{};
  if (!derive(key, passphrase, salt, kOpslimit, kMemlimit)) {
    return sealed_error("seal", "Argon2id failed (it needs 64 MiB of memory)");
  }
  std::vector<std::uint8_t> sealed(plaintext.size() + kTag);
  crypto_aead_xchacha20poly1305_ietf_encrypt(sealed.data(), nullptr, plaintext.data(), plaintext.size(),
                                             reinterpret_cast<const unsigned char*>(associated.data()),
                                             associated.size(), nullptr, nonce.data(), key.data());
  sodium_memzero(key.data(), key.size());
  return associated + "ciphertext: " + to_base64(sealed) + "\n";
}

Result<std::string> open_sealed(std::string_view text, const std::string& passphrase,
                                std::string_view purpose, const std::string& source) {
  auto fields = parse(text, source);
  if (!fields) return fields.error();
  if (fields->purpose != purpose) {
    return sealed_error(source,
                        "sealed for \"" + fields->purpose + "\", not \"" + std::string(purpose) + "\"");
  }
  if (passphrase.empty())
    return Error{IPP_STATUS_ERROR_INTERNAL, missing_passphrase_message(source), "keys", 0};
  if (sodium_init() < 0) return sealed_error(source, "libsodium cannot start");
  std::array<std::uint8_t, 32> key{};
  if (!derive(key, passphrase, fields->salt, fields->opslimit, fields->memlimit)) {
    return sealed_error(source, "Argon2id failed (not enough memory?)");
  }
  std::string plaintext(fields->ciphertext.size() - kTag, '\0');
  unsigned long long length = 0;
  const int rc = crypto_aead_xchacha20poly1305_ietf_decrypt(
      reinterpret_cast<unsigned char*>(plaintext.data()), &length, nullptr, fields->ciphertext.data(),
      fields->ciphertext.size(), reinterpret_cast<const unsigned char*>(fields->associated.data()),
      fields->associated.size(), fields->nonce.data(), key.data());
  sodium_memzero(key.data(), key.size());
  if (rc != 0) {
    sodium_memzero(plaintext.data(), plaintext.size());
    return sealed_error(source, "wrong passphrase (or the file was altered)");
  }
  return plaintext;
}

bool is_sealed_text(std::string_view text) {
  return text.substr(0, kHeader.size() + 1) == std::string(kHeader) + "\n";
}

Result<std::string> read_private_file(const std::filesystem::path& file) {
  if (Status ok = require_private_file(file); !ok) return ok.error();
  std::ifstream in(file, std::ios::binary);
  if (!in) return sealed_error(file.string(), "cannot open");
  std::string text;
  text.reserve(std::size_t{16} * 1024);
  std::array<char, 4096> chunk{};
  while (in.read(chunk.data(), chunk.size()) || in.gcount() > 0) {
    text.append(chunk.data(), static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxFile) {
      sodium_memzero(text.data(), text.size());
      return sealed_error(file.string(), "too large for a key file");
    }
  }
  sodium_memzero(chunk.data(), chunk.size());
  if (in.bad()) return sealed_error(file.string(), "cannot read");
  return text;
}

Status write_private_file(const std::filesystem::path& file, std::string_view bytes) {
  auto writer = trust::AtomicFileWriter::create(file, 0600);
  if (!writer) return writer.error();
  if (Status written = writer->write({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
      !written) {
    return written;
  }
  return writer->commit();
}

}  // namespace ipp3d::server
