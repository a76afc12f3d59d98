// The materials-col collection of PWG 5100.21 §8.1.3.
#pragma once

#include "ipp3d/attributes/types.hpp"

#include <optional>
#include <string>
#include <vector>

namespace ipp3d::attributes {

// material-amount with its units. `value` is nullopt for the out-of-band
// value 'unknown'.
struct MaterialAmount {
  std::optional<int> value;
  bool operator==(const MaterialAmount&) const = default;
};

// One materials-col value. Every member is optional because PWG 5100.21 lets
// database entries omit members (wildcards) and lets clients send only
// material-key or material-name. Units: diameters and thickness in nm,
// temperature in °C.
struct Material {
  std::optional<std::string> material_key;             // keyword
  std::optional<std::string> material_name;            // name(MAX)
  std::optional<std::string> material_type;            // type2 keyword | name(MAX)
  std::optional<std::string> material_color;           // keyword (PWG 5101.1 color name)
  std::optional<int> material_diameter;                // nm, integer(0:MAX)
  std::optional<int> material_diameter_tolerance;      // nm, integer(0:MAX)
  std::optional<IntegerOrRange> material_temperature;  // °C, integer(-273:MAX) | rangeOfInteger
  std::vector<std::string> material_purpose;           // 1setOf keyword; empty = absent
  std::optional<int> material_fill_density;            // percent, integer(0:100)
  std::optional<int> material_shell_thickness;         // nm, integer(0:MAX)
  std::optional<MaterialAmount> material_amount;       // integer(0:MAX) | unknown
  std::optional<std::string> material_amount_units;    // g, kg, l, m, ml, mm
  std::optional<int> material_nozzle_diameter;         // nm, integer(0:MAX)
  std::optional<bool> material_retraction;
  std::optional<int> material_rate;                // integer(1:MAX)
  std::optional<std::string> material_rate_units;  // mg_second, ml_second, mm_second

  bool operator==(const Material&) const = default;

  // A short label for messages: the name, else the key, else "material".
  [[nodiscard]] std::string label() const;
};

// Keywords of PWG 5100.21 (and IANA) for the members above.
const std::vector<std::string>& known_material_types();         // "abs", "pla", ... "pva-dissolvable"
const std::vector<std::string>& known_material_purposes();      // all, base, in-fill, shell, support
const std::vector<std::string>& known_material_amount_units();  // g, kg, l, m, ml, mm
const std::vector<std::string>& known_material_rate_units();    // mg_second, ml_second, mm_second
// Member names of materials-col, in spec order (used for materials-col-supported).
const std::vector<std::string>& materials_col_member_names();

}  // namespace ipp3d::attributes
