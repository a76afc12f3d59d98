// Printer::submit: Create-Job with the ticket, then Send-Document whose body
// is the envelope produced on the fly by trust::sign_file (chunked HTTP).
#include "ipp3d/attributes/ipp_codec.hpp"

#include "printer_state.hpp"

#include <cups/http.h>
#include <sodium.h>

#include <ctime>
#include <sys/stat.h>
#include <vector>

namespace ipp3d::client {
namespace {

constexpr int kMaxCopies = 999;

Error local_error(std::string message, std::string attribute = {}) {
  return Error{IPP_STATUS_ERROR_BAD_REQUEST, std::move(message), std::move(attribute), 0};
}

// Checks what can be checked before a job exists on the printer.
Status check_inputs(const std::filesystem::path& file, const SubmitOptions& options) {
  if (options.signer == nullptr || options.signer->algorithm() != trust::KeyAlgorithm::kEd25519) {
    return local_error("a job must be signed: give an ed25519 signing key (ipp3d keygen makes one)");
  }
  if (options.encrypt_to && options.encrypt_to->algorithm != trust::KeyAlgorithm::kX25519) {
    return local_error("the encryption key must be the printer's x25519 key");
  }
  if (options.copies < 1 || options.copies > kMaxCopies) return local_error("copies must be within 1-999");
  if (options.lifetime_seconds < 1) return local_error("the envelope's lifetime must be positive");
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return local_error(file.string() + ": cannot read the file");
  if (!S_ISREG(st.st_mode)) {
    return local_error(file.string() +
                       " is not a regular file (it is read twice to sign it); save it to a file first");
  }
  return {};
}

// The envelope options of a submission.
trust::SignOptions envelope_options(const std::filesystem::path& file, const SubmitOptions& options) {
  trust::SignOptions sign;
  sign.document_name = options.job_name.empty() ? file.filename().string() : options.job_name;
  sign.created = static_cast<std::int64_t>(std::time(nullptr));
  sign.not_after = sign.created + options.lifetime_seconds;
  sign.encrypt_to = options.encrypt_to;
  sign.licence = options.licence;
  return sign;
}

// Gives the upload the credentials its Create-Job was challenged for, on the
// same connection and only while it shows the pinned certificate: a
// streamed envelope cannot be sent again after a 401. Cleared by the Upload.
void authorize_upload(Printer::State& state) {
  if (!state.tls || !state.credentials) return;
  auto fingerprint = detail::connection_fingerprint(state.http.get());
  if (!fingerprint || *fingerprint != state.fingerprint) return;
  std::string plain = state.credentials->user + ":" + state.credentials->password;
  std::vector<char> encoded(plain.size() * 4 / 3 + 8, '\0');
  if (httpEncode64_2(encoded.data(), static_cast<int>(encoded.size()), plain.data(),
                     static_cast<int>(plain.size())) != nullptr) {
    httpSetAuthString(state.http.get(), "Basic", encoded.data());
  }
  sodium_memzero(plain.data(), plain.size());
  sodium_memzero(encoded.data(), encoded.size());
}

// The Send-Document upload: starts the HTTP request on the first envelope
// bytes (so the connection does not idle while the file is hashed) and
// writes each chunk as it comes.
class Upload {
 public:
  Upload(Printer::State& state, IppPtr request) : state_(state), request_(std::move(request)) {}

  // The ByteSink of sign_file.
  Status write(std::span<const std::uint8_t> bytes) {
    if (!started_) {
      started_ = true;
      authorize_upload(state_);
      const http_status_t sent =
          cupsSendRequest(state_.http.get(), request_.get(), state_.resource.c_str(), CUPS_LENGTH_VARIABLE);
      if (sent != HTTP_STATUS_CONTINUE) return stopped("the printer did not accept the document");
    }
    if (cupsWriteRequestData(state_.http.get(), reinterpret_cast<const char*>(bytes.data()), bytes.size()) !=
        HTTP_STATUS_CONTINUE) {
      return stopped("the upload was interrupted");
    }
    return {};
  }

  // The response once the whole envelope was written.
  Result<IppPtr> finish() {
    IppPtr response(cupsGetResponse(state_.http.get(), state_.resource.c_str()));
    httpSetAuthString(state_.http.get(), nullptr, nullptr);
    const ipp_status_t status = response ? ippGetStatusCode(response.get()) : cupsLastError();
    if (response && status <= IPP_STATUS_OK_EVENTS_COMPLETE) return response;
    return detail::response_error(response.get(), "Send-Document");
  }

