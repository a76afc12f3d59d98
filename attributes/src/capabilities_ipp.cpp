// PrinterCapabilities <-> Printer Description attributes (PWG 5100.21 §8.3).
#include "ipp3d/attributes/ipp_codec.hpp"

#include "ipp_reader.hpp"

#include <array>

namespace ipp3d::attributes {
namespace {

using detail::Syntax;

// Adds attributes to IPP_TAG_PRINTER, leaving out the excluded names.
class Encoder {
 public:
  Encoder(ipp_t* ipp, const CapabilityEncoding& options) : ipp_(ipp), options_(options) {}

  // True when `name` is to be encoded.
  [[nodiscard]] bool wanted(const char* name) const { return !options_.exclude.contains(name); }

  // 1setOf keyword (or another string syntax); nothing when empty.
  void strings(const char* name, const std::vector<std::string>& values, ipp_tag_t tag = IPP_TAG_KEYWORD) {
    if (!values.empty() && wanted(name)) detail::add_strings(ipp_, IPP_TAG_PRINTER, tag, name, values);
  }
  // A single string; nothing when empty.
  void string(const char* name, const std::string& value, ipp_tag_t tag = IPP_TAG_KEYWORD) {
    if (!value.empty() && wanted(name))
      ippAddString(ipp_, IPP_TAG_PRINTER, tag, name, nullptr, value.c_str());
  }
  // An integer (or enum).
  void integer(const char* name, int value, ipp_tag_t tag = IPP_TAG_INTEGER) {
    if (wanted(name)) ippAddInteger(ipp_, IPP_TAG_PRINTER, tag, name, value);
  }
  // An optional integer; nothing when nullopt.
  void integer(const char* name, const std::optional<int>& value) {
    if (value) integer(name, *value);
  }
  // 1setOf enum; nothing when empty.
  void enums(const char* name, const std::vector<int>& values) {
    if (values.empty() || !wanted(name)) return;
    ippAddIntegers(ipp_, IPP_TAG_PRINTER, IPP_TAG_ENUM, name, static_cast<int>(values.size()), values.data());
  }
  // A boolean.
  void boolean(const char* name, bool value) {
    if (wanted(name)) ippAddBoolean(ipp_, IPP_TAG_PRINTER, name, value ? 1 : 0);
  }
  // 1setOf (integer | rangeOfInteger); nothing when empty.
  void ranges(const char* name, const std::vector<IntegerOrRange>& values) {
    if (!values.empty() && wanted(name))
      detail::add_integer_or_range_set(ipp_, IPP_TAG_PRINTER, name, values);
  }
  // One collection value.
  void collection(const char* name, const IppPtr& value) {
    if (wanted(name)) ippAddCollection(ipp_, IPP_TAG_PRINTER, name, value.get());
  }
  // 1setOf materials-col; `no_value_when_empty` sends 'no-value' instead of nothing.
  void materials(const char* name, const std::vector<Material>& values, bool no_value_when_empty) {
    if (!wanted(name)) return;
    if (values.empty()) {
      if (no_value_when_empty) ippAddOutOfBand(ipp_, IPP_TAG_PRINTER, IPP_TAG_NOVALUE, name);
      return;
    }
    std::vector<IppPtr> collections;
    collections.reserve(values.size());
    for (const auto& material : values) collections.push_back(encode_material(material));
    detail::add_collections(ipp_, IPP_TAG_PRINTER, name, collections);
  }

