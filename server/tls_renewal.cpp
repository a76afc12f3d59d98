// Renewal of the TLS certificate before it expires (tls.hpp).
#include "tls.hpp"

namespace ipp3d::server {
Result<std::optional<TlsRenewal>> renew_tls_certificate_if_due(TlsIdentity& identity,
                                                               const KeyPassphrase& passphrase,
                                                               std::int64_t now) {
  if (identity.not_after - now >= kRenewBeforeSeconds) return std::optional<TlsRenewal>{};
  const std::filesystem::path work = identity.runtime ? identity.runtime->path() : identity.state_directory;
  auto made = make_tls_credentials(work, identity.common_name, now + kCertificateLifetimeSeconds);
  if (!made) return made.error();
  // Key first, then the certificate: a handshake between the two renames may fail once.
  if (Status stored = store_tls_key(identity, made->key_pem, passphrase); !stored) return stored.error();
  if (Status written = write_certificate_file(identity.certificate, made->certificate_pem); !written) {
    return written.error();
  }
  if (identity.runtime) {
    if (Status written = write_certificate_file(identity.runtime->path() / (identity.common_name + ".crt"),
                                                made->certificate_pem);
        !written) {
      return written.error();
    }
  }
  TlsRenewal renewal;
  renewal.old_fingerprint = identity.sha256_fingerprint;
  renewal.old_not_after = identity.not_after;
  auto fingerprint = certificate_fingerprint(identity.certificate);
  if (!fingerprint) return fingerprint.error();
  auto not_after = certificate_not_after(identity.certificate);
  if (!not_after) return not_after.error();
  identity.sha256_fingerprint = renewal.new_fingerprint = fingerprint.value();
  identity.not_after = renewal.new_not_after = not_after.value();
  return std::optional<TlsRenewal>(renewal);
}

}  // namespace ipp3d::server
