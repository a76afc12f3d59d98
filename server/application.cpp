#include "application.hpp"

#include "backend/moonraker_backend.hpp"
#include "backend/virtual_backend.hpp"
#include "document_format.hpp"
#include "ipp/operator_ops.hpp"
#include "job_print.hpp"
#include "machine_check.hpp"
#include "printer_driver.hpp"
#include "web/operator_page.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
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

// The backend a printer's configuration asks for; for "moonraker" an
// unreadable or unsafe API key file is a start error naming the file.
Result<std::unique_ptr<Backend>> make_backend(const config::PrinterConfig& printer,
                                              const std::filesystem::path& state_dir) {
  if (printer.backend == "moonraker" && printer.moonraker) {
    auto key = load_moonraker_api_key(printer.moonraker->api_key_file);
    if (!key) return start_error("printer " + printer.name + " moonraker.api_key_file", key.error().message);
    MoonrakerOptions options;
    options.url = printer.moonraker->url;
    options.api_key = std::move(key).value();
    options.query_timeout = std::chrono::seconds(printer.moonraker->timeout_seconds);
    options.control_timeout = std::chrono::seconds(std::max(120, printer.moonraker->timeout_seconds));
    return std::unique_ptr<Backend>(std::make_unique<MoonrakerBackend>(std::move(options)));
  }
  VirtualBackendOptions options;
  options.storage_dir = state_dir / "virtual" / printer.name;
  options.seconds_per_layer = printer.virtual_seconds_per_layer;
  return std::unique_ptr<Backend>(std::make_unique<VirtualBackend>(options));
}

}  // namespace

Result<std::unique_ptr<Application>> Application::create(RunSettings settings) {
  std::unique_ptr<Application> app(new Application(std::move(settings)));
  if (auto opened = app->open_state(); !opened) return opened.error();
  auto passphrase = load_key_passphrase(app->settings_.key_passphrase_file);
  if (!passphrase) return passphrase.error();
  app->key_passphrase_ = std::move(passphrase).value();
  if (auto opened = app->open_audit_log(); !opened) return opened.error();
  auto tls = prepare_tls_identity(app->settings_.state_dir, app->settings_.listen.host, app->key_passphrase_);
  if (!tls) return tls.error();
  app->tls_ = tls.value();
  app->renew_certificate_if_due(static_cast<std::int64_t>(std::time(nullptr)));

  const auto& state_dir = app->settings_.state_dir;
  // Reservations left by a crash count as used copies; expired nonces go.
  if (const int stale = app->store_->commit_stale_reservations(); stale > 0) {
    (void)std::fprintf(
        stderr, "ipp3d-server: %d licence copies reserved before a crash were counted as used.\n", stale);
  }
  app->store_->prune_nonces(static_cast<std::int64_t>(std::time(nullptr)));
  for (const auto& printer : app->settings_.config.printers) {
    auto keys = load_or_create_printer_keys(state_dir, printer.name, app->key_passphrase_);
    if (!keys) return keys.error();
    auto backend = make_backend(printer, state_dir);
    if (!backend) return backend.error();
    app->printers_.push_back(
        std::make_unique<PrinterRuntime>(printer, *app->store_, std::move(backend).value(),
                                         std::move(keys).value(), state_dir / "verified" / printer.name));
  }
  std::vector<PrinterRuntime*> runtimes;
  for (auto& printer : app->printers_) runtimes.push_back(printer.get());
  app->scheduler_ = std::make_unique<Scheduler>(runtimes);
  app->verifier_ = std::make_unique<CredentialVerifier>(*app->store_, app->settings_.config.server.login);
  PairingLimits pairing_limits;
  pairing_limits.lifetime = std::chrono::seconds(app->settings_.pairing_lifetime_seconds);
  app->pairing_ = std::make_unique<PairingService>(
      *app->store_, pairing_limits, [raw = app.get()] { return raw->tls_.sha256_fingerprint; });
  app->pairing_page_ = std::make_unique<PairingPage>(PairingPage{*app->pairing_, *app->verifier_});
  app->gate_ = std::make_unique<RequestGate>(
      *app->verifier_, [raw = app.get()](pappl_printer_t* p) { return raw->find_printer(p); });
  if (auto made = app->create_system(); !made) return made.error();
  if (auto loaded = app->load_pappl_state(); !loaded) return loaded.error();
  if (auto made = app->create_printers(); !made) return made.error();
  app->reserve_job_ids();
  app->start_audit_log();
  for (auto& printer : app->printers_) {
    app->monitors_.push_back(
        std::make_unique<PrinterMonitor>(*printer, [](PrinterRuntime& p) { return check_machine(p); }));
  }
  return app;
}

