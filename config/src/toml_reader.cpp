// Typed reading of TOML tables with key-path error reporting.
#include "toml_reader.hpp"

#include <algorithm>
#include <limits>

namespace ipp3d::config::internal {

namespace {

// The TOML header spelling of a key path: "printer[0].material" -> "printer.material".
std::string header_name(const std::string& path) {
  std::string name;
  bool in_index = false;
  for (const char c : path) {
    if (c == '[') in_index = true;
    if (!in_index) name += c;
    if (c == ']') in_index = false;
  }
  return name;
}

}  // namespace

long line_of(const toml::node& node) { return static_cast<long>(node.source().begin.line); }

std::string_view type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

TableReader::TableReader(const toml::table& table, std::string path, Diagnostics& diagnostics)
    : table_(table), path_(std::move(path)), diagnostics_(diagnostics) {
  diagnostics_.record_line(path_, line_of(table_));
}

const toml::node* TableReader::find(std::string_view key, Need need) {
  known_.emplace_back(key);
  const toml::node* node = table_.get(key);
  const std::string child = join_path(path_, key);
  if (node == nullptr) {
    if (need == Need::kRequired) diagnostics_.report(child, line_of(table_), "required key is missing");
    return nullptr;
  }
  diagnostics_.record_line(child, line_of(*node));
  return node;
}

void TableReader::wrong_type(std::string_view key, const toml::node& node, std::string_view expected) {
  diagnostics_.report(join_path(path_, key), line_of(node),
                      "expected " + std::string(expected) + ", got " + std::string(type_name(node)));
}

bool TableReader::read(std::string_view key, std::string& out, Need need) {
  const toml::node* node = find(key, need);
  if (node == nullptr) return false;
  if (const auto* value = node->as_string()) {
    out = value->get();
    return true;
  }
  wrong_type(key, *node, "a string");
  return false;
}

bool TableReader::read(std::string_view key, bool& out, Need need) {
  const toml::node* node = find(key, need);
  if (node == nullptr) return false;
  if (const auto* value = node->as_boolean()) {
    out = value->get();
    return true;
  }
  wrong_type(key, *node, "a boolean (true or false)");
  return false;
}

bool TableReader::read(std::string_view key, int& out, Need need) {
  const toml::node* node = find(key, need);
  if (node == nullptr) return false;
  const auto* value = node->as_integer();
  if (value == nullptr) {
    wrong_type(key, *node, "an integer");
    return false;
  }
  const int64_t number = value->get();
  if (number < std::numeric_limits<int>::min() || number > std::numeric_limits<int>::max()) {
    diagnostics_.report(join_path(path_, key), line_of(*node), std::to_string(number) + " is out of range");
    return false;
  }
  out = static_cast<int>(number);
  return true;
}

bool TableReader::read(std::string_view key, double& out, Need need) {
  const toml::node* node = find(key, need);
  if (node == nullptr) return false;
  if (const auto* value = node->as_floating_point()) {
    out = value->get();
    return true;
  }
  if (const auto* value = node->as_integer()) {
    out = static_cast<double>(value->get());
    return true;
  }
  wrong_type(key, *node, "a number");
  return false;
}

bool TableReader::read(std::string_view key, std::vector<std::string>& out, Need need) {
  const toml::node* node = find(key, need);
  if (node == nullptr) return false;
  const auto* array = node->as_array();
  if (array == nullptr) {
    wrong_type(key, *node, "an array of strings");
    return false;
  }
  bool ok = true;
  std::vector<std::string> values;
  for (std::size_t i = 0; i < array->size(); ++i) {
    const toml::node& element = *array->get(i);
    if (const auto* text = element.as_string()) {
      values.push_back(text->get());
    } else {
      diagnostics_.report(index_path(join_path(path_, key), i), line_of(element),
                          "expected a string, got " + std::string(type_name(element)));
      ok = false;
    }
  }
  if (ok) out = std::move(values);
  return ok;
}

bool TableReader::read(std::string_view key, IntPair& out, Need need) {
  const toml::node* node = find(key, need);
  if (node == nullptr) return false;
  const auto* array = node->as_array();
  const bool ok =
      array != nullptr && array->size() == 2 && array->get(0)->is_integer() && array->get(1)->is_integer();
  if (!ok) {
    const std::string got = array != nullptr ? "an array of " + std::to_string(array->size()) + " values"
                                             : std::string(type_name(*node));
    diagnostics_.report(join_path(path_, key), line_of(*node),
                        "expected an array of two integers [min, max], got " + got);
    return false;
  }
  const int64_t low = array->get(0)->as_integer()->get();
  const int64_t high = array->get(1)->as_integer()->get();
  constexpr int64_t kMin = std::numeric_limits<int>::min();
  constexpr int64_t kMax = std::numeric_limits<int>::max();
  if (low < kMin || low > kMax || high < kMin || high > kMax) {
    diagnostics_.report(join_path(path_, key), line_of(*node), "values are out of range");
    return false;
  }
  out = {static_cast<int>(low), static_cast<int>(high)};
  return true;
}

const toml::table* TableReader::table(std::string_view key, Need need) {
  const toml::node* node = find(key, need);
  if (node == nullptr) return nullptr;
  if (const auto* sub = node->as_table()) return sub;
  wrong_type(key, *node, "a table");
  return nullptr;
}

const toml::array* TableReader::table_array(std::string_view key, Need need) {
  const toml::node* node = find(key, need);
  if (node == nullptr) return nullptr;
  const auto* array = node->as_array();
  if (array != nullptr && array->is_array_of_tables()) return array;
  if (array != nullptr && array->empty()) return array;
  wrong_type(key, *node, "an array of tables ([[" + header_name(join_path(path_, key)) + "]])");
  return nullptr;
}

void TableReader::finish() const {
  std::string allowed;
  for (const auto& key : known_) allowed += (allowed.empty() ? "" : ", ") + key;
  for (const auto& [key, node] : table_) {
    if (std::find(known_.begin(), known_.end(), key.str()) != known_.end()) continue;
    diagnostics_.report(join_path(path_, key.str()), line_of(node),
                        "unknown key (allowed here: " + allowed + ")");
  }
}

}  // namespace ipp3d::config::internal