 private:
  ipp_t* ipp_;
  const CapabilityEncoding& options_;
};

// 1setOf keyword | name: keywords unless some value is not a valid keyword.
ipp_tag_t keywords_or_names_tag(const std::vector<std::string>& values) {
  for (const auto& value : values) {
    if (detail::keyword_or_name_tag(value) == IPP_TAG_NAME) return IPP_TAG_NAME;
  }
  return IPP_TAG_KEYWORD;
}

// Build platform, volume and temperatures.
void encode_platform(const PrinterCapabilities& caps, Encoder& e) {
  e.collection("printer-volume-supported", detail::encode_dimensions(caps.printer_volume_supported));
  if (caps.platform_shape) e.string("platform-shape", *caps.platform_shape);
  e.ranges("platform-temperature-supported", caps.platform_temperature_supported);
  e.integer("platform-temperature-default", caps.platform_temperature_default);
  e.ranges("chamber-temperature-supported", caps.chamber_temperature_supported);
  e.integer("chamber-temperature-default", caps.chamber_temperature_default);
}

// materials-col-* and material-*-supported.
void encode_materials(const PrinterCapabilities& caps, Encoder& e) {
  e.materials("materials-col-database", caps.materials_col_database, false);
  e.materials("materials-col-ready", caps.materials_col_ready, true);
  e.materials("materials-col-default", caps.materials_col_default, false);
  e.strings("materials-col-supported", caps.materials_col_supported);
  e.integer("max-materials-col-supported", caps.max_materials_col_supported);
  e.ranges("material-diameter-supported", caps.material_diameter_supported);
  e.ranges("material-nozzle-diameter-supported", caps.material_nozzle_diameter_supported);
  e.ranges("material-temperature-supported", caps.material_temperature_supported);
  e.ranges("material-shell-thickness-supported", caps.material_shell_thickness_supported);
  e.ranges("material-rate-supported", caps.material_rate_supported);
  e.strings("material-rate-units-supported", caps.material_rate_units_supported);
  e.strings("material-purpose-supported", caps.material_purpose_supported);
  e.strings("material-type-supported", caps.material_type_supported,
            keywords_or_names_tag(caps.material_type_supported));
  e.strings("material-amount-units-supported", caps.material_amount_units_supported);
}

// print-accuracy-*, print-base-*, print-supports-*, print-quality-*.
void encode_quality(const PrinterCapabilities& caps, Encoder& e) {
  if (caps.print_accuracy_supported != PrintAccuracy{}) {
    e.collection("print-accuracy-supported", detail::encode_print_accuracy(caps.print_accuracy_supported));
  }
  if (caps.print_accuracy_default != PrintAccuracy{}) {
    e.collection("print-accuracy-default", detail::encode_print_accuracy(caps.print_accuracy_default));
  }
  e.strings("accuracy-units-supported", caps.accuracy_units_supported);
  e.string("print-base-default", caps.print_base_default);
  e.strings("print-base-supported", caps.print_base_supported);
  e.string("print-supports-default", caps.print_supports_default);
  e.strings("print-supports-supported", caps.print_supports_supported);
  e.integer("print-quality-default", caps.print_quality_default, IPP_TAG_ENUM);
  e.enums("print-quality-supported", caps.print_quality_supported);
}

// The generic Table 5 attributes the model carries.
void encode_generic(const PrinterCapabilities& caps, Encoder& e) {
  e.strings("ipp-features-supported", caps.ipp_features_supported);
  e.string("document-format-default", caps.document_format_default, IPP_TAG_MIMETYPE);
  e.strings("document-format-supported", caps.document_format_supported, IPP_TAG_MIMETYPE);
  e.boolean("color-supported", caps.color_supported);
  e.boolean("multiple-document-jobs-supported", caps.multiple_document_jobs_supported);
  e.strings("job-creation-attributes-supported", caps.job_creation_attributes_supported);
}

// ---------------------------------------------------------------------------
// Decoding.

using CapsRule = detail::MemberRule<PrinterCapabilities>;
using Caps = PrinterCapabilities;

// Stores a successful read in `out`, or passes the error on.
template <class V, class Out>
Status assign(Result<V> result, Out& out) {
  if (!result) return std::move(result).error();
  out = std::move(*result);
  return {};
}

// Reads a 1setOf materials-col ('no-value' is an empty set).
Status read_materials(ipp_attribute_t* attr, const std::string& path, std::vector<Material>& out) {
  auto collections = detail::read_collections(attr, path);
  if (!collections) return std::move(collections).error();
  out.clear();
  for (std::size_t i = 0; i < collections->size(); ++i) {
    auto material = decode_material((*collections)[i], detail::index_path(path, static_cast<int>(i)));
    if (!material) return std::move(material).error();
    out.push_back(std::move(*material));
  }
  return {};
}

// Reads an integer(-273:MAX) | no-value default temperature.
Status read_default_temperature(ipp_attribute_t* attr, const std::string& path, std::optional<int>& out) {
  if (detail::is_no_value(attr)) {
    out.reset();
    return {};
  }
  return assign(detail::read_integer(attr, path, detail::kCelsius), out);
}

// Reads a print-accuracy-* collection.
Status read_accuracy(ipp_attribute_t* attr, const std::string& path, PrintAccuracy& out) {
  auto collection = detail::read_collection(attr, path);
  if (!collection) return std::move(collection).error();
  return assign(detail::decode_print_accuracy(*collection, path, Syntax::kStrict), out);
}

// A rule reading a 1setOf (integer | rangeOfInteger) member of Caps.
template <std::vector<IntegerOrRange> Caps::*Member, int Min>
Status read_range_set(ipp_attribute_t* a, const std::string& p, Caps& c, Syntax) {
  return assign(detail::read_integer_or_range_set(a, p, detail::Bounds{Min, detail::kMax}), c.*Member);
}

// A rule reading a 1setOf keyword member of Caps.
template <std::vector<std::string> Caps::*Member>
Status read_keyword_set(ipp_attribute_t* a, const std::string& p, Caps& c, Syntax) {
  return assign(detail::read_keywords(a, p), c.*Member);
}

// A rule reading a single keyword member of Caps.
template <std::string Caps::*Member>
Status read_single_keyword(ipp_attribute_t* a, const std::string& p, Caps& c, Syntax) {
  return assign(detail::read_keyword(a, p), c.*Member);
}

// A rule reading a 1setOf materials-col member of Caps.
template <std::vector<Material> Caps::*Member>
Status read_material_set(ipp_attribute_t* a, const std::string& p, Caps& c, Syntax) {
  return read_materials(a, p, c.*Member);
}

// A rule reading a print-accuracy-* member of Caps.
template <PrintAccuracy Caps::*Member>
Status read_accuracy_member(ipp_attribute_t* a, const std::string& p, Caps& c, Syntax) {
  return read_accuracy(a, p, c.*Member);
}

// A rule reading a default temperature member of Caps.
template <std::optional<int> Caps::*Member>
Status read_temperature_default(ipp_attribute_t* a, const std::string& p, Caps& c, Syntax) {
  return read_default_temperature(a, p, c.*Member);
}

// A rule reading a boolean member of Caps.
template <bool Caps::*Member>
Status read_bool(ipp_attribute_t* a, const std::string& p, Caps& c, Syntax) {
  return assign(detail::read_boolean(a, p), c.*Member);
}

// Reads printer-volume-supported.
Status read_volume(ipp_attribute_t* a, const std::string& p, Caps& c, Syntax) {
  auto collection = detail::read_collection(a, p);
  if (!collection) return std::move(collection).error();
  return assign(detail::decode_dimensions(*collection, p, Syntax::kStrict), c.printer_volume_supported);
}

// Reads platform-shape.
Status read_platform_shape(ipp_attribute_t* a, const std::string& p, Caps& c, Syntax) {
  return assign(detail::read_keyword(a, p), c.platform_shape);
}

// Reads max-materials-col-supported, integer(1:MAX).
Status read_max_materials(ipp_attribute_t* a, const std::string& p, Caps& c, Syntax) {
  return assign(detail::read_integer(a, p, detail::kPositive), c.max_materials_col_supported);
}

// Reads material-type-supported, 1setOf (keyword | name).
Status read_material_types(ipp_attribute_t* a, const std::string& p, Caps& c, Syntax) {
  return assign(detail::read_keywords_or_names(a, p), c.material_type_supported);
}

// Reads print-quality-default, enum 3..5.
Status read_quality_default(ipp_attribute_t* a, const std::string& p, Caps& c, Syntax) {
  return assign(detail::read_enum(a, p, detail::kPrintQuality), c.print_quality_default);
}

// Reads print-quality-supported, 1setOf enum 3..5.
Status read_quality_supported(ipp_attribute_t* a, const std::string& p, Caps& c, Syntax) {
  return assign(detail::read_enums(a, p, detail::kPrintQuality), c.print_quality_supported);
}

// Reads document-format-default.
Status read_format_default(ipp_attribute_t* a, const std::string& p, Caps& c, Syntax) {
  return assign(detail::read_mime_type(a, p), c.document_format_default);
}

// Reads document-format-supported.
Status read_formats(ipp_attribute_t* a, const std::string& p, Caps& c, Syntax) {
  return assign(detail::read_mime_types(a, p), c.document_format_supported);
}

constexpr int kCelsiusMin = detail::kCelsius.min;

// One rule per attribute PrinterCapabilities decodes.
constexpr CapsRule kCapsRules[] = {
    {"printer-volume-supported", read_volume},
    {"platform-shape", read_platform_shape},
    {"platform-temperature-supported", read_range_set<&Caps::platform_temperature_supported, kCelsiusMin>},
    {"platform-temperature-default", read_temperature_default<&Caps::platform_temperature_default>},
    {"chamber-temperature-supported", read_range_set<&Caps::chamber_temperature_supported, kCelsiusMin>},
    {"chamber-temperature-default", read_temperature_default<&Caps::chamber_temperature_default>},
    {"materials-col-database", read_material_set<&Caps::materials_col_database>},
    {"materials-col-ready", read_material_set<&Caps::materials_col_ready>},
    {"materials-col-default", read_material_set<&Caps::materials_col_default>},
    {"materials-col-supported", read_keyword_set<&Caps::materials_col_supported>},
    {"max-materials-col-supported", read_max_materials},
    {"material-diameter-supported", read_range_set<&Caps::material_diameter_supported, 0>},
    {"material-nozzle-diameter-supported", read_range_set<&Caps::material_nozzle_diameter_supported, 0>},
    {"material-temperature-supported", read_range_set<&Caps::material_temperature_supported, kCelsiusMin>},
    {"material-shell-thickness-supported", read_range_set<&Caps::material_shell_thickness_supported, 0>},
    {"material-rate-supported", read_range_set<&Caps::material_rate_supported, 1>},
    {"material-rate-units-supported", read_keyword_set<&Caps::material_rate_units_supported>},
    {"material-purpose-supported", read_keyword_set<&Caps::material_purpose_supported>},
    {"material-type-supported", read_material_types},
    {"material-amount-units-supported", read_keyword_set<&Caps::material_amount_units_supported>},
    {"print-accuracy-supported", read_accuracy_member<&Caps::print_accuracy_supported>},
    {"print-accuracy-default", read_accuracy_member<&Caps::print_accuracy_default>},
    {"accuracy-units-supported", read_keyword_set<&Caps::accuracy_units_supported>},
    {"print-base-default", read_single_keyword<&Caps::print_base_default>},
    {"print-base-supported", read_keyword_set<&Caps::print_base_supported>},
    {"print-supports-default", read_single_keyword<&Caps::print_supports_default>},
    {"print-supports-supported", read_keyword_set<&Caps::print_supports_supported>},
    {"print-quality-default", read_quality_default},
    {"print-quality-supported", read_quality_supported},
    {"ipp-features-supported", read_keyword_set<&Caps::ipp_features_supported>},
    {"document-format-default", read_format_default},
    {"document-format-supported", read_formats},
    {"color-supported", read_bool<&Caps::color_supported>},
    {"multiple-document-jobs-supported", read_bool<&Caps::multiple_document_jobs_supported>},
    {"job-creation-attributes-supported", read_keyword_set<&Caps::job_creation_attributes_supported>},
};

}  // namespace

void encode_capabilities(const PrinterCapabilities& caps, ipp_t* ipp, const CapabilityEncoding& options) {
  Encoder encoder(ipp, options);
  encode_platform(caps, encoder);
  encode_materials(caps, encoder);
  encode_quality(caps, encoder);
  encode_generic(caps, encoder);
}

Result<PrinterCapabilities> decode_capabilities(ipp_t* response) {
  PrinterCapabilities caps;
  for (const auto& rule : kCapsRules) {
    ipp_attribute_t* attr = ippFindAttribute(response, rule.name, IPP_TAG_ZERO);
    if (!attr) continue;
    if (Status status = rule.read(attr, rule.name, caps, Syntax::kStrict); !status) {
      return std::move(status).error();
    }
  }
  for (const char* required : {"printer-volume-supported", "materials-col-ready"}) {
    if (!ippFindAttribute(response, required, IPP_TAG_ZERO)) return detail::missing(required);
  }
  return caps;
}

// ---------------------------------------------------------------------------
// Shared collections: print-accuracy and x-/y-/z-dimension.

namespace detail {
namespace {

using AccuracyRule = MemberRule<PrintAccuracy>;

// Rules for the members of print-accuracy*.
constexpr std::array<AccuracyRule, 4> kAccuracyRules = {{
    {"accuracy-units", [](ipp_attribute_t* a, const std::string& p, PrintAccuracy& out,
                          Syntax s) { return assign(read_keyword(a, p, s), out.accuracy_units); }},
    {"x-accuracy", [](ipp_attribute_t* a, const std::string& p, PrintAccuracy& out,
                      Syntax s) { return assign(read_integer(a, p, kNonNegative, s), out.x_accuracy); }},
    {"y-accuracy", [](ipp_attribute_t* a, const std::string& p, PrintAccuracy& out,
                      Syntax s) { return assign(read_integer(a, p, kNonNegative, s), out.y_accuracy); }},
    {"z-accuracy", [](ipp_attribute_t* a, const std::string& p, PrintAccuracy& out,
                      Syntax s) { return assign(read_integer(a, p, kNonNegative, s), out.z_accuracy); }},
}};

// x-/y-/z-dimension as read, before the required-member check.
struct PartialDimensions {
  std::optional<int> x;
  std::optional<int> y;
  std::optional<int> z;
};

using DimensionRule = MemberRule<PartialDimensions>;

// Rules for the members of printer-volume-supported and object-size.
constexpr std::array<DimensionRule, 3> kDimensionRules = {{
    {"x-dimension", [](ipp_attribute_t* a, const std::string& p, PartialDimensions& out,
                       Syntax s) { return assign(read_integer(a, p, kPositive, s), out.x); }},
    {"y-dimension", [](ipp_attribute_t* a, const std::string& p, PartialDimensions& out,
                       Syntax s) { return assign(read_integer(a, p, kPositive, s), out.y); }},
    {"z-dimension", [](ipp_attribute_t* a, const std::string& p, PartialDimensions& out,
                       Syntax s) { return assign(read_integer(a, p, kPositive, s), out.z); }},
}};

// Adds an optional integer member.
void add_member(ipp_t* col, const char* name, const std::optional<int>& value) {
  if (value) ippAddInteger(col, IPP_TAG_ZERO, IPP_TAG_INTEGER, name, *value);
}

}  // namespace

IppPtr encode_print_accuracy(const PrintAccuracy& accuracy) {
  IppPtr col = make_ipp();
  if (accuracy.accuracy_units) {
    ippAddString(col.get(), IPP_TAG_ZERO, IPP_TAG_KEYWORD, "accuracy-units", nullptr,
                 accuracy.accuracy_units->c_str());
  }
  add_member(col.get(), "x-accuracy", accuracy.x_accuracy);
  add_member(col.get(), "y-accuracy", accuracy.y_accuracy);
  add_member(col.get(), "z-accuracy", accuracy.z_accuracy);
  return col;
}

Result<PrintAccuracy> decode_print_accuracy(ipp_t* collection, const std::string& path, Syntax syntax) {
  PrintAccuracy accuracy;
  Status status =
      read_members<PrintAccuracy>(collection, path, "print-accuracy", kAccuracyRules, accuracy, syntax);
  if (!status) return std::move(status).error();
  return accuracy;
}

IppPtr encode_dimensions(const BuildVolume& volume) {
  IppPtr col = make_ipp();
  ippAddInteger(col.get(), IPP_TAG_ZERO, IPP_TAG_INTEGER, "x-dimension", volume.x_dimension);
  ippAddInteger(col.get(), IPP_TAG_ZERO, IPP_TAG_INTEGER, "y-dimension", volume.y_dimension);
  ippAddInteger(col.get(), IPP_TAG_ZERO, IPP_TAG_INTEGER, "z-dimension", volume.z_dimension);
  return col;
}

Result<BuildVolume> decode_dimensions(ipp_t* collection, const std::string& path, Syntax syntax) {
  PartialDimensions read;
  Status status =
      read_members<PartialDimensions>(collection, path, "dimensions", kDimensionRules, read, syntax);
  if (!status) return std::move(status).error();
  if (!read.x) return missing(member_path(path, "x-dimension"));
  if (!read.y) return missing(member_path(path, "y-dimension"));
  if (!read.z) return missing(member_path(path, "z-dimension"));
  return BuildVolume{*read.x, *read.y, *read.z};
}

}  // namespace detail
}  // namespace ipp3d::attributes
