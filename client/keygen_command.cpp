// `ipp3d keygen`: a fresh Ed25519 signing key (or X25519 printer key) in a
// secret key file (mode 0600, optionally passphrase-protected) and a public
// key file beside it.
#include "keygen_command.hpp"

#include "ipp3d/trust/keys.hpp"

#include "passphrase.hpp"

#include <iostream>

namespace ipp3d::client {
namespace {

constexpr int kOk = 0;
constexpr int kError = 2;

int fail(const std::string& message) {
  std::cerr << "ipp3d keygen: " << message << "\n";
  return kError;
}

// The secret key path: --out, or the default key (creating its directory).
Result<std::filesystem::path> key_path(const KeygenOptions& options) {
  if (!options.out.empty()) return std::filesystem::path(options.out);
  if (Status created = ensure_config_directory(); !created) return created.error();
  return default_key_path();
}

}  // namespace

CLI::App* add_keygen_command(CLI::App& app, KeygenOptions& options) {
  CLI::App* keygen =
      app.add_subcommand("keygen", "Make a signing key pair: KEY (secret, mode 0600) and KEY.pub.");
  keygen->add_option("--out", options.out,
                     "secret key file (default: $IPP3D_CONFIG_DIR/key, else ~/.config/ipp3d/key)");
  keygen
      ->add_option("--algorithm", options.algorithm, "ed25519 (signing, default) or x25519 (a printer's key)")
      ->check(CLI::IsMember({"ed25519", "x25519"}));
  keygen->add_flag(
      "--passphrase", options.passphrase,
      "protect the secret key with a passphrase (asked twice at the terminal, or IPP3D_PASSPHRASE)");
  keygen->add_option("--comment", options.comment, "one line of text for the public key file");
  keygen->add_flag("--force", options.force, "replace an existing key");
  keygen->footer("Exit status: 0 written, 2 error (the key exists without --force, no passphrase, I/O).");
  return keygen;
}

int run_keygen(const KeygenOptions& options) {
  if (!trust::is_valid_key_comment(options.comment)) return fail("--comment must be one line of UTF-8 text");
  auto path = key_path(options);
  if (!path) return fail(path.error().message);
  const std::filesystem::path public_path = path->string() + ".pub";
  std::error_code ec;
  for (const auto& existing : {*path, public_path}) {
    if (!options.force && std::filesystem::exists(std::filesystem::symlink_status(existing, ec))) {
      return fail(existing.string() + " exists; use --force to replace it");
    }
  }
  std::optional<std::string> passphrase;
  if (options.passphrase) {
    auto entered = read_new_passphrase(*path);
    if (!entered) return fail(entered.error().message);
    passphrase = std::move(entered).value();
  }
  const auto algorithm =
      options.algorithm == "x25519" ? trust::KeyAlgorithm::kX25519 : trust::KeyAlgorithm::kEd25519;
  const trust::SecretKey key = trust::SecretKey::generate(algorithm);
  const Status secret = trust::write_secret_key_file(*path, key, passphrase);
  if (passphrase) trust::secure_wipe(*passphrase);
  if (!secret) return fail(secret.error().message);
  const Status written = trust::write_public_key_file(
      public_path, trust::make_public_key(algorithm, key.public_key().bytes, options.comment));
  if (!written) return fail(written.error().message);
  std::cout << path->string() << ": secret " << trust::algorithm_name(algorithm) << " key, mode 0600, "
            << (passphrase ? "protected by a passphrase" : "not protected by a passphrase") << "\n"
            << public_path.string() << ": public key\n"
            << "key ID: " << trust::key_id_hex(key.id()) << "\n";
  return kOk;
}

}  // namespace ipp3d::client
