// Private: the machine model of the gate. It executes parsed lines against a
// model of the printer (modal state, positions, heater targets), records
// violations and gathers the job facts.
#pragma once

#include "ipp3d/gcode/limits.hpp"
#include "ipp3d/gcode/report.hpp"

#include "estimator.hpp"
#include "line_parser.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ipp3d::gcode {

// Heaters the gate knows.
enum class Heater : unsigned char { kHotend, kBed, kChamber };

// See the file comment. Not part of the public API; `Checker` owns one.
class Machine {
 public:
  Machine(const Limits& limits, const Job& job);

  // Executes one parsed line (1-based `number`, byte `offset` of its start).
  void execute(const internal::Line& line, std::uint64_t number, std::uint64_t offset);

  // Records a line longer than the limit (it is not executed).
  void line_too_long(std::uint64_t number);

  // Applies the whole-file rules and returns the verdict.
  Report finish(std::uint64_t bytes, std::uint64_t lines);

 private:
  // One of X, Y, Z: the logical (G-code) position and its offset to machine coordinates.
  struct Axis {
    double position = 0.0;  // logical
    double offset = 0.0;    // machine = logical + offset
    bool machine_known = false;
    bool offset_known = true;
  };

  // commands.cpp: dispatch and the limit-setting commands.
  void classic(const internal::Line& line);
  void g_code(const internal::Line& line);
  void m_code(const internal::Line& line);
  void extended(const internal::Line& line);
  bool builtin_extended(std::string_view name, const internal::Line& line);
  bool macro(std::string_view name, const internal::Line& line);
  void denied_or_unknown(std::string_view name, const internal::Line& line);
  void velocity_limits(const internal::Line& line);                              // M203
  void acceleration_limits(const internal::Line& line, std::string_view words);  // M201, M204
  void jerk_limits(const internal::Line& line);                                  // M205
  void factor(const internal::Line& line, bool speed);                           // M220, M221
  void set_velocity_limit(const internal::Line& line);
  void check_max(double value, double limit, std::string_view rule, std::string_view what,
                 std::string_view unit);

  // machine.cpp: motion and modal state.
  void move(const internal::Line& line);
  bool fast_move(const internal::Line& line);
  void arc(const internal::Line& line);
  void home(const internal::Line& line);
  void set_position(const internal::Line& line);
  void motors_off(const internal::Line& line);
  void dwell(const internal::Line& line);
  bool feed_rate(const internal::Line& line);
  bool axis_target(const internal::Line& line, int axis, double& machine);
  void check_inside(int axis, double machine, std::string_view where);
  double extrude(const internal::Line& line);
  void record_motion(const double start[3], const double end[3], double de, double length);

  // temperatures.cpp: heater targets and macros' temperature parameters.
  void heater_command(const internal::Line& line, Heater heater);
  void set_heater_temperature(const internal::Line& line);
  void temperature_wait(const internal::Line& line);
  void set_target(Heater heater, double value, std::string_view source);
  bool check_printer_range(Heater heater, double value, std::string_view source);
  bool param_number(const internal::Param& param, double& value);

  // facts.cpp: slicer comments and layers.
  void comment(std::string_view text);
  void layer_comment(std::vector<LayerMark>& marks, std::uint64_t& count);
  void z_layer(double z);

  // Violations.
  void violate(std::string_view rule, std::string value, std::string limit, std::string message);
  [[nodiscard]] std::string command_name() const;

  Limits limits_;
  Job job_;
  internal::Estimator estimator_;
  Report report_;

  // Current line.
  const internal::Line* line_ = nullptr;
  std::uint64_t number_ = 0;
  std::uint64_t offset_ = 0;

  // The volume with its tolerance, per axis (machine coordinates).
  double low_[3] = {};
  double high_[3] = {};

  // Modal state.
  Axis axes_[3];
  double e_position_ = 0.0;
  bool absolute_ = true;
  bool absolute_e_ = true;
  bool inches_ = false;
  double feed_ = 25.0;  // mm/s
  double hotend_target_ = 0.0;
  double cold_limit_ = 0.0;
  std::vector<std::string> overridden_;  // sorted upper-case classic commands replaced by macros

  // Facts.
  std::vector<LayerMark> change_marks_, colon_marks_, z_marks_;
  std::uint64_t change_count_ = 0, colon_count_ = 0, z_count_ = 0;
  double last_layer_z_ = -1e300;
  bool pending_layer_z_ = false;
  std::optional<int> raft_layers_, brim_width_, skirts_;
  std::optional<double> cura_time_s_, cura_elapsed_s_;
};

}  // namespace ipp3d::gcode
