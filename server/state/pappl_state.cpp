#include "state/pappl_state.hpp"

#include <cups/cups.h>

#include <algorithm>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <system_error>
#include <unistd.h>

namespace ipp3d::server {
namespace {

// An Error about the state file.
Error state_error(const std::filesystem::path& path, const std::string& reason) {
  return Error{IPP_STATUS_ERROR_INTERNAL, path.string() + ": " + reason, "state", 0};
}

// Serialises options the way PAPPL writes them: name="value" with \ and " escaped.
std::string format_options(const std::string& keyword, int count, cups_option_t* options) {
  std::string line = keyword;
  for (int i = 0; i < count; ++i) {
    line += ' ';
    line += options[i].name;
    line += "=\"";
    for (const char* p = options[i].value; *p != '\0'; ++p) {
      if (*p == '\\' || *p == '"') line += '\\';
      line += *p;
    }
    line += '"';
  }
  return line;
}

// Parses the options of one "KEYWORD options..." line.
int parse_options(const std::string& options_text, cups_option_t** options) {
  return cupsParseOptions(options_text.c_str(), 0, options);
}

// Syncs a file's contents to disk.
bool sync_file(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return false;
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

// Writes `text` to PATH.tmp, syncs and renames it over `path`.
Status replace_file(const std::filesystem::path& path, const std::string& text) {
  const auto temp = std::filesystem::path(path.string() + ".tmp");
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) return state_error(temp, "cannot write");
  }
  if (!sync_file(temp)) return state_error(temp, "cannot sync");
  std::error_code ec;
  std::filesystem::rename(temp, path, ec);
  if (ec) return state_error(path, "cannot replace: " + ec.message());
  return {};
}

}  // namespace

Status save_pappl_state(pappl_system_t* system, const std::filesystem::path& path) {
  const auto temp = std::filesystem::path(path.string() + ".tmp");
  if (!papplSystemSaveState(system, temp.c_str())) return state_error(temp, "PAPPL could not save its state");
  if (!sync_file(temp)) return state_error(temp, "cannot sync");
  std::error_code ec;
  std::filesystem::rename(temp, path, ec);
  if (ec) return state_error(path, "cannot replace: " + ec.message());
  return {};
}

std::string mark_interrupted_jobs(const std::string& state_text, std::time_t now,
                                  const std::vector<InterruptedJob>& known_printing,
                                  std::vector<InterruptedJob>& interrupted,
                                  const std::vector<InterruptedJob>& reattach,
                                  std::vector<InterruptedJob>* reattached) {
  std::istringstream in(state_text);
  std::string out;
  std::string printer;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("<Printer ", 0) == 0) {
      cups_option_t* options = nullptr;
      const int count = parse_options(line.substr(9, line.size() > 10 ? line.size() - 10 : 0), &options);
      const char* name = cupsGetOption("name", count, options);
      printer = name != nullptr ? name : "";
      cupsFreeOptions(count, options);
    } else if (line.rfind("Job ", 0) == 0) {
      cups_option_t* options = nullptr;
      int count = parse_options(line.substr(4), &options);
      const char* state_text_value = cupsGetOption("state", count, options);
      const int state = state_text_value != nullptr ? std::atoi(state_text_value) : 0;
      const char* id_text = cupsGetOption("id", count, options);
      const InterruptedJob job{printer, id_text != nullptr ? std::atoi(id_text) : 0};
      const bool was_printing =
          std::find(known_printing.begin(), known_printing.end(), job) != known_printing.end();
      const bool follow_again = std::find(reattach.begin(), reattach.end(), job) != reattach.end();
      if (follow_again && state < IPP_JSTATE_CANCELED) {
        if (reattached != nullptr) reattached->push_back(job);
        count = cupsAddOption("state", "4", count, &options);
        line = format_options("Job", count, options);
      } else if (state == IPP_JSTATE_PROCESSING || state == IPP_JSTATE_STOPPED ||
                 (was_printing && state < IPP_JSTATE_CANCELED)) {
        interrupted.push_back(job);
        count = cupsAddOption("state", "8", count, &options);
        count = cupsAddOption("completed", std::to_string(now).c_str(), count, &options);
        line = format_options("Job", count, options);
      }
      cupsFreeOptions(count, options);
    }
    out += line;
    out += '\n';
  }
  return out;
}

Result<std::vector<InterruptedJob>> repair_pappl_state(const std::filesystem::path& path,
                                                       const std::vector<InterruptedJob>& known_printing,
                                                       const std::vector<InterruptedJob>& reattach,
                                                       std::vector<InterruptedJob>* reattached) {
  std::vector<InterruptedJob> interrupted;
  std::ifstream in(path, std::ios::binary);
  if (!in) return interrupted;
  std::stringstream text;
  text << in.rdbuf();
  const std::string repaired = mark_interrupted_jobs(text.str(), std::time(nullptr), known_printing,
                                                     interrupted, reattach, reattached);
  if (interrupted.empty() && (reattached == nullptr || reattached->empty())) return interrupted;
  if (auto replaced = replace_file(path, repaired); !replaced) return replaced.error();
  return interrupted;
}

}  // namespace ipp3d::server
