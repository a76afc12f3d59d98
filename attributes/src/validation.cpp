// Validation of a JobTicket against PrinterCapabilities (see validation.hpp).
// Every check returns the first problem it finds as an attribute_error whose
// attribute is the path of the offending value, e.g.
// "materials-col[0].material-temperature".
#include "ipp3d/attributes/validation.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace ipp3d::attributes {
namespace {

// ---------------------------------------------------------------------------
// Message helpers.

// Joins `items` with ", " ("none" when empty, as to_string() does for ranges).
std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out.empty() ? "none" : out;
}

// Joins integers with ", ".
std::string join(const std::vector<int>& items) {
  std::vector<std::string> texts;
  texts.reserve(items.size());
  for (int item : items) texts.push_back(std::to_string(item));
  return join(texts);
}

// A keyword or name in single quotes, as messages show them.
std::string quoted(const std::string& text) { return "'" + text + "'"; }

// Concatenates string pieces (keeps message building readable).
std::string cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (auto part : parts) out += part;
  return out;
}

// The path of one value of a 1setOf collection attribute: "materials-col[0]".
std::string indexed(std::string_view attribute, std::size_t index) {
  return cat({attribute, "[", std::to_string(index), "]"});
}

// Checks that `value` lies in the `supported` set of `attribute`.
Status check_in_set(const std::string& attribute, int value, const std::vector<IntegerOrRange>& supported) {
  if (supported.empty()) return attribute_error(attribute, attribute + " is not supported by this printer");
  if (any_contains(supported, value)) return {};
  return attribute_error(attribute,
                         cat({attribute, " ", std::to_string(value), " is outside ", to_string(supported)}));
}

// Checks that keyword `value` of `attribute` is one of `supported`.
Status check_keyword(const std::string& attribute, const std::string& value,
                     const std::vector<std::string>& supported) {
  if (std::find(supported.begin(), supported.end(), value) != supported.end()) return {};
  return attribute_error(attribute, cat({attribute, " ", quoted(value),
                                         " is not supported (supported: ", join(supported), ")"}));
}

// ---------------------------------------------------------------------------
// Material identity: the members that describe the material itself (not how
// a job uses it). Two materials disagree when both give one of them with
// different values. Job-specific members (purpose, fill density, shell
// thickness, amount, rate, retraction) never disagree: the job chooses them.

// Formats an optional keyword/name member for messages.
std::optional<std::string> text_value(const std::optional<std::string>& value) {
  if (!value) return std::nullopt;
  return quoted(*value);
}

// Formats an optional integer member for messages.
std::optional<std::string> int_value(const std::optional<int>& value) {
  if (!value) return std::nullopt;
  return std::to_string(*value);
}

// One identity member: its IPP name and its formatted value (nullopt = absent).
struct IdentityMember {
  std::string_view name;
  std::optional<std::string> (*value)(const Material&);
};

// The identity members of materials-col in spec order.
const std::array<IdentityMember, 7>& identity_members() {
  static const std::array<IdentityMember, 7> members = {{
      {"material-key", [](const Material& m) { return text_value(m.material_key); }},
      {"material-name", [](const Material& m) { return text_value(m.material_name); }},
      {"material-type", [](const Material& m) { return text_value(m.material_type); }},
      {"material-color", [](const Material& m) { return text_value(m.material_color); }},
      {"material-diameter", [](const Material& m) { return int_value(m.material_diameter); }},
      {"material-diameter-tolerance",
       [](const Material& m) { return int_value(m.material_diameter_tolerance); }},
      {"material-nozzle-diameter", [](const Material& m) { return int_value(m.material_nozzle_diameter); }},
  }};
  return members;
}

// The first identity member `a` and `b` both give with different values.
const IdentityMember* first_conflict(const Material& a, const Material& b) {
  for (const auto& member : identity_members()) {
    const auto va = member.value(a);
    const auto vb = member.value(b);
    if (va && vb && *va != *vb) return &member;
  }
  return nullptr;
}

