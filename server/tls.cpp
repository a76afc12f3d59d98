#include "tls.hpp"

#include "ipp3d/trust/atomic_file.hpp"

#include "keys/sealed_file.hpp"

#include <cups/cups.h>
#include <openssl/asn1.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <mutex>
#include <sys/stat.h>
#include <system_error>
#include <vector>

namespace ipp3d::server {
namespace {

struct X509Free {
  void operator()(X509* cert) const noexcept { X509_free(cert); }
};
struct FileClose {
  void operator()(std::FILE* file) const noexcept { (void)std::fclose(file); }
};

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

// Reads a PEM certificate file.
Result<std::unique_ptr<X509, X509Free>> read_certificate(const std::filesystem::path& pem_file) {
  std::unique_ptr<std::FILE, FileClose> file(std::fopen(pem_file.c_str(), "r"));
  if (!file) return tls_error(pem_file, "cannot open certificate");
  std::unique_ptr<X509, X509Free> cert(PEM_read_X509(file.get(), nullptr, nullptr, nullptr));
  if (!cert) return tls_error(pem_file, "not a PEM certificate");
  return cert;
}

// The one file in `dir` whose name ends with `extension`.
Result<std::filesystem::path> only_file_with(const std::filesystem::path& dir, const std::string& extension) {
  std::vector<std::filesystem::path> found;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() == extension) found.push_back(entry.path());
  }
  if (ec || found.size() != 1) return tls_error(dir, "libcups did not write one " + extension + " file");
  return found.front();
}

// Overwrites the files of the temporary directory `dir` with zeros and removes it.
void remove_work_directory(const std::filesystem::path& dir) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const auto size = std::filesystem::file_size(entry.path(), ec);
    if (!ec && size > 0) {
      std::unique_ptr<std::FILE, FileClose> file(std::fopen(entry.path().c_str(), "r+"));
      const std::vector<char> zeros(static_cast<std::size_t>(size), '\0');
      if (file) (void)std::fwrite(zeros.data(), 1, zeros.size(), file.get());
    }
    (void)std::filesystem::remove(entry.path(), ec);
  }
  std::filesystem::remove(dir, ec);
}

// Makes a first certificate and key in STATE/tls, the key sealed when a passphrase is given.
Status create_identity_files(TlsIdentity& identity, const KeyPassphrase& passphrase) {
  identity.key_sealed = !passphrase.empty();
  identity.private_key = identity.key_sealed
                             ? sealed_tls_key_path(identity.state_directory, identity.common_name)
                             : plain_tls_key_path(identity.state_directory, identity.common_name);
  if (identity.key_sealed) {
    auto runtime = PrivateRuntimeDirectory::create("tls");
    if (!runtime) return runtime.error();
    identity.runtime = std::move(runtime).value();
  }
  // A sealed key is never written in clear to the state directory, not even for a moment.
  auto made = make_tls_credentials(
      identity.runtime ? identity.runtime->path() : identity.state_directory, identity.common_name,
      static_cast<std::int64_t>(std::time(nullptr)) + kCertificateLifetimeSeconds);
  if (!made) return made.error();
  if (Status stored = store_tls_key(identity, made->key_pem, passphrase); !stored) return stored;
  if (Status written = write_certificate_file(identity.certificate, made->certificate_pem); !written)
    return written;
  if (!identity.runtime) return {};
  return write_certificate_file(identity.runtime->path() / (identity.common_name + ".crt"),
                                made->certificate_pem);
}

// Decrypts the sealed key of an existing identity into a new runtime directory.
Status unseal_into_runtime(TlsIdentity& identity, const KeyPassphrase& passphrase) {
  if (passphrase.empty()) {
    return Error{IPP_STATUS_ERROR_INTERNAL, missing_passphrase_message(identity.private_key), "tls", 0};
  }
  auto sealed = read_private_file(identity.private_key);
  if (!sealed) return sealed.error();
  auto key = open_sealed(*sealed, passphrase.text(), kTlsKeyPurpose, identity.private_key.string());
  if (!key) return key.error();
  auto runtime = PrivateRuntimeDirectory::create("tls");
  if (!runtime) {
    sodium_memzero(key->data(), key->size());
    return runtime.error();
  }
  identity.runtime = std::move(runtime).value();
  Status written = write_private_file(identity.runtime->path() / (identity.common_name + ".key"), *key);
  sodium_memzero(key->data(), key->size());
  if (!written) return written;
  std::error_code ec;
  std::filesystem::copy_file(identity.certificate, identity.runtime->path() / (identity.common_name + ".crt"),
                             std::filesystem::copy_options::overwrite_existing, ec);
  if (ec) return tls_error(identity.certificate, "cannot copy to the runtime directory: " + ec.message());
  return {};
}

// Finds or makes the certificate and key files of `identity`.
Status locate_identity_files(TlsIdentity& identity, const KeyPassphrase& passphrase) {
  const auto plain = plain_tls_key_path(identity.state_directory, identity.common_name);
  const auto sealed = sealed_tls_key_path(identity.state_directory, identity.common_name);
  std::error_code ec;
  const bool has_plain = std::filesystem::exists(plain, ec);
  const bool has_sealed = std::filesystem::exists(sealed, ec);
  if (has_plain && has_sealed) {
    return tls_error(plain, "both a plain and a sealed key (" + sealed.string() +
                                ") exist; remove the one that is not in use");
  }
  if (!std::filesystem::exists(identity.certificate, ec) || (!has_plain && !has_sealed)) {
    return create_identity_files(identity, passphrase);
  }
  identity.key_sealed = has_sealed;
  identity.private_key = has_sealed ? sealed : plain;
  if (Status ok = require_private_file(identity.private_key); !ok) return ok;
  if (identity.key_sealed) return unseal_into_runtime(identity, passphrase);
  return {};
}

