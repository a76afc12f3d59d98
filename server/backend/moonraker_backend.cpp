// MoonrakerBackend: Backend over Moonraker's HTTP API. Requests go through
// moonraker::HttpClient (moonraker_http.cpp); this file checks states and
// maps Moonraker's answers onto PrintStatus and Errors.
#include "backend/moonraker_backend.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <exception>
#include <fstream>
#include <iterator>
#include <optional>
#include <string_view>
#include <system_error>
#include <utility>

namespace ipp3d::server {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr std::size_t kMaxMessage = 200;        // longest text taken from a Moonraker answer
constexpr std::size_t kMaxKeyFileBytes = 4096;  // an API key file larger than this is a mistake
constexpr std::size_t kMaxKeyLength = 256;      // Moonraker's keys are 32 hex digits
constexpr std::uintmax_t kUploadBytesPerSecond = std::uintmax_t{8} * 1024 * 1024;  // added upload time
constexpr const char* kStatusTarget =
    "/printer/objects/query?print_stats&virtual_sdcard&webhooks&extruder&heater_bed&pause_resume&"
    "display_status";

// An Error with `status` and `message`.
Error backend_error(ipp_status_t status, std::string message) {
  return Error{status, std::move(message), "", 0};
}

// Runs `body`, turning any exception into an Error (none crosses the Backend API).
template <class Body>
auto guarded(Body body) -> decltype(body()) {
  try {
    return body();
  } catch (const std::exception& e) {
    return backend_error(IPP_STATUS_ERROR_INTERNAL, std::string("Moonraker backend failure: ") + e.what());
  }
}

// `text` cut at its first line end and at kMaxMessage bytes (on a UTF-8
// boundary), with control characters replaced by spaces.
std::string clean_text(std::string_view text) {
  text = text.substr(0, text.find_first_of("\r\n"));
  if (text.size() > kMaxMessage) {
    std::size_t end = kMaxMessage;
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    text = text.substr(0, end);
  }
  std::string out(text);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = ' ';
  }
  return out;
}

// The member `key` of `object` when it is an object, else null.
const json* member(const json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  const auto found = object.find(key);
  return found == object.end() ? nullptr : &*found;
}

// A number member, or `fallback` when absent or not a number.
double number_at(const json* object, const char* key, double fallback = 0) {
  const json* value = object != nullptr ? member(*object, key) : nullptr;
  return value != nullptr && value->is_number() ? value->get<double>() : fallback;
}

// A string member, or "" when absent or not a string.
std::string string_at(const json* object, const char* key) {
  const json* value = object != nullptr ? member(*object, key) : nullptr;
  return value != nullptr && value->is_string() ? value->get<std::string>() : std::string();
}

// Moonraker's error text from an error body ({"error":{"message":...}}),
// cleaned; "" when there is none or it is Moonraker's "Unknown" (a Klipper
// text with a newline). The traceback is never used.
std::string moonraker_message(const std::string& body) {
  const json parsed = json::parse(body, nullptr, false);
  const std::string message = clean_text(string_at(member(parsed, "error"), "message"));
  return message == "Unknown" ? std::string() : message;
}

// An Error for an HTTP answer other than the expected one, for the action `what`.
Error answer_error(const moonraker::HttpResponse& response, const std::string& what) {
  const std::string reason = moonraker_message(response.body);
  const std::string code = "HTTP " + std::to_string(response.status);
  switch (response.status) {
    case 401:
      return backend_error(IPP_STATUS_ERROR_DEVICE, "Moonraker refused the API key (" + code +
                                                        ") when asked to " + what +
                                                        ": check the key in api_key_file");
    case 403:
      return backend_error(IPP_STATUS_ERROR_NOT_POSSIBLE,
                           "cannot " + what + ": the file is in use by the current print (" + code + ")");
    case 503:
      return backend_error(IPP_STATUS_ERROR_DEVICE,
                           "cannot " + what + ": Klipper is not connected to Moonraker (" + code + ")");
    case 400:
      return backend_error(IPP_STATUS_ERROR_DEVICE, reason.empty()
                                                        ? "the printer refused to " + what +
                                                              " without a readable reason (" + code +
                                                              "; Klipper may not be ready)"
                                                        : "the printer refused to " + what + ": " + reason);
    default:
      return backend_error(IPP_STATUS_ERROR_DEVICE, "Moonraker answered " + code + " when asked to " + what +
                                                        (reason.empty() ? std::string() : ": " + reason));
  }
}