// True unless both give a temperature and `requested`'s is not inside `entry`'s.
bool temperature_compatible(const Material& requested, const Material& entry) {
  if (!requested.material_temperature || !entry.material_temperature) return true;
  return entry.material_temperature->contains(*requested.material_temperature);
}

// True when `entry` is the material `requested` names: by key when the
// request has one, else by name.
bool names_same_material(const Material& requested, const Material& entry) {
  if (requested.material_key) return entry.material_key == requested.material_key;
  return requested.material_name && entry.material_name == requested.material_name;
}

// ---------------------------------------------------------------------------
// Material lookup and completion.

// A database or ready entry a request may refer to.
struct Candidate {
  const Material* entry = nullptr;
  bool ready = false;  // from materials-col-ready (loaded now)
};

// "the loaded PLA" or "PLA", for messages about `candidate`.
std::string describe(const Candidate& candidate) {
  return (candidate.ready ? "the loaded " : "") + candidate.entry->label();
}

// The ready entries, then the database entries, that `requested` names.
std::vector<Candidate> find_candidates(const Material& requested, const PrinterCapabilities& caps) {
  std::vector<Candidate> found;
  for (const auto& entry : caps.materials_col_ready) {
    if (names_same_material(requested, entry)) found.push_back({&entry, true});
  }
  for (const auto& entry : caps.materials_col_database) {
    if (names_same_material(requested, entry)) found.push_back({&entry, false});
  }
  return found;
}

// The error for a request that names no known material.
Error not_found_error(const Material& requested, const std::string& path) {
  const bool by_key = requested.material_key.has_value();
  const std::string attribute = path + (by_key ? ".material-key" : ".material-name");
  const std::string& value = by_key ? *requested.material_key : *requested.material_name;
  return attribute_error(
      attribute, cat({attribute, " ", quoted(value), " is not in this printer's materials database"}));
}

// The error for a request whose `member` disagrees with `candidate`.
Error conflict_error(const Material& requested, const Candidate& candidate, const IdentityMember& member,
                     const std::string& path) {
  const std::string attribute = cat({path, ".", member.name});
  return attribute_error(attribute, cat({attribute, " ", *member.value(requested), " does not match ",
                                         *member.value(*candidate.entry), " of ", describe(candidate)}));
}

// Copies `from` into `to` when `from` is present.
template <class T>
void overlay_member(std::optional<T>& to, const std::optional<T>& from) {
  if (from) to = from;
}

// `entry` with every member the client gave in `requested` overlaid.
Material overlay(Material entry, const Material& requested) {
  overlay_member(entry.material_key, requested.material_key);
  overlay_member(entry.material_name, requested.material_name);
  overlay_member(entry.material_type, requested.material_type);
  overlay_member(entry.material_color, requested.material_color);
  overlay_member(entry.material_diameter, requested.material_diameter);
  overlay_member(entry.material_diameter_tolerance, requested.material_diameter_tolerance);
  overlay_member(entry.material_temperature, requested.material_temperature);
  if (!requested.material_purpose.empty()) entry.material_purpose = requested.material_purpose;
  overlay_member(entry.material_fill_density, requested.material_fill_density);
  overlay_member(entry.material_shell_thickness, requested.material_shell_thickness);
  overlay_member(entry.material_amount, requested.material_amount);
  overlay_member(entry.material_amount_units, requested.material_amount_units);
  overlay_member(entry.material_nozzle_diameter, requested.material_nozzle_diameter);
  overlay_member(entry.material_retraction, requested.material_retraction);
  overlay_member(entry.material_rate, requested.material_rate);
  overlay_member(entry.material_rate_units, requested.material_rate_units);
  return entry;
}

