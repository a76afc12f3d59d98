// Finding ipp3d printers with DNS-SD: the `_ipps-3d._tcp` instances that
// ipp3d-server advertises (PWG 5100.21 §5) through avahi-daemon.
//
//   auto found = ipp3d::client::discover(std::chrono::seconds(3));
//   if (!found) { std::cerr << found.error().message; ... }  // e.g. no avahi-daemon
//   for (const auto& printer : *found) std::cout << printer.name << " " << printer.uri << "\n";
//
// A discovered URI is only a way to reach a printer: Printer::open still
// checks its certificate against the pin (a name on the network proves nothing).
#pragma once

#include "ipp3d/result.hpp"

#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace ipp3d::client {

// The DNS-SD service type of an IPP 3D printer over TLS.
inline constexpr std::string_view kIpps3dServiceType = "_ipps-3d._tcp";

// One resolved `_ipps-3d._tcp` instance.
struct DiscoveredPrinter {
  std::string name;                        // the DNS-SD instance name, e.g. "virtual-fdm (ipp3d)"
  std::string host;                        // the advertised host name, e.g. "printhost.local"
  std::string address;                     // its resolved address, numeric
  int port = 0;                            // TCP port
  std::string interface;                   // the network interface it was seen on ("lo", "eth0")
  std::map<std::string, std::string> txt;  // TXT keys (rp, adminurl, UUID, ty, note, pdl, ...)
  std::string uri;                         // ipps://ADDRESS:PORT/RP (printer_uri_for)
};

// The TXT record strings ("key=value", or "key" alone for an empty value)
// as a map; keys are kept as written, a repeated key keeps its first value
// (RFC 6763 §6.4), strings without a key are ignored.
std::map<std::string, std::string> parse_txt(const std::vector<std::string>& strings);

// The printer URI of an instance: "ipps://" + address (IPv6 in brackets, a
// link-local one with its zone as "%25IFACE") + ":" + port + "/" + the TXT
// key rp (without leading '/'). Errors: no rp, a port outside 1-65535, an
// empty address (status client-error-not-found, naming the instance).
Result<std::string> printer_uri_for(const std::string& name, const std::string& address, int port,
                                    const std::string& interface,
                                    const std::map<std::string, std::string>& txt);

// Browses `_ipps-3d._tcp` in the default domain on every interface and
// resolves each instance, for at most `timeout` (it returns earlier once
// avahi says the list is complete and every instance is resolved). The
// instances are sorted by name, one per name (IPv4 preferred). An instance
// that does not resolve or has no usable rp is left out. Errors (status
// server-error-service-unavailable): avahi-daemon not running ("avahi-daemon
// is not running: give the printer's URI"), or another avahi failure (named).
Result<std::vector<DiscoveredPrinter>> discover(std::chrono::milliseconds timeout);

// The instance called `name` (exactly, else ignoring ASCII case) among
// `found`. Errors (client-error-not-found): none such, the message lists the
// names found; two differing only by case.
Result<DiscoveredPrinter> find_discovered(const std::vector<DiscoveredPrinter>& found,
                                          const std::string& name);

}  // namespace ipp3d::client
