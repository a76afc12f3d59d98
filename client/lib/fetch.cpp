// Printer::fetch and Printer::post: HTTP GET and POST on the printer's
// connection (the published G-code policy, the pairing endpoints).
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

// Reads the body of the answer being received, at most `max_bytes`.
Result<std::string> read_body(http_t* http, std::size_t max_bytes, const std::string& what) {
  std::string body;
  std::array<char, 16384> buffer{};
  for (;;) {
    const ssize_t n = httpRead2(http, buffer.data(), buffer.size());
    if (n < 0) return fetch_error(IPP_STATUS_ERROR_SERVICE_UNAVAILABLE, what + ": the answer broke off");
    if (n == 0) break;
    if (body.size() + static_cast<std::size_t>(n) > max_bytes) {
      (void)httpFlush(http);
      return fetch_error(IPP_STATUS_ERROR_INTERNAL,
                         what + ": larger than " + std::to_string(max_bytes) + " bytes");
    }
    body.append(buffer.data(), static_cast<std::size_t>(n));
  }
  return body;
}

// Starts a POST of `length` bytes of `content_type` to `path`; 0 on success (httpPost's result).
int start_post(http_t* http, const std::string& path, const std::string& content_type, std::size_t length) {
  httpClearFields(http);
  httpSetField(http, HTTP_FIELD_CONTENT_TYPE, content_type.c_str());
  httpSetLength(http, length);
  return httpPost(http, path.c_str());
}

}  // namespace

Result<HttpAnswer> Printer::post(const std::string& path, const std::string& content_type,
                                 const std::string& body, std::size_t max_bytes) {
  const std::string what = "POST " + path;
  http_t* http = state_->http.get();
  if (start_post(http, path, content_type, body.size()) != 0) {
    if (Status again = detail::reconnect(*state_); !again) return std::move(again).error();
    if (start_post(http, path, content_type, body.size()) != 0) {
      return fetch_error(IPP_STATUS_ERROR_SERVICE_UNAVAILABLE, what + " failed: " + cupsLastErrorString());
    }
  }
  if (!body.empty() && httpWrite2(http, body.data(), body.size()) < 0) {
    return fetch_error(IPP_STATUS_ERROR_SERVICE_UNAVAILABLE,
                       what + ": sending failed: " + cupsLastErrorString());
  }
  http_status_t status = HTTP_STATUS_CONTINUE;
  while ((status = httpUpdate(http)) == HTTP_STATUS_CONTINUE) {
  }
  if (status == HTTP_STATUS_ERROR) {
    return fetch_error(IPP_STATUS_ERROR_SERVICE_UNAVAILABLE, what + ": no answer: " + cupsLastErrorString());
  }
  auto answer = read_body(http, max_bytes, what);
  if (!answer) return std::move(answer).error();
  return HttpAnswer{static_cast<int>(status), std::move(answer).value()};
}

Result<std::string> Printer::fetch(const std::string& resource, std::size_t max_bytes) {
  const auto path = local_path(*state_, resource);
  if (!path) {
    return fetch_error(IPP_STATUS_ERROR_BAD_REQUEST, resource + " is not on " + state_->host_port +
                                                         ": not fetched (only the pinned printer is)");
  }
  http_t* http = state_->http.get();
  httpClearFields(http);
  if (httpGet(http, path->c_str()) != 0) {
    if (Status again = detail::reconnect(*state_); !again) return std::move(again).error();
    httpClearFields(http);
    if (httpGet(http, path->c_str()) != 0) {
      return fetch_error(IPP_STATUS_ERROR_SERVICE_UNAVAILABLE,
                         "GET " + *path + " failed: " + cupsLastErrorString());
    }
  }
  http_status_t status = HTTP_STATUS_CONTINUE;
  while ((status = httpUpdate(http)) == HTTP_STATUS_CONTINUE) {
  }
  if (status != HTTP_STATUS_OK) {
    (void)httpFlush(http);
    return fetch_error(
        status == HTTP_STATUS_NOT_FOUND ? IPP_STATUS_ERROR_NOT_FOUND : IPP_STATUS_ERROR_INTERNAL,
        "GET " + *path + ": HTTP " + std::to_string(static_cast<int>(status)) + " " + httpStatus(status));
  }
  return read_body(http, max_bytes, "GET " + *path);
}

}  // namespace ipp3d::client