// Finds the first ready/database entry `requested` names and agrees with.
Result<Candidate> find_material(const Material& requested, const PrinterCapabilities& caps,
                                const std::string& path) {
  if (!requested.material_key && !requested.material_name) {
    return attribute_error(path, path + " needs material-key or material-name");
  }
  const auto candidates = find_candidates(requested, caps);
  if (candidates.empty()) return not_found_error(requested, path);
  for (const auto& candidate : candidates) {
    if (first_conflict(requested, *candidate.entry) == nullptr) return candidate;
  }
  return conflict_error(requested, candidates.front(), *first_conflict(requested, *candidates.front().entry),
                        path);
}

// ---------------------------------------------------------------------------
// Material member checks.

// Clamps `wanted` into `own`; a range keeps its overlap with `own`, or
// becomes the nearest bound of `own` when they do not overlap.
IntegerOrRange clamp_into(const IntegerOrRange& wanted, const IntegerOrRange& own) {
  const int lower = std::clamp(wanted.lower, own.lower, own.upper);
  const int upper = std::clamp(wanted.upper, own.lower, own.upper);
  if (!wanted.is_range || lower == upper) return IntegerOrRange::single(lower);
  return IntegerOrRange::range(lower, upper);
}

// A requested material-temperature must lie in material-temperature-supported
// (the printer's design limits); inside them but outside the material's own
// range it is clamped into that range (§12). Returns the temperature to use.
Result<std::optional<IntegerOrRange>> check_material_temperature(const Material& requested,
                                                                 const Candidate& candidate,
                                                                 const PrinterCapabilities& caps,
                                                                 const std::string& path,
                                                                 std::vector<Substitution>& substitutions) {
  if (!requested.material_temperature) return std::optional<IntegerOrRange>{};
  const auto& wanted = *requested.material_temperature;
  const std::string attribute = path + ".material-temperature";
  const auto& own = candidate.entry->material_temperature;
  const auto& limits = caps.material_temperature_supported;
  if (limits.empty()) {
    return attribute_error(attribute, attribute + " is not supported: this printer does not control it");
  }
  const bool inside_limits =
      std::any_of(limits.begin(), limits.end(),
                  [&wanted](const IntegerOrRange& limit) { return limit.contains(wanted); });
  if (!inside_limits) {
    if (own && !own->contains(wanted)) {
      return attribute_error(attribute, cat({attribute, " ", wanted.to_string(), " is outside ",
                                             own->to_string(), " for ", describe(candidate)}));
    }
    return attribute_error(attribute, cat({attribute, " ", wanted.to_string(), " is outside ",
                                           to_string(limits), " (material-temperature-supported)"}));
  }
  if (!own || own->contains(wanted)) return std::optional<IntegerOrRange>{wanted};
  const IntegerOrRange actual = clamp_into(wanted, *own);
  substitutions.push_back(
      {attribute, cat({attribute, " ", wanted.to_string(), " was clamped to ", actual.to_string(), " for ",
                       describe(candidate), " (", own->to_string(), ")"})});
  return std::optional<IntegerOrRange>{actual};
}

// Diameter, nozzle diameter and shell thickness against their -supported sets.
Status check_material_dimensions(const Material& material, const PrinterCapabilities& caps,
                                 const std::string& path) {
  if (material.material_diameter) {
    auto status = check_in_set(path + ".material-diameter", *material.material_diameter,
                               caps.material_diameter_supported);
    if (!status) return status;
  }
  if (material.material_nozzle_diameter && !caps.material_nozzle_diameter_supported.empty()) {
    auto status = check_in_set(path + ".material-nozzle-diameter", *material.material_nozzle_diameter,
                               caps.material_nozzle_diameter_supported);
    if (!status) return status;
  }
  if (material.material_shell_thickness) {
    return check_in_set(path + ".material-shell-thickness", *material.material_shell_thickness,
                        caps.material_shell_thickness_supported);
  }
  return {};
}

