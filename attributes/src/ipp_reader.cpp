#include "ipp_reader.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>

namespace ipp3d::attributes::detail {
namespace {

// True for the name and text value tags (with or without language).
bool is_text_tag(ipp_tag_t tag) {
  return tag == IPP_TAG_NAME || tag == IPP_TAG_NAMELANG || tag == IPP_TAG_TEXT || tag == IPP_TAG_TEXTLANG;
}

// True for the name value tags.
bool is_name_tag(ipp_tag_t tag) { return tag == IPP_TAG_NAME || tag == IPP_TAG_NAMELANG; }

// The string value `element` of `attr` ("" when there is none).
std::string string_value(ipp_attribute_t* attr, int element) {
  const char* text = ippGetString(attr, element, nullptr);
  return text ? std::string(text) : std::string();
}

// Error "<path> must be <expected>, got <syntax>"; quotes the value of a name/text.
Error wrong_syntax(ipp_attribute_t* attr, const std::string& path, std::string_view expected) {
  const ipp_tag_t tag = ippGetValueTag(attr);
  std::string message = path + " must be " + std::string(expected) + ", got " + syntax_name(tag);
  if (is_text_tag(tag)) message += " \"" + string_value(attr, 0) + "\"";
  return attribute_error(path, std::move(message));
}

// "0-100", with "MAX" for the largest integer.
std::string bounds_text(Bounds bounds) {
  return std::to_string(bounds.min) + "-" + (bounds.max == kMax ? "MAX" : std::to_string(bounds.max));
}

// Error unless `value` lies within `bounds`.
Status check_bounds(int value, const std::string& path, Bounds bounds) {
  if (value >= bounds.min && value <= bounds.max) return {};
  return attribute_error(path, path + " " + std::to_string(value) + " is outside " + bounds_text(bounds));
}

// Error unless `value` is a well-formed range within `bounds`.
Status check_range_bounds(const IntegerOrRange& value, const std::string& path, Bounds bounds) {
  if (value.lower > value.upper) {
    return attribute_error(path,
                           path + " " + value.to_string() + " is not a valid range (lower above upper)");
  }
  if (value.lower < bounds.min || value.upper > bounds.max) {
    return attribute_error(path, path + " " + value.to_string() + " is outside " + bounds_text(bounds));
  }
  return {};
}

// Parses a plain decimal integer ("60", "-5"); nullopt for anything else.
std::optional<int> parse_decimal(const std::string& text) {
  int value = 0;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  if (begin != end && *begin == '+') return std::nullopt;
  const auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc() || ptr != end || text.empty()) return std::nullopt;
  return value;
}

// Integer value `element` of `attr` with tag `tag`; with kAcceptText also a
// name/text holding a plain decimal integer.
Result<int> integer_value(ipp_attribute_t* attr, int element, const std::string& path, ipp_tag_t tag,
                          std::string_view expected, Syntax syntax) {
  const ipp_tag_t actual = ippGetValueTag(attr);
  if (actual == tag) return ippGetInteger(attr, element);
  if (syntax == Syntax::kAcceptText && is_text_tag(actual)) {
    if (auto parsed = parse_decimal(string_value(attr, element))) return *parsed;
  }
  return wrong_syntax(attr, path, expected);
}

// Error unless `text` is a valid keyword.
Status check_keyword(const std::string& text, const std::string& path) {
  if (is_keyword(text)) return {};
  return attribute_error(path, path + " \"" + text + "\" is not a valid keyword");
}

// Error unless the attribute's tag is one of `tags` (or a name/text with kAcceptText).
Status expect_tag(ipp_attribute_t* attr, const std::string& path, std::initializer_list<ipp_tag_t> tags,
                  std::string_view expected, Syntax syntax = Syntax::kStrict) {
  const ipp_tag_t actual = ippGetValueTag(attr);
  if (std::find(tags.begin(), tags.end(), actual) != tags.end()) return {};
  if (syntax == Syntax::kAcceptText && is_text_tag(actual)) return {};
  return wrong_syntax(attr, path, expected);
}

// All string values of `attr`.
std::vector<std::string> string_values(ipp_attribute_t* attr) {
  std::vector<std::string> values;
  const int count = ippGetCount(attr);
  values.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) values.push_back(string_value(attr, i));
  return values;
}

