// Internal helpers of ipp3d_trust: libsodium start-up, constant-time
// comparison, wiping, big-endian integers, text checks and wiped buffers.
#pragma once

#include "ipp3d/result.hpp"
#include "ipp3d/trust/envelope.hpp"

#include <cstddef>
#include <cstdint>
#include <exception>
#include <new>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ipp3d::trust::detail {

// Initialises libsodium once (thread-safe); aborts when it cannot start,
// because no key or random number may be used then.
void ensure_sodium();

// Aborts when a libsodium call that cannot fail by its contract returned
// non-zero (`what` names it): continuing would use an undefined key.
void require_zero(int rc, const char* what);

// Constant-time equality of two byte ranges of the same (public) length.
bool equal_ct(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b);

// Overwrites memory so that the compiler cannot drop the write.
void wipe(std::span<std::uint8_t> bytes);
void wipe(std::string& text);

// Byte range of a string (no copy).
std::span<const std::uint8_t> bytes_of(std::string_view text);

// Lowercase hex of bytes.
std::string hex(std::span<const std::uint8_t> bytes);

// Appends big-endian integers.
void put_u8(std::vector<std::uint8_t>& out, std::uint8_t value);
void put_u16(std::vector<std::uint8_t>& out, std::uint16_t value);
void put_u32(std::vector<std::uint8_t>& out, std::uint32_t value);
void put_u64(std::vector<std::uint8_t>& out, std::uint64_t value);
// Reads a big-endian integer of `size` bytes (1..8) from the start of `bytes`.
std::uint64_t get_be(std::span<const std::uint8_t> bytes, std::size_t size);
// Writes `value` big-endian into the first `size` bytes of `out`.
void set_be(std::span<std::uint8_t> out, std::size_t size, std::uint64_t value);

// True for well-formed UTF-8 (no overlong forms, surrogates or code points
// above U+10FFFF) without control characters U+0000-U+001F and U+007F.
bool is_clean_utf8(std::string_view text);

// "2026-11-21T10:00:00Z" for a UNIX time (or the number when out of range).
std::string utc_time(std::int64_t unix_seconds);

// An Error for an I/O failure: `what` followed by strerror(errnum).
Error io_error(const std::string& what, int errnum);

// Runs `body` and turns an escaping exception (std::bad_alloc, or one thrown
// by a caller's callback) into an error, so that none leaves the library.
// R is a Result whose error type is Error (guard) or EnvelopeError-like
// (guard_with: `make` builds the error from a message).
template <class R, class F, class Make>
R guard_with(F&& body, Make&& make) noexcept {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return make("out of memory");
  } catch (const std::exception& e) {
    return make(e.what());
  } catch (...) {
    return make("unexpected exception");
  }
}
template <class R, class F>
R guard(F&& body) noexcept {
  return guard_with<R>(std::forward<F>(body), [](const char* message) {
    return Error{IPP_STATUS_ERROR_INTERNAL, message, {}, 0};
  });
}

// guard_with for EnvelopeResult: escaping exceptions become kIo errors.
template <class R, class F>
R guard_envelope(F&& body) noexcept {
  return guard_with<R>(std::forward<F>(body), [](const char* message) {
    return EnvelopeError{EnvelopeProblem::kIo, message};
  });
}

// A byte buffer that is wiped when it is resized down, cleared or destroyed
// (plaintext of encrypted payloads, decrypted keys). Move-only.
class SecureBuffer {
 public:
  SecureBuffer() = default;
  explicit SecureBuffer(std::size_t size) : bytes_(size) {}
  SecureBuffer(SecureBuffer&& other) noexcept = default;
  SecureBuffer& operator=(SecureBuffer&& other) noexcept;
  SecureBuffer(const SecureBuffer&) = delete;
  SecureBuffer& operator=(const SecureBuffer&) = delete;
  ~SecureBuffer();

  [[nodiscard]] std::uint8_t* data() { return bytes_.data(); }
  [[nodiscard]] const std::uint8_t* data() const { return bytes_.data(); }
  [[nodiscard]] std::size_t size() const { return bytes_.size(); }
  [[nodiscard]] std::span<std::uint8_t> span() { return bytes_; }
  [[nodiscard]] std::span<const std::uint8_t> span() const { return bytes_; }

 private:
  std::vector<std::uint8_t> bytes_;
};

}  // namespace ipp3d::trust::detail
