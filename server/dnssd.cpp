#include "dnssd.hpp"

#include <arpa/inet.h>
#include <array>
#include <avahi-client/client.h>
#include <avahi-client/publish.h>
#include <avahi-common/alternative.h>
#include <avahi-common/error.h>
#include <avahi-common/malloc.h>
#include <avahi-common/strlst.h>
#include <avahi-common/thread-watch.h>
#include <avahi-common/timeval.h>
#include <cstdint>
#include <mutex>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <utility>

namespace ipp3d::server {
namespace {

constexpr std::size_t kMaxInstanceNameBytes = 63;  // DNS label limit (RFC 6763 §4.1.1)
constexpr std::size_t kMaxTxtStringBytes = 255;    // one TXT character-string (RFC 6763 §6.1)
constexpr unsigned kRetryMilliseconds = 10'000;    // reconnect delay without D-Bus or after a failure
constexpr int kMaxRenames = 100;                   // local name collisions tried before giving up
constexpr std::string_view kUuidPrefix = "urn:uuid:";
constexpr std::string_view kFallbackInstanceName = "3D Printer";

// Stateless deleters for the avahi handles this file owns.
struct ThreadedPollDelete {
  void operator()(AvahiThreadedPoll* poll) const noexcept { avahi_threaded_poll_free(poll); }
};
struct ClientDelete {
  void operator()(AvahiClient* client) const noexcept { avahi_client_free(client); }
};
struct StringListDelete {
  void operator()(AvahiStringList* list) const noexcept { avahi_string_list_free(list); }
};
struct AvahiCharDelete {
  void operator()(char* text) const noexcept { avahi_free(text); }
};
using ThreadedPollPtr = std::unique_ptr<AvahiThreadedPoll, ThreadedPollDelete>;
using ClientPtr = std::unique_ptr<AvahiClient, ClientDelete>;
using StringListPtr = std::unique_ptr<AvahiStringList, StringListDelete>;
using AvahiCharPtr = std::unique_ptr<char, AvahiCharDelete>;

// ASCII lower case of one character.
char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Whether two strings are equal ignoring ASCII case.
bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

// Whether `text` starts with `prefix`, ignoring ASCII case.
bool istarts_with(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && iequals(text.substr(0, prefix.size()), prefix);
}

// The longest prefix of `text` of at most `max_bytes` that does not split a
// UTF-8 sequence.
std::string utf8_prefix(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  std::size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0U) == 0x80U) --cut;
  return std::string(text.substr(0, cut));
}

// `text` with control characters turned into spaces and outer spaces removed.
std::string printable_trimmed(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    out.push_back(byte < 0x20U || byte == 0x7FU ? ' ' : c);
  }
  const auto first = out.find_first_not_of(' ');
  if (first == std::string::npos) return {};
  return out.substr(first, out.find_last_not_of(' ') - first + 1);
}

// "key=value" with the value cut so that the whole string fits one TXT string.
std::string txt_text(std::string_view key, std::string_view value) {
  std::string text(key);
  text.push_back('=');
  return text + utf8_prefix(value, kMaxTxtStringBytes - text.size());
}

}  // namespace

DnssdScope dnssd_scope_for(std::string_view listen_host) {
  std::string host(listen_host);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (const auto zone = host.find('%'); zone != std::string::npos) host.resize(zone);

  DnssdScope scope;
  scope.address_family = AF_UNSPEC;
  in_addr v4{};
  in6_addr v6{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    scope.address_family = AF_INET;
    scope.loopback_only = (ntohl(v4.s_addr) >> 24U) == 127U;
  } else if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    // "::" is a dual-stack wildcard: both families reach it.
    scope.address_family = IN6_IS_ADDR_UNSPECIFIED(&v6) ? AF_UNSPEC : AF_INET6;
    scope.loopback_only = IN6_IS_ADDR_LOOPBACK(&v6) || (IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127U);
  } else {
    scope.loopback_only = iequals(host, "localhost") || iequals(host, "localhost.");
  }
  return scope;
}