// The integer-or-range value `element` of `attr`, checked against `bounds`.
Result<IntegerOrRange> integer_or_range_value(ipp_attribute_t* attr, int element, const std::string& path,
                                              Bounds bounds, Syntax syntax) {
  IntegerOrRange value;
  if (ippGetValueTag(attr) == IPP_TAG_RANGE) {
    int upper = 0;
    const int lower = ippGetRange(attr, element, &upper);
    value = IntegerOrRange::range(lower, upper);
  } else {
    auto single = integer_value(attr, element, path, IPP_TAG_INTEGER, "an integer or rangeOfInteger", syntax);
    if (!single) return single.error();
    value = IntegerOrRange::single(*single);
  }
  if (Status status = check_range_bounds(value, path, bounds); !status) return status.error();
  return value;
}

}  // namespace

std::string member_path(const std::string& prefix, std::string_view member) {
  if (prefix.empty()) return std::string(member);
  return prefix + "." + std::string(member);
}

std::string index_path(std::string_view name, int index) {
  return std::string(name) + "[" + std::to_string(index) + "]";
}

std::string syntax_name(ipp_tag_t tag) {
  const char* name = ippTagString(tag);
  return name ? std::string(name) : std::string("unknown syntax");
}

bool is_keyword(std::string_view text) {
  if (text.empty() || text.size() > 255) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
  });
}

bool is_no_value(ipp_attribute_t* attr) { return ippGetValueTag(attr) == IPP_TAG_NOVALUE; }

ipp_attribute_t* find_in_group(ipp_t* ipp, const char* name, ipp_tag_t group) {
  for (ipp_attribute_t* attr = ippFirstAttribute(ipp); attr; attr = ippNextAttribute(ipp)) {
    const char* attr_name = ippGetName(attr);
    if (attr_name && ippGetGroupTag(attr) == group && std::strcmp(attr_name, name) == 0) return attr;
  }
  return nullptr;
}

Status expect_one_value(ipp_attribute_t* attr, const std::string& path) {
  const int count = ippGetCount(attr);
  if (count == 1) return {};
  return attribute_error(path, path + " must have exactly one value, got " + std::to_string(count));
}

Status expect_one_of(const std::string& value, const std::vector<std::string>& allowed,
                     const std::string& path) {
  if (std::find(allowed.begin(), allowed.end(), value) != allowed.end()) return {};
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
  return attribute_error(path, path + " \"" + value + "\" is not one of " + list);
}

Result<int> read_integer(ipp_attribute_t* attr, const std::string& path, Bounds bounds, Syntax syntax) {
  if (Status status = expect_one_value(attr, path); !status) return status.error();
  auto value = integer_value(attr, 0, path, IPP_TAG_INTEGER, "an integer", syntax);
  if (!value) return value;
  if (Status status = check_bounds(*value, path, bounds); !status) return status.error();
  return value;
}

Result<std::optional<int>> read_integer_or_unknown(ipp_attribute_t* attr, const std::string& path,
                                                   Bounds bounds, Syntax syntax) {
  if (ippGetCount(attr) == 1 && ippGetValueTag(attr) == IPP_TAG_UNKNOWN) return std::optional<int>();
  auto value = read_integer(attr, path, bounds, syntax);
  if (!value) return value.error();
  return std::optional<int>(*value);
}

Result<int> read_enum(ipp_attribute_t* attr, const std::string& path, Bounds bounds, Syntax syntax) {
  if (Status status = expect_one_value(attr, path); !status) return status.error();
  auto value = integer_value(attr, 0, path, IPP_TAG_ENUM, "an enum", syntax);
  if (!value) return value;
  if (Status status = check_bounds(*value, path, bounds); !status) return status.error();
  return value;
}

Result<bool> read_boolean(ipp_attribute_t* attr, const std::string& path, Syntax syntax) {
  if (Status status = expect_one_value(attr, path); !status) return status.error();
  const ipp_tag_t tag = ippGetValueTag(attr);
  if (tag == IPP_TAG_BOOLEAN) return ippGetBoolean(attr, 0) != 0;
  if (syntax == Syntax::kAcceptText && is_text_tag(tag)) {
    const std::string text = string_value(attr, 0);
    if (text == "true") return true;
    if (text == "false") return false;
  }
  return wrong_syntax(attr, path, "a boolean");
}