Application::~Application() {
  for (auto& monitor : monitors_) monitor->stop();
  if (dnssd_thread_.joinable()) dnssd_thread_.join();
  {
    const std::lock_guard lock(dnssd_mutex_);
    dnssd_.reset();
  }
  if (system_ != nullptr) papplSystemDelete(system_);
}

Status Application::open_state() {
  const auto& dir = settings_.state_dir;
  std::error_code ec;
  std::filesystem::create_directories(dir / "spool", ec);
  if (ec) return start_error("state-dir", dir.string() + ": " + ec.message());
  std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);
  auto store = StateStore::open(dir / "ipp3d.db");
  if (!store) return store.error();
  store_ = std::move(store).value();
  if (!store_->has_admin()) {
    return start_error("admin",
                       "no admin account yet: create one with `ipp3d-server admin set-password --state-dir " +
                           dir.string() + "`");
  }
  return {};
}

Status Application::create_system() {
  const std::string spool = (settings_.state_dir / "spool").string();
  const std::string log = settings_.log_file ? settings_.log_file->string() : "-";
  system_ = papplSystemCreate(PAPPL_SOPTIONS_MULTI_QUEUE | PAPPL_SOPTIONS_WEB_INTERFACE, "ipp3d",
                              settings_.listen.port, nullptr, spool.c_str(), log.c_str(),
                              pappl_log_level(settings_.log_level), nullptr, /*tls_only=*/false);
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
  papplSystemSetAdminGroup(system_, kAdminGroup);
  // PAPPL 1.3.1 crashes rendering any web page when no footer is set (it
  // looks up a NULL string in its localization table).
  papplSystemSetFooterHTML(system_, "ipp3d: secure IPP printing for 3D printers");
  papplSystemSetAuthCallback(system_, "Basic", auth_callback, this);
  papplSystemSetMIMECallback(system_, mime_callback, nullptr);
  // Envelopes print through the same code as G-code (print_envelope_job);
  // registering the filter also lists the envelope in document-format-supported.
  papplSystemAddMIMEFilter(system_, kEnvelopeFormat.data(), kGcodeFormat.data(), print_envelope_job, nullptr);
  papplSystemSetOperationCallback(system_, operation_callback, this);
  papplSystemSetSaveCallback(system_, save_callback, this);
  add_pairing_endpoints(system_, *pairing_);
  add_pairing_page(system_, *pairing_page_);

  for (const auto& printer : printers_) driver_names_.push_back(driver_name_for(printer->name()));
  for (std::size_t i = 0; i < printers_.size(); ++i) {
    drivers_.push_back(
        {driver_names_[i].c_str(), printers_[i]->config().make_and_model.c_str(), nullptr, nullptr});
  }
  papplSystemSetPrinterDrivers(system_, static_cast<int>(drivers_.size()), drivers_.data(), nullptr, nullptr,
                               driver_callback, this);
  // The scheduler's tick; it also keeps PAPPL's main loop from sleeping 30 s,
  // which would delay shutdown by as much.
  papplSystemAddTimerCallback(system_, 0, 1, timer_callback, this);
  return {};
}

Status Application::create_printers() {
  for (auto& printer : printers_) {
    const std::string resource = "/ipp/print/" + printer->name();
    pappl_printer_t* created = papplSystemFindPrinter(system_, resource.c_str(), 0, nullptr);
    if (created == nullptr) {
      const std::string device_id = "MFG:ipp3d;MDL:" + printer->config().make_and_model + ";CMD:GCODE;";
      created =
          papplPrinterCreate(system_, 0, printer->name().c_str(), driver_name_for(printer->name()).c_str(),
                             device_id.c_str(), "file:///dev/null");
    }
    if (created == nullptr) return start_error("printer", "cannot create printer '" + printer->name() + "'");
    printer->attach(created);
    add_operator_page(system_, *printer);
    gate_->add_operator_page(operator_page_path(*printer));
    // The gate's published policy, read from the runtime (which outlives the system) on each
    // request: check_machine() may change it while the server runs.
    papplSystemAddResourceCallback(system_, gcode_policy_path(*printer).c_str(), "application/json",
                                   policy_resource_callback, printer.get());
    papplPrinterSetDNSSDName(created, nullptr);
    papplPrinterSetMaxActiveJobs(created, 0);
    // Every new job stays held until the scheduler releases it.
    papplPrinterHoldNewJobs(created);
    if (!printer->config().location.empty())
      papplPrinterSetLocation(created, printer->config().location.c_str());
  }
  return {};
}

