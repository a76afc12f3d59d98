#include "application.hpp"

#include <algorithm>
#include <exception>
#include <system_error>

namespace ipp3d::server {
namespace {

// An Error about starting the server.
Error start_error(const std::string& what, const std::string& message) {
  return Error{IPP_STATUS_ERROR_INTERNAL, message, what, 0};
}

// Maps a configured log level to PAPPL's.
pappl_loglevel_t pappl_log_level(const std::string& level) {
  if (level == "debug") return PAPPL_LOGLEVEL_DEBUG;
  if (level == "warn") return PAPPL_LOGLEVEL_WARN;
  if (level == "error") return PAPPL_LOGLEVEL_ERROR;
  return PAPPL_LOGLEVEL_INFO;
}

// PAPPL's driver callback: finds the setup registered for `driver_name`.
bool driver_callback(pappl_system_t*, const char* driver_name, const char*, const char*,
                     pappl_pr_driver_data_t* driver_data, ipp_t** driver_attrs, void* data) {
  const auto* printers = static_cast<const std::vector<PrinterSetup>*>(data);
  const auto found = std::find_if(printers->begin(), printers->end(), [driver_name](const PrinterSetup& p) {
    return p.driver_name == driver_name;
  });
  return found != printers->end() && fill_driver_data(*found, driver_data, driver_attrs);
}

// A no-op timer: PAPPL's main loop otherwise polls for 30 s, which delays
// shutdown by as much.
bool wake_main_loop(pappl_system_t*, void*) { return true; }

}  // namespace

Result<std::unique_ptr<Application>> Application::create(RunSettings settings) {
  std::unique_ptr<Application> app(new Application(std::move(settings)));
  std::error_code ec;
  std::filesystem::create_directories(app->settings_.state_dir / "spool", ec);
  if (ec) return start_error("state-dir", app->settings_.state_dir.string() + ": " + ec.message());
  std::filesystem::permissions(app->settings_.state_dir, std::filesystem::perms::owner_all, ec);

  auto tls = prepare_tls_identity(app->settings_.state_dir, app->settings_.listen.host);
  if (!tls) return tls.error();
  app->tls_ = tls.value();

  for (const auto& printer : app->settings_.config.printers) {
    app->printers_.push_back(
        {printer, config::capabilities_for(printer, printer.loaded_material), "ipp3d-" + printer.name});
  }
  if (auto made = app->create_system(); !made) return made.error();
  if (auto made = app->create_printers(); !made) return made.error();
  return app;
}

Application::~Application() {
  if (system_ != nullptr) papplSystemDelete(system_);
}

Status Application::create_system() {
  const std::string spool = (settings_.state_dir / "spool").string();
  const std::string log = settings_.log_file ? settings_.log_file->string() : "-";
  system_ =
      papplSystemCreate(PAPPL_SOPTIONS_MULTI_QUEUE, "ipp3d", settings_.listen.port, nullptr, spool.c_str(),
                        log.c_str(), pappl_log_level(settings_.log_level), nullptr, /*tls_only=*/false);
  if (system_ == nullptr) return start_error("listen", "cannot create the IPP system");
  if (!papplSystemAddListeners(system_, settings_.listen.host.c_str())) {
    return start_error("listen", "cannot listen on " + settings_.listen.host + ":" +
                                     std::to_string(settings_.listen.port) +
                                     " (address in use or not local?)");
  }
  papplSystemSetHostName(system_, settings_.listen.host.c_str());
  // libcups' server credentials point at our own directory (PAPPL set them
  // to the CUPS default in papplSystemCreate).
  cupsSetServerCredentials(tls_.directory.c_str(), tls_.common_name.c_str(), /*auto_create=*/0);
  // PAPPL would advertise _ipp/_ipps and desktops would add a 2D printer.
  papplSystemSetDNSSDName(system_, nullptr);

  drivers_.clear();
  for (auto& printer : printers_) {
    drivers_.push_back(
        {printer.driver_name.c_str(), printer.config.make_and_model.c_str(), nullptr, nullptr});
  }
  papplSystemSetPrinterDrivers(system_, static_cast<int>(drivers_.size()), drivers_.data(), nullptr, nullptr,
                               driver_callback, &printers_);
  papplSystemAddTimerCallback(system_, 0, 1, wake_main_loop, nullptr);
  return {};
}

Status Application::create_printers() {
  for (const auto& printer : printers_) {
    const std::string device_id = "MFG:ipp3d;MDL:" + printer.config.make_and_model + ";CMD:GCODE;";
    pappl_printer_t* created =
        papplPrinterCreate(system_, 0, printer.config.name.c_str(), printer.driver_name.c_str(),
                           device_id.c_str(), "file:///dev/null");
    if (created == nullptr)
      return start_error("printer", "cannot create printer '" + printer.config.name + "'");
    papplPrinterSetDNSSDName(created, nullptr);
    if (!printer.config.location.empty()) papplPrinterSetLocation(created, printer.config.location.c_str());
  }
  return {};
}

std::vector<std::string> Application::printer_uris() const {
  const auto& host = settings_.listen.host;
  const std::string authority = (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
                                std::to_string(settings_.listen.port);
  std::vector<std::string> uris;
  for (const auto& printer : printers_)
    uris.push_back("ipps://" + authority + "/ipp/print/" + printer.config.name);
  return uris;
}

int Application::run() {
  papplSystemRun(system_);
  return 0;
}

}  // namespace ipp3d::server
