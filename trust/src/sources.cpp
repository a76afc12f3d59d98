// Byte sources for the reader (envelope.hpp): a file descriptor, memory.
#include "ipp3d/trust/envelope.hpp"

#include "detail.hpp"

#include <algorithm>
#include <cerrno>
#include <unistd.h>

namespace ipp3d::trust {

ByteSource fd_source(int fd) {
  return [fd](std::span<std::uint8_t> buffer) -> Result<std::size_t> {
    for (;;) {
      const ssize_t n = ::read(fd, buffer.data(), buffer.size());
      if (n >= 0) return static_cast<std::size_t>(n);
      if (errno != EINTR) return detail::io_error("read error", errno);
    }
  };
}

ByteSource memory_source(std::span<const std::uint8_t> bytes) {
  return [bytes, offset = std::size_t{0}](std::span<std::uint8_t> buffer) mutable -> Result<std::size_t> {
    const std::size_t n = std::min(buffer.size(), bytes.size() - offset);
    std::copy_n(bytes.begin() + static_cast<std::ptrdiff_t>(offset), n, buffer.begin());
    offset += n;
    return n;
  };
}

}  // namespace ipp3d::trust
