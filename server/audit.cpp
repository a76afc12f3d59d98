#include "audit.hpp"

#include <array>
#include <cstdio>
#include <exception>
#include <pwd.h>
#include <unistd.h>

namespace ipp3d::server {

Requester requester_of(pappl_client_t* client) {
  Requester requester;
  if (client == nullptr) return requester;
  if (const char* user = papplClientGetUsername(client)) requester.user = user;
  // The numeric address (httpGetHostname would give a resolved name such as "localhost").
  std::array<char, 256> address{};
  const http_addr_t* peer = httpGetAddress(papplClientGetHTTP(client));
  if (peer != nullptr && httpAddrString(peer, address.data(), static_cast<int>(address.size())) != nullptr) {
    requester.address = address.data();
  }
  return requester;
}

std::string local_actor() {
  std::array<char, 1024> buffer{};
  passwd entry{};
  passwd* found = nullptr;
  const uid_t uid = ::geteuid();
  if (::getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) == 0 && found != nullptr) {
    return std::string("local:") + found->pw_name;
  }
  return "local:uid " + std::to_string(uid);
}

void audit(StateStore& store, const AuditEvent& event) noexcept {
  try {
    if (Status appended = store.append_audit(event); !appended) {
      (void)std::fprintf(stderr, "ipp3d-server: audit event %s lost: %s\n", event.type.c_str(),
                         appended.error().message.c_str());
    }
  } catch (const std::exception& e) {
    (void)std::fprintf(stderr, "ipp3d-server: audit event %s lost: %s\n", event.type.c_str(), e.what());
  } catch (...) {
    (void)std::fprintf(stderr, "ipp3d-server: audit event %s lost\n", event.type.c_str());
  }
}

}  // namespace ipp3d::server
