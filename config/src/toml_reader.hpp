// Private to ipp3d_config: typed reading of one TOML table with key-path
// error reporting (wrong type, missing required key, unknown key).
#pragma once

#include "diagnostics.hpp"

#include <toml++/toml.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ipp3d::config::internal {

// Whether a key must be present.
enum class Need { kOptional, kRequired };

// A [min, max] pair of integers, as in hotend_temp = [190, 230].
using IntPair = std::pair<int, int>;

// The 1-based line where `node` starts (0 when unknown).
long line_of(const toml::node& node);

// Reads the keys of one table. Every key asked for counts as known; finish()
// reports the others as unknown. Values that are present but of the wrong type
// are reported and leave the output unchanged.
class TableReader {
 public:
  TableReader(const toml::table& table, std::string path, Diagnostics& diagnostics);

  // The key path of this table, e.g. "printer[0].volume".
  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] Diagnostics& diagnostics() const { return diagnostics_; }

  // Typed readers: return true when the key was present and had the right type.
  bool read(std::string_view key, std::string& out, Need need = Need::kOptional);
  bool read(std::string_view key, bool& out, Need need = Need::kOptional);
  bool read(std::string_view key, int& out, Need need = Need::kOptional);
  bool read(std::string_view key, double& out, Need need = Need::kOptional);  // integer or float
  bool read(std::string_view key, std::vector<std::string>& out, Need need = Need::kOptional);
  bool read(std::string_view key, IntPair& out, Need need = Need::kOptional);

  // Reads an optional key into an std::optional (left nullopt when absent or wrong).
  template <class T>
  bool read(std::string_view key, std::optional<T>& out) {
    T value{};
    if (!read(key, value, Need::kOptional)) return false;
    out = std::move(value);
    return true;
  }

  // A sub-table; nullptr when absent (reported if required) or not a table.
  const toml::table* table(std::string_view key, Need need = Need::kOptional);

  // An array whose elements are all tables ([[key]] or [{...}, ...]);
  // nullptr when absent (reported if required) or of the wrong type.
  const toml::array* table_array(std::string_view key, Need need = Need::kOptional);

  // Reports every key of the table that no read()/table() call asked for.
  void finish() const;

 private:
  // Marks `key` known and returns its node; reports it when required and absent.
  const toml::node* find(std::string_view key, Need need);
  // Reports that `key` holds a value of the wrong type.
  void wrong_type(std::string_view key, const toml::node& node, std::string_view expected);

  const toml::table& table_;
  std::string path_;
  Diagnostics& diagnostics_;
  std::vector<std::string> known_;
};

// "a string", "an integer", ... for messages.
std::string_view type_name(const toml::node& node);

}  // namespace ipp3d::config::internal
