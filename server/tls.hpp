// The server's TLS identity: a self-signed certificate and key kept in the
// state directory (never in /etc/cups), made at start so its fingerprint can
// be shown before the first client connects.
#pragma once

#include "ipp3d/result.hpp"

#include <filesystem>
#include <string>

namespace ipp3d::server {

// Where the certificate and key live, and the certificate's fingerprint.
struct TlsIdentity {
  std::filesystem::path directory;    // STATE/tls (0700)
  std::string common_name;            // certificate CN, also the file stem
  std::filesystem::path certificate;  // DIRECTORY/CN.crt (PEM)
  std::filesystem::path private_key;  // DIRECTORY/CN.key (PEM, 0600)
  std::string sha256_fingerprint;     // "AB:CD:..." over the DER certificate
};

// Creates STATE/tls and, when missing, a certificate for `common_name`
// (valid 365 days) with libcups; forces the key file to 0600 (libcups writes
// it 0644); points libcups' server credentials at it; and computes the
// fingerprint. Errors name the file and the reason.
Result<TlsIdentity> prepare_tls_identity(const std::filesystem::path& state_dir,
                                         const std::string& common_name);

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

}  // namespace ipp3d::server
