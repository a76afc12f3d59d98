#include "printer_keys.hpp"

#include <cerrno>
#include <cstring>
#include <sys/stat.h>

namespace ipp3d::server {
namespace {

// Loads one key of `algorithm` from `path`, or creates it (with its .pub).
// A new key is protected when `passphrase` is not empty.
Result<trust::SecretKey> load_or_create(const std::filesystem::path& path, trust::KeyAlgorithm algorithm,
                                        const std::string& comment, const KeyPassphrase& passphrase) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    trust::SecretKey key = trust::SecretKey::generate(algorithm);
    const std::optional<std::string> protect =
        passphrase.empty() ? std::nullopt : std::optional<std::string>(passphrase.text());
    if (Status written = trust::write_secret_key_file(path, key, protect); !written) return written.error();
    trust::PublicKey public_key = key.public_key();
    public_key.comment = comment;
    std::filesystem::path pub = path;
    pub += ".pub";
    if (Status written = trust::write_public_key_file(pub, public_key); !written) return written.error();
    return key;
  }
  auto key = trust::read_secret_key_file(path, passphrase.provider());
  if (!key && key.error().attribute == "passphrase" && passphrase.empty()) {
    return Error{IPP_STATUS_ERROR_INTERNAL, missing_passphrase_message(path), "keys", 0};
  }
  if (!key) return key.error();
  if (key->algorithm() != algorithm) {
    return Error{IPP_STATUS_ERROR_INTERNAL,
                 path.string() + ": must be an " + trust::algorithm_name(algorithm) + " key", "", 0};
  }
  return key;
}

// Creates STATE/keys (0700) when missing.
Status make_key_directory(const std::filesystem::path& state_dir) {
  const std::filesystem::path dir = state_dir / "keys";
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Error{IPP_STATUS_ERROR_INTERNAL, dir.string() + ": cannot create: " + std::strerror(errno), "", 0};
  }
  return {};
}

}  // namespace

std::filesystem::path printer_key_path(const std::filesystem::path& state_dir, const std::string& printer,
                                       const char* role) {
  return state_dir / "keys" / (printer + "-" + role + ".key");
}

Result<std::unique_ptr<PrinterKeys>> load_or_create_printer_keys(const std::filesystem::path& state_dir,
                                                                 const std::string& printer,
                                                                 const KeyPassphrase& passphrase) {
  if (Status made = make_key_directory(state_dir); !made) return made.error();
  auto encryption =
      load_or_create(printer_key_path(state_dir, printer, "encryption"), trust::KeyAlgorithm::kX25519,
                     "ipp3d printer " + printer + " (encryption)", passphrase);
  if (!encryption) return encryption.error();
  auto identity =
      load_or_create(printer_key_path(state_dir, printer, "identity"), trust::KeyAlgorithm::kEd25519,
                     "ipp3d printer " + printer + " (identity)", passphrase);
  if (!identity) return identity.error();
  return std::make_unique<PrinterKeys>(
      PrinterKeys{std::move(encryption).value(), std::move(identity).value()});
}

std::filesystem::path audit_key_path(const std::filesystem::path& state_dir) {
  return state_dir / "keys" / "audit.key";
}

Result<trust::SecretKey> load_or_create_audit_key(const std::filesystem::path& state_dir,
                                                  const KeyPassphrase& passphrase) {
  if (Status made = make_key_directory(state_dir); !made) return made.error();
  return load_or_create(audit_key_path(state_dir), trust::KeyAlgorithm::kEd25519,
                        "ipp3d-server audit checkpoints", passphrase);
}

Result<std::optional<trust::PublicKey>> read_audit_public_key(const std::filesystem::path& state_dir) {
  std::filesystem::path pub = audit_key_path(state_dir);
  pub += ".pub";
  std::error_code ec;
  if (!std::filesystem::exists(pub, ec)) return std::optional<trust::PublicKey>();
  auto key = trust::read_public_key_file(pub);
  if (!key) return key.error();
  if (key->algorithm != trust::KeyAlgorithm::kEd25519) {
    return Error{IPP_STATUS_ERROR_INTERNAL, pub.string() + ": must be an ed25519 key", "", 0};
  }
  return std::optional<trust::PublicKey>(std::move(key).value());
}

}  // namespace ipp3d::server
