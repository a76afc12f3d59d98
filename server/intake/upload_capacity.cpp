#include "intake/upload_capacity.hpp"

#include <cstdio>
#include <system_error>

namespace ipp3d::server {

std::string size_text(std::uint64_t bytes) {
  constexpr std::uint64_t kMiB = std::uint64_t{1024} * 1024;
  if (bytes < kMiB) return std::to_string(bytes) + " bytes";
  char text[64];
  (void)std::snprintf(text, sizeof text, "%.2f MiB (%llu bytes)",
                      static_cast<double>(bytes) / static_cast<double>(kMiB),
                      static_cast<unsigned long long>(bytes));
  return text;
}

std::string local_space_refusal(std::uint64_t spool_bytes, std::optional<std::uint64_t> local_free_bytes) {
  if (!local_free_bytes || spool_bytes <= *local_free_bytes) return {};
  return "Refused (no-space): the document needs about " + size_text(spool_bytes) +
         " for its verified copy, but the printer's state directory has only " +
         size_text(*local_free_bytes) + " free";
}

std::string upload_refusal(std::uint64_t plaintext_bytes, const UploadCapacity& capacity) {
  if (capacity.max_upload_bytes && plaintext_bytes > *capacity.max_upload_bytes) {
    return "Refused (too-large): the document is " + size_text(plaintext_bytes) +
           ", but Moonraker accepts uploads of at most " + size_text(*capacity.max_upload_bytes) +
           " ([server] max_upload_size)";
  }
  if (capacity.remote_free_bytes && plaintext_bytes > *capacity.remote_free_bytes) {
    return "Refused (no-space): the document is " + size_text(plaintext_bytes) +
           ", but the printer's gcodes folder has only " + size_text(*capacity.remote_free_bytes) + " free";
  }
  return {};
}

std::optional<std::uint64_t> free_space(const std::filesystem::path& path) {
  std::error_code ec;
  const std::filesystem::space_info info = std::filesystem::space(path, ec);
  if (ec) return std::nullopt;
  return static_cast<std::uint64_t>(info.available);
}

}  // namespace ipp3d::server