// Klipper's print_stats.state; false for a state Klipper does not have.
bool parse_state(const std::string& text, PrintState& state) {
  static constexpr std::pair<std::string_view, PrintState> kStates[] = {
      {"standby", PrintState::kStandby},     {"printing", PrintState::kPrinting},
      {"paused", PrintState::kPaused},       {"complete", PrintState::kComplete},
      {"cancelled", PrintState::kCancelled}, {"error", PrintState::kError},
  };
  for (const auto& [name, value] : kStates) {
    if (text == name) {
      state = value;
      return true;
    }
  }
  return false;
}

// True while a print is loaded (printing or paused).
bool is_active(PrintState state) { return state == PrintState::kPrinting || state == PrintState::kPaused; }

// Error unless `name` is a relative path below the gcodes root with an
// extension Klipper's virtual SD card opens.
Status check_remote_name(const std::string& name) {
  const fs::path path(name);
  bool valid = !name.empty() && name.front() != '/' && path.is_relative() && path.has_filename();
  for (const char c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F || c == '\\') valid = false;
  }
  for (const fs::path& part : path) {
    if (part == ".." || part == "." || part.empty()) valid = false;
  }
  const std::string extension = path.extension().string();
  if (extension != ".gcode" && extension != ".g" && extension != ".gco") valid = false;
  if (!valid) {
    return backend_error(IPP_STATUS_ERROR_INTERNAL, "invalid remote file name \"" + clean_text(name) +
                                                        "\" (a relative path ending in .gcode, .g or .gco)");
  }
  return {};
}

// A request without body.
moonraker::HttpCall make_call(std::string method, std::string target, std::chrono::milliseconds timeout) {
  moonraker::HttpCall call;
  call.method = std::move(method);
  call.target = std::move(target);
  call.timeout = timeout;
  return call;
}

// The result object of a Moonraker answer ({"result": ...}), or the body itself.
json result_of(const std::string& body) {
  json parsed = json::parse(body, nullptr, false);
  if (const json* result = member(parsed, "result")) return *result;
  return parsed;
}

// The member `key` of `object` when it is a number, else nullopt.
std::optional<double> optional_number(const json* object, const char* key) {
  const json* value = object != nullptr ? member(*object, key) : nullptr;
  if (value == nullptr || !value->is_number()) return std::nullopt;
  return value->get<double>();
}

// A boolean member, or `fallback` when absent or not a boolean.
bool bool_at(const json* object, const char* key, bool fallback) {
  const json* value = object != nullptr ? member(*object, key) : nullptr;
  return value != nullptr && value->is_boolean() ? value->get<bool>() : fallback;
}

// `text` in upper case (ASCII).
std::string upper(std::string text) {
  for (char& c : text) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return text;
}

// The snapshot URL of `webcam` made absolute against `base_url`, or "" when
// it has none or it is neither http(s) nor a path.
std::string snapshot_url(const json& webcam, const std::string& base_url) {
  std::string url = string_at(&webcam, "snapshot_url");
  if (url.empty() || url.size() > 1024) return {};
  for (const char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7F || c == '"' || c == '<' || c == '>') return {};
  }
  if (url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0) return url;
  // Any other scheme ("ftp:", "javascript:") is refused; a path is resolved.
  if (url.find(':') < url.find_first_of("/?#")) return {};
  return base_url + (url.front() == '/' ? "" : "/") + url;
}

