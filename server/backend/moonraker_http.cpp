// The Moonraker backend's libcurl client: one easy handle per call, owned by
// a unique_ptr; curl_global_init runs once per process.
#include "backend/moonraker_http.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>

namespace ipp3d::server::moonraker {
namespace {

constexpr std::size_t kMaxBody = std::size_t{4} * 1024 * 1024;  // larger answers are cut off

// Frees an easy handle.
struct EasyDeleter {
  void operator()(CURL* handle) const noexcept { curl_easy_cleanup(handle); }
};
using EasyPtr = std::unique_ptr<CURL, EasyDeleter>;

// Frees a header list.
struct SlistDeleter {
  void operator()(curl_slist* list) const noexcept { curl_slist_free_all(list); }
};
using SlistPtr = std::unique_ptr<curl_slist, SlistDeleter>;

// Frees a MIME body.
struct MimeDeleter {
  void operator()(curl_mime* mime) const noexcept { curl_mime_free(mime); }
};
using MimePtr = std::unique_ptr<curl_mime, MimeDeleter>;

// curl_global_init's result, computed once.
CURLcode global_init() {
  static std::once_flag once;
  static CURLcode result = CURLE_OK;
  std::call_once(once, [] { result = curl_global_init(CURL_GLOBAL_DEFAULT); });
  return result;
}

// Appends received bytes to the std::string at `user`, up to kMaxBody.
std::size_t write_body(char* data, std::size_t size, std::size_t count, void* user) noexcept {
  auto* body = static_cast<std::string*>(user);
  const std::size_t bytes = size * count;
  try {
    body->append(data, std::min(bytes, kMaxBody - std::min(body->size(), kMaxBody)));
  } catch (const std::exception&) {
    return 0;  // aborts the transfer (CURLE_WRITE_ERROR)
  }
  return bytes;
}

// An Error with `status` and `message`.
Error http_error(ipp_status_t status, std::string message) {
  return Error{status, std::move(message), "", 0};
}

// Whole seconds (at least 1) of `timeout`, for messages.
std::string seconds_text(std::chrono::milliseconds timeout) {
  const auto ms = timeout.count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
  return std::to_string(ms) + " ms";
}

// Turns a libcurl failure of `call` into an Error a user can act on.
Error transport_error(CURLcode code, const HttpCall& call, const std::string& base_url) {
  const std::string what = call.method + " " + call.target.substr(0, call.target.find('?'));
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return http_error(kUnknownOutcomeStatus,
                        "Moonraker at " + base_url + " did not answer " + what + " within " +
                            seconds_text(call.timeout) +
                            ": the outcome is unknown (ask for the printer's status again)");
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
      return http_error(IPP_STATUS_ERROR_SERVICE_UNAVAILABLE,
                        "cannot connect to Moonraker at " + base_url + " (" + curl_easy_strerror(code) +
                            "): is Moonraker running, and is the configured url right?");
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
      return http_error(IPP_STATUS_ERROR_SERVICE_UNAVAILABLE,
                        "TLS with Moonraker at " + base_url + " failed (" + curl_easy_strerror(code) +
                            "): its certificate must be trusted by this system");
    case CURLE_READ_ERROR:
      return http_error(IPP_STATUS_ERROR_DOCUMENT_ACCESS, "cannot read the file to upload for " + what);
    default:
      return http_error(kUnknownOutcomeStatus,
                        "the connection to Moonraker at " + base_url + " failed during " + what + " (" +
                            curl_easy_strerror(code) +
                            "): the outcome is unknown (ask for the printer's status again)");
  }
}

// Builds the multipart body of `form` for `handle`; null on failure.
MimePtr make_mime(CURL* handle, const MultipartForm& form) {
  MimePtr mime(curl_mime_init(handle));
  if (!mime) return nullptr;
  for (const auto& [name, value] : form.fields) {
    curl_mimepart* part = curl_mime_addpart(mime.get());
    if (part == nullptr || curl_mime_name(part, name.c_str()) != CURLE_OK ||
        curl_mime_data(part, value.data(), value.size()) != CURLE_OK) {
      return nullptr;
    }
  }
  curl_mimepart* part = curl_mime_addpart(mime.get());
  if (part == nullptr || curl_mime_name(part, "file") != CURLE_OK ||
      curl_mime_filedata(part, form.file.c_str()) != CURLE_OK ||
      curl_mime_filename(part, form.file_name.c_str()) != CURLE_OK ||
      curl_mime_type(part, "application/octet-stream") != CURLE_OK) {
    return nullptr;
  }
  return mime;
}

// Sets an option, remembering the first failure in `ok`.
template <class T>
void set(CURL* handle, CURLoption option, T value, bool& ok) {
  if (curl_easy_setopt(handle, option, value) != CURLE_OK) ok = false;
}

// The unreserved characters of RFC 3986.
bool unreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

}  // namespace

