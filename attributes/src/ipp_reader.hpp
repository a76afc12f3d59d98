// Private helpers of the ipp_t codec: read typed values from borrowed
// attributes with checks of value tag, count and range, and report failures
// as ipp3d::Error naming the attribute path ("materials-col[0].material-diameter");
// plus the few writers and collection codecs the *_ipp.cpp files share.
#pragma once

#include "ipp3d/attributes/material.hpp"
#include "ipp3d/attributes/types.hpp"
#include "ipp3d/ipp_handles.hpp"
#include "ipp3d/result.hpp"

#include <cups/ipp.h>

#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ipp3d::attributes::detail {

// How strictly a value's syntax is checked.
enum class Syntax {
  kStrict,      // only the syntax the spec gives
  kAcceptText,  // also keywords and plain decimal integers sent as name/text (CUPS `lp -o`)
};

// Inclusive bounds of an IPP integer syntax such as integer(0:MAX).
struct Bounds {
  int min;
  int max;
};

inline constexpr int kMax = std::numeric_limits<int>::max();
inline constexpr Bounds kNonNegative{0, kMax};
inline constexpr Bounds kPositive{1, kMax};
inline constexpr Bounds kCelsius{-273, kMax};
inline constexpr Bounds kPercent{0, 100};
inline constexpr Bounds kPrintQuality{3, 5};

// "prefix.member", or "member" when prefix is empty.
std::string member_path(const std::string& prefix, std::string_view member);
// "name[index]".
std::string index_path(std::string_view name, int index);
// The RFC 8010 name of a value tag ("integer", "keyword", "nameWithoutLanguage").
std::string syntax_name(ipp_tag_t tag);
// True when `text` is a syntactically valid IPP keyword: 1-255 characters of
// lowercase letters, digits, '-', '_' and '.'.
bool is_keyword(std::string_view text);
// True when the attribute holds the out-of-band value 'no-value'.
bool is_no_value(ipp_attribute_t* attr);

// The first attribute called `name` in `group` of `ipp`, or nullptr.
ipp_attribute_t* find_in_group(ipp_t* ipp, const char* name, ipp_tag_t group);

// Error unless the attribute has exactly one value.
Status expect_one_value(ipp_attribute_t* attr, const std::string& path);
// Error naming `path` when `value` is not one of `allowed`.
Status expect_one_of(const std::string& value, const std::vector<std::string>& allowed,
                     const std::string& path);

// Single-valued readers (count 1, the right tag, the value within bounds).
Result<int> read_integer(ipp_attribute_t* attr, const std::string& path, Bounds bounds,
                         Syntax syntax = Syntax::kStrict);
Result<std::optional<int>> read_integer_or_unknown(ipp_attribute_t* attr, const std::string& path,
                                                   Bounds bounds, Syntax syntax = Syntax::kStrict);
Result<int> read_enum(ipp_attribute_t* attr, const std::string& path, Bounds bounds,
                      Syntax syntax = Syntax::kStrict);
Result<bool> read_boolean(ipp_attribute_t* attr, const std::string& path, Syntax syntax = Syntax::kStrict);
Result<std::string> read_keyword(ipp_attribute_t* attr, const std::string& path,
                                 Syntax syntax = Syntax::kStrict);
Result<std::string> read_keyword_or_name(ipp_attribute_t* attr, const std::string& path);
Result<std::string> read_name(ipp_attribute_t* attr, const std::string& path,
                              Syntax syntax = Syntax::kStrict);
Result<std::string> read_uri(ipp_attribute_t* attr, const std::string& path, Syntax syntax = Syntax::kStrict);
Result<std::string> read_mime_type(ipp_attribute_t* attr, const std::string& path);
Result<IntegerOrRange> read_integer_or_range(ipp_attribute_t* attr, const std::string& path, Bounds bounds,
                                             Syntax syntax = Syntax::kStrict);
// A borrowed collection value (owned by `attr`).
Result<ipp_t*> read_collection(ipp_attribute_t* attr, const std::string& path);

// 1setOf readers. Every value is checked; error messages name the value.
Result<std::vector<std::string>> read_keywords(ipp_attribute_t* attr, const std::string& path,
                                               Syntax syntax = Syntax::kStrict);
Result<std::vector<std::string>> read_keywords_or_names(ipp_attribute_t* attr, const std::string& path);
Result<std::vector<std::string>> read_mime_types(ipp_attribute_t* attr, const std::string& path);
Result<std::vector<int>> read_enums(ipp_attribute_t* attr, const std::string& path, Bounds bounds);
Result<std::vector<IntegerOrRange>> read_integer_or_range_set(ipp_attribute_t* attr, const std::string& path,
                                                              Bounds bounds);
