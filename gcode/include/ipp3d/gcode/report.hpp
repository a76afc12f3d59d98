// The gate's verdict on one file: accepted or refused, the violations found
// and the facts about the job (layers, size, temperatures, time).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ipp3d::gcode {

// Rule identifiers, stable strings used in reports, the published policy and
// docs/gcode-policy.md (which explains every rule).
namespace rule {
inline constexpr std::string_view kLineTooLong = "syntax.line-too-long";
inline constexpr std::string_view kNulByte = "syntax.nul-byte";
inline constexpr std::string_view kBinary = "syntax.binary";
inline constexpr std::string_view kBadNumber = "syntax.bad-number";
inline constexpr std::string_view kNotFinite = "syntax.not-finite";
inline constexpr std::string_view kChecksum = "syntax.checksum";
inline constexpr std::string_view kDuplicateWord = "syntax.duplicate-word";
inline constexpr std::string_view kMalformed = "syntax.malformed";
inline constexpr std::string_view kDenied = "command.denied";
inline constexpr std::string_view kUnknown = "command.unknown";
inline constexpr std::string_view kParameter = "command.parameter";
inline constexpr std::string_view kOutOfVolume = "position.out-of-volume";
inline constexpr std::string_view kUnknownPosition = "position.unknown";
inline constexpr std::string_view kArcInvalid = "arc.invalid";
inline constexpr std::string_view kFeedRate = "motion.feed-rate";
inline constexpr std::string_view kVelocity = "motion.velocity-limit";
inline constexpr std::string_view kAcceleration = "motion.acceleration-limit";
inline constexpr std::string_view kJerk = "motion.jerk-limit";
inline constexpr std::string_view kSpeedFactor = "motion.speed-factor";
inline constexpr std::string_view kFlowFactor = "extrusion.flow-factor";
inline constexpr std::string_view kColdExtrusion = "extrusion.cold";
inline constexpr std::string_view kPrinterTemperature = "temperature.printer-limit";
inline constexpr std::string_view kMaterialTemperature = "temperature.material-range";
inline constexpr std::string_view kNoHeater = "temperature.no-heater";
inline constexpr std::string_view kTicketTemperature = "ticket.platform-temperature";
}  // namespace rule

// Every rule identifier above, in the order docs/gcode-policy.md lists them.
const std::vector<std::string_view>& all_rules();

// One broken rule. `line` is 1-based (0 for a whole-file rule), `command` the
// command as written upper-case ("G1", "SET_HEATER_TEMPERATURE"; empty when
// the line could not be parsed), `value` and `limit` are short human-readable
// texts ("305 °C", "280 °C"), `message` one sentence.
struct Violation {
  std::uint64_t line = 0;
  std::string command;
  std::string rule;
  std::string value;
  std::string limit;
  std::string message;
  bool operator==(const Violation&) const = default;
};

// One layer start: its 1-based number, the line and byte offset of the line
// that starts it, and its Z height in mm (NaN when unknown).
struct LayerMark {
  std::uint64_t line = 0;
  std::uint64_t offset = 0;
  double z = 0.0;
  // Equal when line, offset and z agree (two unknown, NaN, heights are equal).
  bool operator==(const LayerMark& other) const {
    return line == other.line && offset == other.offset && (z == other.z || (z != z && other.z != other.z));
  }
};

// An axis-aligned box in mm; `valid` is false when no extruding move was seen.
struct Box {
  double min_x = 0, min_y = 0, min_z = 0, max_x = 0, max_y = 0, max_z = 0;
  bool valid = false;
  bool operator==(const Box&) const = default;
};

// What the file does, computed in the same pass as the check.
struct Facts {
  std::uint64_t bytes = 0;
  std::uint64_t lines = 0;
  std::uint64_t layer_count = 0;  // slicer layer comments, else rises of Z with extrusion
  std::vector<LayerMark> layers;  // at most kMaxLayerMarks entries
  bool layers_truncated = false;  // more layers than kMaxLayerMarks
  Box extrusion_box;              // bounding box of extruding moves (machine coordinates)
  double filament_mm = 0.0;       // net filament pushed into the hotend
  int max_hotend_temp = 0;        // highest target set, °C (0: never heated)
  int max_bed_temp = 0;
  int max_chamber_temp = 0;
  std::string slicer;                       // "PrusaSlicer 2.5.0", empty when unknown
  std::optional<double> slicer_estimate_s;  // the slicer's own print-time estimate
  double computed_estimate_s = 0.0;         // from moves, feed rates and acceleration
  std::optional<bool> supports;             // from slicer comments, when they say
  std::optional<std::string> base;          // "brim", "raft", "skirt" or "none", when they say
  // The estimate to show: the slicer's when present, else the computed one.
  [[nodiscard]] double estimate_s() const { return slicer_estimate_s.value_or(computed_estimate_s); }
  bool operator==(const Facts&) const = default;
};

// Largest number of layer marks a report keeps (bounded memory).
inline constexpr std::size_t kMaxLayerMarks = 20000;
// Largest number of violations a report keeps; `violation_count` counts all.
inline constexpr std::size_t kMaxViolations = 100;

// The verdict. `accepted` is true exactly when `violation_count` is 0.
struct Report {
  bool accepted = true;
  std::vector<Violation> violations;  // the first kMaxViolations, in file order
  std::uint64_t violation_count = 0;
  Facts facts;
  bool operator==(const Report&) const = default;
};

// One line per violation ("line 12: G1: position.out-of-volume: X 230 mm > 220.5 mm ..."),
// for logs and job-state-message.
std::string describe(const Violation& violation);

}  // namespace ipp3d::gcode