std::string instance_name_for(std::string_view printer_name, std::string_view make_and_model) {
  const std::string name = printable_trimmed(printer_name);
  const std::string model = printable_trimmed(make_and_model);
  if (name.empty() && model.empty()) return std::string(kFallbackInstanceName);
  if (name.empty()) return utf8_prefix(model, kMaxInstanceNameBytes);
  if (model.empty() || iequals(name, model)) return utf8_prefix(name, kMaxInstanceNameBytes);
  const std::string combined = name + " (" + model + ")";
  return combined.size() <= kMaxInstanceNameBytes ? combined : utf8_prefix(name, kMaxInstanceNameBytes);
}

std::vector<std::string> txt_records(const DnssdService& service) {
  std::string_view resource = service.resource_path;
  while (!resource.empty() && resource.front() == '/') resource.remove_prefix(1);
  std::string_view uuid = service.uuid;
  if (istarts_with(uuid, kUuidPrefix)) uuid.remove_prefix(kUuidPrefix.size());

  std::vector<std::string> txt{"txtvers=1", "qtotal=1", "rp=" + std::string(resource)};
  if (!service.make_and_model.empty()) txt.push_back(txt_text("ty", service.make_and_model));
  txt.push_back("adminurl=" + service.admin_url);
  if (!service.note.empty()) txt.push_back(txt_text("note", service.note));
  if (!service.pdl.empty()) txt.push_back("pdl=" + service.pdl);
  txt.push_back("UUID=" + std::string(uuid));
  return txt;
}

// Everything the poll thread works on. Only the poll thread touches the avahi
// objects once the poll runs (avahi calls back on it with its lock held); the
// snapshot is what the other threads may read.
struct DnssdAdvertiser::State {
  // One advertised printer.
  struct Entry {
    State* owner = nullptr;                       // the advertiser's state (for the group callback)
    DnssdService service;                         // as given to start()
    std::vector<std::string> txt;                 // txt_records(service)
    std::string name;                             // instance name in use (renamed on collisions)
    AvahiIfIndex interface = AVAHI_IF_UNSPEC;     // "lo" for a loopback listener, else all
    AvahiProtocol protocol = AVAHI_PROTO_UNSPEC;  // follows an address-literal listen host
    bool loopback_only = false;                   // advertised on the loopback interface only
    bool usable = true;                           // false: not advertised at all (reason logged at start)
    AvahiEntryGroup* group = nullptr;             // borrowed: owned by `client` (avahi_client_free frees it)
    std::size_t index = 0;                        // position in `entries` and in the snapshot
  };

  LogFn log;                                // may be empty
  std::vector<Entry> entries;               // never resized after start(): callbacks hold Entry*
  ThreadedPollPtr poll;                     // declared first: outlives the client
  ClientPtr client;                         // null while there is no D-Bus system bus
  AvahiTimeout* retry = nullptr;            // borrowed: owned by `poll` (freed with it)
  bool started = false;                     // the poll thread runs
  bool absence_logged = false;              // "not running" already said since the daemon was last seen
  mutable std::mutex snapshot_mutex;        // guards the two vectors below
  std::vector<std::string> snapshot_names;  // Entry::name per entry
  std::vector<bool> snapshot_established;   // ESTABLISHED with the current daemon, per entry

  ~State();
  void say(DnssdLogLevel level, const std::string& message) const noexcept;
  void publish_snapshot(const Entry& entry, bool established);
  void arm_retry(unsigned milliseconds) const;
  void note_absent();
  void connect();
  void drop_client();
  void register_entry(AvahiClient* avahi, Entry& entry);
  void rename(Entry& entry);

  static void on_retry(AvahiTimeout* timeout, void* userdata) noexcept;
  static void on_client(AvahiClient* avahi, AvahiClientState state, void* userdata) noexcept;
  static void on_group(AvahiEntryGroup* group, AvahiEntryGroupState state, void* userdata) noexcept;
};

// Stops the poll thread, then frees the client (and with it its entry
// groups) and the poll (and with it the retry timeout).
DnssdAdvertiser::State::~State() {
  if (started) avahi_threaded_poll_stop(poll.get());
  for (auto& entry : entries) entry.group = nullptr;
  client.reset();
  poll.reset();
}

