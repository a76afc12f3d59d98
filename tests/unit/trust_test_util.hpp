// Shared helpers of the trust/envelope unit tests: hex, fixed keys, a
// temporary directory, and running the whole reader pipeline on bytes.
#pragma once

#include "ipp3d/trust/envelope.hpp"
#include "ipp3d/trust/keys.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ipp3d::trust::testing {

using Bytes = std::vector<std::uint8_t>;

// Bytes of a hex string (whitespace ignored); fails the test on bad input.
inline Bytes from_hex(std::string_view hex) {
  Bytes out;
  int high = -1;
  for (const char c : hex) {
    if (c == ' ' || c == '\n') continue;
    int v = -1;
    if (c >= '0' && c <= '9') v = c - '0';
    if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    EXPECT_GE(v, 0) << "bad hex digit " << c;
    if (high < 0) {
      high = v;
    } else {
      out.push_back(static_cast<std::uint8_t>(high << 4 | v));
      high = -1;
    }
  }
  EXPECT_EQ(high, -1) << "odd number of hex digits";
  return out;
}

template <std::size_t N>
std::array<std::uint8_t, N> array_from_hex(std::string_view hex) {
  const Bytes bytes = from_hex(hex);
  std::array<std::uint8_t, N> out{};
  EXPECT_EQ(bytes.size(), N);
  std::copy_n(bytes.begin(), std::min(N, bytes.size()), out.begin());
  return out;
}

inline std::string to_hex(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (const std::uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

inline Bytes bytes_of(std::string_view text) { return Bytes(text.begin(), text.end()); }

// A key from a fixed 32-byte secret whose bytes are all `fill` + index.
inline SecretKey fixed_key(KeyAlgorithm algorithm, std::uint8_t fill) {
  std::array<std::uint8_t, 32> secret{};
  for (std::size_t i = 0; i < secret.size(); ++i) secret[i] = static_cast<std::uint8_t>(fill + i);
  return SecretKey::from_secret(algorithm, secret);
}

// Pseudo-random bytes (deterministic per seed).
inline Bytes random_bytes(std::size_t size, std::uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes out(size);
  for (auto& b : out) b = static_cast<std::uint8_t>(rng());
  return out;
}

// Sign options valid at `now`: created now, seven days of validity.
inline SignOptions options_at(std::int64_t now) {
  SignOptions options;
  options.created = now;
  options.not_after = now + 7 * 86400;
  options.document_name = "part.gcode";
  return options;
}

// The outcome of reading an envelope completely.
struct ReadOutcome {
  std::optional<EnvelopeError> error;  // nullopt: valid
  Bytes payload;
  Manifest manifest;
};

// open + verify_signature + read_payload on `envelope` (no claim checks).
inline ReadOutcome read_all(std::span<const std::uint8_t> envelope, const PublicKey& signer,
                            const SecretKey* printer = nullptr,
                            std::uint64_t max_payload = kMaxPayloadLength) {
  ReadOutcome out;
  auto reader = EnvelopeReader::open(memory_source(envelope), printer, max_payload);
  if (!reader) {
    out.error = reader.error();
    return out;
  }
  out.manifest = (*reader)->manifest();
  if (auto verified = (*reader)->verify_signature(signer); !verified) {
    out.error = verified.error();
    return out;
  }
  auto read = (*reader)->read_payload([&](std::span<const std::uint8_t> bytes) -> Status {
    out.payload.insert(out.payload.end(), bytes.begin(), bytes.end());
    return {};
  });
  if (!read) out.error = read.error();
  return out;
}

// A temporary directory removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "ipp3d-trust-XXXXXX").string();
    EXPECT_NE(::mkdtemp(pattern.data()), nullptr);
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  [[nodiscard]] std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

}  // namespace ipp3d::trust::testing
