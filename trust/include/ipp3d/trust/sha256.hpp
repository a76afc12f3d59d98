// Streaming SHA-256 through OpenSSL's EVP interface (SHA-NI where the CPU
// has it: several times faster than libsodium's portable SHA-256). Used for
// payload digests; the server can use it for the upload checksum.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>

struct evp_md_ctx_st;

namespace ipp3d::trust {

using Digest = std::array<std::uint8_t, 32>;

// One SHA-256 computation. OpenSSL failures (out of memory) are sticky:
// update() returns false and finish() nullopt from then on.
class Sha256 {
 public:
  Sha256();
  // A moved-from Sha256 is failed (update() false, finish() nullopt).
  Sha256(Sha256&& other) noexcept;
  Sha256& operator=(Sha256&& other) noexcept;
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  ~Sha256() = default;

  // Adds bytes; false when OpenSSL failed.
  [[nodiscard]] bool update(std::span<const std::uint8_t> data);
  // The digest of everything added; nullopt when OpenSSL failed. Call once.
  [[nodiscard]] std::optional<Digest> finish();

  // The digest of `data` in one call; nullopt when OpenSSL failed.
  [[nodiscard]] static std::optional<Digest> of(std::span<const std::uint8_t> data);

 private:
  struct ContextDeleter {
    void operator()(evp_md_ctx_st* context) const noexcept;
  };
  std::unique_ptr<evp_md_ctx_st, ContextDeleter> context_;
  bool ok_ = false;
};

}  // namespace ipp3d::trust