Result<std::string> read_keyword(ipp_attribute_t* attr, const std::string& path, Syntax syntax) {
  if (Status status = expect_one_value(attr, path); !status) return status.error();
  if (Status status = expect_tag(attr, path, {IPP_TAG_KEYWORD}, "a keyword", syntax); !status) {
    return status.error();
  }
  std::string value = string_value(attr, 0);
  if (Status status = check_keyword(value, path); !status) return status.error();
  return value;
}

Result<std::string> read_keyword_or_name(ipp_attribute_t* attr, const std::string& path) {
  if (Status status = expect_one_value(attr, path); !status) return status.error();
  if (is_name_tag(ippGetValueTag(attr))) return string_value(attr, 0);
  if (ippGetValueTag(attr) != IPP_TAG_KEYWORD) return wrong_syntax(attr, path, "a keyword or name");
  return read_keyword(attr, path, Syntax::kStrict);
}

Result<std::string> read_name(ipp_attribute_t* attr, const std::string& path, Syntax syntax) {
  if (Status status = expect_one_value(attr, path); !status) return status.error();
  if (Status status = expect_tag(attr, path, {IPP_TAG_NAME, IPP_TAG_NAMELANG}, "a name", syntax); !status) {
    return status.error();
  }
  return string_value(attr, 0);
}

Result<std::string> read_uri(ipp_attribute_t* attr, const std::string& path, Syntax syntax) {
  if (Status status = expect_one_value(attr, path); !status) return status.error();
  if (Status status = expect_tag(attr, path, {IPP_TAG_URI}, "a uri", syntax); !status) return status.error();
  return string_value(attr, 0);
}

Result<std::string> read_mime_type(ipp_attribute_t* attr, const std::string& path) {
  if (Status status = expect_one_value(attr, path); !status) return status.error();
  if (Status status = expect_tag(attr, path, {IPP_TAG_MIMETYPE}, "a mimeMediaType"); !status) {
    return status.error();
  }
  return string_value(attr, 0);
}

Result<IntegerOrRange> read_integer_or_range(ipp_attribute_t* attr, const std::string& path, Bounds bounds,
                                             Syntax syntax) {
  if (Status status = expect_one_value(attr, path); !status) return status.error();
  return integer_or_range_value(attr, 0, path, bounds, syntax);
}

Result<ipp_t*> read_collection(ipp_attribute_t* attr, const std::string& path) {
  if (Status status = expect_one_value(attr, path); !status) return status.error();
  if (Status status = expect_tag(attr, path, {IPP_TAG_BEGIN_COLLECTION}, "a collection"); !status) {
    return status.error();
  }
  return ippGetCollection(attr, 0);
}

Result<std::vector<std::string>> read_keywords(ipp_attribute_t* attr, const std::string& path,
                                               Syntax syntax) {
  if (Status status = expect_tag(attr, path, {IPP_TAG_KEYWORD}, "a keyword", syntax); !status) {
    return status.error();
  }
  std::vector<std::string> values = string_values(attr);
  for (const auto& value : values) {
    if (Status status = check_keyword(value, path); !status) return status.error();
  }
  return values;
}

Result<std::vector<std::string>> read_keywords_or_names(ipp_attribute_t* attr, const std::string& path) {
  if (is_name_tag(ippGetValueTag(attr))) return string_values(attr);
  if (ippGetValueTag(attr) != IPP_TAG_KEYWORD) return wrong_syntax(attr, path, "a keyword or name");
  return read_keywords(attr, path, Syntax::kStrict);
}

Result<std::vector<std::string>> read_mime_types(ipp_attribute_t* attr, const std::string& path) {
  if (Status status = expect_tag(attr, path, {IPP_TAG_MIMETYPE}, "a mimeMediaType"); !status) {
    return status.error();
  }
  return string_values(attr);
}

