// VirtualBackend: a simulated Klipper/Moonraker printer in the server's own
// process, plus the G-code layer counter it (and the job code) use.
#include "backend/virtual_backend.hpp"

#include "ipp3d/trust/keys.hpp"
#include "ipp3d/trust/sha256.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <limits>
#include <memory>
#include <set>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace ipp3d::server {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kBufferSize = std::size_t{64} * 1024;  // streaming buffer for reads and copies
constexpr std::size_t kMaxLine = 256;                  // longer G-code lines are parsed by their start only
constexpr double kAmbient = 25.0;                      // °C of cold heaters
constexpr int kHeatSteps = 10;                         // temperature updates during heat-up
constexpr auto kTick = std::chrono::milliseconds(20);  // longest wait between state checks
constexpr const char* kReadyMessage = "Printer is ready";
constexpr const char* kStopMessage = "Emergency stop: the virtual printer needs a restart";

// Closes a std::FILE when its owner goes out of scope (read-only use).
struct FileCloser {
  void operator()(std::FILE* file) const noexcept { static_cast<void>(std::fclose(file)); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

// An Error with `status` and `message` (no attribute, no line).
Error backend_error(ipp_status_t status, std::string message) {
  return Error{status, std::move(message), "", 0};
}

// `path` and the reason an I/O call on it failed, from errno.
std::string io_failure(const std::string& what, const fs::path& path, int error_number) {
  return what + " " + path.string() + ": " + std::generic_category().message(error_number);
}

// True while a print is loaded (printing or paused).
bool is_active(PrintState state) { return state == PrintState::kPrinting || state == PrintState::kPaused; }

// `text` in lower case (ASCII).
std::string to_lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// Error unless `name` is a relative path that stays inside the storage directory.
Status check_remote_name(const std::string& name) {
  const fs::path path(name);
  bool valid = !name.empty() && name.find('\0') == std::string::npos && name.front() != '/' &&
               path.is_relative() && !path.has_root_name() && path.has_filename();
  for (const fs::path& part : path) {
    if (part == ".." || part == ".") valid = false;
  }
  if (!valid) return backend_error(IPP_STATUS_ERROR_INTERNAL, "invalid remote file name \"" + name + "\"");
  return {};
}

// Copies `from` to `to` byte for byte; the SHA-256 (lowercase hex) of the bytes copied.
Result<std::string> copy_with_sha256(const fs::path& from, const fs::path& to) {
  const FilePtr in(std::fopen(from.c_str(), "rb"));
  if (!in) return backend_error(IPP_STATUS_ERROR_INTERNAL, io_failure("cannot read", from, errno));
  FilePtr out(std::fopen(to.c_str(), "wb"));
  if (!out) return backend_error(IPP_STATUS_ERROR_INTERNAL, io_failure("cannot write", to, errno));
  trust::Sha256 hash;
  std::vector<char> buffer(kBufferSize);
  for (;;) {
    const std::size_t got = std::fread(buffer.data(), 1, buffer.size(), in.get());
    if (got > 0) {
      if (std::fwrite(buffer.data(), 1, got, out.get()) != got) {
        return backend_error(IPP_STATUS_ERROR_INTERNAL, io_failure("cannot write", to, errno));
      }
      if (!hash.update({reinterpret_cast<const std::uint8_t*>(buffer.data()), got})) {
        return backend_error(IPP_STATUS_ERROR_INTERNAL, "SHA-256 failed");
      }
    }
    if (got < buffer.size()) break;
  }
  if (std::ferror(in.get()) != 0) {
    return backend_error(IPP_STATUS_ERROR_INTERNAL, io_failure("cannot read", from, errno));
  }
  if (std::fclose(out.release()) != 0) {
    return backend_error(IPP_STATUS_ERROR_INTERNAL, io_failure("cannot write", to, errno));
  }
  const auto digest = hash.finish();
  if (!digest) return backend_error(IPP_STATUS_ERROR_INTERNAL, "SHA-256 failed");
  return trust::hex_text(*digest);
}

// Parses the number at the start of `text` (an optional '+' allowed).
template <class T>
bool parse_number(std::string_view text, T& value) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end != text.data();
}

// Counts layers line by line: slicer markers, and the Z fallback.
class LayerCounter {
 public:
  // Takes one line (without its newline, possibly truncated).
  void feed(std::string_view line) {
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (line.starts_with(';')) return feed_comment(line);
    line = line.substr(0, line.find(';'));
    if (line.size() < 2) return;
    const char letter = static_cast<char>(std::toupper(static_cast<unsigned char>(line.front())));
    std::string_view rest = line.substr(1);
    int code = -1;
    const auto [end, error] = std::from_chars(rest.data(), rest.data() + rest.size(), code);
    if (error != std::errc()) return;
    if (end != rest.data() + rest.size() && *end != ' ' && *end != '\t') return;  // e.g. "G1.5", "M117X"
    rest = rest.substr(static_cast<std::size_t>(end - rest.data()));
    if (letter == 'G' && code >= 0 && code <= 3) return move(rest);
    if (letter == 'G' && code == 90) absolute_xyz_ = true;
    if (letter == 'G' && code == 91) absolute_xyz_ = false;
    if (letter == 'G' && code == 92) set_position(rest);
    if (letter == 'M' && code == 82) relative_e_ = false;
    if (letter == 'M' && code == 83) relative_e_ = true;
  }

