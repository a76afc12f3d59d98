// The motion part of the machine model: G0-G3, G28, G92, M84 and the modal
// state they depend on. Positions are tracked in machine coordinates.
#include "machine.hpp"

#include "format.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace ipp3d::gcode {

using internal::Line;

namespace {

constexpr double kInch = 25.4;
constexpr char kAxisLetter[3] = {'X', 'Y', 'Z'};
constexpr double kTwoPi = 2 * std::numbers::pi;
constexpr double kSamePoint = 1e-6;  // mm: an arc ending where it starts is a full circle

}  // namespace

Machine::Machine(const Limits& limits, const Job& job)
    : limits_(limits),
      job_(job),
      estimator_(limits.gcode.acceleration, limits.gcode.square_corner_velocity, limits.gcode.max_velocity) {
  cold_limit_ = job.material ? job.material->hotend_min : limits.gcode.min_extrude_temp;
  overridden_.assign(limits.macro_commands.begin(), limits.macro_commands.end());
  const config::AxisRange* ranges[3] = {&limits_.volume.x, &limits_.volume.y, &limits_.volume.z};
  for (int i = 0; i < 3; ++i) {
    low_[i] = ranges[i]->min - limits_.gcode.volume_tolerance;
    high_[i] = ranges[i]->max + limits_.gcode.volume_tolerance;
  }
}

// Reads F (mm/min, or in/min in G20) into feed_; false after a violation.
bool Machine::feed_rate(const Line& line) {
  if (!line.has('F')) return true;
  if (!line.has_value('F')) {
    violate(rule::kBadNumber, "F", "a number", "F has no value");
    return false;
  }
  const double speed = line.get('F') * (inches_ ? kInch : 1.0) / 60.0;
  if (!(speed > 0)) {
    violate(rule::kParameter, fmt::mm_s(speed), "> 0 mm/s", "feed rate must be positive");
    return false;
  }
  if (!(speed <= limits_.gcode.max_velocity)) {
    violate(rule::kFeedRate, fmt::mm_s(speed), fmt::mm_s(limits_.gcode.max_velocity),
            "feed rate exceeds the printer's maximum velocity");
    feed_ = limits_.gcode.max_velocity;
    return true;
  }
  feed_ = speed;
  return true;
}

// Computes the machine coordinate of axis `axis` after this line's word; false
// when the word is absent or the position cannot be known (reported).
bool Machine::axis_target(const Line& line, int axis, double& machine) {
  const char letter = kAxisLetter[axis];
  Axis& a = axes_[axis];
  machine = a.position + a.offset;
  if (!line.has(letter)) return false;
  if (!line.has_value(letter)) {
    violate(rule::kBadNumber, std::string(1, letter), "a number", std::string(1, letter) + " has no value");
    return false;
  }
  const double value = line.get(letter) * (inches_ ? kInch : 1.0);
  const bool known = absolute_ ? a.offset_known : a.machine_known;
  a.position = absolute_ ? value : a.position + value;
  a.machine_known = known;
  machine = a.position + a.offset;
  if (!known) {
    violate(rule::kUnknownPosition, std::string(1, letter) + " " + fmt::number(value), "a known position",
            absolute_ ? "the offset of this axis is unknown (G92 before homing)"
                      : "relative move on an axis whose position is unknown (not homed)");
    return false;
  }
  return true;
}

// Reports a machine coordinate outside the build volume (plus tolerance).
void Machine::check_inside(int axis, double machine, std::string_view where) {
  const config::AxisRange& range = axis == 0   ? limits_.volume.x
                                   : axis == 1 ? limits_.volume.y
                                               : limits_.volume.z;
  const double tolerance = limits_.gcode.volume_tolerance;
  if (machine >= range.min - tolerance && machine <= range.max + tolerance) return;
  const bool low = !(machine >= range.min - tolerance);
  violate(rule::kOutOfVolume, std::string(1, kAxisLetter[axis]) + " " + fmt::mm(machine),
          (low ? ">= " + fmt::mm(range.min - tolerance) : "<= " + fmt::mm(range.max + tolerance)),
          std::string(where) + " leaves the build volume");
}

// Applies the E word; returns the extruded length (negative: retraction).
double Machine::extrude(const Line& line) {
  if (!line.has('E')) return 0.0;
  if (!line.has_value('E')) {
    violate(rule::kBadNumber, "E", "a number", "E has no value");
    return 0.0;
  }
  const double value = line.get('E') * (inches_ ? kInch : 1.0);
  const bool relative = !absolute_ || !absolute_e_;
  const double delta = relative ? value : value - e_position_;
  e_position_ = relative ? e_position_ + value : value;
  if (delta > 0 && !(hotend_target_ >= cold_limit_)) {
    violate(rule::kColdExtrusion, "target " + fmt::celsius(hotend_target_), ">= " + fmt::celsius(cold_limit_),
            "extrusion while the hotend target is below the material's minimum");
  }
  return delta;
}

