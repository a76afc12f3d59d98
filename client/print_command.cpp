// `ipp3d print`: key, printer, ticket, streaming submission, then a live
// progress line on a terminal or timestamped lines otherwise; Ctrl-C asks
// whether to cancel the job.
#include "print_command.hpp"

#include "ipp3d/gcode/checker.hpp"

#include "passphrase.hpp"
#include "remote_check.hpp"
#include "sign_command.hpp"
#include "time_text.hpp"

#include <chrono>
#include <csignal>
#include <ctime>
#include <fcntl.h>
#include <iostream>
#include <unistd.h>

namespace ipp3d::client {
namespace {

volatile std::sig_atomic_t interrupted = 0;

extern "C" void note_interrupt(int /*signal_number*/) { interrupted = 1; }

// SIGINT sets `interrupted` while the object lives.
class InterruptGuard {
 public:
  InterruptGuard() {
    struct sigaction action {};
    action.sa_handler = note_interrupt;
    sigemptyset(&action.sa_mask);
    (void)::sigaction(SIGINT, &action, &old_);
  }
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;
  ~InterruptGuard() { (void)::sigaction(SIGINT, &old_, nullptr); }

 private:
  struct sigaction old_ {};
};

// "1:05" or "1:02:03".
std::string clock_text(std::chrono::seconds duration) {
  const long total = static_cast<long>(duration.count());
  const long hours = total / 3600;
  const long minutes = (total / 60) % 60;
  const long seconds = total % 60;
  char text[32];
  if (hours > 0) {
    (void)std::snprintf(text, sizeof text, "%ld:%02ld:%02ld", hours, minutes, seconds);
  } else {
    (void)std::snprintf(text, sizeof text, "%ld:%02ld", minutes, seconds);
  }
  return text;
}

// The job ticket from the command line.
attributes::JobTicket ticket_of(const PrintOptions& o) {
  attributes::JobTicket ticket;
  if (!o.material.empty()) {
    attributes::Material material;
    material.material_key = o.material;
    ticket.materials_col.push_back(material);
  }
  ticket.platform_temperature = o.platform_temperature;
  if (!o.supports.empty()) ticket.print_supports = o.supports;
  if (!o.base.empty()) ticket.print_base = o.base;
  return ticket;
}

// Follows a job: the progress text, the live line or plain lines.
class ProgressView {
 public:
  ProgressView(int job_id, bool terminal) : job_id_(job_id), terminal_(terminal) {}

  // Shows the status (a plain line only when it changed).
  void show(const JobInfo& job, bool changed) {
    if (job.state == IPP_JSTATE_PROCESSING && !started_) started_ = std::chrono::steady_clock::now();
    const std::string text = describe(job);
    if (terminal_) {
      std::cerr << "\r\033[K" << text << std::flush;
      if (job.terminal()) std::cerr << "\n";
    } else if (changed) {
      std::cout << utc_text(static_cast<std::int64_t>(std::time(nullptr))) << " " << text << std::endl;
    }
  }
  // Ends the live line before other output.
  void break_line() const {
    if (terminal_) std::cerr << "\n";
  }

 private:
  // "job 12 processing: layer 3/28 (10%), 0:07 elapsed, ~1:03 left: MESSAGE".
  std::string describe(const JobInfo& job) const {
    std::string text = "job " + std::to_string(job_id_) + " " + job_state_name(job.state);
    if (job.impressions > 0 && job.impressions_completed >= 0) {
      const int percent = job.impressions_completed * 100 / job.impressions;
      text += ": layer " + std::to_string(job.impressions_completed) + "/" + std::to_string(job.impressions) +
              " (" + std::to_string(percent) + "%)";
      if (started_ && !job.terminal()) {
        const auto elapsed =
            std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - *started_);
        text += ", " + clock_text(elapsed) + " elapsed";
        if (job.impressions_completed > 0) {
          const auto left =
              elapsed * (job.impressions - job.impressions_completed) / job.impressions_completed;
          text += ", ~" + clock_text(left) + " left";
        }
      }
    }
    // The server's own progress message ("layer 3 of 28 ...") repeats the figures above.
    const bool progress_message = job.impressions > 0 && job.message.find("layer ") != std::string::npos;
    if (!job.message.empty() && !progress_message) text += ": " + job.message;
    return text;
  }