  // The printer's answer when it stopped the upload early (it refused the
  // document), else `what` with libcups' reason.
  Error stopped(const std::string& what) {
    IppPtr response(cupsGetResponse(state_.http.get(), state_.resource.c_str()));
    httpSetAuthString(state_.http.get(), nullptr, nullptr);
    if (response && ippGetStatusCode(response.get()) > IPP_STATUS_OK_EVENTS_COMPLETE) {
      refusal_ = detail::response_error(response.get(), "Send-Document");
      return *refusal_;
    }
    return Error{IPP_STATUS_ERROR_SERVICE_UNAVAILABLE, what + ": " + cupsLastErrorString(), {}, 0};
  }

  // The printer's refusal seen while uploading, if any.
  [[nodiscard]] const std::optional<Error>& refusal() const { return refusal_; }

 private:
  Printer::State& state_;
  IppPtr request_;
  bool started_ = false;
  std::optional<Error> refusal_;
};

// Create-Job with the ticket; the job-id and the printer's notice.
Result<Submitted> create_job(Printer::State& state, const std::string& name,
                             const attributes::JobTicket& ticket, int copies) {
  IppPtr request = detail::new_request(state, IPP_OP_CREATE_JOB);
  ippAddString(request.get(), IPP_TAG_OPERATION, IPP_TAG_NAME, "job-name", nullptr, name.c_str());
  attributes::encode_job_ticket(ticket, request.get(), IPP_TAG_JOB);
  if (copies != 1) ippAddInteger(request.get(), IPP_TAG_JOB, IPP_TAG_INTEGER, "copies", copies);
  auto response = detail::perform(state, std::move(request), "Create-Job");
  if (!response) return std::move(response).error();
  Submitted submitted;
  if (ipp_attribute_t* id = ippFindAttribute(response->get(), "job-id", IPP_TAG_INTEGER)) {
    submitted.job_id = ippGetInteger(id, 0);
  }
  if (submitted.job_id <= 0)
    return Error{IPP_STATUS_ERROR_INTERNAL, "Create-Job: the printer gave no job-id", {}, 0};
  if (ippGetStatusCode(response->get()) == IPP_STATUS_OK_IGNORED_OR_SUBSTITUTED) {
    submitted.notice = detail::text_of(response->get(), "detailed-status-message");
    if (submitted.notice.empty()) submitted.notice = detail::text_of(response->get(), "status-message");
  }
  return submitted;
}

// Cancels a job whose document could not be sent (best effort).
void cancel_unsent(Printer& printer, Printer::State& state, int job_id) {
  if (!detail::reconnect(state)) return;
  (void)printer.cancel(job_id);
}

}  // namespace

Result<Submitted> Printer::submit(const std::filesystem::path& file, const attributes::JobTicket& ticket,
                                  const SubmitOptions& options) {
  if (Status ok = check_inputs(file, options); !ok) return std::move(ok).error();
  const trust::SignOptions sign = envelope_options(file, options);
  auto created = create_job(*state_, sign.document_name, ticket, options.copies);
  if (!created) return created;
  IppPtr request = detail::new_request(*state_, IPP_OP_SEND_DOCUMENT);
  ippAddInteger(request.get(), IPP_TAG_OPERATION, IPP_TAG_INTEGER, "job-id", created->job_id);
  ippAddString(request.get(), IPP_TAG_OPERATION, IPP_TAG_NAME, "document-name", nullptr,
               sign.document_name.c_str());
  ippAddString(request.get(), IPP_TAG_OPERATION, IPP_TAG_MIMETYPE, "document-format", nullptr,
               std::string(trust::kEnvelopeMimeType).c_str());
  ippAddBoolean(request.get(), IPP_TAG_OPERATION, "last-document", 1);
  Upload upload(*state_, std::move(request));
  const Status sent =
      trust::sign_file(file, *options.signer, sign,
                       [&upload](std::span<const std::uint8_t> bytes) { return upload.write(bytes); });
  Result<IppPtr> response = sent ? upload.finish() : Result<IppPtr>(sent.error());
  if (!response) {
    Error error = upload.refusal() ? *upload.refusal() : std::move(response).error();
    if (!upload.refusal()) cancel_unsent(*this, *state_, created->job_id);
    error.message = "job " + std::to_string(created->job_id) + ": " + error.message;
    return error;
  }
  return created;
}

}  // namespace ipp3d::client
