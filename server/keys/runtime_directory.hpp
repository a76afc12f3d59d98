// A private directory for files that must exist only while the server runs
// (the decrypted TLS key that libcups reads as plain PEM): mode 0700, made
// with mkdtemp under $RUNTIME_DIRECTORY (systemd), else $XDG_RUNTIME_DIR,
// else /tmp, and removed with its contents by the destructor or remove().
#pragma once

#include "ipp3d/result.hpp"

#include <filesystem>
#include <memory>
#include <mutex>

namespace ipp3d::server {

class PrivateRuntimeDirectory {
 public:
  // Makes a new directory named ipp3d-PURPOSE-XXXXXX. Errors name the parent and the reason.
  static Result<std::unique_ptr<PrivateRuntimeDirectory>> create(const std::string& purpose);

  PrivateRuntimeDirectory(const PrivateRuntimeDirectory&) = delete;
  PrivateRuntimeDirectory& operator=(const PrivateRuntimeDirectory&) = delete;
  // Removes the directory (remove()).
  ~PrivateRuntimeDirectory();

  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  // Overwrites each file with zeros, then removes the directory; safe to call
  // again and from any thread (e.g. just before _Exit at shutdown).
  void remove() noexcept;

 private:
  explicit PrivateRuntimeDirectory(std::filesystem::path path) : path_(std::move(path)) {}
  std::filesystem::path path_;
  std::mutex mutex_;  // guards removed_
  bool removed_ = false;
};

// The parent under which runtime directories are made (see above).
std::filesystem::path runtime_parent();

}  // namespace ipp3d::server