  int job_id_;
  bool terminal_;
  std::optional<std::chrono::steady_clock::time_point> started_;
};

// Asks at the terminal whether to cancel; false without a terminal.
bool confirm_cancel(int job_id) {
  const int fd = ::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return false;
  const std::string prompt = "Cancel job " + std::to_string(job_id) + "? [y/N] ";
  char answer = 'n';
  if (::write(fd, prompt.data(), prompt.size()) == static_cast<ssize_t>(prompt.size())) {
    char c = 0;
    bool first = true;
    while (::read(fd, &c, 1) == 1 && c != '\n') {
      if (first) answer = c;
      first = false;
    }
  }
  (void)::close(fd);
  return answer == 'y' || answer == 'Y';
}

// Runs the printer's gate on the file before anything is submitted: the
// exit code to stop with (the file would be refused, or cannot be checked),
// or nullopt to go on. A printer that publishes no policy is not checked.
std::optional<int> preflight(Printer& printer, const Capabilities& caps, const PrintOptions& o) {
  auto gate = remote_gate(printer, caps, o.material, o.platform_temperature);
  if (!gate && gate.error().status == IPP_STATUS_ERROR_NOT_FOUND) {
    std::cerr << "ipp3d print: note: " << gate.error().message << "; no preflight check\n";
    return std::nullopt;
  }
  // A ticket the printer refuses: let it say why (Create-Job makes no job then).
  if (!gate && gate.error().attribute == "platform-temperature") return std::nullopt;
  if (!gate) return report("print", gate.error());
  const auto checked = gcode::check_file(o.file, gate->limits, gate->job);
  if (!checked) {
    std::cerr << "ipp3d print: cannot read " << checked.error().message << "\n";
    return kExitUsage;
  }
  if (checked->accepted) return std::nullopt;
  std::cerr << "ipp3d print: " << o.file << " would be refused by the printer (" << checked->violation_count
            << " violation(s)); nothing was sent:\n";
  for (std::size_t i = 0; i < checked->violations.size() && i < 3; ++i) {
    std::cerr << "  " << gcode::describe(checked->violations[i]) << "\n";
  }
  std::cerr << "All of them: ipp3d check " << o.file << " --printer " << o.remote.uri
            << (o.material.empty() ? "" : " --material " + o.material)
            << (o.platform_temperature ? " --platform-temperature " + std::to_string(*o.platform_temperature)
                                       : "")
            << "\n";
  return kExitRefused;
}

// Watches the job to its end; the exit code.
int follow(Printer& printer, const PrintOptions& o, int job_id) {
  const bool terminal = ::isatty(STDERR_FILENO) != 0;
  ProgressView view(job_id, terminal);
  const InterruptGuard guard;
  bool left_running = false;
  WatchOptions watching;
  watching.interrupted = [] { return interrupted != 0; };  // Ctrl-C ends a wait for notifications
  auto final = printer.watch(
      job_id,
      [&](const JobInfo& job, bool changed) {
        view.show(job, changed);
        if (interrupted == 0 || job.terminal()) return true;
        interrupted = 0;
        view.break_line();
        if (terminal && confirm_cancel(job_id)) {
          if (Status cancelled = printer.cancel(job_id); !cancelled)
            std::cerr << cancelled.error().message << "\n";
          return true;
        }
        if (terminal) return true;
        left_running = true;
        return false;
      },
      watching);
  if (!final) return report("print", final.error());
  if (left_running) {
    std::cerr << "ipp3d print: job " << job_id << " goes on; cancel it with: ipp3d cancel " << o.remote.uri
              << " " << job_id << "\n";
    return kExitInterrupted;
  }
  if (final->state == IPP_JSTATE_COMPLETED) return kExitOk;
  std::cerr << "ipp3d print: job " << job_id << " " << job_state_name(final->state)
            << (final->message.empty() ? "" : ": " + final->message) << "\n";
  return kExitRefused;
}

}  // namespace

