// libFuzzer target for the G-code gate: any input must be checked without a
// crash, sanitizer report or unbounded memory, and the report must not depend
// on where the input is cut into chunks (the first byte picks the chunk size).
#include "ipp3d/config/config.hpp"
#include "ipp3d/gcode/checker.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

// The README's printer, with a short line limit so that overlong lines are reached.
const ipp3d::gcode::Limits& limits() {
  static const ipp3d::gcode::Limits kLimits = [] {
    auto printer = ipp3d::config::default_config().printers.front();
    printer.limits.max_line_length = 80;
    printer.limits.overridden_commands = {"M109"};
    return ipp3d::gcode::limits_for(printer);
  }();
  return kLimits;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t chunk = 1 + data[0] % 17;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  const ipp3d::gcode::Job job{ipp3d::gcode::MaterialRange{"pla", 190, 230, 50, 70}, 60};
  const ipp3d::gcode::Report whole = ipp3d::gcode::check_text(text, limits(), job);
  ipp3d::gcode::Checker checker(limits(), job);
  for (std::size_t i = 0; i < text.size(); i += chunk) checker.feed(text.substr(i, chunk));
  const ipp3d::gcode::Report pieces = checker.finish();
  if (!(whole == pieces)) std::abort();
  return 0;
}
