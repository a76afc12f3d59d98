// Application: the TLS certificate's renewal and the fingerprint shown to
// users (docs/security.md "Keys at rest").
#include "application.hpp"

#include <cstdio>

namespace ipp3d::server {
namespace {

constexpr std::int64_t kCertificateCheckInterval = std::int64_t{24} * 60 * 60;

// "2027-12-05T01:00:00Z".
std::string utc_text(std::int64_t t) {
  const auto seconds = static_cast<time_t>(t);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[32];
  (void)std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

}  // namespace

std::string Application::certificate_fingerprint() const {
  const std::lock_guard lock(tls_mutex_);
  return tls_.sha256_fingerprint;
}

void Application::log_message(pappl_loglevel_t level, const std::string& text) const {
  if (system_ != nullptr) {
    papplLog(system_, level, "%s", text.c_str());
  } else {
    (void)std::fprintf(stderr, "ipp3d-server: %s\n", text.c_str());
  }
}

void Application::renew_certificate_if_due(std::int64_t now) {
  next_certificate_check_ = now + kCertificateCheckInterval;
  std::optional<TlsRenewal> renewal;
  {
    const std::lock_guard lock(tls_mutex_);
    auto renewed = renew_tls_certificate_if_due(tls_, key_passphrase_, now);
    if (!renewed) {
      log_message(PAPPL_LOGLEVEL_ERROR, "The TLS certificate (valid until " + utc_text(tls_.not_after) +
                                            ") could not be renewed: " + renewed.error().message);
      return;
    }
    renewal = renewed.value();
  }
  if (!renewal) return;
  log_message(
      PAPPL_LOGLEVEL_WARN,
      "The TLS certificate was renewed (the old one expires " + utc_text(renewal->old_not_after) +
          "): new SHA-256 fingerprint " + renewal->new_fingerprint +
          ". Clients that pinned the old one refuse it until they re-pin (ipp3d pair, or --fingerprint).");
  AuditEvent event;
  event.type = "tls-certificate-renewed";
  event.details = {{"old-fingerprint", renewal->old_fingerprint},
                   {"new-fingerprint", renewal->new_fingerprint},
                   {"old-not-after", utc_text(renewal->old_not_after)},
                   {"new-not-after", utc_text(renewal->new_not_after)}};
  if (Status appended = store_->append_audit(event); !appended) {
    log_message(PAPPL_LOGLEVEL_ERROR, "Audit log: " + appended.error().message);
  }
}

}  // namespace ipp3d::server
