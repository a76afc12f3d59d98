#include "keys/runtime_directory.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace ipp3d::server {
namespace {

// Overwrites the regular file `file` with zeros (best effort).
void zero_file(const std::filesystem::path& file) noexcept {
  const int fd = ::open(file.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return;
  struct stat info {};
  if (::fstat(fd, &info) == 0 && S_ISREG(info.st_mode)) {
    static constexpr char kZeros[4096] = {};
    for (off_t done = 0; done < info.st_size;) {
      const auto chunk = static_cast<size_t>(std::min<off_t>(info.st_size - done, sizeof kZeros));
      const ssize_t n = ::write(fd, kZeros, chunk);
      if (n <= 0) break;
      done += n;
    }
    (void)::fsync(fd);
  }
  (void)::close(fd);
}

}  // namespace

std::filesystem::path runtime_parent() {
  for (const char* variable : {"RUNTIME_DIRECTORY", "XDG_RUNTIME_DIR"}) {
    const char* value = std::getenv(variable);
    if (value == nullptr || *value == '\0') continue;
    std::string first = value;
    // systemd lists several directories separated by ':' when several are configured.
    first = first.substr(0, first.find(':'));
    if (!first.empty()) return first;
  }
  return "/tmp";
}

Result<std::unique_ptr<PrivateRuntimeDirectory>> PrivateRuntimeDirectory::create(const std::string& purpose) {
  const std::filesystem::path parent = runtime_parent();
  std::string pattern = (parent / ("ipp3d-" + purpose + "-XXXXXX")).string();
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (::mkdtemp(buffer.data()) == nullptr) {  // mode 0700
    return Error{
        IPP_STATUS_ERROR_INTERNAL,
        "cannot make a private runtime directory in " + parent.string() + ": " + std::strerror(errno), "keys",
        0};
  }
  return std::unique_ptr<PrivateRuntimeDirectory>(new PrivateRuntimeDirectory(buffer.data()));
}

PrivateRuntimeDirectory::~PrivateRuntimeDirectory() { remove(); }

void PrivateRuntimeDirectory::remove() noexcept {
  const std::lock_guard lock(mutex_);
  if (removed_) return;
  removed_ = true;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(path_, ec)) zero_file(entry.path());
  std::filesystem::remove_all(path_, ec);
}

}  // namespace ipp3d::server
