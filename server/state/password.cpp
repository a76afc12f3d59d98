// Account-name and password rules and Argon2id hashing (libsodium).
#include "state/password.hpp"

#include <sodium.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace ipp3d::server::password {
namespace {

// Hashing cost. libsodium's INTERACTIVE limits for Argon2id: 2 passes over
// 64 MiB. MODERATE (256 MiB) and SENSITIVE (1 GiB) would let a few concurrent
// logins exhaust the 512 MB hosts ipp3d targets; 64 MiB still makes offline
// guessing expensive and costs roughly 0.1 s per login.
constexpr unsigned long long kOpsLimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
constexpr std::size_t kMemLimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;

// The password behind the dummy hash; never a valid password for anyone
// because no stored hash is compared against it.
constexpr std::string_view kDummyPassword = "ipp3d-dummy-password-for-unknown-users";

// True for a byte that may appear in an account name.
bool is_user_name_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-';
}

// Hashes into a fixed buffer; false when libsodium fails (out of memory).
bool hash_into(std::string_view password, std::array<char, crypto_pwhash_STRBYTES>& out) {
  return crypto_pwhash_str_alg(out.data(), password.data(), password.size(), kOpsLimit, kMemLimit,
                               crypto_pwhash_ALG_ARGON2ID13) == 0;
}

// The dummy hash, computed once with the same limits as real hashes (empty
// when hashing failed; verification then still does no less work than a
// failed lookup would).
const std::string& dummy_hash() {
  static std::once_flag once;
  static std::string hash_text;
  std::call_once(once, [] {
    ensure_sodium();
    std::array<char, crypto_pwhash_STRBYTES> out{};
    if (hash_into(kDummyPassword, out)) hash_text = out.data();
  });
  return hash_text;
}

}  // namespace

// Initializes libsodium exactly once; aborts on failure.
void ensure_sodium() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (sodium_init() < 0) {
      static_cast<void>(std::fputs("ipp3d-server: fatal: libsodium could not be initialized\n", stderr));
      std::abort();
    }
  });
}

// Checks the account-name rules.
Status validate_user_name(std::string_view user) {
  bool valid = !user.empty() && user.size() <= kMaxUserLength;
  for (const char c : user) valid = valid && is_user_name_char(c);
  if (valid) return {};
  return Error{IPP_STATUS_ERROR_BAD_REQUEST,
               "invalid user name '" + std::string(user.substr(0, kMaxUserLength)) +
                   "': use 1-64 characters of A-Z, a-z, 0-9, '.', '_' and '-'",
               "user", 0};
}

// Checks the password rules (length counted in UTF-8 code points).
Status validate_password(std::string_view password) {
  std::size_t characters = 0;
  for (const char c : password) {
    if ((static_cast<unsigned char>(c) & 0xC0U) != 0x80U) ++characters;
  }
  if (characters >= kMinLength) return {};
  return Error{IPP_STATUS_ERROR_BAD_REQUEST,
               "password too short: it must be at least " + std::to_string(kMinLength) + " characters long",
               "password", 0};
}

// Hashes `password` with Argon2id.
Result<std::string> hash(std::string_view password) {
  ensure_sodium();
  std::array<char, crypto_pwhash_STRBYTES> out{};
  if (!hash_into(password, out)) {
    return Error{IPP_STATUS_ERROR_INTERNAL, "cannot hash the password: out of memory", "password", 0};
  }
  return std::string(out.data());
}

// Verifies `password` against an Argon2id string.
bool verify(const std::string& stored, std::string_view password) {
  ensure_sodium();
  return crypto_pwhash_str_verify(stored.c_str(), password.data(), password.size()) == 0;
}

// libsodium compares the string's algorithm and limits with ours (-1 for a
// string it cannot parse: such a hash is replaced too).
bool needs_rehash(const std::string& stored) {
  ensure_sodium();
  return crypto_pwhash_str_needs_rehash(stored.c_str(), kOpsLimit, kMemLimit) != 0;
}

// Burns the same time as a real verification, then fails.
bool verify_dummy(std::string_view password) {
  const std::string& stored = dummy_hash();
  if (!stored.empty()) static_cast<void>(verify(stored, password));
  return false;
}

// Wipes the whole buffer, including bytes beyond the current length.
SecretString::~SecretString() {
  text_.resize(text_.capacity());
  sodium_memzero(text_.data(), text_.size());
}

}  // namespace ipp3d::server::password