  // The layer count: markers first, then distinct Z heights; 0 = unknown.
  [[nodiscard]] int layers() const {
    long count = layer_changes_;
    if (count == 0) count = static_cast<long>(cura_layers_.size());
    if (count == 0) count = z_layers_;
    return static_cast<int>(std::min<long>(count, std::numeric_limits<int>::max()));
  }

 private:
  // Calls `use(letter, value)` for each "X12.5"-style word of `words`.
  template <class Use>
  static void for_each_word(std::string_view words, Use use) {
    while (!words.empty()) {
      const std::size_t start = words.find_first_not_of(" \t");
      if (start == std::string_view::npos) return;
      words.remove_prefix(start);
      const std::size_t stop = std::min(words.find_first_of(" \t"), words.size());
      const char letter = static_cast<char>(std::toupper(static_cast<unsigned char>(words.front())));
      double value = 0;
      if (stop > 1 && parse_number(words.substr(1, stop - 1), value)) use(letter, value);
      words.remove_prefix(stop);
    }
  }

  // Handles a comment line: ";LAYER_CHANGE" and ";LAYER:n".
  void feed_comment(std::string_view line) {
    if (line.starts_with(";LAYER_CHANGE")) {
      ++layer_changes_;
    } else if (line.starts_with(";LAYER:")) {
      long layer = 0;
      if (parse_number(line.substr(7), layer)) cura_layers_.insert(layer);
    }
  }

  // G0..G3: tracks Z and E; an extruding XY move above every earlier one starts a layer.
  void move(std::string_view words) {
    const bool relative_e = relative_e_ || !absolute_xyz_;
    bool has_xy = false;
    double extruded = 0;
    for_each_word(words, [&](char letter, double value) {
      if (letter == 'X' || letter == 'Y') has_xy = true;
      if (letter == 'Z') z_ = absolute_xyz_ ? value : z_ + value;
      if (letter == 'E') {
        extruded = relative_e ? value : value - e_;
        e_ = relative_e ? e_ + value : value;
      }
    });
    if (has_xy && extruded > 1e-9 && (z_layers_ == 0 || z_ > top_z_ + 1e-4)) {
      top_z_ = z_;
      ++z_layers_;
    }
  }

  // G92: sets the current Z and E.
  void set_position(std::string_view words) {
    for_each_word(words, [&](char letter, double value) {
      if (letter == 'Z') z_ = value;
      if (letter == 'E') e_ = value;
    });
  }