// Updates facts and the estimate for a move from `start` to `end` (machine mm).
void Machine::record_motion(const double start[3], const double end[3], double de, double length) {
  report_.facts.filament_mm += de;
  const bool moves = end[0] != start[0] || end[1] != start[1] || end[2] != start[2];
  if (de > 0 && moves) {
    Box& box = report_.facts.extrusion_box;
    if (!box.valid) {
      box = Box{start[0], start[1], start[2], start[0], start[1], start[2], true};
    }
    box.min_x = std::min({box.min_x, start[0], end[0]});
    box.max_x = std::max({box.max_x, start[0], end[0]});
    box.min_y = std::min({box.min_y, start[1], end[1]});
    box.max_y = std::max({box.max_y, start[1], end[1]});
    box.min_z = std::min({box.min_z, start[2], end[2]});
    box.max_z = std::max({box.max_z, start[2], end[2]});
    z_layer(end[2]);
  }
  if (length >= 0) {
    const double dz = end[2] - start[2];
    const double chord = std::hypot(end[0] - start[0], end[1] - start[1]);
    const double scale = chord > 0 ? length / chord : 1.0;
    estimator_.move((end[0] - start[0]) * scale, (end[1] - start[1]) * scale, dz, de, feed_);
  } else {
    estimator_.move(end[0] - start[0], end[1] - start[1], end[2] - start[2], de, feed_);
  }
}

// G0/G1 when nothing is wrong with it: every word has a value, the feed rate
// is valid, every axis position is known and stays inside the volume, and an
// extrusion has a hot enough target. Computes exactly what move() computes; false
// (nothing changed) otherwise, and move() then does the work and the reports.
bool Machine::fast_move(const Line& line) {
  constexpr std::uint32_t kX = 1U << ('X' - 'A');
  constexpr std::uint32_t kAxes[3] = {kX, kX << 1, kX << 2};
  constexpr std::uint32_t kE = 1U << ('E' - 'A');
  constexpr std::uint32_t kF = 1U << ('F' - 'A');
  if (line.valueless != 0) return false;
  for (const Axis& a : axes_) {
    if (!a.machine_known || !a.offset_known) return false;
  }
  const double scale = inches_ ? kInch : 1.0;
  double feed = feed_;
  if ((line.present & kF) != 0) {
    feed = line.get('F') * scale / 60.0;
    if (!(feed > 0) || !(feed <= limits_.gcode.max_velocity)) return false;
  }
  double start[3];
  double end[3];
  double position[3];
  bool inside = true;
  for (int i = 0; i < 3; ++i) {
    const Axis& a = axes_[i];
    start[i] = a.position + a.offset;
    position[i] = a.position;
    if ((line.present & kAxes[i]) != 0) {
      const double value = line.value['X' - 'A' + i] * scale;
      position[i] = absolute_ ? value : a.position + value;
    }
    end[i] = position[i] + a.offset;
    inside = inside && end[i] >= low_[i] && end[i] <= high_[i];
  }
  if (!inside) return false;
  double de = 0.0;
  double e_position = e_position_;
  if ((line.present & kE) != 0) {
    const double value = line.get('E') * scale;
    const bool relative = !absolute_ || !absolute_e_;
    de = relative ? value : value - e_position_;
    e_position = relative ? e_position_ + value : value;
    if (de > 0 && !(hotend_target_ >= cold_limit_)) return false;
  }
  feed_ = feed;
  for (int i = 0; i < 3; ++i) axes_[i].position = position[i];
  e_position_ = e_position;
  record_motion(start, end, de, -1.0);
  return true;
}

// G0/G1: a straight move.
void Machine::move(const Line& line) {
  if (fast_move(line)) return;
  if (!feed_rate(line)) return;
  double start[3];
  double end[3];
  bool known = true;
  for (int i = 0; i < 3; ++i) {
    start[i] = axes_[i].position + axes_[i].offset;
    if (axis_target(line, i, end[i])) check_inside(i, end[i], "move");
    known = known && axes_[i].machine_known && axes_[i].offset_known;
  }
  const double de = extrude(line);
  if (known) {
    record_motion(start, end, de, -1.0);
  } else {
    report_.facts.filament_mm += de;
  }
}

