// The gate on real slicer output (../shared/testdata/gcode): every sample is
// accepted with a configuration matching its README, and the facts agree
// with what the slicer says about the file.
#include "ipp3d/config/config.hpp"
#include "ipp3d/gcode/checker.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>

namespace ipp3d::gcode {
namespace {

const std::filesystem::path kSamples = std::filesystem::path(IPP3D_TESTDATA_DIR) / "gcode";

// One sample and the material it is sliced for.
struct Sample {
  const char* file;
  const char* material;
  const char* slicer;
  double slicer_estimate_s;
  int layers;
  int hotend;
  int bed;
};

const Sample kSampleFiles[] = {
    {"bunny-prusaslicer-klipper.gcode", "pla-generic", "PrusaSlicer 2.5.0", 4 * 3600 + 49 * 60 + 40, 536, 210,
     60},
    {"box-prusaslicer-marlin.gcode", "petg-generic", "PrusaSlicer 2.5.0", 40 * 60 + 7, 166, 245, 80},
    {"torus-curaengine-marlin.gcode", "pla-generic", "Cura_SteamEngine 4.13.0", 689.236669, 28, 215, 60},
};

// The built-in configuration is the README's printer (220 x 220 x 250 mm,
// hotend 0-280 °C, bed 0-110 °C, PRINT_START/PRINT_END, PLA and PETG).
config::PrinterConfig sample_printer() { return config::default_config().printers.front(); }

// Reads a whole file.
std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class SampleFile : public ::testing::TestWithParam<Sample> {};

TEST_P(SampleFile, IsAcceptedWithItsMaterial) {
  const Sample& s = GetParam();
  const auto printer = sample_printer();
  const auto material = find_material(printer, s.material);
  ASSERT_TRUE(material.ok());
  const auto report = check_file(kSamples / s.file, limits_for(printer), Job{*material, std::nullopt});
  ASSERT_TRUE(report.ok()) << report.error().message;
  for (const auto& v : report->violations) ADD_FAILURE() << describe(v);
  EXPECT_TRUE(report->accepted);
  EXPECT_EQ(report->violation_count, 0U);
}

TEST_P(SampleFile, FactsMatchTheSlicer) {
  const Sample& s = GetParam();
  const auto printer = sample_printer();
  const auto report = check_file(kSamples / s.file, limits_for(printer), Job{});
  ASSERT_TRUE(report.ok());
  const Facts& f = report->facts;
  EXPECT_EQ(f.slicer, s.slicer);
  ASSERT_TRUE(f.slicer_estimate_s.has_value());
  EXPECT_DOUBLE_EQ(*f.slicer_estimate_s, s.slicer_estimate_s);
  EXPECT_NEAR(f.computed_estimate_s, s.slicer_estimate_s, 0.2 * s.slicer_estimate_s)
      << "computed " << f.computed_estimate_s << " s";
  EXPECT_EQ(f.max_hotend_temp, s.hotend);
  EXPECT_EQ(f.max_bed_temp, s.bed);
  EXPECT_GT(f.layer_count, 10U);
  EXPECT_EQ(f.layer_count, static_cast<unsigned>(s.layers));
  EXPECT_EQ(f.layers.size(), f.layer_count);
  ASSERT_TRUE(f.extrusion_box.valid);
  EXPECT_GE(f.extrusion_box.min_x, 0.0);
  EXPECT_LE(f.extrusion_box.max_x, 220.0);
  EXPECT_GT(f.filament_mm, 100.0);
  EXPECT_EQ(f.bytes, std::filesystem::file_size(kSamples / s.file));
  // The layer index points at the lines that start each layer.
  const std::string text = read_file(kSamples / s.file);
  for (const LayerMark& mark : f.layers) {
    ASSERT_LT(mark.offset, text.size());
    EXPECT_TRUE(mark.offset == 0 || text[mark.offset - 1] == '\n');
  }
  std::cout << s.file << ": layers " << f.layer_count << ", computed " << f.computed_estimate_s
            << " s, slicer " << *f.slicer_estimate_s << " s, filament " << f.filament_mm << " mm, box "
            << f.extrusion_box.min_x << ".." << f.extrusion_box.max_x << " x " << f.extrusion_box.min_y
            << ".." << f.extrusion_box.max_y << " x " << f.extrusion_box.min_z << ".."
            << f.extrusion_box.max_z << "\n";
}

TEST_P(SampleFile, ChunkingDoesNotChangeTheReport) {
  const Sample& s = GetParam();
  const auto limits = limits_for(sample_printer());
  const std::string text = read_file(kSamples / s.file);
  const Report whole = check_text(text, limits, Job{});
  for (const std::size_t chunk : {std::size_t{1}, std::size_t{7}, std::size_t{4096}, std::size_t{65537}}) {
    Checker checker(limits, Job{});
    const std::size_t limit = chunk == 1 ? 200000 : text.size();  // byte-by-byte on a prefix only (time)
    if (chunk == 1) {
      const Report prefix_whole = check_text(std::string_view(text).substr(0, limit), limits, Job{});
      for (std::size_t i = 0; i < limit; ++i) checker.feed(std::string_view(text).substr(i, 1));
      EXPECT_EQ(checker.finish(), prefix_whole);
      continue;
    }
    for (std::size_t i = 0; i < limit; i += chunk) checker.feed(std::string_view(text).substr(i, chunk));
    EXPECT_EQ(checker.finish(), whole) << "chunk " << chunk;
  }
}

// Test names: the sample's first word ("bunny", "box", "torus").
std::string sample_name(const ::testing::TestParamInfo<Sample>& param) {
  const std::string file = param.param.file;
  return file.substr(0, file.find('-'));
}

INSTANTIATE_TEST_SUITE_P(Shared, SampleFile, ::testing::ValuesIn(kSampleFiles), sample_name);

}  // namespace
}  // namespace ipp3d::gcode