  long layer_changes_ = 0;
  std::set<long> cura_layers_;
  bool absolute_xyz_ = true;  // G90 / G91
  bool relative_e_ = false;   // M83 / M82
  double z_ = 0, e_ = 0, top_z_ = 0;
  long z_layers_ = 0;
};

}  // namespace

// Streams `file` through a LayerCounter, 64 KiB at a time.
Result<int> count_gcode_layers(const std::filesystem::path& file) {
  const FilePtr in(std::fopen(file.c_str(), "rb"));
  if (!in) return backend_error(IPP_STATUS_ERROR_DOCUMENT_ACCESS, io_failure("cannot read", file, errno));
  LayerCounter counter;
  std::vector<char> buffer(kBufferSize);
  std::string line;
  line.reserve(kMaxLine);
  for (;;) {
    const std::size_t got = std::fread(buffer.data(), 1, buffer.size(), in.get());
    std::string_view chunk(buffer.data(), got);
    while (!chunk.empty()) {
      const std::size_t newline = std::min(chunk.find('\n'), chunk.size());
      const std::size_t room = kMaxLine - std::min(line.size(), kMaxLine);
      line.append(chunk.substr(0, std::min(newline, room)));
      if (newline == chunk.size()) break;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      counter.feed(line);
      line.clear();
      chunk.remove_prefix(newline + 1);
    }
    if (got < buffer.size()) break;
  }
  if (std::ferror(in.get()) != 0) {
    return backend_error(IPP_STATUS_ERROR_DOCUMENT_ACCESS, io_failure("cannot read", file, errno));
  }
  if (!line.empty()) counter.feed(line);
  return counter.layers();
}

// An idle, ready printer with cold heaters.
VirtualBackend::VirtualBackend(VirtualBackendOptions options) : options_(std::move(options)) {
  status_.ready = true;
  status_.ready_message = kReadyMessage;
  status_.hotend_temperature = kAmbient;
  status_.bed_temperature = kAmbient;
}