PrinterRuntime* Application::find_printer(pappl_printer_t* printer) const {
  const auto found = std::find_if(printers_.begin(), printers_.end(),
                                  [printer](const auto& p) { return p->printer() == printer; });
  return found != printers_.end() ? found->get() : nullptr;
}

PrinterRuntime* Application::find_printer(const char* driver_name) const {
  const auto found = std::find_if(printers_.begin(), printers_.end(), [driver_name](const auto& p) {
    return driver_name != nullptr && driver_name_for(p->name()) == driver_name;
  });
  return found != printers_.end() ? found->get() : nullptr;
}

http_status_t Application::auth_callback(pappl_client_t* client, const char* group, gid_t, void* data) {
  return static_cast<Application*>(data)->gate_->authorize(client, group);
}

bool Application::driver_callback(pappl_system_t*, const char* driver_name, const char*, const char*,
                                  pappl_pr_driver_data_t* driver_data, ipp_t** driver_attrs, void* data) {
  PrinterRuntime* printer = static_cast<Application*>(data)->find_printer(driver_name);
  return printer != nullptr && fill_driver_data(*printer, driver_data, driver_attrs);
}

const char* Application::mime_callback(const unsigned char* header, size_t size, void*) {
  // PAPPL keeps the returned pointer: it must be static.
  return detected_format_name({header, size});
}

bool Application::operation_callback(pappl_client_t* client, void* data) {
  auto* app = static_cast<Application*>(data);
  return handle_vendor_operation(client, [app](pappl_printer_t* p) { return app->find_printer(p); });
}

bool Application::policy_resource_callback(pappl_client_t* client, void* data) {
  try {
    const std::string json = static_cast<const PrinterRuntime*>(data)->policy_json();
    if (!papplClientRespond(client, HTTP_STATUS_OK, nullptr, "application/json", 0, json.size()))
      return false;
    return httpWrite2(papplClientGetHTTP(client), json.data(), json.size()) >= 0;
  } catch (const std::exception&) {
    return false;
  }
}

bool Application::timer_callback(pappl_system_t*, void* data) {
  auto* app = static_cast<Application*>(data);
  if (!app->dnssd_started_) {
    app->dnssd_started_ = true;  // the listeners answer by the first tick
    app->start_dnssd();
    // Started here, not in create(): threads started from PAPPL's main loop
    // inherit run()'s blocked shutdown signals.
    for (auto& monitor : app->monitors_) monitor->start();
  }
  app->scheduler_->tick();
  app->pairing_->expire();
  app->checkpointer_->tick();
  // Nonces of expired envelopes are of no use any more (hourly).
  const auto now = static_cast<std::int64_t>(std::time(nullptr));
  if (++app->ticks_ % 3600 == 0) app->store_->prune_nonces(now);
  if (now >= app->next_certificate_check_) app->renew_certificate_if_due(now);  // daily
  return true;
}

std::vector<std::string> Application::printer_key_descriptions() const {
  std::vector<std::string> descriptions;
  for (const auto& printer : printers_) {
    std::filesystem::path file = printer_key_path(settings_.state_dir, printer->name(), "encryption");
    file += ".pub";
    descriptions.push_back(trust::key_id_hex(printer->keys().encryption.id()) + " (" + file.string() + ")");
  }
  return descriptions;
}

std::vector<std::string> Application::printer_uris() const {
  const auto& host = settings_.listen.host;
  const std::string authority = (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
                                std::to_string(settings_.listen.port);
  std::vector<std::string> uris;
  for (const auto& printer : printers_)
    uris.push_back("ipps://" + authority + "/ipp/print/" + printer->name());
  return uris;
}

}  // namespace ipp3d::server
