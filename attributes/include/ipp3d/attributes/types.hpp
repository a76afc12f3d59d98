// Value types of the PWG 5100.21 attribute model: integer-or-range values,
// build volume, accuracy and print-objects members.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace ipp3d::attributes {

// An IPP value of syntax "integer | rangeOfInteger". A single integer is kept
// as such (is_range == false, lower == upper) so that encoding round-trips.
struct IntegerOrRange {
  int lower = 0;
  int upper = 0;
  bool is_range = false;

  // A single integer value.
  static constexpr IntegerOrRange single(int value) { return {value, value, false}; }
  // A rangeOfInteger value; requires lower <= upper.
  static constexpr IntegerOrRange range(int lower, int upper) { return {lower, upper, true}; }
  // True when value lies in [lower, upper].
  [[nodiscard]] constexpr bool contains(int value) const { return value >= lower && value <= upper; }
  // True when [other.lower, other.upper] lies inside this value.
  [[nodiscard]] constexpr bool contains(const IntegerOrRange& other) const {
    return other.lower >= lower && other.upper <= upper;
  }
  // "210" or "190-230", as used in error messages.
  [[nodiscard]] std::string to_string() const;

  bool operator==(const IntegerOrRange&) const = default;
};

// True when `value` lies in any element of a "1setOf (integer | rangeOfInteger)"
// supported attribute. An empty set supports nothing.
bool any_contains(const std::vector<IntegerOrRange>& supported, int value);

// Formats a supported set for messages: "0, 190-260".
std::string to_string(const std::vector<IntegerOrRange>& supported);

// printer-volume-supported: the build volume in hundredths of a millimetre.
struct BuildVolume {
  int x_dimension = 0;
  int y_dimension = 0;
  int z_dimension = 0;
  bool operator==(const BuildVolume&) const = default;
};

// print-accuracy / print-accuracy-supported / print-accuracy-default (§8.1.5).
// accuracy-units is "mm", "um" or "nm"; each accuracy is integer(0:MAX) in
// those units, 0 meaning better than one unit. Members may be omitted.
struct PrintAccuracy {
  std::optional<std::string> accuracy_units;
  std::optional<int> x_accuracy;
  std::optional<int> y_accuracy;
  std::optional<int> z_accuracy;
  bool operator==(const PrintAccuracy&) const = default;
};

// object-offset member of print-objects, hundredths of a millimetre.
struct ObjectOffset {
  int x_offset = 0;
  int y_offset = 0;
  int z_offset = 0;
  bool operator==(const ObjectOffset&) const = default;
};

// print-objects (§8.1.6): one object of the document to print.
struct PrintObject {
  std::optional<int> document_number;         // integer(1:MAX)
  std::optional<ObjectOffset> object_offset;  // 1/100 mm, each integer(0:MAX)
  std::optional<BuildVolume> object_size;     // x-/y-/z-dimension, 1/100 mm, integer(1:MAX)
  std::optional<std::string> object_uuid;     // uri, "urn:uuid:..." (45 octets)
  bool operator==(const PrintObject&) const = default;
};

}  // namespace ipp3d::attributes
