// materials-col <-> Material (PWG 5100.21 §8.1.3).
#include "ipp3d/attributes/ipp_codec.hpp"

#include "ipp_reader.hpp"

#include <algorithm>

namespace ipp3d::attributes {
namespace {

using detail::Syntax;
using Rule = detail::MemberRule<Material>;

// Stores a successful read in `out`, or passes the error on.
template <class V, class Out>
Status assign(Result<V> result, Out& out) {
  if (!result) return std::move(result).error();
  out = std::move(*result);
  return {};
}

// Reads a keyword that must be one of `known` into `out`.
Status assign_known_keyword(ipp_attribute_t* attr, const std::string& path, Syntax syntax,
                            const std::vector<std::string>& known, std::optional<std::string>& out) {
  auto value = detail::read_keyword(attr, path, syntax);
  if (!value) return std::move(value).error();
  if (Status status = detail::expect_one_of(*value, known, path); !status) return status;
  out = std::move(*value);
  return {};
}

// Reads material-rate-units. PWG 5100.21 §8.1.3.12 spells the values
// "mg_sec", "ml_sec", "mm_sec" while the IANA registry (§13.2) says
// "mg_second" etc.; both are accepted and stored in the IANA spelling.
Status read_rate_units(ipp_attribute_t* attr, const std::string& path, Material& m, Syntax syntax) {
  auto value = detail::read_keyword(attr, path, syntax);
  if (!value) return std::move(value).error();
  const std::string iana_spelling = *value + "ond";
  const auto& known = known_material_rate_units();
  if (value->ends_with("_sec") && std::find(known.begin(), known.end(), iana_spelling) != known.end()) {
    *value = iana_spelling;
  }
  if (Status status = detail::expect_one_of(*value, known_material_rate_units(), path); !status)
    return status;
  m.material_rate_units = std::move(*value);
  return {};
}

// Reads material-purpose: 1setOf keyword from known_material_purposes().
Status read_purposes(ipp_attribute_t* attr, const std::string& path, Material& m, Syntax syntax) {
  auto values = detail::read_keywords(attr, path, syntax);
  if (!values) return std::move(values).error();
  for (const auto& value : *values) {
    if (Status status = detail::expect_one_of(value, known_material_purposes(), path); !status) return status;
  }
  m.material_purpose = std::move(*values);
  return {};
}

// Reads material-amount: integer(0:MAX) | unknown.
Status read_amount(ipp_attribute_t* attr, const std::string& path, Material& m, Syntax syntax) {
  auto value = detail::read_integer_or_unknown(attr, path, detail::kNonNegative, syntax);
  if (!value) return std::move(value).error();
  m.material_amount = MaterialAmount{*value};
  return {};
}

// One rule per materials-col member.
constexpr Rule kMaterialRules[] = {
    {"material-key", [](ipp_attribute_t* a, const std::string& p, Material& m,
                        Syntax s) { return assign(detail::read_keyword(a, p, s), m.material_key); }},
    {"material-name", [](ipp_attribute_t* a, const std::string& p, Material& m,
                         Syntax s) { return assign(detail::read_name(a, p, s), m.material_name); }},
    {"material-type", [](ipp_attribute_t* a, const std::string& p, Material& m,
                         Syntax) { return assign(detail::read_keyword_or_name(a, p), m.material_type); }},
    {"material-color", [](ipp_attribute_t* a, const std::string& p, Material& m,
                          Syntax s) { return assign(detail::read_keyword(a, p, s), m.material_color); }},
    {"material-diameter",
     [](ipp_attribute_t* a, const std::string& p, Material& m, Syntax s) {
       return assign(detail::read_integer(a, p, detail::kNonNegative, s), m.material_diameter);
     }},
    {"material-diameter-tolerance",
     [](ipp_attribute_t* a, const std::string& p, Material& m, Syntax s) {
       return assign(detail::read_integer(a, p, detail::kNonNegative, s), m.material_diameter_tolerance);
     }},
    {"material-temperature",
     [](ipp_attribute_t* a, const std::string& p, Material& m, Syntax s) {
       return assign(detail::read_integer_or_range(a, p, detail::kCelsius, s), m.material_temperature);
     }},
    {"material-purpose", read_purposes},
    {"material-fill-density",
     [](ipp_attribute_t* a, const std::string& p, Material& m, Syntax s) {
       return assign(detail::read_integer(a, p, detail::kPercent, s), m.material_fill_density);
     }},
    {"material-shell-thickness",
     [](ipp_attribute_t* a, const std::string& p, Material& m, Syntax s) {
       return assign(detail::read_integer(a, p, detail::kNonNegative, s), m.material_shell_thickness);
     }},
    {"material-amount", read_amount},
    {"material-amount-units",
     [](ipp_attribute_t* a, const std::string& p, Material& m, Syntax s) {
       return assign_known_keyword(a, p, s, known_material_amount_units(), m.material_amount_units);
     }},
    {"material-nozzle-diameter",
     [](ipp_attribute_t* a, const std::string& p, Material& m, Syntax s) {
       return assign(detail::read_integer(a, p, detail::kNonNegative, s), m.material_nozzle_diameter);
     }},
    {"material-retraction",
     [](ipp_attribute_t* a, const std::string& p, Material& m, Syntax s) {
       return assign(detail::read_boolean(a, p, s), m.material_retraction);
     }},
    {"material-rate",
     [](ipp_attribute_t* a, const std::string& p, Material& m, Syntax s) {
       return assign(detail::read_integer(a, p, detail::kPositive, s), m.material_rate);
     }},
    {"material-rate-units", read_rate_units},
};

// Adds a string member when present.
void add_string(ipp_t* col, ipp_tag_t tag, const char* name, const std::optional<std::string>& value) {
  if (value) ippAddString(col, IPP_TAG_ZERO, tag, name, nullptr, value->c_str());
}

// Adds an integer member when present.
void add_integer(ipp_t* col, const char* name, const std::optional<int>& value) {
  if (value) ippAddInteger(col, IPP_TAG_ZERO, IPP_TAG_INTEGER, name, *value);
}

// Adds material-amount, using the out-of-band 'unknown' for an unknown amount.
void add_amount(ipp_t* col, const std::optional<MaterialAmount>& amount) {
  if (!amount) return;
  if (amount->value) {
    ippAddInteger(col, IPP_TAG_ZERO, IPP_TAG_INTEGER, "material-amount", *amount->value);
  } else {
    ippAddOutOfBand(col, IPP_TAG_ZERO, IPP_TAG_UNKNOWN, "material-amount");
  }
}

}  // namespace

IppPtr encode_material(const Material& material) {
  IppPtr col = make_ipp();
  ipp_t* c = col.get();
  add_string(c, IPP_TAG_KEYWORD, "material-key", material.material_key);
  add_string(c, IPP_TAG_NAME, "material-name", material.material_name);
  if (material.material_type) {
    add_string(c, detail::keyword_or_name_tag(*material.material_type), "material-type",
               material.material_type);
  }
  add_string(c, IPP_TAG_KEYWORD, "material-color", material.material_color);
  add_integer(c, "material-diameter", material.material_diameter);
  add_integer(c, "material-diameter-tolerance", material.material_diameter_tolerance);
  if (material.material_temperature) {
    detail::add_integer_or_range(c, IPP_TAG_ZERO, "material-temperature", *material.material_temperature);
  }
  if (!material.material_purpose.empty()) {
    detail::add_strings(c, IPP_TAG_ZERO, IPP_TAG_KEYWORD, "material-purpose", material.material_purpose);
  }
  add_integer(c, "material-fill-density", material.material_fill_density);
  add_integer(c, "material-shell-thickness", material.material_shell_thickness);
  add_amount(c, material.material_amount);
  add_string(c, IPP_TAG_KEYWORD, "material-amount-units", material.material_amount_units);
  add_integer(c, "material-nozzle-diameter", material.material_nozzle_diameter);
  if (material.material_retraction) {
    ippAddBoolean(c, IPP_TAG_ZERO, "material-retraction", *material.material_retraction ? 1 : 0);
  }
  add_integer(c, "material-rate", material.material_rate);
  add_string(c, IPP_TAG_KEYWORD, "material-rate-units", material.material_rate_units);
  return col;
}

Result<Material> decode_material(ipp_t* collection, const std::string& path) {
  return detail::decode_material_with(collection, path, Syntax::kStrict);
}

namespace detail {

Result<Material> decode_material_with(ipp_t* collection, const std::string& path, Syntax syntax) {
  Material material;
  Status status = read_members<Material>(collection, path, "materials-col", kMaterialRules, material, syntax);
  if (!status) return std::move(status).error();
  return material;
}

}  // namespace detail
}  // namespace ipp3d::attributes