// Type and purposes against their -supported sets; fill density 0..100.
Status check_material_keywords(const Material& material, const PrinterCapabilities& caps,
                               const std::string& path) {
  if (material.material_type) {
    auto status =
        check_keyword(path + ".material-type", *material.material_type, caps.material_type_supported);
    if (!status) return status;
  }
  for (const auto& purpose : material.material_purpose) {
    auto status = check_keyword(path + ".material-purpose", purpose, caps.material_purpose_supported);
    if (!status) return status;
  }
  if (material.material_fill_density) {
    return check_in_set(path + ".material-fill-density", *material.material_fill_density,
                        {IntegerOrRange::range(0, 100)});
  }
  return {};
}

// Resolves one requested material and checks it; returns the completed one.
Result<Material> validate_material(const Material& requested, const PrinterCapabilities& caps,
                                   const std::string& path, std::vector<Substitution>& substitutions) {
  auto candidate = find_material(requested, caps, path);
  if (!candidate) return candidate.error();
  auto temperature = check_material_temperature(requested, *candidate, caps, path, substitutions);
  if (!temperature) return temperature.error();
  Material completed = overlay(*candidate->entry, requested);
  if (*temperature) completed.material_temperature = **temperature;
  if (auto status = check_material_dimensions(completed, caps, path); !status) return status.error();
  if (auto status = check_material_keywords(completed, caps, path); !status) return status.error();
  return completed;
}

// True when `material` matches an entry of materials-col-ready.
bool is_loaded(const Material& material, const PrinterCapabilities& caps) {
  return std::any_of(caps.materials_col_ready.begin(), caps.materials_col_ready.end(),
                     [&material](const Material& ready) { return material_matches(material, ready); });
}

// Labels of the loaded materials: "PLA, PETG" (or "none").
std::string loaded_labels(const PrinterCapabilities& caps) {
  std::vector<std::string> labels;
  for (const auto& ready : caps.materials_col_ready) labels.push_back(ready.label());
  return join(labels);
}

// The materials of a ticket that requests none: the first loaded one, else
// the printer's default.
Result<ValidatedTicket> default_materials(const PrinterCapabilities& caps, LoadedMaterialPolicy policy) {
  if (!caps.materials_col_ready.empty()) return ValidatedTicket{{caps.materials_col_ready.front()}, true, {}};
  if (policy == LoadedMaterialPolicy::kRequireLoaded) {
    return attribute_error("materials-col", "no material is loaded");
  }
  if (caps.materials_col_default.empty()) {
    return attribute_error("materials-col", "no material is loaded and materials-col-default is empty");
  }
  return ValidatedTicket{{caps.materials_col_default.front()}, false, {}};
}

// Validates and completes materials-col, applying the loaded-material policy.
Result<ValidatedTicket> validate_materials(const std::vector<Material>& requested,
                                           const PrinterCapabilities& caps, LoadedMaterialPolicy policy) {
  if (requested.empty()) return default_materials(caps, policy);
  if (std::cmp_greater(requested.size(), caps.max_materials_col_supported)) {
    return attribute_error("materials-col", cat({"materials-col has ", std::to_string(requested.size()),
                                                 " values but this printer supports at most ",
                                                 std::to_string(caps.max_materials_col_supported)}));
  }
  ValidatedTicket out{{}, true, {}};
  for (std::size_t i = 0; i < requested.size(); ++i) {
    const std::string path = indexed("materials-col", i);
    auto material = validate_material(requested[i], caps, path, out.substitutions);
    if (!material) return material.error();
    const bool loaded = is_loaded(*material, caps);
    if (!loaded && policy == LoadedMaterialPolicy::kRequireLoaded) {
      return attribute_error(
          path, cat({path, ": ", material->label(), " is not loaded (loaded: ", loaded_labels(caps), ")"}));
    }
    out.materials_loaded = out.materials_loaded && loaded;
    out.materials.push_back(std::move(*material));
  }
  return out;
}

// ---------------------------------------------------------------------------
// Temperatures and print options.