// Passes a message to the log function; a throwing logger loses the message.
void DnssdAdvertiser::State::say(DnssdLogLevel level, const std::string& message) const noexcept {
  if (!log) return;
  try {
    log(level, message);
  } catch (...) {  // NOLINT(bugprone-empty-catch): a logger must not end avahi's thread
  }
}

// Records an entry's name and state for instance_names()/established().
void DnssdAdvertiser::State::publish_snapshot(const Entry& entry, bool established) {
  const std::lock_guard lock(snapshot_mutex);
  snapshot_names[entry.index] = entry.name;
  snapshot_established[entry.index] = established;
}

// (Re)arms the reconnect timeout to fire after `milliseconds`.
void DnssdAdvertiser::State::arm_retry(unsigned milliseconds) const {
  timeval when{};
  avahi_elapse_time(&when, milliseconds, 0);
  avahi_threaded_poll_get(poll.get())->timeout_update(retry, &when);
}

// Logs the missing daemon once until it is seen again.
void DnssdAdvertiser::State::note_absent() {
  if (absence_logged) return;
  absence_logged = true;
  say(DnssdLogLevel::kWarning, "DNS-SD: avahi-daemon is not running; _ipps-3d._tcp not advertised");
}

// Frees the client; its entry groups go with it.
void DnssdAdvertiser::State::drop_client() {
  for (auto& entry : entries) {
    entry.group = nullptr;
    publish_snapshot(entry, false);
  }
  client.reset();
}

// Creates a client that waits for the daemon (AVAHI_CLIENT_NO_FAIL); without a
// D-Bus system bus even that fails, and the retry timeout tries again later.
void DnssdAdvertiser::State::connect() {
  drop_client();
  int error = 0;
  AvahiClient* created =
      avahi_client_new(avahi_threaded_poll_get(poll.get()), AVAHI_CLIENT_NO_FAIL, on_client, this, &error);
  if (created == nullptr) {
    // avahi_client_new freed whatever on_client may have created meanwhile.
    for (auto& entry : entries) entry.group = nullptr;
    if (!absence_logged) {
      say(DnssdLogLevel::kDebug, std::string("DNS-SD: cannot reach avahi-daemon: ") + avahi_strerror(error));
    }
    note_absent();
    arm_retry(kRetryMilliseconds);
    return;
  }
  client.reset(created);
}

// Takes avahi's alternative for the entry's name ("NAME #2", ...).
void DnssdAdvertiser::State::rename(Entry& entry) {
  const AvahiCharPtr alternative(avahi_alternative_service_name(entry.name.c_str()));
  if (alternative == nullptr) return;
  say(DnssdLogLevel::kInfo,
      "DNS-SD: instance name \"" + entry.name + "\" is taken; renamed to \"" + alternative.get() + "\"");
  entry.name = alternative.get();
  publish_snapshot(entry, false);
}

// Adds the entry's service to its (new or emptied) entry group and commits it.
void DnssdAdvertiser::State::register_entry(AvahiClient* avahi, Entry& entry) {
  if (!entry.usable) return;
  if (entry.group == nullptr) entry.group = avahi_entry_group_new(avahi, on_group, &entry);
  if (entry.group == nullptr) {
    say(DnssdLogLevel::kError,
        std::string("DNS-SD: cannot create an entry group: ") + avahi_strerror(avahi_client_errno(avahi)));
    return;
  }
  if (avahi_entry_group_is_empty(entry.group) == 0) return;  // already added

  std::vector<const char*> texts;
  for (const auto& text : entry.txt) texts.push_back(text.c_str());
  const StringListPtr txt(avahi_string_list_new_from_array(texts.data(), static_cast<int>(texts.size())));
  const std::string type(kDnssdServiceType);
  for (int attempt = 0; attempt < kMaxRenames; ++attempt) {
    const int added = avahi_entry_group_add_service_strlst(
        entry.group, entry.interface, entry.protocol, static_cast<AvahiPublishFlags>(0), entry.name.c_str(),
        type.c_str(), /*domain=*/nullptr, /*host=*/nullptr, static_cast<std::uint16_t>(entry.service.port),
        txt.get());
    if (added == AVAHI_ERR_COLLISION) {  // taken by a service on this host
      rename(entry);
      continue;
    }
    const int committed = added < 0 ? added : avahi_entry_group_commit(entry.group);
    if (committed < 0) {
      say(DnssdLogLevel::kError,
          "DNS-SD: cannot advertise \"" + entry.name + "\": " + avahi_strerror(committed));
    }
    return;
  }
  say(DnssdLogLevel::kError, "DNS-SD: no free instance name for \"" + entry.service.instance_name + "\"");
}

