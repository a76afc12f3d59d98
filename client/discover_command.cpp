// `ipp3d discover`: lists the `_ipps-3d._tcp` instances as a table or JSON.
#include "discover_command.hpp"

#include "ipp3d/client/discovery.hpp"

#include "remote.hpp"

#include <nlohmann/json.hpp>

#include <iomanip>
#include <iostream>

namespace ipp3d::client {
namespace {

// The JSON form of one instance.
nlohmann::json printer_json(const DiscoveredPrinter& printer) {
  return {{"name", printer.name},       {"uri", printer.uri},   {"host", printer.host},
          {"address", printer.address}, {"port", printer.port}, {"interface", printer.interface},
          {"txt", printer.txt}};
}

// A TXT value, "" when absent.
std::string txt_value(const DiscoveredPrinter& printer, const char* key) {
  const auto found = printer.txt.find(key);
  return found == printer.txt.end() ? std::string() : found->second;
}

// The table for people: name, URI, then model and location when advertised.
void print_table(const std::vector<DiscoveredPrinter>& found) {
  if (found.empty()) {
    std::cout << "no ipp3d printer (_ipps-3d._tcp) found\n";
    return;
  }
  std::size_t width = 4;
  for (const auto& printer : found) width = std::max(width, printer.name.size());
  std::cout << std::left << std::setw(static_cast<int>(width) + 2) << "NAME"
            << "URI\n";
  for (const auto& printer : found) {
    std::cout << std::setw(static_cast<int>(width) + 2) << printer.name << printer.uri << "\n";
    const std::string model = txt_value(printer, "ty");
    const std::string note = txt_value(printer, "note");
    if (!model.empty() || !note.empty()) {
      std::cout << std::string(width + 2, ' ') << model << (model.empty() || note.empty() ? "" : ", ") << note
                << "\n";
    }
  }
}

}  // namespace

CLI::App* add_discover_command(CLI::App& app, DiscoverOptions& options) {
  CLI::App* discover =
      app.add_subcommand("discover", "Find ipp3d printers with DNS-SD (_ipps-3d._tcp, needs avahi-daemon).");
  discover->add_option("--timeout", options.timeout_seconds, "seconds to browse at most (default 3)")
      ->check(CLI::Range(0.1, 60.0));
  discover->add_flag("--json", options.json, "print a JSON array instead of a table");
  discover->footer(
      "A printer's instance name can replace its URI in the other commands (ipp3d status NAME).\n"
      "Exit status: 0 listed (possibly none), 3 avahi-daemon not running or DNS-SD failing.");
  return discover;
}

int run_discover(const DiscoverOptions& options) {
  const auto timeout = std::chrono::milliseconds(static_cast<long long>(options.timeout_seconds * 1000));
  auto found = discover(timeout);
  if (!found) return report("discover", found.error());
  if (options.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& printer : *found) list.push_back(printer_json(printer));
    std::cout << list.dump(2) << "\n";
  } else {
    print_table(*found);
  }
  return kExitOk;
}

}  // namespace ipp3d::client
