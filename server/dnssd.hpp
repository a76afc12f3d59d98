// DNS-SD advertising of the 3D print service (PWG 5100.21 §5): one
// `_ipps-3d._tcp` instance per printer, registered with avahi-daemon through
// libavahi-client. PAPPL's own advertising (_ipp, _ipps, ...) stays off, since
// desktops would auto-add those as 2D printers. A missing avahi-daemon is not
// an error: the advertiser waits for it and registers when it appears, and
// again after it restarts.
//
//   std::vector<DnssdService> services = {...};
//   auto advertiser = DnssdAdvertiser::start(std::move(services), log);  // never blocks
//   ...                                                                  // advertised while alive
//   advertiser.reset();                                                  // withdrawn
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ipp3d::server {

// The DNS-SD service type of an IPP 3D printer over TLS (PWG 5100.21 §5).
inline constexpr std::string_view kDnssdServiceType = "_ipps-3d._tcp";

// One printer's advertisement. Text values are UTF-8.
struct DnssdService {
  std::string instance_name;   // see instance_name_for(); at most 63 bytes are used
  int port = 0;                // the IPPS listener's TCP port (1..65535)
  std::string resource_path;   // "ipp/print/NAME", no leading slash (TXT rp)
  std::string uuid;            // printer-uuid, "urn:uuid:..." or bare (TXT UUID, sent bare)
  std::string admin_url;       // the web interface, "https://host:port/" (TXT adminurl)
  std::string note;            // printer-location (TXT note; omitted when empty)
  std::string make_and_model;  // printer-make-and-model (TXT ty; omitted when empty)
  std::string pdl;             // comma-separated document formats, e.g. "text/x-gcode" (TXT pdl)
  std::string listen_host;     // the server's listen host; a loopback host limits the
                               // advertisement to the loopback interface (see dnssd_scope_for)
};

// Where an advertisement may be seen, derived from the listen host.
struct DnssdScope {
  bool loopback_only = false;  // the listener is reachable from this host only
  int address_family = 0;      // AF_INET or AF_INET6 for an address literal, else AF_UNSPEC
};

// The scope for a listen host: "127.0.0.0/8", "::1", "localhost" (any case,
// optionally with a trailing dot) and the IPv4-mapped loopback are loopback
// only; the address family follows an IPv4 or IPv6 literal (brackets and a
// zone are allowed) and is AF_UNSPEC for host names and wildcards.
[[nodiscard]] DnssdScope dnssd_scope_for(std::string_view listen_host);

// The DNS-SD instance name for a printer: "NAME (MAKE AND MODEL)", or just
// the one that is set when the other is empty or they are equal (ignoring
// case). PWG 5100.21 §5 forbids a unique ID (serial number, MAC address,
// UUID) in the default name, so none is added; avahi renames on a collision
// ("NAME (MODEL) #2"). Control characters become spaces and the result is
// cut to 63 bytes on a UTF-8 boundary (dropping the model part first).
[[nodiscard]] std::string instance_name_for(std::string_view printer_name, std::string_view make_and_model);

// The TXT record of a service, one "key=value" string each, in this order:
// txtvers=1, qtotal=1, rp, ty, adminurl, note, pdl, UUID. adminurl and UUID
// are required by PWG 5100.21 §5 and always present (the caller must set
// them); rp, ty, note and pdl are the other keys it names; txtvers and qtotal
// are the usual DNS-SD printer keys. No "TLS" key: the reference does not
// name it and the server does not pin a TLS version to announce. UUID is sent
// without its "urn:uuid:" prefix and rp without a leading "/". ty, note and
// pdl are omitted when empty. Free-text values (ty, note) are cut on a UTF-8
// boundary so that each string fits DNS's 255-byte limit.
[[nodiscard]] std::vector<std::string> txt_records(const DnssdService& service);

// Severity of a message from the advertiser.
enum class DnssdLogLevel { kDebug, kInfo, kWarning, kError };

// Receives the advertiser's messages. Called from avahi's poll thread, so it
// must be thread-safe (papplLog is).
using DnssdLogFn = std::function<void(DnssdLogLevel, const std::string&)>;

// Advertises the services with avahi-daemon while it lives; one per server
// process. All avahi work, including connecting to the daemon, runs on
// avahi's threaded poll, so nothing here blocks the caller. Without
// avahi-daemon (or without the D-Bus system bus) it logs once
// "DNS-SD: avahi-daemon is not running; _ipps-3d._tcp not advertised" and
// registers as soon as the daemon appears; it re-registers after a daemon
// restart and renames an instance whose name is taken on the network.
class DnssdAdvertiser {
 public:
  using LogFn = DnssdLogFn;

  // Starts advertising `services` (one entry group each, so that a name
  // collision renames only the printer concerned). Returns nullptr only when
  // there is nothing to advertise (no services) or avahi's poll thread cannot
  // be created (logged); a missing daemon is not a failure. `log` may be empty.
  [[nodiscard]] static std::unique_ptr<DnssdAdvertiser> start(std::vector<DnssdService> services, LogFn log);

  DnssdAdvertiser(const DnssdAdvertiser&) = delete;
  DnssdAdvertiser& operator=(const DnssdAdvertiser&) = delete;
  // Stops the poll thread (withdrawing the services from the daemon) and
  // frees every avahi object.
  ~DnssdAdvertiser();

  // How many services this advertiser is responsible for.
  [[nodiscard]] std::size_t service_count() const;
  // The instance names in use now, in the order given to start(): the
  // requested names, or avahi's alternatives after a collision.
  [[nodiscard]] std::vector<std::string> instance_names() const;
  // Whether every service is currently established with avahi-daemon.
  [[nodiscard]] bool established() const;

 private:
  struct State;
  explicit DnssdAdvertiser(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace ipp3d::server
