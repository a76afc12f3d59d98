// Connection flags, credentials and exit codes of the printer commands.
#include "remote.hpp"

#include "ipp3d/client/discovery.hpp"

#include "passphrase.hpp"

#include <cstdlib>
#include <fcntl.h>
#include <iostream>
#include <unistd.h>

namespace ipp3d::client {
namespace {

// The value of an environment variable, nullopt when unset.
std::optional<std::string> variable(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

// One line typed at the controlling terminal (with echo); nullopt without one.
std::optional<std::string> ask_line(const std::string& prompt) {
  const int fd = ::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::optional<std::string> line;
  if (::write(fd, prompt.data(), prompt.size()) == static_cast<ssize_t>(prompt.size())) {
    std::string text;
    char c = 0;
    while (::read(fd, &c, 1) == 1 && c != '\n') text.push_back(c);
    line = text;
  }
  (void)::close(fd);
  return line;
}

// Credentials when the printer asks: the environment, else the terminal.
std::optional<Credentials> ask_credentials(const std::string& host_port) {
  Credentials credentials;
  auto user = variable("IPP3D_USER");
  if (!user) user = ask_line("User for " + host_port + ": ");
  if (!user || user->empty()) return std::nullopt;
  credentials.user = *user;
  auto password = variable("IPP3D_PASSWORD");
  if (!password) password = ask_secret("Password for " + *user + " on " + host_port + ": ");
  if (!password) return std::nullopt;
  credentials.password = std::move(*password);
  return credentials;
}

// How long a printer named by its DNS-SD instance name is looked for.
constexpr std::chrono::seconds kDiscoveryTimeout{3};

// The URI of `target`: itself when it is a URI, else that of the DNS-SD
// instance of that name (said on stderr). Errors as unreachable (exit 3):
// no avahi-daemon, no such instance (the message lists those found).
Result<std::string> printer_uri(const std::string& target) {
  if (target.find("://") != std::string::npos) return target;
  auto found = discover(kDiscoveryTimeout);
  if (!found) return std::move(found).error();
  auto printer = find_discovered(*found, target);
  if (!printer) {
    return Error{IPP_STATUS_ERROR_SERVICE_UNAVAILABLE, printer.error().message, {}, 0};
  }
  std::cerr << "ipp3d: \"" << printer->name << "\" is " << printer->uri << " (found by DNS-SD)\n";
  return printer->uri;
}

}  // namespace

void add_remote_options(CLI::App& command, RemoteOptions& options, bool json) {
  command
      .add_option("uri", options.uri,
                  "the printer: ipps://HOST:PORT/ipp/print/NAME, or its DNS-SD name (see ipp3d discover)")
      ->required();
  command.add_option("--fingerprint", options.fingerprint,
                     "pin this SHA-256 certificate fingerprint (as ipp3d-server prints it) instead of "
                     "trusting on first contact");
  command.add_flag("--insecure", options.insecure, "allow plain ipp:// (no encryption, nothing verified)");
  if (json) command.add_flag("--json", options.json, "print JSON instead of text");
}

int exit_code_for(const Error& error) {
  switch (error.status) {
    case IPP_STATUS_ERROR_CUPS_PKI:
      return kExitTrust;
    case IPP_STATUS_ERROR_NOT_AUTHORIZED:
    case IPP_STATUS_ERROR_NOT_AUTHENTICATED:
    case IPP_STATUS_ERROR_FORBIDDEN:
      return kExitAuth;
    case IPP_STATUS_ERROR_SERVICE_UNAVAILABLE:
      return kExitUnreachable;
    case IPP_STATUS_ERROR_BAD_REQUEST:
      return error.attribute.empty() ? kExitUsage : kExitRefused;
    default:
      return kExitRefused;
  }
}

int report(const std::string& command, const Error& error) {
  const int code = exit_code_for(error);
  std::cerr << "ipp3d " << command << ": " << error.message;
  if (code == kExitAuth) std::cerr << " (" << kCredentialsHint << ")";
  std::cerr << "\n";
  return code;
}

Result<Printer> open_printer(const RemoteOptions& options) {
  OpenOptions open;
  open.insecure = options.insecure;
  if (!options.fingerprint.empty()) open.fingerprint = options.fingerprint;
  open.user_name = variable("IPP3D_USER").value_or("");
  open.on_first_contact = [](const std::string& host_port, const std::string& fingerprint) {
    std::cerr
        << "ipp3d: first contact with " << host_port << ": pinned its certificate, SHA-256 " << fingerprint
        << "\n       (compare it with the fingerprint ipp3d-server printed; a later change is refused)\n";
  };
  auto uri = printer_uri(options.uri);
  if (!uri) return std::move(uri).error();
  open.credentials = [uri = *uri]() { return ask_credentials(uri); };
  return Printer::open(*uri, open);
}

}  // namespace ipp3d::client