// The trusted_clients option: a list of strings, or one text with one entry a line.
std::vector<std::string> trusted_clients_of(const json* authorization) {
  std::vector<std::string> clients;
  const json* value = authorization != nullptr ? member(*authorization, "trusted_clients") : nullptr;
  std::vector<std::string> raw;
  if (value != nullptr && value->is_array()) {
    for (const json& entry : *value) {
      if (entry.is_string()) raw.push_back(entry.get<std::string>());
    }
  } else if (value != nullptr && value->is_string()) {
    const std::string text = value->get<std::string>();
    std::size_t start = 0;
    while (start <= text.size()) {
      const std::size_t end = std::min(text.find('\n', start), text.size());
      raw.push_back(text.substr(start, end - start));
      start = end + 1;
    }
  }
  for (const std::string& entry : raw) {
    const std::size_t first = entry.find_first_not_of(" \t\r");
    if (first == std::string::npos) continue;
    const std::size_t last = entry.find_last_not_of(" \t\r");
    clients.push_back(clean_text(entry.substr(first, last - first + 1)));
  }
  return clients;
}

}  // namespace

Result<MachineReport> parse_machine_report(const MoonrakerAnswers& answers, const std::string& base_url) {
  return guarded([&]() -> Result<MachineReport> {
    MachineReport report;
    const json server_config = result_of(answers.server_config);
    const json* config = member(server_config, "config");
    if (config == nullptr || !config->is_object()) {
      return backend_error(IPP_STATUS_ERROR_DEVICE, "Moonraker's /server/config answer has no configuration");
    }
    const json* authorization = member(*config, "authorization");
    report.trusted_clients = trusted_clients_of(authorization);
    report.force_logins = bool_at(authorization, "force_logins", false);
    // Moonraker's default is true: a missing [file_manager] section means writable.
    report.config_write_access = bool_at(member(*config, "file_manager"), "enable_config_write_access", true);
    const double upload_mib = number_at(member(*config, "server"), "max_upload_size", 1024);
    if (upload_mib > 0) report.max_upload_bytes = static_cast<std::uint64_t>(upload_mib * 1024 * 1024);
    const json users = result_of(answers.users);
    const json* user_list = member(users, "users");
    report.users_exist = user_list != nullptr && user_list->is_array() && !user_list->empty();

    const json configfile = result_of(answers.configfile);
    const json* objects = member(configfile, "status");
    const json* file = objects != nullptr ? member(*objects, "configfile") : nullptr;
    const json* settings = file != nullptr ? member(*file, "settings") : nullptr;
    if (settings == nullptr || !settings->is_object()) {
      return backend_error(IPP_STATUS_ERROR_DEVICE,
                           "Klipper's configfile.settings is missing from Moonraker's answer");
    }
    report.hotend_max_temp = optional_number(member(*settings, "extruder"), "max_temp");
    report.bed_max_temp = optional_number(member(*settings, "heater_bed"), "max_temp");
    static constexpr const char* kSteppers[3] = {"stepper_x", "stepper_y", "stepper_z"};
    for (int axis = 0; axis < 3; ++axis) {
      const json* stepper = member(*settings, kSteppers[axis]);
      report.axis_min[axis] = optional_number(stepper, "position_min");
      report.axis_max[axis] = optional_number(stepper, "position_max");
    }
    const json* printer = member(*settings, "printer");
    report.max_velocity = optional_number(printer, "max_velocity");
    report.max_accel = optional_number(printer, "max_accel");
    for (const auto& [section, options] : settings->items()) {
      static constexpr std::string_view kMacro = "gcode_macro ";
      if (section.rfind(kMacro, 0) != 0) continue;
      const std::string renamed = string_at(&options, "rename_existing");
      if (renamed.empty()) continue;
      report.renamed_commands.push_back(
          RenamedCommand{upper(clean_text(section.substr(kMacro.size()))), clean_text(renamed)});
    }

    const json directory = result_of(answers.directory);
    if (auto free = optional_number(member(directory, "disk_usage"), "free"); free && *free >= 0) {
      report.free_bytes = static_cast<std::uint64_t>(*free);
    }
    const json webcams = result_of(answers.webcams);
    if (const json* list = member(webcams, "webcams"); list != nullptr && list->is_array()) {
      for (const json& webcam : *list) {
        if (!bool_at(&webcam, "enabled", true)) continue;
        report.camera_snapshot_url = snapshot_url(webcam, base_url);
        if (!report.camera_snapshot_url.empty()) break;
      }
    }
    return report;
  });
}

