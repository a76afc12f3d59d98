#include "keys/key_command.hpp"

#include "keys/sealed_file.hpp"
#include "state/state_store.hpp"
#include "tls.hpp"

#include <CLI/CLI.hpp>
#include <sodium.h>

#include <algorithm>
#include <iostream>
#include <termios.h>
#include <unistd.h>
#include <vector>

namespace ipp3d::server {
namespace {

// The regular files of `dir` whose names end with `suffix`, sorted.
std::vector<std::filesystem::path> files_ending_with(const std::filesystem::path& dir,
                                                     const std::string& suffix) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file(ec) && name.size() > suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Overwrites `file` with zeros, then removes it (best effort against a later read of the disk).
void wipe_and_remove(const std::filesystem::path& file) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(file, ec);
  if (!ec) {
    if (std::FILE* out = std::fopen(file.c_str(), "r+")) {
      const std::vector<char> zeros(static_cast<std::size_t>(size), '\0');
      (void)std::fwrite(zeros.data(), 1, zeros.size(), out);
      (void)std::fflush(out);
      (void)::fsync(::fileno(out));
      (void)std::fclose(out);
    }
  }
  std::filesystem::remove(file, ec);
}

// Changes one printer key file (protect: with the passphrase; else without).
Status convert_printer_key(const std::filesystem::path& file, const KeyPassphrase& passphrase, bool protect,
                           bool& changed) {
  const bool was_protected = trust::is_protected_secret_key_file(file);
  auto key = trust::read_secret_key_file(file, passphrase.provider());
  if (!key) return key.error();
  changed = was_protected != protect;
  if (!changed) return {};
  const std::optional<std::string> with =
      protect ? std::optional<std::string>(passphrase.text()) : std::nullopt;
  return trust::write_secret_key_file(file, *key, with);
}

// Seals (protect) or unseals one TLS key file of STATE/tls.
Status convert_tls_key(const std::filesystem::path& file, const KeyPassphrase& passphrase, bool protect) {
  auto text = read_private_file(file);
  if (!text) return text.error();
  const std::string name = file.filename().string();
  Result<std::string> converted =
      protect ? seal_with_passphrase({reinterpret_cast<const std::uint8_t*>(text->data()), text->size()},
                                     passphrase.text(), kTlsKeyPurpose)
              : open_sealed(*text, passphrase.text(), kTlsKeyPurpose, file.string());
  sodium_memzero(text->data(), text->size());
  if (!converted) return converted.error();
  const std::filesystem::path target = protect ? file.parent_path() / (name + ".sealed")
                                               : file.parent_path() / name.substr(0, name.size() - 7);
  Status written = write_private_file(target, *converted);
  sodium_memzero(converted->data(), converted->size());
  if (!written) return written;
  wipe_and_remove(file);
  return {};
}

// protect_keys() and unprotect_keys().
int convert_keys(const std::filesystem::path& state_dir, const KeyPassphrase& passphrase, bool protect,
                 std::ostream& out, std::ostream& err) {
  int changed_count = 0;
  bool failed = false;
  for (const auto& file : files_ending_with(state_dir / "keys", ".key")) {
    bool changed = false;
    if (Status done = convert_printer_key(file, passphrase, protect, changed); !done) {
      err << "ipp3d-server: " << done.error().message << "\n";
      failed = true;
    } else {
      out << file.string() << (changed ? (protect ? ": protected\n" : ": unprotected\n") : ": unchanged\n");
      changed_count += changed ? 1 : 0;
    }
  }
  for (const auto& file : files_ending_with(state_dir / "tls", protect ? ".key" : ".key.sealed")) {
    if (Status done = convert_tls_key(file, passphrase, protect); !done) {
      err << "ipp3d-server: " << done.error().message << "\n";
      failed = true;
    } else {
      out << file.string() << (protect ? ": sealed\n" : ": unsealed\n");
      ++changed_count;
    }
  }
  if (auto store = StateStore::open(state_dir / "ipp3d.db"); store) {
    AuditEvent event;
    event.type = protect ? "keys-protected" : "keys-unprotected";
    event.details = {{"files", std::to_string(changed_count)}, {"failed", failed ? "yes" : "no"}};
    if (Status appended = (*store)->append_audit(event); !appended) {
      err << "ipp3d-server: audit log: " << appended.error().message << "\n";
    }
  } else {
    err << "ipp3d-server: audit log: " << store.error().message << "\n";
  }
  if (!failed && protect) {
    out << "The server now needs the passphrase at every start: --key-passphrase-file FILE, [server] "
           "key_passphrase_file, or the systemd credential "
        << kKeyPassphraseCredential << ".\n";
  }
  return failed ? 1 : 0;
}

// One line from the terminal on standard input with echo off, or from standard input.
std::string read_secret_line(const std::string& prompt) {
  const bool terminal = ::isatty(STDIN_FILENO) == 1;
  termios saved{};
  const bool quiet = terminal && ::tcgetattr(STDIN_FILENO, &saved) == 0;
  if (quiet) {
    termios silent = saved;
    silent.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    (void)::tcsetattr(STDIN_FILENO, TCSAFLUSH, &silent);
    std::cerr << prompt << std::flush;
  }
  std::string line;
  line.reserve(1100);
  std::getline(std::cin, line);
  if (quiet) {
    (void)::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    std::cerr << "\n";
  }
  return line;
}

}  // namespace

