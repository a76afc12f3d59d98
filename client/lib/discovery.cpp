// DNS-SD discovery of `_ipps-3d._tcp` with libavahi-client on a simple poll
// run in the caller's thread, and the pure TXT and URI assembly.
#include "ipp3d/client/discovery.hpp"

#include <algorithm>
#include <array>
#include <avahi-client/client.h>
#include <avahi-client/lookup.h>
#include <avahi-common/address.h>
#include <avahi-common/error.h>
#include <avahi-common/simple-watch.h>
#include <avahi-common/strlst.h>
#include <memory>
#include <net/if.h>

namespace ipp3d::client {
namespace {

constexpr const char* kNoDaemon = "avahi-daemon is not running: give the printer's URI";

// Stateless deleters for the avahi handles owned here.
struct SimplePollDelete {
  void operator()(AvahiSimplePoll* poll) const noexcept { avahi_simple_poll_free(poll); }
};
struct ClientDelete {
  void operator()(AvahiClient* client) const noexcept { avahi_client_free(client); }
};
struct BrowserDelete {
  void operator()(AvahiServiceBrowser* browser) const noexcept { avahi_service_browser_free(browser); }
};
using SimplePollPtr = std::unique_ptr<AvahiSimplePoll, SimplePollDelete>;
using ClientPtr = std::unique_ptr<AvahiClient, ClientDelete>;
using BrowserPtr = std::unique_ptr<AvahiServiceBrowser, BrowserDelete>;

// ASCII lower case of a string.
std::string lower(std::string text) {
  for (char& c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}

// What the browse and resolve callbacks collect; touched only on the thread
// that runs the poll (discover()'s caller).
struct Browse {
  AvahiClient* client = nullptr;  // borrowed: set once avahi_client_new returned
  int pending = 0;                // resolvers started and not yet answered
  bool all_for_now = false;       // the browser listed what it knows
  int failure = 0;                // an avahi error code that ends the browse
  std::vector<DiscoveredPrinter> found;
  std::vector<AvahiProtocol> protocols;  // address family of each found entry
};

// The strings of an avahi TXT list.
std::vector<std::string> txt_strings(AvahiStringList* list) {
  std::vector<std::string> strings;
  for (AvahiStringList* item = list; item != nullptr; item = avahi_string_list_get_next(item)) {
    strings.emplace_back(reinterpret_cast<const char*>(avahi_string_list_get_text(item)),
                         avahi_string_list_get_size(item));
  }
  return strings;
}

// The name of a network interface ("" when unknown).
std::string interface_name(AvahiIfIndex index) {
  std::array<char, IF_NAMESIZE> name{};
  if (index < 0 || ::if_indextoname(static_cast<unsigned>(index), name.data()) == nullptr) return {};
  return name.data();
}

// One resolved instance into `browse` (left out when it has no usable URI).
void add_resolved(Browse& browse, AvahiIfIndex interface, const char* name, const char* host,
                  const AvahiAddress* address, uint16_t port, AvahiStringList* txt) {
  DiscoveredPrinter printer;
  printer.name = name != nullptr ? name : "";
  printer.host = host != nullptr ? host : "";
  std::array<char, AVAHI_ADDRESS_STR_MAX> text{};
  if (address != nullptr) printer.address = avahi_address_snprint(text.data(), text.size(), address);
  printer.port = port;
  printer.interface = interface_name(interface);
  printer.txt = parse_txt(txt_strings(txt));
  auto uri = printer_uri_for(printer.name, printer.address, printer.port, printer.interface, printer.txt);
  if (!uri) return;
  printer.uri = std::move(uri).value();
  browse.found.push_back(std::move(printer));
  browse.protocols.push_back(address != nullptr ? address->proto : AVAHI_PROTO_UNSPEC);
}

// Resolver answers: a found instance is kept; either way the resolver ends.
void on_resolved(AvahiServiceResolver* resolver, AvahiIfIndex interface, AvahiProtocol /*protocol*/,
                 AvahiResolverEvent event, const char* name, const char* /*type*/, const char* /*domain*/,
                 const char* host, const AvahiAddress* address, uint16_t port, AvahiStringList* txt,
                 AvahiLookupResultFlags /*flags*/, void* userdata) noexcept {
  auto& browse = *static_cast<Browse*>(userdata);
  try {
    if (event == AVAHI_RESOLVER_FOUND) add_resolved(browse, interface, name, host, address, port, txt);
  } catch (...) {  // NOLINT(bugprone-empty-catch): out of memory loses one instance, not the process
  }
  --browse.pending;
  avahi_service_resolver_free(resolver);
}

// Browser events: resolve each new instance; note the end of the list or a failure.
void on_browse(AvahiServiceBrowser* /*browser*/, AvahiIfIndex interface, AvahiProtocol protocol,
               AvahiBrowserEvent event, const char* name, const char* type, const char* domain,
               AvahiLookupResultFlags /*flags*/, void* userdata) noexcept {
  auto& browse = *static_cast<Browse*>(userdata);
  switch (event) {
    case AVAHI_BROWSER_NEW:
      if (avahi_service_resolver_new(browse.client, interface, protocol, name, type, domain,
                                     AVAHI_PROTO_UNSPEC, static_cast<AvahiLookupFlags>(0), on_resolved,
                                     &browse) != nullptr) {
        ++browse.pending;
      }
      break;
    case AVAHI_BROWSER_ALL_FOR_NOW:
      browse.all_for_now = true;
      break;
    case AVAHI_BROWSER_FAILURE:
      browse.failure = avahi_client_errno(browse.client);
      break;
    case AVAHI_BROWSER_REMOVE:
    case AVAHI_BROWSER_CACHE_EXHAUSTED:
      break;
  }
}

// Client state changes: a daemon that goes away ends the browse.
void on_client(AvahiClient* client, AvahiClientState state, void* userdata) noexcept {
  auto& browse = *static_cast<Browse*>(userdata);
  if (state == AVAHI_CLIENT_FAILURE) browse.failure = avahi_client_errno(client);
}

// The error for an avahi error code.
Error avahi_error(int code) {
  // Without a D-Bus system bus there is no daemon to reach either.
  if (code == AVAHI_ERR_NO_DAEMON || code == AVAHI_ERR_DISCONNECTED || code == AVAHI_ERR_DBUS_ERROR) {
    return Error{IPP_STATUS_ERROR_SERVICE_UNAVAILABLE, kNoDaemon, {}, 0};
  }
  return Error{IPP_STATUS_ERROR_SERVICE_UNAVAILABLE,
               std::string("DNS-SD discovery failed: ") + avahi_strerror(code) +
                   " (is avahi-daemon running? otherwise give the printer's URI)",
               {},
               0};
}

// One entry per instance name, IPv4 before IPv6, sorted by name.
std::vector<DiscoveredPrinter> one_per_name(Browse& browse) {
  std::vector<std::size_t> order(browse.found.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    if (browse.found[a].name != browse.found[b].name) return browse.found[a].name < browse.found[b].name;
    return (browse.protocols[a] == AVAHI_PROTO_INET) && (browse.protocols[b] != AVAHI_PROTO_INET);
  });
  std::vector<DiscoveredPrinter> unique;
  for (const std::size_t i : order) {
    if (unique.empty() || unique.back().name != browse.found[i].name) unique.push_back(browse.found[i]);
  }
  return unique;
}

}  // namespace

std::map<std::string, std::string> parse_txt(const std::vector<std::string>& strings) {
  std::map<std::string, std::string> txt;
  for (const auto& text : strings) {
    const auto equals = text.find('=');
    const std::string key = text.substr(0, equals);
    if (key.empty()) continue;
    txt.emplace(key, equals == std::string::npos ? std::string() : text.substr(equals + 1));
  }
  return txt;
}

Result<std::string> printer_uri_for(const std::string& name, const std::string& address, int port,
                                    const std::string& interface,
                                    const std::map<std::string, std::string>& txt) {
  const auto rp = txt.find("rp");
  if (rp == txt.end() || address.empty() || port < 1 || port > 65535) {
    return Error{IPP_STATUS_ERROR_NOT_FOUND,
                 "the DNS-SD instance \"" + name + "\" has no usable address, port or rp",
                 {},
                 0};
  }
  std::string host = address;
  if (host.find(':') != std::string::npos) {
    const bool link_local = lower(host).rfind("fe80:", 0) == 0;
    host = "[" + host + (link_local && !interface.empty() ? "%25" + interface : "") + "]";
  }
  std::string_view resource = rp->second;
  while (!resource.empty() && resource.front() == '/') resource.remove_prefix(1);
  return "ipps://" + host + ":" + std::to_string(port) + "/" + std::string(resource);
}

Result<std::vector<DiscoveredPrinter>> discover(std::chrono::milliseconds timeout) {
  SimplePollPtr poll(avahi_simple_poll_new());
  if (!poll) return Error{IPP_STATUS_ERROR_INTERNAL, "cannot create avahi's poll (out of memory)", {}, 0};
  Browse browse;
  int error = 0;
  ClientPtr client(avahi_client_new(avahi_simple_poll_get(poll.get()), static_cast<AvahiClientFlags>(0),
                                    on_client, &browse, &error));
  if (!client) return avahi_error(error);
  browse.client = client.get();
  const std::string type(kIpps3dServiceType);
  BrowserPtr browser(avahi_service_browser_new(client.get(), AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC,
                                               type.c_str(), nullptr, static_cast<AvahiLookupFlags>(0),
                                               on_browse, &browse));
  if (!browser) return avahi_error(avahi_client_errno(client.get()));
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (browse.failure == 0 && !(browse.all_for_now && browse.pending == 0)) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    if (avahi_simple_poll_iterate(poll.get(), static_cast<int>(left.count())) != 0) break;
  }
  if (browse.failure != 0) return avahi_error(browse.failure);
  return one_per_name(browse);
}

Result<DiscoveredPrinter> find_discovered(const std::vector<DiscoveredPrinter>& found,
                                          const std::string& name) {
  std::vector<const DiscoveredPrinter*> folded;
  std::string names;
  for (const auto& printer : found) {
    if (printer.name == name) return printer;
    if (lower(printer.name) == lower(name)) folded.push_back(&printer);
    names += (names.empty() ? "" : ", ") + ("\"" + printer.name + "\"");
  }
  if (folded.size() == 1) return *folded.front();
  if (folded.size() > 1) {
    return Error{
        IPP_STATUS_ERROR_NOT_FOUND,
        "more than one printer is called \"" + name + "\" (ignoring case): give its exact name or URI",
        {},
        0};
  }
  return Error{IPP_STATUS_ERROR_NOT_FOUND,
               "no printer called \"" + name + "\" found by DNS-SD" +
                   (names.empty() ? std::string(" (none found)") : " (found: " + names + ")") +
                   "; give its URI (ipps://HOST:PORT/ipp/print/NAME)",
               {},
               0};
}

}  // namespace ipp3d::client