Result<std::string> load_moonraker_api_key(const std::filesystem::path& file) {
  return guarded([&]() -> Result<std::string> {
    const std::string name = file.string();
    std::error_code ec;
    const fs::file_status info = fs::status(file, ec);
    if (ec) {
      return backend_error(IPP_STATUS_ERROR_INTERNAL,
                           "cannot read API key file " + name + ": " + ec.message());
    }
    if (!fs::is_regular_file(info)) {
      return backend_error(IPP_STATUS_ERROR_INTERNAL, "API key file " + name + " is not a regular file");
    }
    if ((info.permissions() & (fs::perms::group_all | fs::perms::others_all)) != fs::perms::none) {
      return backend_error(IPP_STATUS_ERROR_INTERNAL,
                           "API key file " + name +
                               " may be read or written by group or others; restrict it with `chmod 600 " +
                               name + "`");
    }
    std::ifstream in(file, std::ios::binary);
    std::string text;
    if (in) {
      text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    if (!in && !in.eof()) return backend_error(IPP_STATUS_ERROR_INTERNAL, "cannot read API key file " + name);
    if (text.size() > kMaxKeyFileBytes) {
      return backend_error(IPP_STATUS_ERROR_INTERNAL, "API key file " + name + " is too large to hold a key");
    }
    const std::size_t first = text.find_first_not_of(" \t\r\n");
    const std::size_t last = text.find_last_not_of(" \t\r\n");
    const std::string key = first == std::string::npos ? std::string() : text.substr(first, last - first + 1);
    bool printable = !key.empty() && key.size() <= kMaxKeyLength;
    for (const char c : key) {
      if (c < 0x21 || c > 0x7E) printable = false;
    }
    if (!printable) {
      return backend_error(
          IPP_STATUS_ERROR_INTERNAL,
          "API key file " + name +
              " must hold one API key (printable characters, no spaces), e.g. from Moonraker's "
              "GET /access/api_key");
    }
    return key;
  });
}

MoonrakerBackend::MoonrakerBackend(MoonrakerOptions options)
    : options_(std::move(options)), http_(options_.url, options_.api_key) {}

Result<PrintStatus> MoonrakerBackend::status() {
  return guarded([&] { return query_status(); });
}

Result<PrintStatus> MoonrakerBackend::query_status() {
  auto answer = http_.perform(make_call("GET", kStatusTarget, options_.query_timeout));
  if (!answer) return std::move(answer).error();
  PrintStatus status;
  if (answer->status == 404 || answer->status == 503) {
    status.ready = false;
    status.klippy_state = "disconnected";
    status.ready_message = answer->status == 404 ? "Klipper has not connected to Moonraker yet"
                                                 : "Klipper is not connected to Moonraker";
    return status;
  }
  if (answer->status != 200) return answer_error(*answer, "report the printer's status");
  const json result = result_of(answer->body);
  const json* objects = member(result, "status");
  const json* print_stats = objects != nullptr ? member(*objects, "print_stats") : nullptr;
  const json* webhooks = objects != nullptr ? member(*objects, "webhooks") : nullptr;
  if (print_stats == nullptr || webhooks == nullptr || !print_stats->is_object()) {
    return backend_error(
        IPP_STATUS_ERROR_DEVICE,
        "Moonraker's status answer lacks print_stats or webhooks; is this a Klipper printer?");
  }
  const std::string klippy_state = string_at(webhooks, "state");
  status.klippy_state = klippy_state;
  status.ready = klippy_state == "ready";
  status.ready_message = clean_text(string_at(webhooks, "state_message"));
  if (!status.ready && status.ready_message.empty())
    status.ready_message = "Klipper is in state " + klippy_state;
  const std::string state = string_at(print_stats, "state");
  if (!parse_state(state, status.state)) {
    return backend_error(IPP_STATUS_ERROR_DEVICE,
                         "Moonraker reported an unknown print state \"" + clean_text(state) + "\"");
  }
  status.file = string_at(print_stats, "filename");
  status.message = clean_text(string_at(print_stats, "message"));
  status.elapsed_seconds = number_at(print_stats, "print_duration");
  const json* info = member(*print_stats, "info");
  status.current_layer = static_cast<int>(number_at(info, "current_layer"));
  status.total_layers = static_cast<int>(number_at(info, "total_layer"));
  const json* reported_layer = info != nullptr ? member(*info, "current_layer") : nullptr;
  status.layers_reported = reported_layer != nullptr && reported_layer->is_number();
  if (status.total_layers <= 0) {
    const std::lock_guard lock(mutex_);
    const auto known = layers_.find(status.file);
    status.total_layers = known != layers_.end() ? known->second : 0;
  }
  const json* sdcard = member(*objects, "virtual_sdcard");
  status.progress = number_at(sdcard, "progress");
  status.file_position = static_cast<std::uint64_t>(std::max(0.0, number_at(sdcard, "file_position")));
  status.display_message = clean_text(string_at(member(*objects, "display_status"), "message"));
  const json* extruder = member(*objects, "extruder");
  status.hotend_temperature = number_at(extruder, "temperature");
  status.hotend_target = number_at(extruder, "target");
  const json* bed = member(*objects, "heater_bed");
  status.bed_temperature = number_at(bed, "temperature");
  status.bed_target = number_at(bed, "target");
  return status;
}

Result<MachineReport> MoonrakerBackend::inspect() {
  return guarded([&] { return read_machine(); });
}

Result<MachineReport> MoonrakerBackend::read_machine() {
  MoonrakerAnswers answers;
  // The body of a 200 answer to GET `target`; "" for another answer when
  // `required` is false, else an Error.
  const auto get = [&](const char* target, const char* what, bool required, std::string& body) -> Status {
    auto answer = http_.perform(make_call("GET", target, options_.query_timeout));
    if (!answer) return std::move(answer).error();
    if (answer->status == 200) {
      body = std::move(answer->body);
    } else if (required) {
      if (answer->status == 404 || answer->status == 503) {
        return backend_error(IPP_STATUS_ERROR_DEVICE,
                             std::string("cannot ") + what + ": Klipper is not connected to Moonraker");
      }
      return answer_error(*answer, what);
    }
    return {};
  };
  if (Status got = get("/server/config", "read Moonraker's configuration", true, answers.server_config); !got)
    return got.error();
  if (Status got = get("/access/users/list", "list Moonraker's users", true, answers.users); !got)
    return got.error();
  if (Status got = get("/printer/objects/query?configfile=settings", "read Klipper's configuration", true,
                       answers.configfile);
      !got)
    return got.error();
  if (Status got =
          get("/server/files/directory?path=gcodes", "read the free space", false, answers.directory);
      !got)
    return got.error();
  if (Status got = get("/server/webcams/list", "list the webcams", false, answers.webcams); !got)
    return got.error();
  return parse_machine_report(answers, http_.base_url());
}

Status MoonrakerBackend::upload(const UploadRequest& request) {
  return guarded([&] { return upload_file(request); });
}

Status MoonrakerBackend::upload_file(const UploadRequest& request) {
  if (Status valid = check_remote_name(request.remote_name); !valid) return valid;
  std::error_code ec;
  const std::uintmax_t size = fs::file_size(request.file, ec);
  if (ec) {
    return backend_error(IPP_STATUS_ERROR_DOCUMENT_ACCESS,
                         "cannot read " + request.file.string() + ": " + ec.message());
  }
  const fs::path remote(request.remote_name);
  moonraker::MultipartForm form;
  form.fields = {{"root", "gcodes"}};
  if (remote.has_parent_path()) form.fields.emplace_back("path", remote.parent_path().string());
  if (!request.sha256_hex.empty()) form.fields.emplace_back("checksum", request.sha256_hex);
  form.file = request.file;
  form.file_name = remote.filename().string();
  const auto timeout = options_.control_timeout +
                       std::chrono::seconds(static_cast<std::int64_t>(size / kUploadBytesPerSecond));
  moonraker::HttpCall call = make_call("POST", "/server/files/upload", timeout);
  call.form = &form;
  auto answer = http_.perform(call);
  if (!answer) return std::move(answer).error();
  const std::string what = "store " + request.remote_name;
  if (answer->status == 422) {
    return backend_error(
        IPP_STATUS_ERROR_DEVICE,
        "the printer refused " + request.remote_name +
            ": checksum mismatch (the bytes Moonraker received differ from the verified document)");
  }
  if (answer->status == 400 && answer->body.empty()) {
    return backend_error(
        IPP_STATUS_ERROR_DEVICE,
        "Moonraker refused to " + what +
            " without a reason (HTTP 400): the file may exceed its [server] max_upload_size");
  }
  if (answer->status != 201) return answer_error(*answer, what);
  const json result = result_of(answer->body);
  const json* item = member(result, "item");
  const double stored = number_at(item, "size", -1);
  const std::string stored_path = string_at(item, "path");
  if (stored < 0 || static_cast<std::uintmax_t>(stored) != size || stored_path != request.remote_name) {
    return backend_error(IPP_STATUS_ERROR_DEVICE,
                         "Moonraker stored " + clean_text(stored_path) + " with " +
                             (stored < 0 ? std::string("an unknown size")
                                         : std::to_string(static_cast<std::uintmax_t>(stored)) + " bytes") +
                             ", expected " + request.remote_name + " with " + std::to_string(size) +
                             " bytes");
  }
  const std::lock_guard lock(mutex_);
  layers_[request.remote_name] = request.total_layers;
  return {};
}

Status MoonrakerBackend::start(const std::string& remote_name) {
  return guarded([&]() -> Status {
    if (Status valid = check_remote_name(remote_name); !valid) return valid;
    auto now = query_status();
    if (!now) return std::move(now).error();
    if (!now->ready)
      return backend_error(IPP_STATUS_ERROR_DEVICE, "Klipper is not ready: " + now->ready_message);
    if (is_active(now->state)) {
      return backend_error(IPP_STATUS_ERROR_BUSY, std::string("the printer is busy (") +
                                                      print_state_name(now->state) + " " +
                                                      clean_text(now->file) + ")");
    }
    return post("/printer/print/start?filename=" + moonraker::url_encode(remote_name), "",
                options_.control_timeout, "start " + remote_name);
  });
}

Status MoonrakerBackend::cancel(const std::string& remote_name) {
  return guarded([&] { return control("cancel", remote_name, "/printer/print/cancel"); });
}

Status MoonrakerBackend::pause(const std::string& remote_name) {
  return guarded([&] { return control("pause", remote_name, "/printer/print/pause"); });
}

Status MoonrakerBackend::resume(const std::string& remote_name) {
  return guarded([&] { return control("resume", remote_name, "/printer/print/resume"); });
}

Status MoonrakerBackend::control(const std::string& action, const std::string& remote_name,
                                 const std::string& target) {
  auto now = query_status();
  if (!now) return std::move(now).error();
  if (!now->ready) {
    return backend_error(IPP_STATUS_ERROR_DEVICE,
                         "cannot " + action + ": Klipper is not ready: " + now->ready_message);
  }
  const bool allowed = action == "cancel"  ? is_active(now->state)
                       : action == "pause" ? now->state == PrintState::kPrinting
                                           : now->state == PrintState::kPaused;
  if (now->file != remote_name || !allowed) {
    return backend_error(IPP_STATUS_ERROR_NOT_POSSIBLE,
                         "cannot " + action + " " + remote_name + ": the printer is " +
                             print_state_name(now->state) +
                             (now->file.empty() ? std::string() : " " + clean_text(now->file)));
  }
  return post(target, "", options_.control_timeout, action + " " + remote_name);
}

Status MoonrakerBackend::remove(const std::string& remote_name) {
  return guarded([&]() -> Status {
    if (Status valid = check_remote_name(remote_name); !valid) return valid;
    auto answer = http_.perform(make_call(
        "DELETE", "/server/files/gcodes/" + moonraker::url_encode_path(remote_name), options_.query_timeout));
    if (!answer) return std::move(answer).error();
    if (answer->status == 400 || answer->status == 404) {
      return backend_error(IPP_STATUS_ERROR_NOT_FOUND, "the printer has no file " + remote_name);
    }
    if (answer->status != 200) return answer_error(*answer, "remove " + remote_name);
    const std::lock_guard lock(mutex_);
    layers_.erase(remote_name);
    return Status{};
  });
}

Status MoonrakerBackend::heaters_off() {
  // A fixed script: no text from a job ever reaches /printer/gcode/script.
  return guarded([&] {
    return post("/printer/gcode/script", R"({"script":"TURN_OFF_HEATERS"})", options_.control_timeout,
                "turn the heaters off");
  });
}

Status MoonrakerBackend::emergency_stop() {
  return guarded([&] { return post("/printer/emergency_stop", "", options_.query_timeout, "stop at once"); });
}

Result<PastPrint> MoonrakerBackend::past_print(const std::string& remote_name) {
  return guarded([&]() -> Result<PastPrint> {
    if (Status valid = check_remote_name(remote_name); !valid) return valid.error();
    auto metadata = http_.perform(
        make_call("GET", "/server/files/metadata?filename=" + moonraker::url_encode(remote_name),
                  options_.query_timeout));
    if (!metadata) return std::move(metadata).error();
    const std::string no_record = "the printer has no record of how " + remote_name + " ended";
    if (metadata->status == 404 || metadata->status == 400) {
      return backend_error(IPP_STATUS_ERROR_NOT_FOUND, no_record + " (no such file)");
    }
    if (metadata->status != 200) return answer_error(*metadata, "look up " + remote_name);
    const json file = result_of(metadata->body);
    const std::string job_id = string_at(&file, "job_id");
    if (job_id.empty()) return backend_error(IPP_STATUS_ERROR_NOT_FOUND, no_record + " (no history job)");
    auto history = http_.perform(
        make_call("GET", "/server/history/job?uid=" + moonraker::url_encode(job_id), options_.query_timeout));
    if (!history) return std::move(history).error();
    if (history->status == 404) return backend_error(IPP_STATUS_ERROR_NOT_FOUND, no_record + " (history)");
    if (history->status != 200) return answer_error(*history, "read the history of " + remote_name);
    const json result = result_of(history->body);
    const json* job = member(result, "job");
    const std::string status = string_at(job, "status");
    if (status == "completed") return PastPrint{PrintState::kComplete, ""};
    if (status == "cancelled") return PastPrint{PrintState::kCancelled, ""};
    if (status == "in_progress") return PastPrint{PrintState::kPrinting, ""};
    if (status == "klippy_shutdown")
      return PastPrint{PrintState::kError, "Klipper shut down during the print"};
    if (status == "klippy_disconnect") {
      return PastPrint{PrintState::kError, "Klipper disconnected during the print"};
    }
    if (status == "interrupted")
      return PastPrint{PrintState::kError, "Moonraker recorded the print as interrupted"};
    if (status == "error") return PastPrint{PrintState::kError, "the printer reported an error"};
    return backend_error(IPP_STATUS_ERROR_NOT_FOUND,
                         no_record + " (history status \"" + clean_text(status) + "\")");
  });
}

Status MoonrakerBackend::post(const std::string& target, const std::string& json_body,
                              std::chrono::milliseconds timeout, const std::string& what) {
  moonraker::HttpCall call = make_call("POST", target, timeout);
  call.json_body = json_body;
  auto answer = http_.perform(call);
  if (!answer) return std::move(answer).error();
  if (answer->status == 200) return {};
  Error error = answer_error(*answer, what);
  const std::string reason = moonraker_message(answer->body);
  if (reason == "SD busy") error.status = IPP_STATUS_ERROR_BUSY;
  if (reason == "Unable to open file") error.status = IPP_STATUS_ERROR_NOT_FOUND;
  return error;
}

}  // namespace ipp3d::server