HttpClient::HttpClient(std::string base_url, std::string api_key)
    : base_url_(std::move(base_url)), api_key_(std::move(api_key)) {
  while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
}

Result<HttpResponse> HttpClient::perform(const HttpCall& call) const noexcept {
  try {
    if (global_init() != CURLE_OK) {
      return http_error(IPP_STATUS_ERROR_INTERNAL, "libcurl could not be initialised");
    }
    const EasyPtr handle(curl_easy_init());
    if (!handle) return http_error(IPP_STATUS_ERROR_INTERNAL, "libcurl could not create a handle");
    CURL* h = handle.get();
    const std::string url = base_url_ + call.target;
    HttpResponse response;
    SlistPtr headers;
    auto add_header = [&headers](const std::string& line) {
      curl_slist* list = curl_slist_append(headers.get(), line.c_str());
      if (list == nullptr) return false;
      static_cast<void>(headers.release());
      headers.reset(list);
      return true;
    };
    bool ok = true;
    if (!api_key_.empty()) ok = add_header("X-Api-Key: " + api_key_) && ok;
    ok = add_header("Expect:") && ok;  // no 100-continue round trip
    MimePtr mime;
    set(h, CURLOPT_URL, url.c_str(), ok);
    set(h, CURLOPT_PROTOCOLS_STR, "http,https", ok);
    set(h, CURLOPT_PROXY, "", ok);  // never through a proxy from the environment
    set(h, CURLOPT_FOLLOWLOCATION, 0L, ok);
    set(h, CURLOPT_NOSIGNAL, 1L, ok);
    set(h, CURLOPT_TIMEOUT_MS, static_cast<long>(std::max<std::int64_t>(call.timeout.count(), 1)), ok);
    set(h, CURLOPT_WRITEFUNCTION, &write_body, ok);
    set(h, CURLOPT_WRITEDATA, static_cast<void*>(&response.body), ok);
    if (call.method == "POST") {
      if (call.form != nullptr) {
        mime = make_mime(h, *call.form);
        if (!mime) ok = false;
        set(h, CURLOPT_MIMEPOST, mime.get(), ok);
      } else {
        ok = add_header("Content-Type: application/json") && ok;
        set(h, CURLOPT_POST, 1L, ok);
        set(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(call.json_body.size()), ok);
        set(h, CURLOPT_POSTFIELDS, call.json_body.c_str(), ok);
      }
    } else if (call.method == "DELETE") {
      set(h, CURLOPT_CUSTOMREQUEST, "DELETE", ok);
    } else {
      set(h, CURLOPT_HTTPGET, 1L, ok);
    }
    set(h, CURLOPT_HTTPHEADER, headers.get(), ok);
    if (!ok) return http_error(IPP_STATUS_ERROR_INTERNAL, "libcurl rejected the request settings for " + url);
    const CURLcode code = curl_easy_perform(h);
    if (code != CURLE_OK) return transport_error(code, call, base_url_);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
    return response;
  } catch (const std::exception& e) {
    return http_error(IPP_STATUS_ERROR_INTERNAL, std::string("Moonraker request failed: ") + e.what());
  }
}

std::string url_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (const char c : text) {
    if (unreserved(c)) {
      out += c;
    } else {
      const auto byte = static_cast<unsigned char>(c);
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 0x0F];
    }
  }
  return out;
}

std::string url_encode_path(std::string_view path) {
  std::string out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t slash = path.find('/', start);
    out += url_encode(
        path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
    if (slash == std::string_view::npos) return out;
    out += '/';
    start = slash + 1;
  }
}

}  // namespace ipp3d::server::moonraker
