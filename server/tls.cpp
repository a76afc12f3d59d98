#include "tls.hpp"

#include <cups/cups.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <array>
#include <cstdio>
#include <ctime>
#include <memory>
#include <mutex>
#include <sys/stat.h>
#include <system_error>

namespace ipp3d::server {
namespace {

struct X509Free {
  void operator()(X509* cert) const noexcept { X509_free(cert); }
};
struct FileClose {
  void operator()(std::FILE* file) const noexcept { (void)std::fclose(file); }
};

constexpr time_t kCertificateLifetimeSeconds = 365L * 24 * 60 * 60;

// An Error about a TLS file.
Error tls_error(const std::filesystem::path& file, const std::string& reason) {
  return Error{IPP_STATUS_ERROR_INTERNAL, file.string() + ": " + reason, "tls", 0};
}

// Makes `dir` (and parents) with mode 0700.
Status make_private_directory(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return tls_error(dir, "cannot create directory: " + ec.message());
  std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);
  if (ec) return tls_error(dir, "cannot set mode 0700: " + ec.message());
  return {};
}

std::mutex pinned_mutex;   // guards pinned
PinnedCredentials pinned;  // set by prepare_tls_identity()

}  // namespace

PinnedCredentials pinned_credentials() {
  const std::lock_guard lock(pinned_mutex);
  return pinned;
}

Result<std::string> certificate_fingerprint(const std::filesystem::path& pem_file) {
  std::unique_ptr<std::FILE, FileClose> file(std::fopen(pem_file.c_str(), "r"));
  if (!file) return tls_error(pem_file, "cannot open certificate");
  std::unique_ptr<X509, X509Free> cert(PEM_read_X509(file.get(), nullptr, nullptr, nullptr));
  if (!cert) return tls_error(pem_file, "not a PEM certificate");
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (X509_digest(cert.get(), EVP_sha256(), digest.data(), &length) != 1) {
    return tls_error(pem_file, "cannot compute the SHA-256 fingerprint");
  }
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string text;
  for (unsigned int i = 0; i < length; ++i) {
    if (i > 0) text += ':';
    text += kHex[digest[i] >> 4];
    text += kHex[digest[i] & 0x0F];
  }
  return text;
}

Result<TlsIdentity> prepare_tls_identity(const std::filesystem::path& state_dir,
                                         const std::string& common_name) {
  TlsIdentity identity;
  identity.directory = state_dir / "tls";
  identity.common_name = common_name;
  identity.certificate = identity.directory / (common_name + ".crt");
  identity.private_key = identity.directory / (common_name + ".key");
  if (auto made = make_private_directory(identity.directory); !made) return made.error();

  if (!std::filesystem::exists(identity.certificate) || !std::filesystem::exists(identity.private_key)) {
    const char* alt_names[] = {"localhost"};
    if (!cupsMakeServerCredentials(identity.directory.c_str(), common_name.c_str(), 1, alt_names,
                                   std::time(nullptr) + kCertificateLifetimeSeconds)) {
      return tls_error(identity.certificate,
                       std::string("cannot create certificate: ") + cupsLastErrorString());
    }
  }
  if (::chmod(identity.private_key.c_str(), S_IRUSR | S_IWUSR) != 0) {
    return tls_error(identity.private_key, "cannot set mode 0600");
  }
  {
    const std::lock_guard lock(pinned_mutex);
    pinned = PinnedCredentials{identity.directory.string(), common_name};
  }
  if (!cupsSetServerCredentials(identity.directory.c_str(), common_name.c_str(), /*auto_create=*/0)) {
    return tls_error(identity.directory,
                     std::string("libcups refused the credentials: ") + cupsLastErrorString());
  }
  auto fingerprint = certificate_fingerprint(identity.certificate);
  if (!fingerprint) return fingerprint.error();
  identity.sha256_fingerprint = fingerprint.value();
  return identity;
}

}  // namespace ipp3d::server
