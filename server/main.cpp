// ipp3d-server: the IPP 3D printer application.
#include "application.hpp"
#include "keys/key_command.hpp"
#include "options.hpp"
#include "state/admin_command.hpp"
#include "state/audit_command.hpp"
#include "state/backup_command.hpp"
#include "state/trust_command.hpp"
#include "state/user_command.hpp"

#include <CLI/CLI.hpp>

#include <exception>
#include <iostream>
#include <unistd.h>

namespace {

// What the command line asked for beyond the server options.
struct Subcommands {
  CLI::App* admin_set_password = nullptr;
  std::string admin_user = "admin";
  CLI::App* trust_add = nullptr;
  CLI::App* trust_list = nullptr;
  CLI::App* trust_remove = nullptr;
  std::string key_file;
  std::string signer_name;
  std::string signer_user;
  CLI::App* printer_key = nullptr;
  std::string printer_name = "virtual-fdm";
  ipp3d::server::StateDirCommand state_dir_command;  // set by `audit ...`
  ipp3d::server::SettingsCommand settings_command;   // set by `keys ...`, `backup`, `restore`
};

// Defines `trust add|list|remove` and `printer-key`.
void add_trust_commands(CLI::App& app, Subcommands& subcommands) {
  CLI::App* trust = app.add_subcommand("trust", "manage the signers whose signed jobs the printers accept");
  trust->require_subcommand(1);
  subcommands.trust_add =
      trust->add_subcommand("add", "trust a signer's public key (KEY.pub from `ipp3d keygen`)");
  subcommands.trust_add->add_option("FILE", subcommands.key_file, "the signer's Ed25519 public key file")
      ->required()
      ->check(CLI::ExistingFile);
  subcommands.trust_add->add_option("--name", subcommands.signer_name, "a name for the signer")->required();
  subcommands.trust_add->add_option("--user", subcommands.signer_user,
                                    "the account whose jobs this signer's signatures are");
  subcommands.trust_list = trust->add_subcommand("list", "list trusted signers");
  subcommands.trust_remove = trust->add_subcommand("remove", "stop trusting a signer");
  subcommands.trust_remove->add_option("NAME", subcommands.signer_name, "the signer's name")->required();
  subcommands.printer_key = app.add_subcommand(
      "printer-key", "print a printer's public encryption key file (for `ipp3d sign --for FILE --encrypt`)");
  subcommands.printer_key->add_option("--printer", subcommands.printer_name,
                                      "printer name (default virtual-fdm)");
}

// Defines the command-line interface. Returns -1 to run, else an exit status.
int parse_command_line(CLI::App& app, int argc, char** argv, ipp3d::server::CommandLine& command_line,
                       Subcommands& subcommands) {
  app.set_version_flag("--version", "ipp3d-server 0.1.0");
  app.fallthrough();
  app.add_option("--config", command_line.config_file, "TOML configuration file (docs/configuration.md)")
      ->check(CLI::ExistingFile);
  app.add_option("--listen", command_line.listen,
                 "HOST:PORT to listen on ([::1]:PORT for IPv6); overrides [server].listen");
  app.add_option("--state-dir", command_line.state_dir,
                 "state directory (keys, spool, database); default $IPP3D_STATE_DIR or ~/.local/state/ipp3d");
  app.add_option("--log-level", command_line.log_level, "debug, info, warn or error (default info)");
  app.add_option("--log-file", command_line.log_file, "log to FILE instead of stderr");
  app.add_option("--key-passphrase-file", command_line.key_passphrase_file,
                 "file holding the passphrase of the server's private keys; overrides [server] "
                 "key_passphrase_file (default $CREDENTIALS_DIRECTORY/ipp3d-key-passphrase when present)");
  app.add_option("--pairing-lifetime", command_line.pairing_lifetime,
                 "seconds a pairing request waits for the operator (1-600, default 600)");
  CLI::App* admin = app.add_subcommand("admin", "manage the admin account");
  admin->require_subcommand(1);
  subcommands.admin_set_password = admin->add_subcommand(
      "set-password",
      "create the admin account or change its password (prompts on a terminal, else reads one line "
      "from standard input)");
  subcommands.admin_set_password->add_option("--user", subcommands.admin_user,
                                             "account name (default admin)");
  add_trust_commands(app, subcommands);
  ipp3d::server::add_audit_commands(app, subcommands.state_dir_command);
  ipp3d::server::add_key_commands(app, subcommands.settings_command);
  ipp3d::server::add_backup_commands(app, subcommands.settings_command);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return -1;
}

// Runs the server in the foreground.
int run_server(const ipp3d::server::CommandLine& command_line) {
  auto settings = ipp3d::server::resolve_settings(command_line);
  if (!settings) {
    std::cerr << "ipp3d-server: " << settings.error().message << "\n";
    return 2;
  }
  auto app = ipp3d::server::Application::create(settings.value());
  if (!app && app.error().attribute == "admin" && ::isatty(STDIN_FILENO) == 1) {
    // First start at a terminal: create the admin account now.
    std::cout << "ipp3d-server: no admin account yet; choose the admin password (at least 8 characters).\n";
    if (ipp3d::server::admin_set_password(settings->state_dir, "admin", std::cin, true, std::cout,
                                          std::cerr) != 0) {
      return 1;
    }
    app = ipp3d::server::Application::create(settings.value());
  }
  if (!app) {
    std::cerr << "ipp3d-server: " << app.error().message << "\n";
    return 1;
  }
  const auto uris = app.value()->printer_uris();
  const auto keys = app.value()->printer_key_descriptions();
  for (std::size_t i = 0; i < uris.size(); ++i) {
    std::cout << "printer: " << uris[i] << "\n  encryption key: " << keys[i] << "\n";
  }
  if (app.value()->trusted_signer_count() == 0) {
    std::cout
        << "no trusted signers yet: signed jobs are refused until one is added, e.g.\n"
           "  build/bin/ipp3d keygen && build/bin/ipp3d-server trust add ~/.config/ipp3d/key.pub --name me"
        << (command_line.state_dir ? " --state-dir " + command_line.state_dir->string() : std::string())
        << "\n";
  }
  std::cout << "certificate SHA-256: " << app.value()->certificate_fingerprint() << std::endl;
  return app.value()->run();
}

// Runs `admin set-password`.
int run_admin_set_password(const ipp3d::server::CommandLine& command_line, const std::string& user) {
  auto settings = ipp3d::server::resolve_settings(command_line);
  if (!settings) {
    std::cerr << "ipp3d-server: " << settings.error().message << "\n";
    return 2;
  }
  return ipp3d::server::admin_set_password(settings->state_dir, user, std::cin, ::isatty(STDIN_FILENO) == 1,
                                           std::cout, std::cerr);
}

// Runs `user ...` (passwords from the terminal or one line of stdin).
int run_user_command(const ipp3d::server::CommandLine& command_line,
                     const ipp3d::server::UserCommands& user_commands) {
  auto settings = ipp3d::server::resolve_settings(command_line);
  if (!settings) {
    std::cerr << "ipp3d-server: " << settings.error().message << "\n";
    return 2;
  }
  return user_commands.run(settings->state_dir,
                           {std::cin, ::isatty(STDIN_FILENO) == 1, std::cout, std::cerr});
}

// Runs a state-directory command (`trust ...`, `printer-key`).
int run_state_command(const ipp3d::server::CommandLine& command_line, const Subcommands& subcommands) {
  auto settings = ipp3d::server::resolve_settings(command_line);
  if (!settings) {
    std::cerr << "ipp3d-server: " << settings.error().message << "\n";
    return 2;
  }
  const auto& dir = settings->state_dir;
  if (subcommands.state_dir_command) return subcommands.state_dir_command(dir);
  if (subcommands.trust_add->parsed()) {
    return ipp3d::server::trust_add(dir, subcommands.key_file, subcommands.signer_name,
                                    subcommands.signer_user, std::cout, std::cerr);
  }
  if (subcommands.trust_list->parsed()) return ipp3d::server::trust_list(dir, std::cout, std::cerr);
  if (subcommands.trust_remove->parsed()) {
    return ipp3d::server::trust_remove(dir, subcommands.signer_name, std::cout, std::cerr);
  }
  auto passphrase = ipp3d::server::load_key_passphrase(settings->key_passphrase_file);
  if (!passphrase) {
    std::cerr << "ipp3d-server: " << passphrase.error().message << "\n";
    return 1;
  }
  return ipp3d::server::show_printer_key(dir, subcommands.printer_name, *passphrase, std::cout, std::cerr);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    CLI::App app{
        "ipp3d-server: a secure IPP printer application for 3D printers.\n"
        "Without --config it runs one virtual printer on 127.0.0.1:8631."};
    ipp3d::server::CommandLine command_line;
    Subcommands subcommands;
    const ipp3d::server::UserCommands user_commands(app);
    if (const int rc = parse_command_line(app, argc, argv, command_line, subcommands); rc >= 0) return rc;
    if (subcommands.admin_set_password->parsed()) {
      return run_admin_set_password(command_line, subcommands.admin_user);
    }
    if (user_commands.selected()) return run_user_command(command_line, user_commands);
    if (subcommands.settings_command) {
      auto settings = ipp3d::server::resolve_settings(command_line);
      if (!settings) {
        std::cerr << "ipp3d-server: " << settings.error().message << "\n";
        return 2;
      }
      return subcommands.settings_command(*settings);
    }
    if (subcommands.trust_add->parsed() || subcommands.trust_list->parsed() ||
        subcommands.trust_remove->parsed() || subcommands.printer_key->parsed() ||
        subcommands.state_dir_command) {
      return run_state_command(command_line, subcommands);
    }
    return run_server(command_line);
  } catch (const std::exception& e) {
    std::cerr << "ipp3d-server: " << e.what() << "\n";
  } catch (...) {
    std::cerr << "ipp3d-server: unexpected error\n";
  }
  return 1;
}