// platform-/chamber-temperature: unsupported without the `hardware`, else in
// the -supported set (which includes 0 for "off" when the printer allows it).
Status check_heater(const std::string& attribute, const std::optional<int>& value,
                    const std::vector<IntegerOrRange>& supported, std::string_view hardware) {
  if (!value) return {};
  if (supported.empty()) {
    return attribute_error(attribute, cat({attribute, " is not supported: this printer has no ", hardware}));
  }
  return check_in_set(attribute, *value, supported);
}

// print-base, print-supports and print-quality in their -supported sets.
Status check_print_options(const JobTicket& ticket, const PrinterCapabilities& caps) {
  if (ticket.print_base) {
    auto status = check_keyword("print-base", *ticket.print_base, caps.print_base_supported);
    if (!status) return status;
  }
  if (ticket.print_supports) {
    auto status = check_keyword("print-supports", *ticket.print_supports, caps.print_supports_supported);
    if (!status) return status;
  }
  const auto& qualities = caps.print_quality_supported;
  if (ticket.print_quality &&
      std::find(qualities.begin(), qualities.end(), *ticket.print_quality) == qualities.end()) {
    return attribute_error("print-quality", cat({"print-quality ", std::to_string(*ticket.print_quality),
                                                 " is not supported (supported: ", join(qualities), ")"}));
  }
  return {};
}

// ---------------------------------------------------------------------------
// print-accuracy (§8.1.5).

// Nanometres per accuracy unit, nullopt for an unknown unit.
std::optional<std::int64_t> nanometres_per_unit(const std::string& units) {
  if (units == "mm") return 1'000'000;
  if (units == "um") return 1'000;
  if (units == "nm") return 1;
  return std::nullopt;
}

// One axis of print-accuracy: refused only when finer than the supported one.
// A requested 0 means "better than one unit", i.e. at most one unit less 1 nm.
Status check_axis_accuracy(std::string_view member, const std::optional<int>& requested,
                           const std::string& units, const std::optional<int>& supported,
                           const std::optional<std::string>& supported_units) {
  if (!requested || !supported || !supported_units) return {};
  const auto unit_nm = nanometres_per_unit(units);
  const auto supported_unit_nm = nanometres_per_unit(*supported_units);
  if (!unit_nm || !supported_unit_nm) return {};
  const std::int64_t requested_nm = *requested == 0 ? *unit_nm - 1 : *requested * *unit_nm;
  const std::int64_t supported_nm = *supported * *supported_unit_nm;
  if (requested_nm >= supported_nm) return {};
  const std::string attribute = cat({"print-accuracy.", member});
  return attribute_error(attribute, cat({attribute, " ", std::to_string(*requested), " ", units,
                                         " is finer than this printer's best ", std::to_string(*supported),
                                         " ", *supported_units}));
}

// print-accuracy: known, supported units and no axis finer than supported.
Status check_accuracy(const std::optional<PrintAccuracy>& accuracy, const PrinterCapabilities& caps) {
  if (!accuracy) return {};
  const std::string attribute = "print-accuracy.accuracy-units";
  if (!accuracy->accuracy_units) {
    if (!accuracy->x_accuracy && !accuracy->y_accuracy && !accuracy->z_accuracy) return {};
    return attribute_error(attribute, "print-accuracy needs accuracy-units to give an accuracy");
  }
  const std::string& units = *accuracy->accuracy_units;
  if (auto status = check_keyword(attribute, units, caps.accuracy_units_supported); !status) return status;
  if (!nanometres_per_unit(units)) {
    return attribute_error(attribute, cat({attribute, " ", quoted(units), " is unknown"}));
  }
  const auto& best = caps.print_accuracy_supported;
  using Axis = std::tuple<std::string_view, const std::optional<int>*, const std::optional<int>*>;
  for (const auto& [member, requested, supported] :
       {Axis{"x-accuracy", &accuracy->x_accuracy, &best.x_accuracy},
        Axis{"y-accuracy", &accuracy->y_accuracy, &best.y_accuracy},
        Axis{"z-accuracy", &accuracy->z_accuracy, &best.z_accuracy}}) {
    auto status = check_axis_accuracy(member, *requested, units, *supported, best.accuracy_units);
    if (!status) return status;
  }
  return {};
}

