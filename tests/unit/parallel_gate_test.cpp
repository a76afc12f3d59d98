// The two-thread gate gives exactly the single-threaded gate's report, for
// the shared samples and for a file with violations, however it is fed.
#include "intake/parallel_gate.hpp"

#include "ipp3d/config/config.hpp"
#include "ipp3d/gcode/limits.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>

namespace ipp3d::server {
namespace {

std::string sample(const std::string& name) {
  std::ifstream in(std::string(IPP3D_TESTDATA_DIR) + "/gcode/" + name, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The parallel gate's report on `text` fed in pieces of `piece` bytes.
gcode::Report parallel_report(const std::string& text, const gcode::Limits& limits, const gcode::Job& job,
                              std::size_t piece) {
  ParallelGate gate(limits, job);
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(text.data());
  for (std::size_t at = 0; at < text.size(); at += piece) {
    gate.feed({bytes + at, std::min(piece, text.size() - at)});
  }
  return gate.finish();
}

TEST(ParallelGate, GivesTheSingleThreadedReport) {
  config::PrinterConfig printer = config::default_config().printers.front();
  printer.volume.z.max = 300;
  const gcode::Limits limits = gcode::limits_for(printer);
  const gcode::Job job{gcode::find_material(printer, "petg-generic").value(), std::nullopt};
  std::string bad = sample("torus-curaengine-marlin.gcode");
  bad.insert(bad.find('\n') + 1, "M104 S400\nSAVE_CONFIG\n");
  for (const auto& text :
       {sample("box-prusaslicer-marlin.gcode"), sample("torus-curaengine-marlin.gcode"), bad}) {
    const gcode::Report expected = gcode::check_text(text, limits, job);
    for (const std::size_t piece : {std::size_t{1} << 20, std::size_t{300001}, std::size_t{4093}}) {
      EXPECT_EQ(parallel_report(text, limits, job, piece), expected) << "piece " << piece;
    }
  }
}

TEST(ParallelGate, StopsCleanlyWithoutFinish) {
  const gcode::Limits limits = gcode::limits_for(config::default_config().printers.front());
  ParallelGate gate(limits, gcode::Job{});
  const std::string text = "G28\nG1 X10 Y10 F3000\n";
  gate.feed({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
}

}  // namespace
}  // namespace ipp3d::server
