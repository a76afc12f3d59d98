// Atomic file replacement (atomic_file.hpp).
#include "ipp3d/trust/atomic_file.hpp"

#include "detail.hpp"

#include <sodium.h>

#include <array>
#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

namespace ipp3d::trust {
namespace {

constexpr int kCreateAttempts = 8;

// Opens a fresh temporary file beside `path`; -1 with errno set on failure.
int open_temp(const std::filesystem::path& path, unsigned int mode, std::filesystem::path& temp) {
  detail::ensure_sodium();
  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  for (int attempt = 0; attempt < kCreateAttempts; ++attempt) {
    std::array<std::uint8_t, 8> random{};
    randombytes_buf(random.data(), random.size());
    temp = dir / ("." + path.filename().string() + ".tmp-" + detail::hex(random));
    const int fd =
        ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, static_cast<mode_t>(mode));
    if (fd >= 0 || errno != EEXIST) return fd;
  }
  return -1;
}

// fsync of the directory that holds `path` (makes a rename durable).
int sync_directory(const std::filesystem::path& path) {
  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1;
  const int rc = ::fsync(fd);
  const int saved = errno;
  (void)::close(fd);  // read-only descriptor: nothing to lose
  errno = saved;
  return rc;
}

}  // namespace

Result<AtomicFileWriter> AtomicFileWriter::create(const std::filesystem::path& path, unsigned int mode) {
  return detail::guard<Result<AtomicFileWriter>>([&]() -> Result<AtomicFileWriter> {
    if (path.filename().empty()) {
      return Error{IPP_STATUS_ERROR_INTERNAL, "cannot write " + path.string() + ": not a file name", {}, 0};
    }
    std::filesystem::path temp;
    const int fd = open_temp(path, mode, temp);
    if (fd < 0) return detail::io_error("cannot create a temporary file beside " + path.string(), errno);
    return AtomicFileWriter(path, std::move(temp), fd);
  });
}

AtomicFileWriter::AtomicFileWriter(std::filesystem::path path, std::filesystem::path temp, int fd)
    : path_(std::move(path)), temp_(std::move(temp)), fd_(fd) {}

AtomicFileWriter::AtomicFileWriter(AtomicFileWriter&& other) noexcept
    : path_(std::move(other.path_)), temp_(std::move(other.temp_)), fd_(std::exchange(other.fd_, -1)) {}

AtomicFileWriter& AtomicFileWriter::operator=(AtomicFileWriter&& other) noexcept {
  if (this != &other) {
    discard();
    path_ = std::move(other.path_);
    temp_ = std::move(other.temp_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

AtomicFileWriter::~AtomicFileWriter() { discard(); }

void AtomicFileWriter::discard() noexcept {
  if (fd_ < 0) return;
  // Best effort: the temporary file is abandoned, its errors do not matter.
  (void)::close(std::exchange(fd_, -1));
  (void)::unlink(temp_.c_str());
}

Status AtomicFileWriter::write(std::span<const std::uint8_t> bytes) {
  return detail::guard<Status>([&]() -> Status {
    if (fd_ < 0) return Error{IPP_STATUS_ERROR_INTERNAL, "write to a closed file " + path_.string(), {}, 0};
    while (!bytes.empty()) {
      const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return detail::io_error("cannot write " + temp_.string(), n < 0 ? errno : EIO);
      bytes = bytes.subspan(static_cast<std::size_t>(n));
    }
    return {};
  });
}

Status AtomicFileWriter::commit() {
  return detail::guard<Status>([&]() -> Status {
    if (fd_ < 0) return Error{IPP_STATUS_ERROR_INTERNAL, "commit of a closed file " + path_.string(), {}, 0};
    if (::fsync(fd_) != 0) {
      const int saved = errno;
      discard();
      return detail::io_error("cannot write " + path_.string() + " (fsync)", saved);
    }
    const int fd = std::exchange(fd_, -1);
    if (::close(fd) != 0) {
      const int saved = errno;
      (void)::unlink(temp_.c_str());
      return detail::io_error("cannot write " + path_.string() + " (close)", saved);
    }
    if (::rename(temp_.c_str(), path_.c_str()) != 0) {
      const int saved = errno;
      (void)::unlink(temp_.c_str());
      return detail::io_error("cannot replace " + path_.string(), saved);
    }
    if (sync_directory(path_) != 0)
      return detail::io_error("cannot sync the directory of " + path_.string(), errno);
    return {};
  });
}

}  // namespace ipp3d::trust
