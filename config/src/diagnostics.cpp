// Error collection for the configuration loader: key paths, lines, messages.
#include "diagnostics.hpp"

#include <algorithm>
#include <utility>

namespace ipp3d::config::internal {
namespace {

// True when `ancestor` equals `path` or names a table or array above it.
bool is_self_or_ancestor(const std::string& ancestor, const std::string& path) {
  if (ancestor.empty() || path.compare(0, ancestor.size(), ancestor) != 0) return false;
  if (path.size() == ancestor.size()) return true;
  const char next = path[ancestor.size()];
  return next == '.' || next == '[';
}

}  // namespace

std::string join_path(const std::string& parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  return parent + "." + std::string(key);
}

std::string index_path(const std::string& parent, std::size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

Diagnostics::Diagnostics(std::string source) : source_(std::move(source)) {}

void Diagnostics::record_line(const std::string& path, long line) {
  if (line > 0) lines_[path] = line;
}

void Diagnostics::report(const std::string& path, long line, const std::string& reason) {
  bad_paths_.push_back(path);
  add(path, line, reason);
}

void Diagnostics::check(const std::string& path, const std::string& reason) {
  if (is_bad(path)) return;
  add(path, line_of(path), reason);
}

bool Diagnostics::is_bad(const std::string& path) const {
  return std::any_of(bad_paths_.begin(), bad_paths_.end(), [&](const std::string& bad) {
    return is_self_or_ancestor(bad, path) || is_self_or_ancestor(path, bad);
  });
}

long Diagnostics::line_of(std::string path) const {
  while (!path.empty()) {
    if (const auto found = lines_.find(path); found != lines_.end()) return found->second;
    const auto cut = path.find_last_of(".[");
    path.resize(cut == std::string::npos ? 0 : cut);
  }
  return 0;
}

void Diagnostics::add(const std::string& path, long line, const std::string& reason) {
  std::string message = source_;
  if (line > 0) message += (message.empty() ? "" : ":") + std::to_string(line);
  if (!message.empty()) message += ": ";
  if (!path.empty()) message += path + ": ";
  message += reason;
  errors_.push_back(Error{IPP_STATUS_ERROR_INTERNAL, std::move(message), path, line});
}

}  // namespace ipp3d::config::internal
