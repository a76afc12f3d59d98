#include "ipp3d/attributes/capabilities.hpp"

namespace ipp3d::attributes {

const std::vector<std::string>& known_print_base_keywords() {
  static const std::vector<std::string> keywords = {"none", "brim", "raft", "skirt", "standard"};
  return keywords;
}

const std::vector<std::string>& known_print_supports_keywords() {
  static const std::vector<std::string> keywords = {"none", "standard", "material"};
  return keywords;
}

const std::vector<std::string>& known_accuracy_units() {
  static const std::vector<std::string> units = {"mm", "um", "nm"};
  return units;
}

}  // namespace ipp3d::attributes
