// UTC times as text for the client's output.
#pragma once

#include <cstdint>
#include <string>

namespace ipp3d::client {

// "2026-11-21T10:00:00Z" for a UNIX time ("@SECONDS" when out of range).
std::string utc_text(std::int64_t unix_seconds);

}  // namespace ipp3d::client
