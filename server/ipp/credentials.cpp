#include "ipp/credentials.hpp"

#include <cups/http.h>
#include <sodium.h>

#include <cctype>
#include <cstring>
#include <vector>

namespace ipp3d::server {

std::optional<BasicCredentials> parse_basic_authorization(const char* header) {
  if (header == nullptr || std::strncmp(header, "Basic ", 6) != 0) return std::nullopt;
  const char* encoded = header + 6;
  while (*encoded == ' ') ++encoded;
  const std::size_t max_length = std::strlen(encoded);
  if (max_length == 0 || max_length > 4096) return std::nullopt;
  std::vector<char> decoded(max_length + 1, '\0');
  int length = static_cast<int>(decoded.size());
  if (httpDecode64_2(decoded.data(), &length, encoded) == nullptr || length <= 0) return std::nullopt;
  const std::string text(decoded.data(), static_cast<std::size_t>(length));
  sodium_memzero(decoded.data(), decoded.size());
  const auto colon = text.find(':');
  if (colon == std::string::npos || colon == 0) return std::nullopt;
  return BasicCredentials{text.substr(0, colon), text.substr(colon + 1)};
}

CredentialVerifier::CredentialVerifier(StateStore& store) : store_(store) {
  randombytes_buf(key_, sizeof key_);
}

std::string CredentialVerifier::cache_key(const BasicCredentials& credentials) const {
  unsigned char digest[32];
  crypto_generichash_state state;
  crypto_generichash_init(&state, key_, sizeof key_, sizeof digest);
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(credentials.user.data()),
                            credentials.user.size());
  const unsigned char separator = 0;
  crypto_generichash_update(&state, &separator, 1);
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(credentials.password.data()),
                            credentials.password.size());
  crypto_generichash_final(&state, digest, sizeof digest);
  return {reinterpret_cast<const char*>(digest), sizeof digest};
}

std::optional<Role> CredentialVerifier::verify(const BasicCredentials& credentials) {
  const std::string key = cache_key(credentials);
  {
    const std::lock_guard lock(mutex_);
    const auto found = cache_.find(key);
    if (found != cache_.end() && found->second.expires > Clock::now()) return found->second.role;
  }
  const auto role = store_.verify_password(credentials.user, credentials.password);
  if (role) {
    const std::lock_guard lock(mutex_);
    if (cache_.size() >= kCacheCapacity) cache_.clear();
    cache_[key] = Entry{*role, Clock::now() + kCacheLifetime};
  }
  return role;
}

}  // namespace ipp3d::server
