// The G-code gate: a streaming checker that reads a file once, in chunks of
// any size, with memory bounded by the configured maximum line length.
#pragma once

#include "ipp3d/gcode/limits.hpp"
#include "ipp3d/gcode/report.hpp"
#include "ipp3d/result.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace ipp3d::gcode {

class Machine;
namespace internal {
struct Line;
}  // namespace internal

// Checks one file. Feed it the bytes in order, in chunks of any size (the
// report does not depend on where chunks are cut), then call finish() once.
// Never throws; memory stays bounded whatever the input.
class Checker {
 public:
  Checker(const Limits& limits, const Job& job);
  ~Checker();
  Checker(const Checker&) = delete;
  Checker& operator=(const Checker&) = delete;
  Checker(Checker&&) noexcept;
  Checker& operator=(Checker&&) noexcept;

  // Checks the next bytes of the file. Must not be called after finish().
  void feed(std::string_view chunk);

  // Checks the last line (a file need not end in a newline) and the
  // whole-file rules, and returns the verdict.
  Report finish();

 private:
  // Checks complete lines in [begin, end); end[-1] is '\n'.
  void scan(const char* begin, const char* end);

  // Counts and reports an overlong line whose bytes are not kept.
  void drop_line(std::size_t length);

  std::unique_ptr<Machine> machine_;
  std::unique_ptr<internal::Line> line_;  // reused for every line
  std::string carry_;                     // the start of a line split across chunks
  bool skipping_ = false;                 // inside an overlong line: drop bytes until '\n'
  std::size_t max_line_ = 0;              // limits.gcode.max_line_length
  std::uint64_t bytes_ = 0;               // bytes fed
  std::uint64_t offset_ = 0;              // offset of the next line
  std::uint64_t lines_ = 0;               // lines seen
};

// Reads and checks a whole file with a 1 MiB buffer. An error (status
// internal) when the file cannot be opened or read.
Result<Report> check_file(const std::filesystem::path& path, const Limits& limits, const Job& job);

// Checks text held in memory (tests, small files).
Report check_text(std::string_view text, const Limits& limits, const Job& job);

}  // namespace ipp3d::gcode