// The retry timeout: connect (again).
void DnssdAdvertiser::State::on_retry(AvahiTimeout*, void* userdata) noexcept {
  static_cast<State*>(userdata)->connect();
}

// Client state changes: register when the daemon runs, withdraw while it
// re-registers its host name, reconnect after a failure. `avahi` may not be
// stored in `client` yet (avahi_client_new calls back before returning).
void DnssdAdvertiser::State::on_client(AvahiClient* avahi, AvahiClientState state, void* userdata) noexcept {
  auto* self = static_cast<State*>(userdata);
  switch (state) {
    case AVAHI_CLIENT_S_RUNNING:
      if (self->absence_logged) self->say(DnssdLogLevel::kInfo, "DNS-SD: avahi-daemon is running");
      self->absence_logged = false;
      for (auto& entry : self->entries) self->register_entry(avahi, entry);
      break;
    case AVAHI_CLIENT_S_COLLISION:  // host name collision: avahi renames the host, then S_RUNNING
    case AVAHI_CLIENT_S_REGISTERING:
      for (auto& entry : self->entries) {
        if (entry.group != nullptr) avahi_entry_group_reset(entry.group);
        self->publish_snapshot(entry, false);
      }
      break;
    case AVAHI_CLIENT_CONNECTING:  // D-Bus is there, the daemon is not (yet)
      self->note_absent();
      break;
    case AVAHI_CLIENT_FAILURE: {
      // A failed client cannot recover and cannot be freed inside its own
      // callback: the retry timeout replaces it.
      const int error = avahi_client_errno(avahi);
      const bool disconnected = error == AVAHI_ERR_DISCONNECTED;
      self->say(disconnected ? DnssdLogLevel::kInfo : DnssdLogLevel::kError,
                std::string("DNS-SD: lost avahi-daemon (") + avahi_strerror(error) + "); reconnecting");
      for (auto& entry : self->entries) self->publish_snapshot(entry, false);
      self->arm_retry(disconnected ? 0 : kRetryMilliseconds);
      break;
    }
  }
}

// Entry group state changes: report success, rename on a network collision.
void DnssdAdvertiser::State::on_group(AvahiEntryGroup* group, AvahiEntryGroupState state,
                                      void* userdata) noexcept {
  auto& entry = *static_cast<Entry*>(userdata);
  State& self = *entry.owner;
  switch (state) {
    case AVAHI_ENTRY_GROUP_ESTABLISHED:
      self.publish_snapshot(entry, true);
      self.say(DnssdLogLevel::kInfo,
               "DNS-SD: advertising \"" + entry.name + "\" (" + std::string(kDnssdServiceType) + ", port " +
                   std::to_string(entry.service.port) + (entry.loopback_only ? ", loopback only)" : ")"));
      break;
    case AVAHI_ENTRY_GROUP_COLLISION:
      entry.group = group;
      self.rename(entry);
      avahi_entry_group_reset(group);
      self.register_entry(avahi_entry_group_get_client(group), entry);
      break;
    case AVAHI_ENTRY_GROUP_FAILURE:
      self.publish_snapshot(entry, false);
      self.say(DnssdLogLevel::kError,
               "DNS-SD: advertising \"" + entry.name +
                   "\" failed: " + avahi_strerror(avahi_client_errno(avahi_entry_group_get_client(group))));
      break;
    case AVAHI_ENTRY_GROUP_UNCOMMITED:
    case AVAHI_ENTRY_GROUP_REGISTERING:
      break;
  }
}

