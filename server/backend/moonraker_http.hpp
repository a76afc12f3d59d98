// The HTTP client of the Moonraker backend: one libcurl easy handle per call
// (so calls from several threads never share a handle), a timeout on every
// call, the API key as X-Api-Key, no proxy, no redirects, http/https only.
// libcurl failures become Errors whose messages a user can act on; a call
// whose outcome cannot be known (timeout, connection lost after sending) is
// an Error with kUnknownOutcomeStatus.
#pragma once

#include "ipp3d/result.hpp"

#include "backend/backend.hpp"

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ipp3d::server::moonraker {

// See server::kUnknownOutcomeStatus (backend.hpp).
using server::kUnknownOutcomeStatus;

// An HTTP answer: status code and body (at most 4 MiB are kept).
struct HttpResponse {
  long status = 0;
  std::string body;
};

// A multipart/form-data body: text fields, then one file part.
struct MultipartForm {
  std::vector<std::pair<std::string, std::string>> fields;  // name, value
  std::filesystem::path file;                               // streamed from disk
  std::string file_name;                                    // the part's filename
};

// One request. `target` is the path and query below the base URL, e.g.
// "/printer/print/start?filename=ipp%2Fa.gcode".
struct HttpCall {
  std::string method = "GET";           // GET, POST or DELETE
  std::string target;                   // path and query, starting with '/'
  std::string json_body;                // POST body sent as application/json (may be empty)
  const MultipartForm* form = nullptr;  // POST body sent as multipart/form-data instead
  std::chrono::milliseconds timeout{10000};
};

// Calls one Moonraker instance. Stateless apart from its settings, so it may
// be used from any number of threads at once.
class HttpClient {
 public:
  // `base_url` like "http://127.0.0.1:7125" (a trailing '/' is dropped);
  // `api_key` is sent as X-Api-Key unless empty.
  HttpClient(std::string base_url, std::string api_key);

  // Performs `call`; any HTTP status is a response, only transport failures
  // are errors. Never throws.
  [[nodiscard]] Result<HttpResponse> perform(const HttpCall& call) const noexcept;

  // The base URL, for messages.
  [[nodiscard]] const std::string& base_url() const { return base_url_; }

 private:
  std::string base_url_;
  std::string api_key_;
};

// Percent-encodes `text` for a query value or one path segment (everything
// but A-Z a-z 0-9 - . _ ~).
std::string url_encode(std::string_view text);

// Percent-encodes each '/'-separated segment of a relative path, keeping '/'.
std::string url_encode_path(std::string_view path);

}  // namespace ipp3d::server::moonraker
