#include "state/backup_seal.hpp"

#include "ipp3d/trust/atomic_file.hpp"

#include <sodium.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <string_view>
#include <unistd.h>
#include <vector>

namespace ipp3d::server {
namespace {

constexpr std::string_view kMagic = "ipp3d-backup-sealed-v1\n";
constexpr std::size_t kChunk = std::size_t{64} * 1024;
constexpr std::uint64_t kOpslimit = 3;
constexpr std::uint64_t kMemlimit = 64ULL * 1024 * 1024;
constexpr std::uint64_t kMaxOpslimit = 10;
constexpr std::uint64_t kMaxMemlimit = 256ULL * 1024 * 1024;
constexpr std::size_t kSalt = crypto_pwhash_SALTBYTES;
constexpr std::size_t kStreamHeader = crypto_secretstream_xchacha20poly1305_HEADERBYTES;
constexpr std::size_t kPrefix = kMagic.size() + kSalt + 16;  // magic, salt, two u64
constexpr std::size_t kOverhead = crypto_secretstream_xchacha20poly1305_ABYTES;

struct FileClose {
  void operator()(std::FILE* file) const noexcept { (void)std::fclose(file); }
};
using File = std::unique_ptr<std::FILE, FileClose>;

// An Error about a sealed archive.
Error seal_error(const std::string& message) {
  return Error{IPP_STATUS_ERROR_INTERNAL, message, "backup", 0};
}

void put_u64(std::uint8_t* out, std::uint64_t value) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<std::uint8_t>(value >> (8 * i));
}
std::uint64_t get_u64(const std::uint8_t* in) {
  std::uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = value << 8 | in[i];
  return value;
}

// The stream key of `passphrase` and the prefix's parameters.
Status derive(std::array<std::uint8_t, crypto_secretstream_xchacha20poly1305_KEYBYTES>& key,
              const std::string& passphrase, const std::uint8_t* prefix) {
  const std::uint64_t opslimit = get_u64(prefix + kMagic.size() + kSalt);
  const std::uint64_t memlimit = get_u64(prefix + kMagic.size() + kSalt + 8);
  if (opslimit < 1 || opslimit > kMaxOpslimit || memlimit < 8192 || memlimit > kMaxMemlimit) {
    return seal_error("the sealed archive's Argon2id parameters are out of range");
  }
  if (crypto_pwhash(key.data(), key.size(), passphrase.data(), passphrase.size(), prefix + kMagic.size(),
                    opslimit, static_cast<std::size_t>(memlimit), crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return seal_error("Argon2id failed (it needs 64 MiB of memory)");
  }
  return {};
}

// Reads exactly `size` bytes; false at end of file.
bool read_exact(std::FILE* in, std::uint8_t* out, std::size_t size) {
  return std::fread(out, 1, size, in) == size;
}

}  // namespace

bool is_sealed_archive(const std::filesystem::path& file) {
  File in(std::fopen(file.c_str(), "rb"));
  std::array<char, kMagic.size()> start{};
  return in && std::fread(start.data(), 1, start.size(), in.get()) == start.size() &&
         std::string_view(start.data(), start.size()) == kMagic;
}

Status seal_archive(const std::filesystem::path& plain, const std::filesystem::path& sealed,
                    const std::string& passphrase) {
  if (passphrase.empty()) return seal_error("an encrypted backup needs a passphrase");
  if (sodium_init() < 0) return seal_error("libsodium cannot start");
  File in(std::fopen(plain.c_str(), "rb"));
  if (!in) return seal_error("cannot read " + plain.string() + ": " + std::strerror(errno));
  std::array<std::uint8_t, kPrefix + kStreamHeader> head{};
  std::memcpy(head.data(), kMagic.data(), kMagic.size());
  randombytes_buf(head.data() + kMagic.size(), kSalt);
  put_u64(head.data() + kMagic.size() + kSalt, kOpslimit);
  put_u64(head.data() + kMagic.size() + kSalt + 8, kMemlimit);
  std::array<std::uint8_t, crypto_secretstream_xchacha20poly1305_KEYBYTES> key{};
  if (Status derived = derive(key, passphrase, head.data()); !derived) return derived;
  crypto_secretstream_xchacha20poly1305_state state;
  crypto_secretstream_xchacha20poly1305_init_push(&state, head.data() + kPrefix, key.data());
  sodium_memzero(key.data(), key.size());
  auto writer = trust::AtomicFileWriter::create(sealed, 0600);
  if (!writer) return writer.error();
  if (Status written = writer->write(head); !written) return written;
  std::vector<std::uint8_t> buffer(kChunk);
  std::vector<std::uint8_t> out(kChunk + kOverhead + 4);
  bool first = true;
  for (;;) {
    const std::size_t n = std::fread(buffer.data(), 1, buffer.size(), in.get());
    if (std::ferror(in.get()) != 0) return seal_error("cannot read " + plain.string());
    const bool last = std::feof(in.get()) != 0;
    unsigned long long length = 0;
    crypto_secretstream_xchacha20poly1305_push(&state, out.data() + 4, &length, buffer.data(), n,
                                               first ? head.data() : nullptr, first ? head.size() : 0,
                                               last ? crypto_secretstream_xchacha20poly1305_TAG_FINAL
                                                    : crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
    first = false;
    for (int i = 0; i < 4; ++i)
      out[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(length >> (8 * i));
    if (Status written = writer->write({out.data(), static_cast<std::size_t>(length) + 4}); !written)
      return written;
    if (last) break;
  }
  sodium_memzero(buffer.data(), buffer.size());
  return writer->commit();
}

Status open_sealed_archive(const std::filesystem::path& sealed, const std::filesystem::path& plain,
                           const std::string& passphrase) {
  if (sodium_init() < 0) return seal_error("libsodium cannot start");
  File in(std::fopen(sealed.c_str(), "rb"));
  if (!in) return seal_error("cannot read " + sealed.string() + ": " + std::strerror(errno));
  std::array<std::uint8_t, kPrefix + kStreamHeader> head{};
  if (!read_exact(in.get(), head.data(), head.size()) ||
      std::string_view(reinterpret_cast<const char*>(head.data()), kMagic.size()) != kMagic) {
    return seal_error(sealed.string() + " is not an encrypted ipp3d backup");
  }
  if (passphrase.empty()) return seal_error(sealed.string() + " is encrypted: give the key passphrase");
  std::array<std::uint8_t, crypto_secretstream_xchacha20poly1305_KEYBYTES> key{};
  if (Status derived = derive(key, passphrase, head.data()); !derived) return derived;
  crypto_secretstream_xchacha20poly1305_state state;
  const int init = crypto_secretstream_xchacha20poly1305_init_pull(&state, head.data() + kPrefix, key.data());
  sodium_memzero(key.data(), key.size());
  if (init != 0) return seal_error(sealed.string() + ": a bad stream header");
  const int fd = ::open(plain.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return seal_error("cannot create " + plain.string() + ": " + std::strerror(errno));
  std::vector<std::uint8_t> chunk(kChunk + kOverhead);
  std::vector<std::uint8_t> out(kChunk);
  Status result = seal_error(sealed.string() + ": truncated (no final chunk)");
  for (bool first = true;; first = false) {
    std::array<std::uint8_t, 4> size{};
    if (!read_exact(in.get(), size.data(), size.size())) break;
    const std::size_t length =
        size[0] | size[1] << 8 | size[2] << 16 | static_cast<std::size_t>(size[3]) << 24;
    if (length < kOverhead || length > chunk.size() || !read_exact(in.get(), chunk.data(), length)) break;
    unsigned long long n = 0;
    unsigned char tag = 0;
    if (crypto_secretstream_xchacha20poly1305_pull(&state, out.data(), &n, &tag, chunk.data(), length,
                                                   first ? head.data() : nullptr,
                                                   first ? head.size() : 0) != 0) {
      result = seal_error(sealed.string() + ": wrong passphrase, or the archive was altered");
      break;
    }
    if (::write(fd, out.data(), static_cast<std::size_t>(n)) != static_cast<ssize_t>(n)) {
      result = seal_error("cannot write " + plain.string());
      break;
    }
    if (tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL) {
      result = std::fgetc(in.get()) == EOF ? Status{} : seal_error(sealed.string() + ": data after the end");
      break;
    }
  }
  sodium_memzero(out.data(), out.size());
  const bool synced = ::fsync(fd) == 0;
  (void)::close(fd);
  if (result && !synced) result = seal_error("cannot write " + plain.string());
  std::error_code ec;
  if (!result) std::filesystem::remove(plain, ec);
  return result;
}

}  // namespace ipp3d::server
