#include "state/trust_command.hpp"

#include "ipp3d/trust/keys.hpp"

#include "audit.hpp"
#include "printer_keys.hpp"
#include "state/admin_command.hpp"
#include "state/state_store.hpp"

#include <ctime>
#include <iomanip>
#include <ostream>
#include <utility>
#include <vector>

namespace ipp3d::server {
namespace {}  // namespace

int trust_add(const std::filesystem::path& state_dir, const std::filesystem::path& key_file,
              const std::string& name, const std::string& user, std::ostream& out, std::ostream& err) {
  auto key = trust::read_public_key_file(key_file);
  if (!key) {
    err << "ipp3d-server: " << key.error().message << "\n";
    return 1;
  }
  if (key->algorithm != trust::KeyAlgorithm::kEd25519) {
    err << "ipp3d-server: " << key_file.string()
        << ": is an x25519 (encryption) key; a signer is trusted by its ed25519 signing key (KEY.pub from "
           "`ipp3d keygen`)\n";
    return 1;
  }
  auto store = open_state_store(state_dir, err);
  if (!store) return 1;
  if (!user.empty() && !store->account(user)) {
    err << "ipp3d-server: no account named '" << user
        << "' to bind the signer to (add it with `ipp3d-server user add " << user << " --role user`)\n";
    return 1;
  }
  const TrustedSigner signer{name, trust::key_id_hex(key->id), trust::hex_text(key->bytes), key->comment, 0,
                             user};
  if (Status added = store->add_trusted_signer(signer); !added) {
    err << "ipp3d-server: " << added.error().message << "\n";
    return 1;
  }
  audit(
      *store,
      AuditEvent{"trust-signer-added",
                 local_actor(),
                 "",
                 "",
                 0,
                 {{"signer", name}, {"key-id", signer.key_id}, {"user", user}, {"comment", signer.comment}}});
  out << "trusted signer \"" << name << "\": key " << signer.key_id;
  if (!user.empty()) out << ", jobs recorded as account '" << user << "'";
  out << "\n";
  return 0;
}

int trust_list(const std::filesystem::path& state_dir, std::ostream& out, std::ostream& err) {
  auto store = open_state_store(state_dir, err);
  if (!store) return 1;
  const auto signers = store->trusted_signers();
  if (signers.empty()) {
    out << "no trusted signers (add one with `ipp3d-server trust add KEY.pub --name NAME`)\n";
    return 0;
  }
  for (const auto& signer : signers) {
    out << std::left << std::setw(20) << signer.name << " " << signer.key_id << "  user "
        << (signer.user.empty() ? "-" : signer.user) << "  added " << utc_date(signer.added);
    if (!signer.comment.empty()) out << "  " << signer.comment;
    out << "\n";
  }
  return 0;
}

int trust_remove(const std::filesystem::path& state_dir, const std::string& name, std::ostream& out,
                 std::ostream& err) {
  auto store = open_state_store(state_dir, err);
  if (!store) return 1;
  if (Status removed = store->remove_trusted_signer(name); !removed) {
    err << "ipp3d-server: " << removed.error().message << "\n";
    return 1;
  }
  audit(*store, AuditEvent{"trust-signer-removed", local_actor(), "", "", 0, {{"signer", name}}});
  out << "removed signer \"" << name << "\"; jobs it signed are no longer accepted\n";
  return 0;
}

int show_printer_key(const std::filesystem::path& state_dir, const std::string& printer,
                     const KeyPassphrase& passphrase, std::ostream& out, std::ostream& err) {
  std::filesystem::path public_file = printer_key_path(state_dir, printer, "encryption");
  public_file += ".pub";
  std::error_code ec;
  if (std::filesystem::exists(printer_key_path(state_dir, printer, "encryption"), ec) &&
      std::filesystem::exists(public_file, ec)) {
    // The public half needs no passphrase, even when the secret key is protected.
    auto public_key = trust::read_public_key_file(public_file);
    if (!public_key) {
      err << "ipp3d-server: " << public_key.error().message << "\n";
      return 1;
    }
    out << trust::format_public_key(*public_key);
    return 0;
  }
  auto keys = load_or_create_printer_keys(state_dir, printer, passphrase);
  if (!keys) {
    err << "ipp3d-server: " << keys.error().message << "\n";
    return 1;
  }
  out << trust::format_public_key((*keys)->encryption.public_key());
  return 0;
}

}  // namespace ipp3d::server
