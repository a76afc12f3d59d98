// The server's TLS identity: a self-signed certificate and key kept in the
// state directory (never in /etc/cups), made at start so its fingerprint can
// be shown before the first client connects, renewed before it expires
// (tls_renewal.cpp), and optionally sealed with the key passphrase
// (docs/security.md "Keys at rest").
#pragma once

#include "ipp3d/result.hpp"

#include "keys/key_passphrase.hpp"
#include "keys/runtime_directory.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace ipp3d::server {

// How long a certificate made by ipp3d should be valid, as asked of
// cupsMakeServerCredentials. Debian 12's libcups 2.4.2 (GnuTLS) ignores the
// request and makes certificates valid 10 years; renewal reads the real
// notAfter of the file, so either works.
inline constexpr std::int64_t kCertificateLifetimeSeconds = std::int64_t{365} * 24 * 60 * 60;

// Where the certificate and key live, and the certificate's fingerprint.
struct TlsIdentity {
  std::filesystem::path directory;        // where libcups reads CN.crt and CN.key: state_directory,
                                          // or runtime's directory when the key is sealed
  std::filesystem::path state_directory;  // STATE/tls (0700)
  std::string common_name;                // certificate CN, also the file stem
  std::filesystem::path certificate;      // STATE/tls/CN.crt (PEM)
  std::filesystem::path private_key;      // STATE/tls/CN.key (PEM, 0600) or CN.key.sealed
  bool key_sealed = false;                // private_key is sealed with the key passphrase
  std::shared_ptr<PrivateRuntimeDirectory> runtime;  // holds the decrypted key; set when key_sealed
  std::string sha256_fingerprint;                    // "AB:CD:..." over the DER certificate
  std::int64_t not_after = 0;                        // UNIX time the certificate expires
};

// Creates STATE/tls and, when missing, a certificate for `common_name`
// with libcups (kCertificateLifetimeSeconds), its key 0600 (libcups writes it 0644) and
// sealed when `passphrase` is not empty. An existing key must be private
// (else an error saying `chmod 600 FILE`). A sealed key (CN.key.sealed) is
// decrypted into a private runtime directory that libcups reads. Points
// libcups' server credentials at the result and computes the fingerprint.
// Errors name the file and the reason (no passphrase for a sealed key,
// a wrong one, both a plain and a sealed key).
Result<TlsIdentity> prepare_tls_identity(const std::filesystem::path& state_dir,
                                         const std::string& common_name, const KeyPassphrase& passphrase);

// The plain and the sealed key file names of STATE/tls for `common_name`.
std::filesystem::path plain_tls_key_path(const std::filesystem::path& tls_dir,
                                         const std::string& common_name);
std::filesystem::path sealed_tls_key_path(const std::filesystem::path& tls_dir,
                                          const std::string& common_name);

// The purpose word of a sealed TLS key (keys/sealed_file.hpp).
inline constexpr std::string_view kTlsKeyPurpose = "tls-key";

// Stores `key_pem` as the identity's key: sealed with `passphrase` in
// STATE/tls plus a plain copy in the runtime directory when key_sealed, else
// plain in STATE/tls; both 0600 and atomic. Errors: no passphrase for a
// sealed key, write failures.
Status store_tls_key(const TlsIdentity& identity, std::string_view key_pem, const KeyPassphrase& passphrase);

// Writes a certificate (public) atomically with mode 0644.
Status write_certificate_file(const std::filesystem::path& file, std::string_view pem);

// A certificate and key just made by libcups.
struct NewCredentials {
  std::string certificate_pem;
  std::string key_pem;  // wiped by the destructor
  NewCredentials() = default;
  NewCredentials(NewCredentials&&) noexcept = default;
  NewCredentials& operator=(NewCredentials&&) noexcept = default;
  NewCredentials(const NewCredentials&) = delete;
  NewCredentials& operator=(const NewCredentials&) = delete;
  ~NewCredentials();
};

// Makes a new self-signed key pair and certificate for `common_name` (and
// "localhost") valid until `not_after` with cupsMakeServerCredentials, in a
// temporary 0700 directory inside `work_dir` that is wiped and removed afterwards.
Result<NewCredentials> make_tls_credentials(const std::filesystem::path& work_dir,
                                            const std::string& common_name, std::int64_t not_after);

// The credentials prepare_tls_identity() pinned for this process, or empty
// strings before that. Read by the cupsSetServerCredentials interposer
// (tls_interpose.cpp): PAPPL 1.3.1 calls cupsSetServerCredentials(NULL, host,
// 1) whenever its host name changes (e.g. when avahi appears), which would
// make libcups create and serve a new key pair under /etc/cups/ssl.
struct PinnedCredentials {
  std::string directory;
  std::string common_name;
};
PinnedCredentials pinned_credentials();

// SHA-256 fingerprint of a PEM certificate file as colon-separated upper-case
// hex. Errors when the file cannot be read or parsed.
Result<std::string> certificate_fingerprint(const std::filesystem::path& pem_file);

// The notAfter time of a PEM certificate file (UNIX seconds). Errors when the
// file cannot be read or parsed.
Result<std::int64_t> certificate_not_after(const std::filesystem::path& pem_file);

// A certificate renewal: what changed.
struct TlsRenewal {
  std::string old_fingerprint;
  std::string new_fingerprint;
  std::int64_t old_not_after = 0;
  std::int64_t new_not_after = 0;
};

// Fewer than this many seconds of validity left: the certificate is renewed.
inline constexpr std::int64_t kRenewBeforeSeconds = std::int64_t{30} * 24 * 60 * 60;

// When fewer than 30 days remain at `now`, replaces the certificate and its
// key with new ones (the key is rotated: libcups makes a new key pair with
// every certificate) asked for 365 days from `now`, stored as the old ones were
// (sealed or not), and updates `identity`. libcups reads the files at each
// handshake, so new connections get the new certificate. nullopt: not due.
// Errors name the file; the old certificate then stays in place.
Result<std::optional<TlsRenewal>> renew_tls_certificate_if_due(TlsIdentity& identity,
                                                               const KeyPassphrase& passphrase,
                                                               std::int64_t now);

}  // namespace ipp3d::server