// Stops the simulation and waits for its thread.
VirtualBackend::~VirtualBackend() {
  {
    const std::lock_guard lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  if (worker_.joinable()) worker_.join();
}

// A copy of the current snapshot.
Result<PrintStatus> VirtualBackend::status() {
  const std::lock_guard lock(mutex_);
  return status_;
}

// Copies the file into storage (via a temporary name), checks its SHA-256 and records its layers.
Status VirtualBackend::upload(const UploadRequest& request) {
  if (Status valid = check_remote_name(request.remote_name); !valid) return valid;
  {
    const std::lock_guard lock(mutex_);
    if (is_active(status_.state) && status_.file == request.remote_name) {
      return backend_error(IPP_STATUS_ERROR_NOT_POSSIBLE, "File is loaded, upload not permitted");
    }
    layers_.erase(request.remote_name);
  }
  const fs::path target = options_.storage_dir / request.remote_name;
  const fs::path partial = target.string() + ".part";
  std::error_code ec;
  fs::create_directories(target.parent_path(), ec);
  if (ec) {
    return backend_error(IPP_STATUS_ERROR_INTERNAL,
                         io_failure("cannot create", target.parent_path(), ec.value()));
  }
  Result<std::string> digest = copy_with_sha256(request.file, partial);
  if (digest.ok() && !request.sha256_hex.empty() && *digest != to_lower(request.sha256_hex)) {
    digest = backend_error(IPP_STATUS_ERROR_INTERNAL, "checksum mismatch for " + request.remote_name);
  }
  if (digest.ok()) fs::rename(partial, target, ec);
  if (!digest.ok() || ec) {
    std::error_code ignored;
    fs::remove(partial, ignored);
    fs::remove(target, ignored);
    if (!digest.ok()) return std::move(digest).error();
    return backend_error(IPP_STATUS_ERROR_INTERNAL, io_failure("cannot store", target, ec.value()));
  }
  int layers = request.total_layers;
  if (layers <= 0) {
    const Result<int> counted = count_gcode_layers(target);
    layers = counted.ok() ? *counted : 0;
  }
  const std::lock_guard lock(mutex_);
  layers_[request.remote_name] = layers;
  return {};
}

// Starts a worker for an uploaded file (Klipper's order of checks: ready, busy, file).
Status VirtualBackend::start(const std::string& remote_name) {
  std::error_code ec;
  const bool exists =
      check_remote_name(remote_name).ok() && fs::is_regular_file(options_.storage_dir / remote_name, ec);
  std::thread previous;
  std::string failure;
  {
    const std::lock_guard lock(mutex_);
    if (!status_.ready) return backend_error(IPP_STATUS_ERROR_DEVICE, status_.ready_message);
    if (is_active(status_.state)) return backend_error(IPP_STATUS_ERROR_BUSY, "SD busy");
    const auto known = layers_.find(remote_name);
    if (!exists || known == layers_.end())
      return backend_error(IPP_STATUS_ERROR_NOT_FOUND, "Unable to open file");
    ++generation_;
    status_.state = PrintState::kPrinting;
    status_.file = remote_name;
    status_.message.clear();
    status_.current_layer = 0;
    status_.total_layers = known->second;
    status_.layers_reported = true;  // the simulation counts layers itself
    status_.progress = 0;
    status_.elapsed_seconds = 0;
    status_.hotend_target = options_.hotend_target;
    status_.bed_target = options_.bed_target;
    previous = std::move(worker_);
    try {
      worker_ = std::thread(&VirtualBackend::simulate, this, known->second, generation_);
    } catch (const std::system_error& e) {
      failure = std::string("cannot start the simulation: ") + e.what();
      status_.state = PrintState::kError;
      status_.message = failure;
      status_.hotend_target = status_.bed_target = 0;
    }
  }
  changed_.notify_all();
  if (previous.joinable()) previous.join();  // it saw the new generation and ended
  if (!failure.empty()) return backend_error(IPP_STATUS_ERROR_INTERNAL, failure);
  return {};
}

// Cancels the current print when it is `remote_name`.
Status VirtualBackend::cancel(const std::string& remote_name) {
  {
    const std::lock_guard lock(mutex_);
    if (!is_active(status_.state) || status_.file != remote_name) {
      return backend_error(IPP_STATUS_ERROR_NOT_POSSIBLE, "not printing " + remote_name + " (printer is " +
                                                              print_state_name(status_.state) + ")");
    }
    status_.state = PrintState::kCancelled;
    status_.hotend_target = status_.bed_target = 0;
  }
  changed_.notify_all();
  return {};
}

Result<MachineReport> VirtualBackend::inspect() { return MachineReport{}; }

// Pauses the current print; refused unless it is `remote_name` and printing.
Status VirtualBackend::pause(const std::string& remote_name) {
  {
    const std::lock_guard lock(mutex_);
    if (status_.state != PrintState::kPrinting || status_.file != remote_name) {
      return backend_error(IPP_STATUS_ERROR_NOT_POSSIBLE,
                           "cannot pause " + remote_name + ": printer is " + print_state_name(status_.state) +
                               (status_.file.empty() ? "" : " " + status_.file));
    }
    status_.state = PrintState::kPaused;
  }
  changed_.notify_all();
  return {};
}

// Resumes the current print; refused unless it is `remote_name` and paused.
Status VirtualBackend::resume(const std::string& remote_name) {
  {
    const std::lock_guard lock(mutex_);
    if (status_.state != PrintState::kPaused || status_.file != remote_name) {
      return backend_error(IPP_STATUS_ERROR_NOT_POSSIBLE,
                           "cannot resume " + remote_name + ": printer is " +
                               print_state_name(status_.state) +
                               (status_.file.empty() ? "" : " " + status_.file));
    }
    status_.state = PrintState::kPrinting;
  }
  changed_.notify_all();
  return {};
}

// Deletes a stored file unless the current print uses it.
Status VirtualBackend::remove(const std::string& remote_name) {
  if (Status valid = check_remote_name(remote_name); !valid) return valid;
  const fs::path path = options_.storage_dir / remote_name;
  const std::lock_guard lock(mutex_);
  if (is_active(status_.state) && status_.file == remote_name) {
    return backend_error(IPP_STATUS_ERROR_NOT_POSSIBLE,
                         "file is in use by the current print: " + remote_name);
  }
  layers_.erase(remote_name);
  std::error_code ec;
  const bool removed = fs::remove(path, ec);
  if (ec) return backend_error(IPP_STATUS_ERROR_INTERNAL, io_failure("cannot remove", path, ec.value()));
  if (!removed) return backend_error(IPP_STATUS_ERROR_NOT_FOUND, "Invalid file path " + remote_name);
  return {};
}

// Sets both heater targets to 0.
Status VirtualBackend::heaters_off() {
  const std::lock_guard lock(mutex_);
  status_.hotend_target = status_.bed_target = 0;
  return {};
}

// Halts at once: the worker exits, the printer is in error and not ready.
Status VirtualBackend::emergency_stop() {
  {
    const std::lock_guard lock(mutex_);
    ++generation_;
    status_.ready = false;
    status_.ready_message = kStopMessage;
    status_.state = PrintState::kError;
    status_.message = "Emergency stop";
    status_.hotend_target = status_.bed_target = 0;
  }
  changed_.notify_all();
  return {};
}

// The worker: heat-up in steps, then one wait per layer, then complete.
void VirtualBackend::simulate(int total_layers, std::uint64_t generation) {
  std::unique_lock lock(mutex_);
  const double hotend_start = status_.hotend_temperature;
  const double bed_start = status_.bed_temperature;
  for (int step = 1; step <= kHeatSteps; ++step) {
    if (!run_for(lock, options_.heat_seconds / kHeatSteps, generation)) return;
    const double fraction = static_cast<double>(step) / kHeatSteps;
    status_.hotend_temperature = hotend_start + (status_.hotend_target - hotend_start) * fraction;
    status_.bed_temperature = bed_start + (status_.bed_target - bed_start) * fraction;
  }
  const int layers = std::max(total_layers, 1);
  for (int layer = 1; layer <= layers; ++layer) {
    status_.current_layer = layer;
    if (!run_for(lock, options_.seconds_per_layer, generation)) return;
    status_.progress = static_cast<double>(layer) / layers;
  }
  status_.state = PrintState::kComplete;
  status_.progress = 1.0;
  status_.hotend_target = status_.bed_target = 0;
  status_.hotend_temperature = status_.bed_temperature = kAmbient;
  lock.unlock();
  changed_.notify_all();
}

// Waits in ticks of at most 20 ms, counting only time spent printing.
bool VirtualBackend::run_for(std::unique_lock<std::mutex>& lock, double seconds, std::uint64_t generation) {
  using Clock = std::chrono::steady_clock;
  std::chrono::duration<double> remaining(std::max(seconds, 0.0));
  auto last = Clock::now();
  bool printing = status_.state == PrintState::kPrinting;
  for (;;) {
    if (stop_ || generation != generation_ || !is_active(status_.state)) return false;
    const auto now = Clock::now();
    if (printing) {
      const std::chrono::duration<double> passed = now - last;
      remaining -= passed;
      status_.elapsed_seconds += passed.count();
    }
    last = now;
    printing = status_.state == PrintState::kPrinting;
    if (printing && remaining.count() <= 0) return true;
    auto wait = std::chrono::duration_cast<std::chrono::nanoseconds>(kTick);
    if (printing) wait = std::min(wait, std::chrono::duration_cast<std::chrono::nanoseconds>(remaining));
    changed_.wait_for(lock, wait);
  }
}

Result<PastPrint> VirtualBackend::past_print(const std::string& remote_name) {
  return Error{IPP_STATUS_ERROR_NOT_FOUND, "the virtual printer keeps no history of " + remote_name, "", 0};
}

}  // namespace ipp3d::server
