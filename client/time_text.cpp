// UTC times as text (time_text.hpp).
#include "time_text.hpp"

#include <ctime>

namespace ipp3d::client {

std::string utc_text(std::int64_t unix_seconds) {
  const auto t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  char text[32];
  if (::gmtime_r(&t, &tm) == nullptr || tm.tm_year > 9999 - 1900 || tm.tm_year < -1900 ||
      std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
    return "@" + std::to_string(unix_seconds);
  }
  return text;
}

}  // namespace ipp3d::client
