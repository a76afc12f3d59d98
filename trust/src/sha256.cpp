// Streaming SHA-256 over OpenSSL EVP (sha256.hpp).
#include "ipp3d/trust/sha256.hpp"

#include <openssl/evp.h>

#include <utility>

namespace ipp3d::trust {

void Sha256::ContextDeleter::operator()(evp_md_ctx_st* context) const noexcept { EVP_MD_CTX_free(context); }

Sha256::Sha256() : context_(EVP_MD_CTX_new()) {
  ok_ = context_ != nullptr && EVP_DigestInit_ex(context_.get(), EVP_sha256(), nullptr) == 1;
}

Sha256::Sha256(Sha256&& other) noexcept
    : context_(std::move(other.context_)), ok_(std::exchange(other.ok_, false)) {}

Sha256& Sha256::operator=(Sha256&& other) noexcept {
  context_ = std::move(other.context_);
  ok_ = std::exchange(other.ok_, false);
  return *this;
}

bool Sha256::update(std::span<const std::uint8_t> data) {
  if (ok_ && !data.empty()) ok_ = EVP_DigestUpdate(context_.get(), data.data(), data.size()) == 1;
  return ok_;
}

std::optional<Digest> Sha256::finish() {
  Digest digest{};
  unsigned int length = 0;
  if (ok_) ok_ = EVP_DigestFinal_ex(context_.get(), digest.data(), &length) == 1 && length == digest.size();
  if (!ok_) return std::nullopt;
  ok_ = false;  // finished: a second finish() or update() fails
  return digest;
}

std::optional<Digest> Sha256::of(std::span<const std::uint8_t> data) {
  Sha256 hash;
  if (!hash.update(data)) return std::nullopt;
  return hash.finish();
}

}  // namespace ipp3d::trust
