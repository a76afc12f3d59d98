#include "ipp3d/attributes/material.hpp"

namespace ipp3d::attributes {

std::string Material::label() const {
  if (material_name && !material_name->empty()) return *material_name;
  if (material_key && !material_key->empty()) return *material_key;
  return "material";
}

const std::vector<std::string>& known_material_types() {
  // PWG 5100.21 §8.1.3.15 plus the IANA registry's "pva-dissolvable".
  static const std::vector<std::string> types = {"abs",
                                                 "abs-carbon-fiber",
                                                 "abs-carbon-nanotube",
                                                 "chocolate",
                                                 "gold",
                                                 "nylon",
                                                 "pet",
                                                 "photopolymer",
                                                 "pla",
                                                 "pla-conductive",
                                                 "pla-dissolvable",
                                                 "pla-flexible",
                                                 "pla-magnetic",
                                                 "pla-steel",
                                                 "pla-stone",
                                                 "pla-wood",
                                                 "polycarbonate",
                                                 "pva-dissolvable",
                                                 "silver",
                                                 "titanium",
                                                 "wax"};
  return types;
}

const std::vector<std::string>& known_material_purposes() {
  static const std::vector<std::string> purposes = {"all", "base", "in-fill", "shell", "support"};
  return purposes;
}

const std::vector<std::string>& known_material_amount_units() {
  static const std::vector<std::string> units = {"g", "kg", "l", "m", "ml", "mm"};
  return units;
}

const std::vector<std::string>& known_material_rate_units() {
  // IANA spelling (PWG 5100.21 §13.2); §8.1.3.12 writes "mg_sec" etc., see docs/conformance.md.
  static const std::vector<std::string> units = {"mg_second", "ml_second", "mm_second"};
  return units;
}

const std::vector<std::string>& materials_col_member_names() {
  static const std::vector<std::string> names = {"material-amount",
                                                 "material-amount-units",
                                                 "material-color",
                                                 "material-diameter",
                                                 "material-diameter-tolerance",
                                                 "material-fill-density",
                                                 "material-key",
                                                 "material-name",
                                                 "material-nozzle-diameter",
                                                 "material-purpose",
                                                 "material-rate",
                                                 "material-rate-units",
                                                 "material-retraction",
                                                 "material-shell-thickness",
                                                 "material-temperature",
                                                 "material-type"};
  return names;
}

}  // namespace ipp3d::attributes
