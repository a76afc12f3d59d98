// Atomic file replacement: write a temporary file beside the target, fsync
// it, rename it over the target and fsync the directory, so that readers see
// the old file or the complete new one, never a partial one.
#pragma once

#include "ipp3d/result.hpp"

#include <cstdint>
#include <filesystem>
#include <span>

namespace ipp3d::trust {

// One atomic write. The temporary file is created with its final `mode`
// (O_CREAT | O_EXCL, so a secret file is never readable by others, even for
// a moment) in the target's directory. Without commit() the destructor
// removes it. Move-only.
class AtomicFileWriter {
 public:
  // Creates the temporary file for `path`; `mode` is the final file mode
  // (e.g. 0600; the umask still applies).
  static Result<AtomicFileWriter> create(const std::filesystem::path& path, unsigned int mode);

  AtomicFileWriter(AtomicFileWriter&& other) noexcept;
  AtomicFileWriter& operator=(AtomicFileWriter&& other) noexcept;
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;
  // Removes the temporary file unless commit() succeeded.
  ~AtomicFileWriter();

  // Appends bytes to the temporary file.
  Status write(std::span<const std::uint8_t> bytes);
  // fsync, rename over the target, fsync the directory. Once only.
  Status commit();

 private:
  AtomicFileWriter(std::filesystem::path path, std::filesystem::path temp, int fd);
  void discard() noexcept;

  std::filesystem::path path_;
  std::filesystem::path temp_;
  int fd_ = -1;
};

}  // namespace ipp3d::trust
