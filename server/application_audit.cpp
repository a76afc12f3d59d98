// Application: the audit log's checkpointer, web resources and the server's
// own events (docs/audit.md).
#include "application.hpp"
#include "audit.hpp"
#include "printer_keys.hpp"

namespace ipp3d::server {

Status Application::open_audit_log() {
  auto key = load_or_create_audit_key(settings_.state_dir, key_passphrase_);
  if (!key) return key.error();
  checkpointer_ = std::make_unique<AuditCheckpointer>(*store_, std::move(key).value());
  return {};
}

void Application::start_audit_log() {
  audit_resources_ = std::make_unique<AuditResources>(AuditResources{*store_, *checkpointer_});
  std::vector<pappl_printer_t*> printers;
  std::string names;
  for (const auto& printer : printers_) {
    printers.push_back(printer->printer());
    names += (names.empty() ? "" : ",") + printer->name();
  }
  add_audit_resources(system_, printers, *audit_resources_);
  audit(*store_, AuditEvent{"server-started",
                            "",
                            "",
                            "",
                            0,
                            {{"version", "0.1.0"},
                             {"config", settings_.config_digest},
                             {"listen", settings_.listen.host + ":" + std::to_string(settings_.listen.port)},
                             {"printers", names},
                             {"audit-key-id", trust::key_id_hex(checkpointer_->public_key().id)}}});
}

void Application::close_audit_log(int signal_number) {
  audit(*store_, AuditEvent{"server-stopped", "", "", "", 0, {{"signal", std::to_string(signal_number)}}});
  if (auto made = checkpointer_->checkpoint_now(); !made) {
    papplLog(system_, PAPPL_LOGLEVEL_ERROR, "Audit checkpoint at shutdown: %s", made.error().message.c_str());
  }
}

}  // namespace ipp3d::server
