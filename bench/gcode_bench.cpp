// Benchmark of the G-code gate (parse + every rule + facts) on a >= 200 MB
// corpus built at start-up from the shared PLA samples (bunny and torus,
// repeated; every copy is accepted). Run: build/bench/gcode_bench
// (docs/performance.md records the figures).
#include "ipp3d/config/config.hpp"
#include "ipp3d/gcode/checker.hpp"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <unistd.h>

namespace {

constexpr std::size_t kCorpusBytes = std::size_t{200} * 1000 * 1000;
constexpr std::size_t kChunk = std::size_t{1} << 20;

// Reads a whole file.
std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The corpus: the two PLA samples repeated until it holds kCorpusBytes.
const std::string& corpus() {
  static const std::string kText = [] {
    const std::filesystem::path dir = std::filesystem::path(IPP3D_TESTDATA_DIR) / "gcode";
    const std::string unit =
        read_file(dir / "bunny-prusaslicer-klipper.gcode") + read_file(dir / "torus-curaengine-marlin.gcode");
    std::string text;
    text.reserve(kCorpusBytes + unit.size());
    while (!unit.empty() && text.size() < kCorpusBytes) text += unit;
    return text;
  }();
  return kText;
}

// The corpus written to a temporary file (removed at exit).
const std::filesystem::path& corpus_file() {
  static const std::filesystem::path kPath = [] {
    const auto path =
        std::filesystem::temp_directory_path() / ("ipp3d-gcode-bench-" + std::to_string(::getpid()));
    std::ofstream(path, std::ios::binary) << corpus();
    std::atexit([] { std::filesystem::remove(corpus_file()); });
    return path;
  }();
  return kPath;
}

// The printer of the samples' README with PLA.
const ipp3d::gcode::Limits& limits() {
  static const auto kLimits = ipp3d::gcode::limits_for(ipp3d::config::default_config().printers.front());
  return kLimits;
}
const ipp3d::gcode::Job& job() {
  static const ipp3d::gcode::Job kJob{
      ipp3d::gcode::find_material(ipp3d::config::default_config().printers.front(), "pla-generic").value(),
      {}};
  return kJob;
}

// Parse + check of the in-memory corpus fed in 1 MiB chunks (one core).
void BM_CheckInMemory(benchmark::State& state) {
  const std::string& text = corpus();
  for (auto _ : state) {
    ipp3d::gcode::Checker checker(limits(), job());
    for (std::size_t i = 0; i < text.size(); i += kChunk)
      checker.feed(std::string_view(text).substr(i, kChunk));
    const auto report = checker.finish();
    if (!report.accepted) state.SkipWithError("the corpus was refused");
    benchmark::DoNotOptimize(report.facts.layer_count);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_CheckInMemory)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(3.0);

// check_file(): read() with a 1 MiB buffer (page cache) + parse + check.
void BM_CheckFile(benchmark::State& state) {
  const auto& path = corpus_file();
  for (auto _ : state) {
    const auto report = ipp3d::gcode::check_file(path, limits(), job());
    if (!report.ok() || !report->accepted) state.SkipWithError("the corpus was refused or unreadable");
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * corpus().size()));
}
BENCHMARK(BM_CheckFile)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(3.0);

}  // namespace

BENCHMARK_MAIN();