// 1setOf collection; the out-of-band 'no-value' reads as an empty set.
Result<std::vector<ipp_t*>> read_collections(ipp_attribute_t* attr, const std::string& path);

// One member of a collection type T: its name and how to read it into T.
template <class T>
struct MemberRule {
  const char* name;
  Status (*read)(ipp_attribute_t* attr, const std::string& path, T& out, Syntax syntax);
};

// Reads every member of `collection` into `out` with its rule; an unknown or
// repeated member is an error. `type_name` names the collection attribute in
// messages ("materials-col").
template <class T>
Status read_members(ipp_t* collection, const std::string& path, std::string_view type_name,
                    std::span<const MemberRule<T>> rules, T& out, Syntax syntax);

// Error "<path> is missing" for a required member or attribute.
Error missing(const std::string& path);

// ---------------------------------------------------------------------------
// Codec pieces shared by the *_ipp.cpp files.

// Decodes a materials-col value with the given syntax policy (decode_material
// uses kStrict; job tickets use kAcceptText for CUPS `lp -o` collections).
Result<Material> decode_material_with(ipp_t* collection, const std::string& path, Syntax syntax);

// print-accuracy* collection {accuracy-units, x-/y-/z-accuracy} (capabilities_ipp.cpp).
IppPtr encode_print_accuracy(const PrintAccuracy& accuracy);
Result<PrintAccuracy> decode_print_accuracy(ipp_t* collection, const std::string& path, Syntax syntax);

// {x-dimension, y-dimension, z-dimension} collection of printer-volume-supported
// and object-size, each integer(1:MAX) and required (capabilities_ipp.cpp).
IppPtr encode_dimensions(const BuildVolume& volume);
Result<BuildVolume> decode_dimensions(ipp_t* collection, const std::string& path, Syntax syntax);

// Writers. Group IPP_TAG_ZERO is used for collection members.
// IPP_TAG_KEYWORD when `text` is a valid keyword, else IPP_TAG_NAME.
ipp_tag_t keyword_or_name_tag(const std::string& text);
// Adds a string attribute with one value per element of `values` (not empty).
void add_strings(ipp_t* ipp, ipp_tag_t group, ipp_tag_t tag, const char* name,
                 const std::vector<std::string>& values);
// Adds an integer or a rangeOfInteger.
void add_integer_or_range(ipp_t* ipp, ipp_tag_t group, const char* name, const IntegerOrRange& value);
// Adds a 1setOf (integer | rangeOfInteger) (not empty). libcups keeps one
// value tag per attribute, so a set that holds any range is sent as ranges
// only (a single integer n becomes n-n).
void add_integer_or_range_set(ipp_t* ipp, ipp_tag_t group, const char* name,
                              const std::vector<IntegerOrRange>& values);
// Adds a 1setOf collection (not empty); the collections stay owned by the caller.
void add_collections(ipp_t* ipp, ipp_tag_t group, const char* name, const std::vector<IppPtr>& values);

// ---------------------------------------------------------------------------
// Template definitions.

// Finds the rule called `name`, or nullptr.
template <class T>
const MemberRule<T>* find_rule(std::span<const MemberRule<T>> rules, std::string_view name) {
  for (const auto& rule : rules) {
    if (name == rule.name) return &rule;
  }
  return nullptr;
}

// Error for a member that the collection type does not define.
Error unknown_member(const std::string& path, std::string_view member, std::string_view type_name);
// Error for a member given twice.
Error repeated_member(const std::string& path, std::string_view member);

template <class T>
Status read_members(ipp_t* collection, const std::string& path, std::string_view type_name,
                    std::span<const MemberRule<T>> rules, T& out, Syntax syntax) {
  std::vector<std::string_view> seen;
  for (ipp_attribute_t* attr = ippFirstAttribute(collection); attr; attr = ippNextAttribute(collection)) {
    const char* raw_name = ippGetName(attr);
    if (!raw_name) continue;
    const std::string_view name(raw_name);
    const MemberRule<T>* rule = find_rule(rules, name);
    if (!rule) return unknown_member(path, name, type_name);
    for (const auto& s : seen) {
      if (s == name) return repeated_member(path, name);
    }
    seen.push_back(name);
    if (Status status = rule->read(attr, member_path(path, name), out, syntax); !status) return status;
  }
  return {};
}

}  // namespace ipp3d::attributes::detail
