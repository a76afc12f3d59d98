// `ipp3d verify`: opens the envelope (decrypting with --key), finds the
// trusted key that signed it, checks the times (and with --key the
// recipients), reads the whole payload and prints the verdict.
#include "verify_command.hpp"

#include "ipp3d/trust/atomic_file.hpp"
#include "ipp3d/trust/envelope.hpp"
#include "ipp3d/trust/keys.hpp"

#include "passphrase.hpp"
#include "time_text.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <iostream>
#include <limits>
#include <unistd.h>

namespace ipp3d::client {
namespace {

constexpr int kValid = 0;
constexpr int kRefused = 1;
constexpr int kError = 2;

using trust::EnvelopeError;
using trust::EnvelopeProblem;

int fail(const std::string& message) {
  std::cerr << "ipp3d verify: " << message << "\n";
  return kError;
}

// A trusted signer and the file it came from.
struct Trusted {
  trust::PublicKey key;
  std::string file;
};

// What verification found out.
struct Verdict {
  std::optional<EnvelopeError> problem;   // nullopt: valid
  std::optional<trust::Manifest> claims;  // set once the signature verified
  std::string trust_file;
  std::optional<trust::OuterHeader> outer;  // encrypted, no --key: what anyone sees
};

Result<std::vector<Trusted>> read_trusted(const std::vector<std::string>& files) {
  std::vector<Trusted> trusted;
  for (const std::string& file : files) {
    auto key = trust::read_public_key_file(file);
    if (!key) return std::move(key).error();
    if (key->algorithm != trust::KeyAlgorithm::kEd25519) {
      return Error{IPP_STATUS_ERROR_INTERNAL,
                   file + " is not an ed25519 signing key (--trust takes authors' keys)",
                   {},
                   0};
    }
    trusted.push_back({std::move(key).value(), file});
  }
  return trusted;
}

// A source over `fd` that keeps a copy of the first bytes (the clear header).
trust::ByteSource capturing_source(int fd, std::vector<std::uint8_t>& prefix) {
  return [source = trust::fd_source(fd), &prefix](std::span<std::uint8_t> buffer) -> Result<std::size_t> {
    auto n = source(buffer);
    if (n && prefix.size() < 12 + trust::kEncryptionHeaderSize) {
      const std::size_t keep = std::min(*n, 12 + trust::kEncryptionHeaderSize - prefix.size());
      prefix.insert(prefix.end(), buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(keep));
    }
    return n;
  };
}

// Step 4: tries the trusted keys; the file of the one that verified.
trust::EnvelopeResult<std::string> find_signer(const trust::EnvelopeReader& reader,
                                               const std::vector<Trusted>& trusted) {
  for (const Trusted& t : trusted) {
    // verify_signature compares key IDs in constant time and refuses any key but the signer's.
    auto verified = reader.verify_signature(t.key);
    if (verified) return t.file;
    if (verified.error().problem != EnvelopeProblem::kUnknownSigner) return verified.error();
  }
  std::string files;
  for (const Trusted& t : trusted) files += (files.empty() ? "" : ", ") + t.file;
  return EnvelopeError{EnvelopeProblem::kUnknownSigner,
                       "signed by key " + trust::key_id_hex(reader.manifest().signer) +
                           ", which is not among the trusted keys (" + files + ")"};
}

// Where the verified document goes (--output): created when the payload
// starts, committed only when the envelope is valid.
struct PlainOutput {
  std::string path;
  std::optional<trust::AtomicFileWriter> file;

  bool encrypted = false;