CLI::App* add_print_command(CLI::App& app, PrintOptions& options) {
  CLI::App* print =
      app.add_subcommand("print", "Sign a print file on the fly, submit it and watch it print.");
  add_remote_options(*print, options.remote, false);
  print->add_option("file", options.file, "the G-code to print (a regular file: it is read twice)")
      ->required();
  print->add_option("--material", options.material, "material-key to print with (default: the loaded one)");
  print->add_option("--platform-temperature", options.platform_temperature, "bed temperature in °C");
  print->add_option("--supports", options.supports, "print-supports")
      ->check(CLI::IsMember(attributes::known_print_supports_keywords()));
  print->add_option("--base", options.base, "print-base")
      ->check(CLI::IsMember(attributes::known_print_base_keywords()));
  print->add_option("--copies", options.copies, "copies (1-999)")->check(CLI::Range(1, 999));
  print->add_flag("--encrypt", options.encrypt,
                  "encrypt to the printer's key (fetched over the pinned connection)");
  print->add_flag("--no-wait", options.no_wait, "return once the job is submitted");
  print->add_flag("--no-preflight", options.no_preflight,
                  "do not check the file with the printer's published G-code policy first");
  print->add_option("--key", options.key,
                    "signing key (default: $IPP3D_CONFIG_DIR/key, else ~/.config/ipp3d/key)");
  print->add_option("--expires", options.expires,
                    "validity of the signed job: Ns, Nm, Nh or Nd (default 7d)");
  print->footer(
      "Before submitting, the file is checked with the printer's published G-code policy (as `ipp3d check\n"
      "--printer`); a file it would refuse is not sent.\n"
      "Progress: a live line on a terminal, else one timestamped line per change. Ctrl-C asks whether to\n"
      "cancel the job (without a terminal the job goes on and the command exits 130).\n"
      "Exit status: 0 completed (or submitted with --no-wait), 1 refused, canceled or aborted, 2 usage or\n"
      "local error, 3 printer unreachable, 4 credentials missing or refused, 5 certificate does not match\n"
      "the pin, 130 interrupted.");
  return print;
}

int run_print(const PrintOptions& o) {
  const auto lifetime = parse_duration(o.expires);
  if (!lifetime) {
    std::cerr << "ipp3d print: --expires must be a number followed by s, m, h or d (e.g. 7d)\n";
    return kExitUsage;
  }
  auto key = read_signing_key(o.key);
  if (!key) {
    std::cerr << "ipp3d print: " << key.error().message << "\n";
    return kExitUsage;
  }
  auto printer = open_printer(o.remote);
  if (!printer) return report("print", printer.error());
  SubmitOptions submit;
  submit.signer = &*key;
  submit.copies = o.copies;
  submit.lifetime_seconds = *lifetime;
  auto caps = printer->capabilities();
  if (!caps) return report("print", caps.error());
  if (!o.no_preflight) {
    if (const auto stop = preflight(*printer, *caps, o)) return *stop;
  }
  if (o.encrypt) {
    if (!caps->encryption_key) {
      std::cerr << "ipp3d print: the printer publishes no encryption key (ipp3d-printer-public-key)\n";
      return kExitRefused;
    }
    submit.encrypt_to = caps->encryption_key;
  }
  auto submitted = printer->submit(o.file, ticket_of(o), submit);
  if (!submitted) return report("print", submitted.error());
  std::cout << "job " << submitted->job_id << " submitted to " << o.remote.uri
            << (o.encrypt ? " (encrypted)" : "") << std::endl;
  if (!submitted->notice.empty())
    std::cerr << "ipp3d print: the printer changed the ticket: " << submitted->notice << "\n";
  if (o.no_wait) return kExitOk;
  return follow(*printer, o, submitted->job_id);
}

}  // namespace ipp3d::client
