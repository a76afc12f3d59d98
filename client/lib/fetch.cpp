// Printer::fetch: an HTTP GET on the printer's pinned connection (the
// published G-code policy and other resources the printer names).
#include "printer_state.hpp"

#include <array>

namespace ipp3d::client {
namespace {

Error fetch_error(ipp_status_t status, std::string message) {
  return Error{status, std::move(message), {}, 0};
}

// The path of `resource`: itself when it is a path, the path of an https://
// URL on the printer's own HOST:PORT; nullopt otherwise.
std::optional<std::string> local_path(const Printer::State& state, const std::string& resource) {
  if (resource.starts_with("/")) return resource;
  std::array<char, 32> scheme{};
  std::array<char, 256> userinfo{};
  std::array<char, 256> host{};
  std::array<char, 1024> path{};
  int port = 0;
  if (httpSeparateURI(HTTP_URI_CODING_ALL, resource.c_str(), scheme.data(), scheme.size(), userinfo.data(),
                      userinfo.size(), host.data(), host.size(), &port, path.data(),
                      path.size()) < HTTP_URI_STATUS_OK) {
    return std::nullopt;
  }
  if (std::string(host.data()) + ":" + std::to_string(port) != state.host_port) return std::nullopt;
  return std::string(path.data());
}

// Challenges answered before a GET gives up.
constexpr int kAuthAttempts = 2;

// Sends GET `path` with the connection's current Authorization (if any),
// reconnecting once when the connection was closed.
Status send_get(Printer::State& state, const std::string& path) {
  http_t* http = state.http.get();
  for (int attempt = 0; attempt < 2; ++attempt) {
    httpClearFields(http);
    if (const char* authorization = httpGetAuthString(http)) {
      httpSetField(http, HTTP_FIELD_AUTHORIZATION, authorization);
    }
    if (httpGet(http, path.c_str()) == 0) return {};
    if (attempt == 0) {
      if (Status again = detail::reconnect(state); !again) return again;
    }
  }
  return fetch_error(IPP_STATUS_ERROR_SERVICE_UNAVAILABLE,
                     "GET " + path + " failed: " + cupsLastErrorString());
}

}  // namespace

Result<std::string> Printer::fetch(const std::string& resource, std::size_t max_bytes) {
  const auto path = local_path(*state_, resource);
  if (!path) {
    return fetch_error(IPP_STATUS_ERROR_BAD_REQUEST, resource + " is not on " + state_->host_port +
                                                         ": not fetched (only the pinned printer is)");
  }
  http_t* http = state_->http.get();
  // Credentials only when the printer challenges, after the pin is checked again (answer_challenge).
  detail::AuthScope auth(*state_);
  http_status_t status = HTTP_STATUS_CONTINUE;
  for (int attempt = 0;; ++attempt) {
    if (Status sent = send_get(*state_, *path); !sent) return std::move(sent).error();
    while ((status = httpUpdate(http)) == HTTP_STATUS_CONTINUE) {
    }
    if (status != HTTP_STATUS_UNAUTHORIZED || attempt >= kAuthAttempts) break;
    const bool answered = cupsDoAuthentication(http, "GET", path->c_str()) == 0;
    (void)httpFlush(http);
    if (state_->trust_failed) {
      state_->trust_failed = false;
      return fetch_error(detail::kTrustFailure, "GET " + *path +
                                                    ": the printer's TLS certificate changed during the "
                                                    "session; no credentials were sent");
    }
    if (!answered) break;
  }
  if (status == HTTP_STATUS_UNAUTHORIZED || status == HTTP_STATUS_FORBIDDEN) {
    (void)httpFlush(http);
    return fetch_error(IPP_STATUS_ERROR_NOT_AUTHORIZED,
                       "GET " + *path + ": the printer wants credentials" +
                           (state_->credentials ? std::string(" with more rights than those given (user ") +
                                                      state_->credentials->user + ")"
                                                : std::string(" and none were given")));
  }
  if (status != HTTP_STATUS_OK) {
    (void)httpFlush(http);
    return fetch_error(
        status == HTTP_STATUS_NOT_FOUND ? IPP_STATUS_ERROR_NOT_FOUND : IPP_STATUS_ERROR_INTERNAL,
        "GET " + *path + ": HTTP " + std::to_string(static_cast<int>(status)) + " " + httpStatus(status));
  }
  std::string body;
  std::array<char, 16384> buffer{};
  for (;;) {
    const ssize_t n = httpRead2(http, buffer.data(), buffer.size());
    if (n < 0)
      return fetch_error(IPP_STATUS_ERROR_SERVICE_UNAVAILABLE, "GET " + *path + ": the answer broke off");
    if (n == 0) break;
    if (body.size() + static_cast<std::size_t>(n) > max_bytes) {
      (void)httpFlush(http);
      return fetch_error(IPP_STATUS_ERROR_INTERNAL,
                         "GET " + *path + ": larger than " + std::to_string(max_bytes) + " bytes");
    }
    body.append(buffer.data(), static_cast<std::size_t>(n));
  }
  return body;
}

}  // namespace ipp3d::client