  Status open_file() {
    if (path.empty() || file) return {};
    // A decrypted document stays private to its owner.
    auto created = trust::AtomicFileWriter::create(path, encrypted ? 0600 : 0644);
    if (!created) return std::move(created).error();
    file.emplace(std::move(created).value());
    return {};
  }
  trust::ByteSink sink() {
    return [this](std::span<const std::uint8_t> bytes) -> Status {
      if (path.empty()) return {};
      if (Status opened = open_file(); !opened) return opened;
      return file->write(bytes);
    };
  }
  // After a valid envelope: the file in place (an empty one for an empty document).
  Status commit() {
    if (path.empty()) return {};
    if (Status opened = open_file(); !opened) return opened;
    return file->commit();
  }
};

// Steps 1-9 on one input. kIo problems are the caller's exit status 2.
Verdict examine(trust::ByteSource source, const std::vector<Trusted>& trusted,
                const trust::SecretKey* printer, PlainOutput& output) {
  Verdict v;
  auto reader = trust::EnvelopeReader::open(std::move(source), printer);
  if (!reader) {
    v.problem = reader.error();
    return v;
  }
  auto signer = find_signer(**reader, trusted);
  if (!signer) {
    v.problem = signer.error();
    return v;
  }
  v.trust_file = *signer;
  v.claims = (*reader)->manifest();
  trust::ClaimPolicy policy;
  if (printer != nullptr) policy.printer = printer->id();
  policy.now = static_cast<std::int64_t>(std::time(nullptr));
  policy.earliest_now = trust::build_time();
  policy.max_lifetime = std::numeric_limits<std::int64_t>::max();  // each printer sets its own maximum
  if (auto claims = trust::check_claims(*v.claims, policy); !claims) {
    v.problem = claims.error();
    return v;
  }
  output.encrypted = (*reader)->encrypted();
  if (auto payload = (*reader)->read_payload(output.sink()); !payload) {
    v.problem = payload.error();
  }
  return v;
}

// Text of a UTF-8 value for a terminal: C1 controls (allowed in names) escaped.
std::string printable(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    const auto next = i + 1 < text.size() ? static_cast<unsigned char>(text[i + 1]) : 0;
    if (byte == 0xc2 && next >= 0x80 && next <= 0x9f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += std::string("\\u00") + kHex[next >> 4] + kHex[next & 15];
      ++i;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

std::string hex(std::span<const std::uint8_t> bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (const std::uint8_t b : bytes) out += {kHex[b >> 4], kHex[b & 15]};
  return out;
}

std::string recipients_text(const trust::Manifest& m) {
  if (m.recipients.empty()) return "any printer that trusts the signer";
  std::string out;
  for (const auto& id : m.recipients) out += (out.empty() ? "" : ", ") + trust::key_id_hex(id);
  return out;
}

void print_text(const std::string& file, const Verdict& v) {
  std::cout << file << ": ";
  if (v.problem) {
    std::cout << "refused: " << trust::envelope_problem_keyword(v.problem->problem) << ": "
              << v.problem->message << "\n";
  } else {
    std::cout << "valid\n";
  }
  if (v.outer) {
    std::cout << "  encrypted to:  " << trust::key_id_hex(v.outer->recipient)
              << " (give that printer's secret key "
              << "with --key to decrypt and verify)\n  chunk size:    " << v.outer->chunk_size
              << "\n  size:          " << v.outer->payload_length << " bytes (not yet authenticated)\n";
  }
  if (!v.claims) return;
  const trust::Manifest& m = *v.claims;
  std::cout << "  signer:        " << trust::key_id_hex(m.signer) << " (trusted: " << v.trust_file << ")\n"
            << "  created:       " << utc_text(m.created) << "\n"
            << "  not-after:     " << utc_text(m.not_after) << "\n"
            << "  recipients:    " << recipients_text(m) << "\n"
            << "  encrypted:     " << (m.encrypted ? "yes" : "no") << "\n"
            << "  licence:       "
            << (m.licence ? m.licence->id + ", " + std::to_string(m.licence->copies) + " copies per printer"
                          : "none")
            << "\n  document:      " << printable(m.document_name) << "\n"
            << "  content type:  " << m.content_type << "\n"
            << "  size:          " << m.payload_length << " bytes\n"
            << "  sha256:        " << hex(m.payload_sha256) << "\n";
}

nlohmann::json claims_json(const trust::Manifest& m, const std::string& trust_file) {
  nlohmann::json recipients = nlohmann::json::array();
  for (const auto& id : m.recipients) recipients.push_back(trust::key_id_hex(id));
  return {{"signer", {{"key_id", trust::key_id_hex(m.signer)}, {"trust_file", trust_file}}},
          {"created", m.created},
          {"created_utc", utc_text(m.created)},
          {"not_after", m.not_after},
          {"not_after_utc", utc_text(m.not_after)},
          {"recipients", recipients},
          {"encrypted", m.encrypted},
          {"licence", m.licence ? nlohmann::json{{"id", m.licence->id}, {"copies", m.licence->copies}}
                                : nlohmann::json(nullptr)},
          {"document_name", m.document_name},
          {"content_type", m.content_type},
          {"size", m.payload_length},
          {"sha256", hex(m.payload_sha256)}};
}

void print_json(const std::string& file, const Verdict& v) {
  nlohmann::json out = {
      {"file", file},
      {"valid", !v.problem},
      {"problem", v.problem ? nlohmann::json(trust::envelope_problem_keyword(v.problem->problem))
                            : nlohmann::json(nullptr)},
      {"message", v.problem ? nlohmann::json(v.problem->message) : nlohmann::json(nullptr)},
      {"claims", v.claims ? claims_json(*v.claims, v.trust_file) : nlohmann::json(nullptr)}};
  if (v.outer) {
    out["outer"] = {{"encrypted", v.outer->encrypted},
                    {"recipient", trust::key_id_hex(v.outer->recipient)},
                    {"chunk_size", v.outer->chunk_size},
                    {"payload_length", v.outer->payload_length}};
  }
  std::cout << out.dump(2, ' ', true) << "\n";
}

// The input file descriptor ("-": standard input), closed on scope exit.
class Input {
 public:
  explicit Input(const std::string& file)
      : fd_(file == "-" ? STDIN_FILENO : ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY)),
        owned_(file != "-") {}
  Input(const Input&) = delete;
  Input& operator=(const Input&) = delete;
  ~Input() {
    if (owned_ && fd_ >= 0) (void)::close(fd_);  // read-only
  }
  [[nodiscard]] int fd() const { return fd_; }

 private:
  int fd_;
  bool owned_;
};

// The printer key of --key, if any.
Result<std::optional<trust::SecretKey>> read_printer_key(const std::string& file) {
  if (file.empty()) return std::optional<trust::SecretKey>();
  auto key = trust::read_secret_key_file(file, passphrase_for(file));
  if (!key) return std::move(key).error();
  if (key->algorithm() != trust::KeyAlgorithm::kX25519) {
    return Error{IPP_STATUS_ERROR_INTERNAL, file + " is not an x25519 printer key (--key decrypts)", {}, 0};
  }
  return std::optional<trust::SecretKey>(std::move(key).value());
}

}  // namespace

CLI::App* add_verify_command(CLI::App& app, VerifyOptions& options) {
  CLI::App* verify = app.add_subcommand(
      "verify", "Verify an ipp3d envelope as a printer would and print its signed claims.");
  verify->add_option("file", options.file, "envelope (- reads standard input)")->required();
  verify->add_option("--trust", options.trust, "a trusted author's public key file; repeat for several")
      ->required()
      ->allow_extra_args(false);
  verify->add_option("--key", options.key,
                     "a printer's x25519 secret key: decrypts and checks the recipients");
  verify->add_option("-o,--output", options.output, "write the verified document here (only when valid)");
  verify->add_flag("--json", options.json, "print the result as JSON");
  verify->footer(
      "Checks the format, the signature by one of the trusted keys, the times (created at most 5 minutes\n"
      "ahead, not expired), the recipients when --key is given, and every payload byte against the signed\n"
      "SHA-256. An encrypted envelope needs --key; without it only what an intermediary sees is shown.\n"
      "Replay and licence counts are the printer's own checks. Passphrases: terminal or IPP3D_PASSPHRASE.\n"
      "Exit status: 0 valid, 1 refused (the problem keyword and message are printed), 2 usage or I/O error.");
  return verify;
}

int run_verify(const VerifyOptions& options) {
  auto trusted = read_trusted(options.trust);
  if (!trusted) return fail(trusted.error().message);
  auto printer = read_printer_key(options.key);
  if (!printer) return fail(key_error_text(printer.error()));
  const Input input(options.file);
  if (input.fd() < 0) return fail("cannot open " + options.file + ": " + std::strerror(errno));
  std::vector<std::uint8_t> prefix;
  PlainOutput output{options.output, std::nullopt, false};
  const trust::SecretKey* printer_key = *printer ? &**printer : nullptr;
  Verdict v = examine(capturing_source(input.fd(), prefix), *trusted, printer_key, output);
  if (v.problem && v.problem->problem == EnvelopeProblem::kIo) return fail(v.problem->message);
  if (v.problem && v.problem->problem == EnvelopeProblem::kCannotDecrypt && printer_key == nullptr) {
    if (auto outer = trust::parse_outer_header(prefix)) v.outer = *outer;
  }
  if (!v.problem) {
    if (Status committed = output.commit(); !committed) return fail(committed.error().message);
  }
  if (options.json) {
    print_json(options.file, v);
  } else {
    print_text(options.file, v);
  }
  return v.problem ? kRefused : kValid;
}

}  // namespace ipp3d::client