Result<KeyPassphrase> command_passphrase(const RunSettings& settings, bool confirm) {
  if (settings.key_passphrase_file) return KeyPassphrase::read_file(*settings.key_passphrase_file);
  std::string first = read_secret_line("Key passphrase: ");
  if (confirm && ::isatty(STDIN_FILENO) == 1) {
    std::string again = read_secret_line("Repeat the key passphrase: ");
    const bool same = first == again;
    sodium_memzero(again.data(), again.size());
    if (!same) {
      sodium_memzero(first.data(), first.size());
      return Error{IPP_STATUS_ERROR_INTERNAL, "the two passphrases differ", "keys", 0};
    }
  }
  if (first.empty()) return Error{IPP_STATUS_ERROR_INTERNAL, "the passphrase is empty", "keys", 0};
  return KeyPassphrase(std::move(first), "standard input");
}

namespace {

// Runs `keys protect` or `keys unprotect`.
int run_key_command(const RunSettings& settings, bool protect) {
  auto passphrase = command_passphrase(settings, protect);
  if (!passphrase) {
    std::cerr << "ipp3d-server: " << passphrase.error().message << "\n";
    return 1;
  }
  return protect ? protect_keys(settings.state_dir, *passphrase, std::cout, std::cerr)
                 : unprotect_keys(settings.state_dir, *passphrase, std::cout, std::cerr);
}

}  // namespace

void add_key_commands(CLI::App& app, SettingsCommand& selected) {
  CLI::App* keys = app.add_subcommand("keys", "protect the server's private keys at rest with a passphrase");
  keys->require_subcommand(1);
  CLI::App* protect = keys->add_subcommand(
      "protect",
      "encrypt the printer keys and the TLS key in place (passphrase from --key-passphrase-file, "
      "[server] key_passphrase_file or $CREDENTIALS_DIRECTORY, else asked twice at the terminal or read "
      "from standard input)");
  protect->callback(
      [&selected] { selected = [](const RunSettings& s) { return run_key_command(s, true); }; });
  CLI::App* unprotect = keys->add_subcommand("unprotect", "decrypt the server's private keys in place");
  unprotect->callback(
      [&selected] { selected = [](const RunSettings& s) { return run_key_command(s, false); }; });
}

int protect_keys(const std::filesystem::path& state_dir, const KeyPassphrase& passphrase, std::ostream& out,
                 std::ostream& err) {
  if (passphrase.empty()) {
    err << "ipp3d-server: keys protect needs a passphrase\n";
    return 1;
  }
  return convert_keys(state_dir, passphrase, true, out, err);
}

int unprotect_keys(const std::filesystem::path& state_dir, const KeyPassphrase& passphrase, std::ostream& out,
                   std::ostream& err) {
  return convert_keys(state_dir, passphrase, false, out, err);
}

}  // namespace ipp3d::server
