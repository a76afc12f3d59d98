// Private to ipp3d_config: collects configuration errors with their key path
// and source line, shared by the TOML reader and the semantic checks.
#pragma once

#include "ipp3d/config/config.hpp"

#include <map>
#include <string>
#include <vector>

namespace ipp3d::config::internal {

// Collects errors for one configuration source. The reader records the line of
// every key path it sees and reports structural errors (syntax, type, unknown
// or missing key); such paths become "bad", and later semantic checks on a
// bad path (or on a path above or below one) are dropped, so that one mistake
// gives one message.
class Diagnostics {
 public:
  // `source` names the file in messages; empty for a Config built in code.
  explicit Diagnostics(std::string source);

  // Remembers the line where `path` is written.
  void record_line(const std::string& path, long line);

  // Reports a structural error at `line` and marks `path` bad.
  void report(const std::string& path, long line, const std::string& reason);

  // Reports a semantic error; the line is that of `path` or of its nearest
  // recorded parent. Dropped when is_bad(path).
  void check(const std::string& path, const std::string& reason);

  // True when `path`, one of its parents or one of its children was
  // reported bad.
  [[nodiscard]] bool is_bad(const std::string& path) const;

  // The errors reported so far, in order.
  [[nodiscard]] const ConfigErrors& errors() const { return errors_; }

 private:
  // The recorded line of `path` or of its nearest recorded parent, else 0.
  [[nodiscard]] long line_of(std::string path) const;
  // Appends one Error with the "SOURCE:LINE: KEY: REASON" message.
  void add(const std::string& path, long line, const std::string& reason);

  std::string source_;
  std::map<std::string, long> lines_;
  std::vector<std::string> bad_paths_;
  ConfigErrors errors_;
};

// Runs every semantic check of the schema (ranges, name syntax, uniqueness,
// cross references) on `config`, reporting into `diagnostics`.
void validate(const Config& config, Diagnostics& diagnostics);

// Joins a key path and a member name: ("printer[0]", "name") -> "printer[0].name".
std::string join_path(const std::string& parent, std::string_view key);

// Appends an index: ("printer", 2) -> "printer[2]".
std::string index_path(const std::string& parent, std::size_t index);

}  // namespace ipp3d::config::internal