DnssdAdvertiser::DnssdAdvertiser(std::unique_ptr<State> state) : state_(std::move(state)) {}

DnssdAdvertiser::~DnssdAdvertiser() = default;

std::unique_ptr<DnssdAdvertiser> DnssdAdvertiser::start(std::vector<DnssdService> services, LogFn log) {
  if (services.empty()) return nullptr;
  auto state = std::make_unique<State>();
  state->log = std::move(log);
  state->entries.resize(services.size());
  state->snapshot_names.resize(services.size());
  state->snapshot_established.resize(services.size(), false);

  // Per service: its TXT record, name and where to advertise it.
  for (std::size_t i = 0; i < services.size(); ++i) {
    auto& entry = state->entries[i];
    entry.owner = state.get();
    entry.index = i;
    entry.service = std::move(services[i]);
    entry.txt = txt_records(entry.service);
    entry.name = utf8_prefix(printable_trimmed(entry.service.instance_name), kMaxInstanceNameBytes);
    if (entry.name.empty()) entry.name = instance_name_for("", entry.service.make_and_model);
    state->snapshot_names[i] = entry.name;
    if (entry.service.port < 1 || entry.service.port > 65535) {
      entry.usable = false;
      state->say(DnssdLogLevel::kError, "DNS-SD: \"" + entry.name + "\" has no valid port; not advertised");
      continue;
    }
    const DnssdScope scope = dnssd_scope_for(entry.service.listen_host);
    entry.protocol = scope.address_family == AF_INET    ? AVAHI_PROTO_INET
                     : scope.address_family == AF_INET6 ? AVAHI_PROTO_INET6
                                                        : AVAHI_PROTO_UNSPEC;
    entry.loopback_only = scope.loopback_only;
    if (scope.loopback_only) {
      // A loopback-only listener cannot be reached from the LAN: announcing
      // it there would only show clients a printer they cannot connect to.
      // Restrict it to the loopback interface, where local clients find it.
      const unsigned loopback = if_nametoindex("lo");
      entry.usable = loopback != 0;
      entry.interface = static_cast<AvahiIfIndex>(loopback);
      if (!entry.usable) {
        state->say(DnssdLogLevel::kWarning,
                   "DNS-SD: no loopback interface \"lo\"; \"" + entry.name + "\" not advertised");
      }
    }
  }

  // The first connection attempt runs on the poll thread (avahi_client_new
  // makes a blocking D-Bus call), so start() returns at once.
  state->poll.reset(avahi_threaded_poll_new());
  if (state->poll == nullptr) {
    state->say(DnssdLogLevel::kError, "DNS-SD: cannot create avahi's poll; _ipps-3d._tcp not advertised");
    return nullptr;
  }
  const AvahiPoll* api = avahi_threaded_poll_get(state->poll.get());
  timeval now{};
  state->retry = api->timeout_new(api, avahi_elapse_time(&now, 0, 0), State::on_retry, state.get());
  if (state->retry == nullptr || avahi_threaded_poll_start(state->poll.get()) < 0) {
    state->say(DnssdLogLevel::kError,
               "DNS-SD: cannot start avahi's poll thread; _ipps-3d._tcp not advertised");
    return nullptr;
  }
  state->started = true;
  return std::unique_ptr<DnssdAdvertiser>(new DnssdAdvertiser(std::move(state)));
}

std::size_t DnssdAdvertiser::service_count() const { return state_->entries.size(); }

std::vector<std::string> DnssdAdvertiser::instance_names() const {
  const std::lock_guard lock(state_->snapshot_mutex);
  return state_->snapshot_names;
}

bool DnssdAdvertiser::established() const {
  const std::lock_guard lock(state_->snapshot_mutex);
  for (const bool ok : state_->snapshot_established) {
    if (!ok) return false;
  }
  return true;
}

}  // namespace ipp3d::server