// G2/G3: an arc in the XY plane (I/J centre offsets or R radius), checked
// along its whole length: every axis extreme the arc passes is tested.
void Machine::arc(const Line& line) {
  if (!feed_rate(line)) return;
  if (!axes_[0].machine_known || !axes_[1].machine_known) {
    violate(rule::kUnknownPosition, "X/Y", "a known position", "arc from an unknown position (not homed)");
    return;
  }
  const bool clockwise = line.code == 2;
  const double scale = inches_ ? kInch : 1.0;
  double start[3];
  double end[3];
  for (int i = 0; i < 3; ++i) start[i] = axes_[i].position + axes_[i].offset;
  for (int i = 0; i < 3; ++i) {
    if (axis_target(line, i, end[i])) {
      check_inside(i, end[i], "arc end");
    } else if (line.has(kAxisLetter[i])) {
      return;
    }
  }
  double cx = 0, cy = 0;
  const bool has_ij = line.has_value('I') || line.has_value('J');
  if (has_ij) {
    cx = start[0] + (line.has_value('I') ? line.get('I') * scale : 0.0);
    cy = start[1] + (line.has_value('J') ? line.get('J') * scale : 0.0);
  } else if (line.has_value('R')) {
    const double r = line.get('R') * scale;
    const double dx = end[0] - start[0], dy = end[1] - start[1];
    const double chord = std::hypot(dx, dy);
    const double h_sq = r * r - chord * chord / 4;
    if (!(chord > kSamePoint) || h_sq < -1e-6 * r * r - 1e-9) {
      violate(rule::kArcInvalid, "R " + fmt::mm(r), ">= " + fmt::mm(chord / 2),
              "arc radius cannot join the end points");
      return;
    }
    const double h = std::sqrt(std::max(h_sq, 0.0)) * ((clockwise == (r > 0)) ? -1.0 : 1.0);
    cx = (start[0] + end[0]) / 2 - h * dy / chord;
    cy = (start[1] + end[1]) / 2 + h * dx / chord;
  } else {
    violate(rule::kArcInvalid, "no I, J or R", "I/J or R", "arc without centre or radius");
    return;
  }
  const double radius = std::hypot(start[0] - cx, start[1] - cy);
  const double a0 = std::atan2(start[1] - cy, start[0] - cx);
  const double a1 = std::atan2(end[1] - cy, end[0] - cx);
  double sweep = clockwise ? a0 - a1 : a1 - a0;
  sweep = std::fmod(sweep + 2 * kTwoPi, kTwoPi);
  if (sweep < 1e-12 && has_ij) sweep = kTwoPi;  // same start and end: a full circle
  for (int k = 0; k < 4; ++k) {
    const double theta = k * std::numbers::pi / 2;
    const double from_start = std::fmod((clockwise ? a0 - theta : theta - a0) + 2 * kTwoPi, kTwoPi);
    if (from_start > sweep) continue;
    const double x = cx + radius * std::cos(theta);
    const double y = cy + radius * std::sin(theta);
    if (k % 2 == 0) {
      check_inside(0, x, "arc");
    } else {
      check_inside(1, y, "arc");
    }
  }
  const double de = extrude(line);
  record_motion(start, end, de, radius * sweep);
}

// G28: homes the named axes (all when none is named).
void Machine::home(const Line& line) {
  const bool any = line.has('X') || line.has('Y') || line.has('Z');
  const double home[3] = {limits_.home.x, limits_.home.y, limits_.home.z};
  for (int i = 0; i < 3; ++i) {
    if (any && !line.has(kAxisLetter[i])) continue;
    Axis& a = axes_[i];
    a.machine_known = true;
    // Marlin clears a G92 offset on homing, Klipper keeps it: a non-zero offset becomes unknown.
    if (!a.offset_known || a.offset != 0.0) a.offset_known = false;
    a.position = home[i] - (a.offset_known ? 0.0 : a.offset);
  }
  estimator_.dwell(0.0);
}

// G92: sets the logical position of the named axes without moving.
void Machine::set_position(const Line& line) {
  if (!line.has('X') && !line.has('Y') && !line.has('Z') && !line.has('E')) {
    violate(rule::kParameter, "G92", "an axis",
            "G92 without axes means different things in Klipper and Marlin");
    return;
  }
  const double scale = inches_ ? kInch : 1.0;
  for (int i = 0; i < 3; ++i) {
    const char letter = kAxisLetter[i];
    if (!line.has(letter)) continue;
    if (!line.has_value(letter)) {
      violate(rule::kBadNumber, std::string(1, letter), "a number", std::string(1, letter) + " has no value");
      continue;
    }
    Axis& a = axes_[i];
    const double machine = a.position + a.offset;
    a.position = line.get(letter) * scale;
    a.offset_known = a.machine_known;
    a.offset = machine - a.position;
  }
  if (line.has('E')) {
    if (!line.has_value('E')) {
      violate(rule::kBadNumber, "E", "a number", "E has no value");
    } else {
      e_position_ = line.get('E') * scale;
    }
  }
}

// M18/M84: motors off; the named axes (all by default) lose their position.
void Machine::motors_off(const Line& line) {
  const bool any = line.has('X') || line.has('Y') || line.has('Z') || line.has('E');
  if (!any && line.has('S')) return;  // only sets the idle timeout
  for (int i = 0; i < 3; ++i) {
    if (!any || line.has(kAxisLetter[i])) axes_[i].machine_known = false;
  }
}

// G4: dwell P milliseconds or S seconds.
void Machine::dwell(const Line& line) {
  double seconds = 0.0;
  if (line.has_value('P')) seconds = line.get('P') / 1000.0;
  if (line.has_value('S')) seconds += line.get('S');
  if (!(seconds >= 0)) {
    violate(rule::kParameter, fmt::number(seconds) + " s", ">= 0 s", "negative dwell");
    return;
  }
  estimator_.dwell(seconds);
}

}  // namespace ipp3d::gcode