Result<std::vector<int>> read_enums(ipp_attribute_t* attr, const std::string& path, Bounds bounds) {
  if (Status status = expect_tag(attr, path, {IPP_TAG_ENUM}, "an enum"); !status) return status.error();
  std::vector<int> values;
  for (int i = 0; i < ippGetCount(attr); ++i) {
    const int value = ippGetInteger(attr, i);
    if (Status status = check_bounds(value, path, bounds); !status) return status.error();
    values.push_back(value);
  }
  return values;
}

Result<std::vector<IntegerOrRange>> read_integer_or_range_set(ipp_attribute_t* attr, const std::string& path,
                                                              Bounds bounds) {
  std::vector<IntegerOrRange> values;
  for (int i = 0; i < ippGetCount(attr); ++i) {
    auto value = integer_or_range_value(attr, i, path, bounds, Syntax::kStrict);
    if (!value) return value.error();
    values.push_back(*value);
  }
  return values;
}

Result<std::vector<ipp_t*>> read_collections(ipp_attribute_t* attr, const std::string& path) {
  if (ippGetCount(attr) == 1 && is_no_value(attr)) return std::vector<ipp_t*>();
  if (Status status = expect_tag(attr, path, {IPP_TAG_BEGIN_COLLECTION}, "a collection"); !status) {
    return status.error();
  }
  std::vector<ipp_t*> values;
  values.reserve(static_cast<std::size_t>(ippGetCount(attr)));
  for (int i = 0; i < ippGetCount(attr); ++i) values.push_back(ippGetCollection(attr, i));
  return values;
}

ipp_tag_t keyword_or_name_tag(const std::string& text) {
  return is_keyword(text) ? IPP_TAG_KEYWORD : IPP_TAG_NAME;
}

void add_strings(ipp_t* ipp, ipp_tag_t group, ipp_tag_t tag, const char* name,
                 const std::vector<std::string>& values) {
  std::vector<const char*> pointers;
  pointers.reserve(values.size());
  for (const auto& value : values) pointers.push_back(value.c_str());
  ippAddStrings(ipp, group, tag, name, static_cast<int>(pointers.size()), nullptr, pointers.data());
}

void add_integer_or_range(ipp_t* ipp, ipp_tag_t group, const char* name, const IntegerOrRange& value) {
  if (value.is_range) {
    ippAddRange(ipp, group, name, value.lower, value.upper);
  } else {
    ippAddInteger(ipp, group, IPP_TAG_INTEGER, name, value.lower);
  }
}

void add_integer_or_range_set(ipp_t* ipp, ipp_tag_t group, const char* name,
                              const std::vector<IntegerOrRange>& values) {
  const bool any_range = std::any_of(values.begin(), values.end(), [](const auto& v) { return v.is_range; });
  const int count = static_cast<int>(values.size());
  if (any_range) {
    std::vector<int> lower;
    std::vector<int> upper;
    lower.reserve(values.size());
    upper.reserve(values.size());
    for (const auto& v : values) {
      lower.push_back(v.lower);
      upper.push_back(v.upper);
    }
    ippAddRanges(ipp, group, name, count, lower.data(), upper.data());
  } else {
    std::vector<int> singles;
    singles.reserve(values.size());
    for (const auto& v : values) singles.push_back(v.lower);
    ippAddIntegers(ipp, group, IPP_TAG_INTEGER, name, count, singles.data());
  }
}

void add_collections(ipp_t* ipp, ipp_tag_t group, const char* name, const std::vector<IppPtr>& values) {
  std::vector<const ipp_t*> pointers;
  pointers.reserve(values.size());
  for (const auto& value : values) pointers.push_back(value.get());
  ippAddCollections(ipp, group, name, static_cast<int>(pointers.size()), pointers.data());
}

Error missing(const std::string& path) { return attribute_error(path, path + " is missing"); }

Error unknown_member(const std::string& path, std::string_view member, std::string_view type_name) {
  const std::string member_name(member);
  return attribute_error(member_path(path, member), "unknown member " + member_name + " in " + path +
                                                        " (not a " + std::string(type_name) + " member)");
}

Error repeated_member(const std::string& path, std::string_view member) {
  const std::string full = member_path(path, member);
  return attribute_error(full, full + " appears more than once");
}

}  // namespace ipp3d::attributes::detail