std::mutex pinned_mutex;   // guards pinned
PinnedCredentials pinned;  // set by prepare_tls_identity()

}  // namespace

NewCredentials::~NewCredentials() { sodium_memzero(key_pem.data(), key_pem.size()); }

PinnedCredentials pinned_credentials() {
  const std::lock_guard lock(pinned_mutex);
  return pinned;
}

std::filesystem::path plain_tls_key_path(const std::filesystem::path& tls_dir,
                                         const std::string& common_name) {
  return tls_dir / (common_name + ".key");
}

std::filesystem::path sealed_tls_key_path(const std::filesystem::path& tls_dir,
                                          const std::string& common_name) {
  return tls_dir / (common_name + ".key.sealed");
}

Result<std::string> certificate_fingerprint(const std::filesystem::path& pem_file) {
  auto cert = read_certificate(pem_file);
  if (!cert) return cert.error();
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (X509_digest(cert->get(), EVP_sha256(), digest.data(), &length) != 1) {
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

Result<std::int64_t> certificate_not_after(const std::filesystem::path& pem_file) {
  auto cert = read_certificate(pem_file);
  if (!cert) return cert.error();
  std::tm when{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert->get()), &when) != 1) {
    return tls_error(pem_file, "cannot read the certificate's expiry date");
  }
  return static_cast<std::int64_t>(timegm(&when));
}

Result<NewCredentials> make_tls_credentials(const std::filesystem::path& work_dir,
                                            const std::string& common_name, std::int64_t not_after) {
  std::string pattern = (work_dir / ".new-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    return tls_error(work_dir, std::string("cannot make a temporary directory: ") + std::strerror(errno));
  }
  const std::filesystem::path temp = pattern;
  const char* alt_names[] = {"localhost"};
  Result<NewCredentials> result = tls_error(temp, "cannot create certificate");
  if (cupsMakeServerCredentials(temp.c_str(), common_name.c_str(), 1, alt_names,
                                static_cast<time_t>(not_after)) == 0) {
    result = tls_error(temp, std::string("cannot create certificate: ") + cupsLastErrorString());
  } else if (auto crt = only_file_with(temp, ".crt"); !crt) {
    result = crt.error();
  } else if (auto key = only_file_with(temp, ".key"); !key) {
    result = key.error();
  } else {
    // libcups writes the key 0644: only the temporary directory (0700) protected it so far.
    // read_private_file() reads only private files, so the certificate is made 0600 too.
    (void)::chmod(key->c_str(), S_IRUSR | S_IWUSR);
    (void)::chmod(crt->c_str(), S_IRUSR | S_IWUSR);
    NewCredentials made;
    auto key_text = read_private_file(*key);
    auto crt_text = read_private_file(*crt);
    if (!key_text) {
      result = key_text.error();
    } else if (!crt_text) {
      sodium_memzero(key_text->data(), key_text->size());
      result = crt_text.error();
    } else {
      made.key_pem = std::move(key_text).value();
      made.certificate_pem = std::move(crt_text).value();
      result = std::move(made);
    }
  }
  remove_work_directory(temp);
  return result;
}

Status write_certificate_file(const std::filesystem::path& file, std::string_view pem) {
  auto writer = trust::AtomicFileWriter::create(file, 0644);
  if (!writer) return writer.error();
  if (Status written = writer->write({reinterpret_cast<const std::uint8_t*>(pem.data()), pem.size()});
      !written)
    return written;
  return writer->commit();
}

Status store_tls_key(const TlsIdentity& identity, std::string_view key_pem, const KeyPassphrase& passphrase) {
  if (!identity.key_sealed) return write_private_file(identity.private_key, key_pem);
  if (passphrase.empty()) {
    return Error{IPP_STATUS_ERROR_INTERNAL, missing_passphrase_message(identity.private_key), "tls", 0};
  }
  auto sealed = seal_with_passphrase({reinterpret_cast<const std::uint8_t*>(key_pem.data()), key_pem.size()},
                                     passphrase.text(), kTlsKeyPurpose);
  if (!sealed) return sealed.error();
  if (Status written = write_private_file(identity.private_key, *sealed); !written) return written;
  if (!identity.runtime) return {};
  return write_private_file(identity.runtime->path() / (identity.common_name + ".key"), key_pem);
}

Result<TlsIdentity> prepare_tls_identity(const std::filesystem::path& state_dir,
                                         const std::string& common_name, const KeyPassphrase& passphrase) {
  TlsIdentity identity;
  identity.state_directory = state_dir / "tls";
  identity.common_name = common_name;
  identity.certificate = identity.state_directory / (common_name + ".crt");
  if (auto made = make_private_directory(identity.state_directory); !made) return made.error();
  if (Status located = locate_identity_files(identity, passphrase); !located) return located.error();
  identity.directory = identity.runtime ? identity.runtime->path() : identity.state_directory;
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
  auto not_after = certificate_not_after(identity.certificate);
  if (!not_after) return not_after.error();
  identity.not_after = not_after.value();
  return identity;
}

}  // namespace ipp3d::server
