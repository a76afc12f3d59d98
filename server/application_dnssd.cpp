// Application: DNS-SD advertising of _ipps-3d._tcp (PWG 5100.21 §5).
#include "ipp3d/ipp_handles.hpp"

#include "application.hpp"
#include "document_format.hpp"

#include <cups/cups.h>

namespace ipp3d::server {
namespace {

// The host clients should use in URLs: the listen host, or this machine's
// name when listening on a wildcard address.
std::string public_host(const std::string& listen_host, pappl_system_t* system) {
  if (listen_host != "0.0.0.0" && listen_host != "::" && !listen_host.empty()) return listen_host;
  char name[256] = "";
  const char* host = papplSystemGetHostName(system, name, sizeof name);
  return host != nullptr && *host != '\0' ? host : "localhost";
}

// Reads printer-uuid over IPP from the running server (PAPPL 1.3.1 has no
// getter for it). Empty when the server does not answer.
std::string query_printer_uuid(const std::string& host, int port, const std::string& resource) {
  const std::string connect_host = host == "0.0.0.0" ? "127.0.0.1" : host == "::" ? "::1" : host;
  HttpPtr http(
      httpConnect2(connect_host.c_str(), port, nullptr, AF_UNSPEC, HTTP_ENCRYPTION_ALWAYS, 1, 5000, nullptr));
  if (!http) return {};
  ipp_t* request = ippNewRequest(IPP_OP_GET_PRINTER_ATTRIBUTES);
  const std::string uri =
      "ipps://" + (connect_host.find(':') != std::string::npos ? "[" + connect_host + "]" : connect_host) +
      ":" + std::to_string(port) + resource;
  ippAddString(request, IPP_TAG_OPERATION, IPP_TAG_URI, "printer-uri", nullptr, uri.c_str());
  ippAddString(request, IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "requested-attributes", nullptr, "printer-uuid");
  IppPtr response(cupsDoRequest(http.get(), request, resource.c_str()));
  const char* uuid = ippGetString(ippFindAttribute(response.get(), "printer-uuid", IPP_TAG_URI), 0, nullptr);
  return uuid != nullptr ? uuid : "";
}

// Maps the advertiser's levels to PAPPL's.
pappl_loglevel_t log_level(DnssdLogLevel level) {
  switch (level) {
    case DnssdLogLevel::kDebug:
      return PAPPL_LOGLEVEL_DEBUG;
    case DnssdLogLevel::kInfo:
      return PAPPL_LOGLEVEL_INFO;
    case DnssdLogLevel::kWarning:
      return PAPPL_LOGLEVEL_WARN;
    case DnssdLogLevel::kError:
      return PAPPL_LOGLEVEL_ERROR;
  }
  return PAPPL_LOGLEVEL_INFO;
}

}  // namespace

void Application::start_dnssd() {
  dnssd_thread_ = std::thread([this] {
    const std::string host = public_host(settings_.listen.host, system_);
    const std::string authority = (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
                                  std::to_string(settings_.listen.port);
    std::vector<DnssdService> services;
    for (const auto& printer : printers_) {
      DnssdService service;
      service.instance_name = instance_name_for(printer->name(), printer->config().make_and_model);
      service.port = settings_.listen.port;
      service.resource_path = "ipp/print/" + printer->name();
      service.uuid =
          query_printer_uuid(settings_.listen.host, settings_.listen.port, "/" + service.resource_path);
      service.admin_url = "https://" + authority + "/" + printer->name() + "/";
      service.note = printer->config().location;
      service.make_and_model = printer->config().make_and_model;
      service.pdl = std::string(kGcodeFormat);
      service.listen_host = settings_.listen.host;
      if (service.uuid.empty()) {
        papplLog(system_, PAPPL_LOGLEVEL_WARN, "DNS-SD: cannot read printer-uuid of %s; not advertised.",
                 printer->name().c_str());
        continue;
      }
      services.push_back(std::move(service));
    }
    auto advertiser = DnssdAdvertiser::start(
        std::move(services), [system = system_](DnssdLogLevel level, const std::string& message) {
          papplLog(system, log_level(level), "%s", message.c_str());
        });
    const std::lock_guard lock(dnssd_mutex_);
    dnssd_ = std::move(advertiser);
  });
}

}  // namespace ipp3d::server
