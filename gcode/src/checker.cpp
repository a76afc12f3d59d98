// The streaming driver: cuts chunks at their last '\n', keeps a split line in
// a carry buffer capped at the maximum line length, and hands each line to
// the parser and the machine model.
#include "ipp3d/gcode/checker.hpp"

#include "line_parser.hpp"
#include "machine.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <unistd.h>
#include <vector>

namespace ipp3d::gcode {
namespace {

constexpr std::size_t kReadBuffer = std::size_t{1} << 20;  // 1 MiB

// The last '\n' in [p, p + size), or nullptr.
const char* last_newline(const char* p, std::size_t size) {
  return static_cast<const char*>(memrchr(p, '\n', size));
}

}  // namespace

Checker::Checker(const Limits& limits, const Job& job)
    : machine_(std::make_unique<Machine>(limits, job)),
      line_(std::make_unique<internal::Line>()),
      max_line_(static_cast<std::size_t>(limits.gcode.max_line_length)) {
  carry_.reserve(max_line_ + 2);
}

Checker::~Checker() = default;
Checker::Checker(Checker&&) noexcept = default;
Checker& Checker::operator=(Checker&&) noexcept = default;

void Checker::scan(const char* begin, const char* end) {
  const char* p = begin;
  while (p < end) {
    const char* nl = internal::parse_line(p, end, *line_);
    std::size_t length = static_cast<std::size_t>(nl - p);
    if (length > 0 && nl[-1] == '\r') --length;
    ++lines_;
    if (length > max_line_) {
      machine_->line_too_long(lines_);
    } else {
      machine_->execute(*line_, lines_, offset_);
    }
    offset_ += static_cast<std::uint64_t>(nl + 1 - p);
    p = nl + 1;
  }
}

void Checker::drop_line(std::size_t length) {
  ++lines_;
  machine_->line_too_long(lines_);
  offset_ += length;
  carry_.clear();
  skipping_ = true;
}

void Checker::feed(std::string_view chunk) {
  bytes_ += chunk.size();
  while (!chunk.empty()) {
    if (skipping_) {
      const void* nl = std::memchr(chunk.data(), '\n', chunk.size());
      const std::size_t used =
          nl == nullptr ? chunk.size()
                        : static_cast<std::size_t>(static_cast<const char*>(nl) - chunk.data()) + 1;
      offset_ += used;
      skipping_ = nl == nullptr;
      chunk.remove_prefix(used);
      continue;
    }
    if (!carry_.empty()) {
      const void* found = std::memchr(chunk.data(), '\n', chunk.size());
      const std::size_t head = found == nullptr
                                   ? chunk.size()
                                   : static_cast<std::size_t>(static_cast<const char*>(found) - chunk.data());
      if (carry_.size() + head > max_line_ + 1) {
        drop_line(carry_.size());
        continue;  // skipping_ drops the rest of the line
      }
      carry_.append(chunk.substr(0, found == nullptr ? head : head + 1));
      chunk.remove_prefix(found == nullptr ? head : head + 1);
      if (found != nullptr) {
        scan(carry_.data(), carry_.data() + carry_.size());
        carry_.clear();
      }
      continue;
    }
    const char* last = last_newline(chunk.data(), chunk.size());
    if (last != nullptr) {
      scan(chunk.data(), last + 1);
      chunk.remove_prefix(static_cast<std::size_t>(last + 1 - chunk.data()));
    }
    if (chunk.empty()) break;
    if (chunk.size() > max_line_ + 1) {
      drop_line(0);
      continue;
    }
    carry_.assign(chunk);
    break;
  }
}

Report Checker::finish() {
  if (!carry_.empty() && !skipping_) {
    carry_ += '\n';
    scan(carry_.data(), carry_.data() + carry_.size());
    carry_.clear();
  }
  return machine_->finish(bytes_, lines_);
}

Result<Report> check_file(const std::filesystem::path& path, const Limits& limits, const Job& job) {
  const auto failure = [&](const std::string& reason) {
    return Error{IPP_STATUS_ERROR_INTERNAL, path.string() + ": " + reason, "", 0};
  };
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return failure(std::strerror(errno));
  Checker checker(limits, job);
  std::vector<char> buffer(kReadBuffer);
  for (;;) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      ::close(fd);
      return failure(std::strerror(error));
    }
    checker.feed(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
  }
  ::close(fd);
  return checker.finish();
}

Report check_text(std::string_view text, const Limits& limits, const Job& job) {
  Checker checker(limits, job);
  checker.feed(text);
  return checker.finish();
}

const std::vector<std::string_view>& all_rules() {
  static const std::vector<std::string_view> rules = {rule::kLineTooLong,
                                                      rule::kNulByte,
                                                      rule::kBinary,
                                                      rule::kBadNumber,
                                                      rule::kNotFinite,
                                                      rule::kChecksum,
                                                      rule::kDuplicateWord,
                                                      rule::kMalformed,
                                                      rule::kDenied,
                                                      rule::kUnknown,
                                                      rule::kParameter,
                                                      rule::kOutOfVolume,
                                                      rule::kUnknownPosition,
                                                      rule::kArcInvalid,
                                                      rule::kFeedRate,
                                                      rule::kVelocity,
                                                      rule::kAcceleration,
                                                      rule::kJerk,
                                                      rule::kSpeedFactor,
                                                      rule::kFlowFactor,
                                                      rule::kColdExtrusion,
                                                      rule::kPrinterTemperature,
                                                      rule::kMaterialTemperature,
                                                      rule::kNoHeater,
                                                      rule::kTicketTemperature};
  return rules;
}

std::string describe(const Violation& v) {
  std::string text = v.line > 0 ? "line " + std::to_string(v.line) : std::string("file");
  if (!v.command.empty()) text += ": " + v.command;
  text += ": " + v.rule + ": " + v.message;
  if (!v.value.empty()) text += " (" + v.value + (v.limit.empty() ? "" : ", limit " + v.limit) + ")";
  return text;
}

}  // namespace ipp3d::gcode
