// Room for a job's document on its way to the machine: the largest upload the
// machine's host accepts and its free space (both learnt by check_machine()),
// and the free space of the local state directory. Pure decisions, used by
// the intake when a document arrives.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace ipp3d::server {

// What the machine's host accepts; absent values are unknown (not checked).
struct UploadCapacity {
  std::optional<std::uint64_t> max_upload_bytes;   // Moonraker's [server] max_upload_size
  std::optional<std::uint64_t> remote_free_bytes;  // free space of Moonraker's gcodes root
  bool operator==(const UploadCapacity&) const = default;
};

// Before the document is checked: why a spooled document of `spool_bytes`
// cannot be verified into a local temporary file of about the same size
// when the state directory has `local_free_bytes` free, or "" when it fits.
std::string local_space_refusal(std::uint64_t spool_bytes, std::optional<std::uint64_t> local_free_bytes);

// After the document was verified: why verified plaintext of
// `plaintext_bytes` cannot be uploaded (larger than max_upload_size, or
// more than the machine's free space), or "" when it fits. The message
// names both sizes.
std::string upload_refusal(std::uint64_t plaintext_bytes, const UploadCapacity& capacity);

// Free bytes of the file system holding `path`, or nullopt when unknown.
std::optional<std::uint64_t> free_space(const std::filesystem::path& path);

// "800 bytes", "12.50 MiB (13107200 bytes)": a size for messages.
std::string size_text(std::uint64_t bytes);

}  // namespace ipp3d::server
