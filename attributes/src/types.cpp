#include "ipp3d/attributes/types.hpp"

#include <algorithm>

namespace ipp3d::attributes {

std::string IntegerOrRange::to_string() const {
  if (!is_range) return std::to_string(lower);
  return std::to_string(lower) + "-" + std::to_string(upper);
}

bool any_contains(const std::vector<IntegerOrRange>& supported, int value) {
  return std::any_of(supported.begin(), supported.end(),
                     [value](const IntegerOrRange& r) { return r.contains(value); });
}

std::string to_string(const std::vector<IntegerOrRange>& supported) {
  std::string out;
  for (const auto& r : supported) {
    if (!out.empty()) out += ", ";
    out += r.to_string();
  }
  return out.empty() ? "none" : out;
}

}  // namespace ipp3d::attributes
