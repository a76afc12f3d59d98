// Keeps libcups serving ipp3d's own certificate.
//
// PAPPL 1.3.1 calls cupsSetServerCredentials(NULL, hostname, 1) whenever its
// host name changes, e.g. when avahi-daemon appears or restarts. libcups
// would then create a new self-signed key pair in its default store
// (/etc/cups/ssl for root) at the next TLS handshake and serve it: clients
// that pinned our fingerprint would see another certificate, and keys would
// be written outside the state directory. This definition in the executable
// takes precedence over libcups' for every caller in the process (PAPPL
// included); once ipp3d has pinned its credentials, a request for the
// default store is turned into the pinned one. Everything else is passed on.
#include "tls.hpp"

#include <cstdio>
#include <cstdlib>
#include <dlfcn.h>

namespace {

using SetServerCredentials = int (*)(const char*, const char*, int);

// libcups' own cupsSetServerCredentials.
SetServerCredentials real_set_server_credentials() {
  static const auto real =
      reinterpret_cast<SetServerCredentials>(dlsym(RTLD_NEXT, "cupsSetServerCredentials"));
  if (real == nullptr) {
    (void)std::fputs("ipp3d-server: cannot find libcups' cupsSetServerCredentials\n", stderr);
    std::abort();
  }
  return real;
}

}  // namespace

// NOLINTNEXTLINE(readability-identifier-naming): the name is libcups'
extern "C" int cupsSetServerCredentials(const char* path, const char* common_name, int auto_create) {
  if (path == nullptr) {
    const auto pinned = ipp3d::server::pinned_credentials();
    if (!pinned.directory.empty()) {
      return real_set_server_credentials()(pinned.directory.c_str(), pinned.common_name.c_str(), 0);
    }
  }
  return real_set_server_credentials()(path, common_name, auto_create);
}
