// `ipp3d sign`: reads the author's key, the printers' public keys, signs
// (and encrypts) FILE into OUT through a temporary file renamed at the end.
#include "sign_command.hpp"

#include "ipp3d/trust/atomic_file.hpp"
#include "ipp3d/trust/envelope.hpp"
#include "ipp3d/trust/keys.hpp"

#include "passphrase.hpp"
#include "remote.hpp"
#include "time_text.hpp"

#include <charconv>
#include <ctime>
#include <iostream>

namespace ipp3d::client {
namespace {

constexpr int kOk = 0;
constexpr int kError = 2;
constexpr std::int64_t kMaxDurationSeconds = std::int64_t{100} * 366 * 86400;

int fail(const std::string& message) {
  std::cerr << "ipp3d sign: " << message << "\n";
  return kError;
}

// The encryption key a printer publishes, read over the pinned connection.
Result<trust::PublicKey> printer_key(const std::string& uri) {
  RemoteOptions remote;
  remote.uri = uri;
  auto printer = open_printer(remote);
  if (!printer) return std::move(printer).error();
  auto caps = printer->capabilities();
  if (!caps) return std::move(caps).error();
  if (!caps->encryption_key) {
    return Error{
        IPP_STATUS_ERROR_NOT_FOUND, uri + " publishes no encryption key (ipp3d-printer-public-key)", {}, 0};
  }
  return std::move(*caps->encryption_key);
}

// The printers' public keys named by --for (X25519 only): key files, or
// printer URIs whose published key is fetched over a pinned connection.
Result<std::vector<trust::PublicKey>> read_recipients(const std::vector<std::string>& files) {
  std::vector<trust::PublicKey> keys;
  for (const std::string& file : files) {
    auto key = file.find("://") != std::string::npos ? printer_key(file) : trust::read_public_key_file(file);
    if (!key) return std::move(key).error();
    if (key->algorithm != trust::KeyAlgorithm::kX25519) {
      return Error{IPP_STATUS_ERROR_INTERNAL,
                   file + " is an ed25519 signing key; --for takes a printer's x25519 public key",
                   {},
                   0};
    }
    keys.push_back(std::move(key).value());
  }
  return keys;
}

// Checks the combinations of options; an error message or empty.
std::string check_options(const SignCommandOptions& o) {
  if (o.encrypt && o.recipients.size() != 1)
    return "--encrypt needs exactly one --for (the printer to encrypt to)";
  if (!o.licence.empty() && !o.copies) return "--licence needs --copies N";
  if (o.copies && (*o.copies < 1 || *o.copies > 1'000'000)) return "--copies must be within 1-1000000";
  if (!parse_duration(o.expires)) return "--expires must be a number followed by s, m, h or d (e.g. 7d)";
  return {};
}

// The envelope options from the command line.
trust::SignOptions sign_options(const SignCommandOptions& o,
                                const std::vector<trust::PublicKey>& recipients) {
  trust::SignOptions options;
  options.document_name = o.name.empty() ? std::filesystem::path(o.file).filename().string() : o.name;
  options.created = static_cast<std::int64_t>(std::time(nullptr));
  options.not_after = options.created + *parse_duration(o.expires);
  for (const auto& key : recipients) options.recipients.push_back(key.id);
  if (o.encrypt) options.encrypt_to = recipients.front();
  if (o.copies)
    options.licence = trust::Licence{o.licence.empty() ? trust::random_licence_id() : o.licence, *o.copies};
  return options;
}

// The one-line summary.
void print_summary(const SignCommandOptions& o, const trust::SecretKey& key,
                   const trust::SignOptions& options, std::uint64_t size) {
  std::string recipients;
  for (const auto& id : options.recipients)
    recipients += (recipients.empty() ? "" : ",") + trust::key_id_hex(id);
  std::cout << o.file << " -> " << o.out << ": signer " << trust::key_id_hex(key.id()) << ", "
            << (options.encrypt_to   ? "encrypted to " + recipients
                : recipients.empty() ? "any printer"
                                     : "for " + recipients)
            << (options.licence
                    ? ", licence " + options.licence->id + " x" + std::to_string(options.licence->copies)
                    : "")
            << ", expires " << utc_text(options.not_after) << " (" << o.expires << "), " << size
            << " bytes\n";
}

}  // namespace

std::optional<std::int64_t> parse_duration(const std::string& text) {
  if (text.size() < 2) return std::nullopt;
  std::int64_t count = 0;
  const char* end = text.data() + text.size() - 1;
  const auto [stop, ec] = std::from_chars(text.data(), end, count);
  if (ec != std::errc() || stop != end || count < 1 || text[0] == '+') return std::nullopt;
  std::int64_t unit = 0;
  switch (text.back()) {
    case 's':
      unit = 1;
      break;
    case 'm':
      unit = 60;
      break;
    case 'h':
      unit = 3600;
      break;
    case 'd':
      unit = 86400;
      break;
    default:
      return std::nullopt;
  }
  if (count > kMaxDurationSeconds / unit) return std::nullopt;
  return count * unit;
}

CLI::App* add_sign_command(CLI::App& app, SignCommandOptions& options) {
  CLI::App* sign =
      app.add_subcommand("sign", "Sign (and optionally encrypt) a print file into an ipp3d envelope.");
  sign->add_option("file", options.file, "document to sign (a regular file: it is read twice)")->required();
  sign->add_option("-o,--output", options.out, "envelope to write (replaced atomically)")->required();
  sign->add_option("--key", options.key,
                   "secret signing key (default: $IPP3D_CONFIG_DIR/key, else ~/.config/ipp3d/key)");
  sign->add_option("--for", options.recipients,
                   "a printer's x25519 public key file, or its URI (the key it publishes, over a pinned "
                   "connection); repeat for several printers")
      ->allow_extra_args(false);
  sign->add_flag("--encrypt", options.encrypt, "encrypt to the printer named by --for (exactly one)");
  sign->add_option("--copies", options.copies, "licence: at most N copies per printer");
  sign->add_option("--licence", options.licence, "licence ID (with --copies; default: random)");
  sign->add_option("--expires", options.expires, "validity: Ns, Nm, Nh or Nd (default 7d)");
  sign->add_option("--name", options.name, "document name (default: FILE's base name)");
  sign->footer(
      "A protected key's passphrase is asked at the terminal (or read from IPP3D_PASSPHRASE).\n"
      "Exit status: 0 signed, 2 error (bad options, key, unreadable or non-regular input, output).");
  return sign;
}

int run_sign(const SignCommandOptions& o) {
  if (const std::string problem = check_options(o); !problem.empty()) return fail(problem);
  auto recipients = read_recipients(o.recipients);
  if (!recipients) return fail(recipients.error().message);
  std::filesystem::path key_file = o.key;
  if (key_file.empty()) {
    auto path = default_key_path();
    if (!path) return fail(path.error().message);
    key_file = *path;
  }
  auto key = trust::read_secret_key_file(key_file, passphrase_for(key_file));
  if (!key) return fail(key_error_text(key.error()));
  if (key->algorithm() != trust::KeyAlgorithm::kEd25519)
    return fail(key_file.string() + " is not an ed25519 signing key");
  const trust::SignOptions options = sign_options(o, *recipients);
  auto out = trust::AtomicFileWriter::create(o.out, 0644);
  if (!out) return fail(out.error().message);
  std::uint64_t size = 0;
  const Status signed_file =
      trust::sign_file(o.file, *key, options, [&](std::span<const std::uint8_t> bytes) {
        size += bytes.size();
        return out->write(bytes);
      });
  if (!signed_file) return fail(signed_file.error().message);  // the temporary file is removed
  if (Status committed = out->commit(); !committed) return fail(committed.error().message);
  print_summary(o, *key, options, size);
  return kOk;
}

}  // namespace ipp3d::client
