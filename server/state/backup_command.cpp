#include "state/backup_command.hpp"

#include "keys/runtime_directory.hpp"
#include "state/backup.hpp"
#include "state/backup_seal.hpp"
#include "state/state_store.hpp"

#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>

namespace ipp3d::server {
namespace {

// What the backup and restore commands were given.
struct BackupOptions {
  std::string archive;
  bool force = false;
  bool check_only = false;
  bool encrypt = false;
};

// The archive to read: `options.archive` itself, or its decryption into
// `scratch` when it is encrypted (asking for the passphrase).
Result<std::filesystem::path> readable_archive(const RunSettings& settings, const BackupOptions& options,
                                               std::unique_ptr<PrivateRuntimeDirectory>& scratch) {
  if (!is_sealed_archive(options.archive)) return std::filesystem::path(options.archive);
  auto passphrase = command_passphrase(settings, false);
  if (!passphrase) return passphrase.error();
  auto dir = PrivateRuntimeDirectory::create("restore");
  if (!dir) return dir.error();
  scratch = std::move(dir).value();
  const std::filesystem::path plain = scratch->path() / "archive";
  if (Status opened = open_sealed_archive(options.archive, plain, passphrase->text()); !opened)
    return opened.error();
  return plain;
}

// Writes the archive, encrypted when asked (the clear archive only ever in a private runtime directory).
Result<BackupSummary> write_archive(const RunSettings& settings, const BackupOptions& options) {
  if (!options.encrypt) return backup_state(settings.state_dir, settings.config_file, options.archive);
  auto passphrase = command_passphrase(settings, true);
  if (!passphrase) return passphrase.error();
  auto scratch = PrivateRuntimeDirectory::create("backup");
  if (!scratch) return scratch.error();
  const std::filesystem::path plain = (*scratch)->path() / "archive";
  auto summary = backup_state(settings.state_dir, settings.config_file, plain);
  if (!summary) return summary.error();
  if (Status sealed = seal_archive(plain, options.archive, passphrase->text()); !sealed)
    return sealed.error();
  return summary;
}

// Appends `event` to the database of `state_dir`; failures are reported, not fatal.
void audit(const std::filesystem::path& state_dir, const AuditEvent& event) {
  auto store = StateStore::open(state_dir / "ipp3d.db");
  Status appended = store ? (*store)->append_audit(event) : Status{store.error()};
  if (!appended) std::cerr << "ipp3d-server: audit log: " << appended.error().message << "\n";
}

// Runs `backup FILE`.
int run_backup(const RunSettings& settings, const BackupOptions& options) {
  auto summary = write_archive(settings, options);
  if (!summary) {
    std::cerr << "ipp3d-server: backup: " << summary.error().message << "\n";
    return 1;
  }
  for (const auto& member : summary->members) {
    std::cout << "  " << member.path << " (" << member.size << " bytes)\n";
  }
  std::cout << "backed up " << settings.state_dir.string() << " to " << options.archive << " ("
            << summary->members.size() << " files)"
            << (options.encrypt ? ", encrypted with the key passphrase.\n"
                                : ". It holds the private keys: keep it as safe as the host.\n");
  audit(settings.state_dir, AuditEvent{"state-backed-up",
                                       "",
                                       "",
                                       "",
                                       0,
                                       {{"archive", options.archive},
                                        {"members", std::to_string(summary->members.size())},
                                        {"encrypted", options.encrypt ? "yes" : "no"}}});
  return 0;
}

// Runs `restore FILE`.
int run_restore(const RunSettings& settings, const BackupOptions& options) {
  std::unique_ptr<PrivateRuntimeDirectory> scratch;
  auto archive = readable_archive(settings, options, scratch);
  if (!archive) {
    std::cerr << "ipp3d-server: restore: " << archive.error().message << "\n";
    return 1;
  }
  if (options.check_only) {
    auto summary = verify_backup(*archive);
    if (!summary) {
      std::cerr << "ipp3d-server: restore: " << summary.error().message << "\n";
      return 1;
    }
    std::cout << options.archive << ": intact (" << summary->members.size() << " files)\n";
    return 0;
  }
  std::filesystem::path replaced;
  auto summary = restore_state(*archive, settings.state_dir, options.force, &replaced);
  if (!summary) {
    std::cerr << "ipp3d-server: restore: " << summary.error().message << "\n";
    return 1;
  }
  std::cout << "restored " << summary->members.size() << " files from " << options.archive << " into "
            << settings.state_dir.string() << "\n";
  if (!replaced.empty())
    std::cout << "the previous state directory was kept as " << replaced.string() << "\n";
  for (const auto& member : summary->members) {
    if (member.path == "config.toml") {
      std::cout << "the configuration is in " << (settings.state_dir / "config.toml").string()
                << "; start the server with --config pointing at it (or copy it back)\n";
    }
  }
  audit(settings.state_dir, AuditEvent{"state-restored",
                                       "",
                                       "",
                                       "",
                                       0,
                                       {{"archive", options.archive},
                                        {"members", std::to_string(summary->members.size())},
                                        {"replaced", replaced.string()}}});
  return 0;
}

}  // namespace

void add_backup_commands(CLI::App& app, SettingsCommand& selected) {
  auto options = std::make_shared<BackupOptions>();
  CLI::App* backup = app.add_subcommand(
      "backup",
      "write the state directory (database, keys, TLS identity, configuration) to one archive FILE");
  backup->add_option("FILE", options->archive, "the archive to write (mode 0600)")->required();
  backup->add_flag("--encrypt", options->encrypt,
                   "encrypt the archive with the key passphrase (Argon2id + XChaCha20-Poly1305; from "
                   "--key-passphrase-file, the configuration or $CREDENTIALS_DIRECTORY, else asked)");
  backup->callback([&selected, options] {
    selected = [options](const RunSettings& settings) { return run_backup(settings, *options); };
  });
  CLI::App* restore = app.add_subcommand(
      "restore", "check an archive from `backup` and restore it into the state directory (server stopped)");
  restore->add_option("FILE", options->archive, "the archive to restore")
      ->required()
      ->check(CLI::ExistingFile);
  restore->add_flag("--force", options->force,
                    "replace a non-empty state directory (the old one is kept beside it)");
  restore->add_flag("--check", options->check_only, "only check the archive's integrity; write nothing");
  restore->callback([&selected, options] {
    selected = [options](const RunSettings& settings) { return run_restore(settings, *options); };
  });
}

}  // namespace ipp3d::server