// ---------------------------------------------------------------------------
// print-objects (§8.1.6).

// One axis of an object: its offset and size, and the build volume's size.
struct ObjectAxis {
  char name;
  int offset;
  int size;
  int limit;
};

// Checks that offset + size fits the build volume on `axis`.
Status check_object_axis(const std::string& attribute, const std::string& path, const ObjectAxis& axis) {
  if (static_cast<std::int64_t>(axis.offset) + axis.size <= axis.limit) return {};
  const std::string a(1, axis.name);
  return attribute_error(
      attribute, cat({path, " ", a, "-offset ", std::to_string(axis.offset), " + ", a, "-dimension ",
                      std::to_string(axis.size), " exceeds printer-volume-supported ", a, "-dimension ",
                      std::to_string(axis.limit), " (1/100 mm)"}));
}

// One print-objects value: document 1 only, and inside the build volume.
Status check_print_object(const PrintObject& object, const BuildVolume& volume, const std::string& path) {
  if (object.document_number && *object.document_number != 1) {
    const std::string attribute = path + ".document-number";
    return attribute_error(attribute, cat({attribute, " ", std::to_string(*object.document_number),
                                           " is not 1: this printer accepts single-document jobs only"}));
  }
  if (!object.object_offset && !object.object_size) return {};
  const ObjectOffset offset = object.object_offset.value_or(ObjectOffset{});
  const BuildVolume size = object.object_size.value_or(BuildVolume{});
  const std::string attribute = path + (object.object_size ? ".object-size" : ".object-offset");
  for (const auto& axis : {ObjectAxis{'x', offset.x_offset, size.x_dimension, volume.x_dimension},
                           ObjectAxis{'y', offset.y_offset, size.y_dimension, volume.y_dimension},
                           ObjectAxis{'z', offset.z_offset, size.z_dimension, volume.z_dimension}}) {
    auto status = check_object_axis(attribute, path, axis);
    if (!status) return status;
  }
  return {};
}

// Every print-objects value.
Status check_print_objects(const std::vector<PrintObject>& objects, const PrinterCapabilities& caps) {
  for (std::size_t i = 0; i < objects.size(); ++i) {
    auto status = check_print_object(objects[i], caps.printer_volume_supported, indexed("print-objects", i));
    if (!status) return status;
  }
  return {};
}

// Every check of validate_job_ticket() except materials-col.
Status check_other_attributes(const JobTicket& ticket, const PrinterCapabilities& caps) {
  if (auto s = check_heater("platform-temperature", ticket.platform_temperature,
                            caps.platform_temperature_supported, "heated bed");
      !s) {
    return s;
  }
  if (auto s = check_heater("chamber-temperature", ticket.chamber_temperature,
                            caps.chamber_temperature_supported, "heated chamber");
      !s) {
    return s;
  }
  if (auto s = check_print_options(ticket, caps); !s) return s;
  if (auto s = check_accuracy(ticket.print_accuracy, caps); !s) return s;
  return check_print_objects(ticket.print_objects, caps);
}

}  // namespace

Result<ValidatedTicket> validate_job_ticket(const JobTicket& ticket, const PrinterCapabilities& caps,
                                            LoadedMaterialPolicy policy) {
  auto validated = validate_materials(ticket.materials_col, caps, policy);
  if (!validated) return validated;
  if (auto status = check_other_attributes(ticket, caps); !status) return status.error();
  return validated;
}

bool material_matches(const Material& requested, const Material& ready) {
  const bool same = (requested.material_key && ready.material_key)
                        ? *requested.material_key == *ready.material_key
                        : (requested.material_name && ready.material_name &&
                           *requested.material_name == *ready.material_name);
  return same && first_conflict(requested, ready) == nullptr && temperature_compatible(requested, ready);
}

}  // namespace ipp3d::attributes
