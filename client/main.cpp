// ipp3d: the companion client of ipp3d-server.
#include "audit_command.hpp"
#include "check_command.hpp"
#include "discover_command.hpp"
#include "keygen_command.hpp"
#include "pair_command.hpp"
#include "print_command.hpp"
#include "queue_commands.hpp"
#include "sign_command.hpp"
#include "verify_command.hpp"

#include <CLI/CLI.hpp>

#include <exception>
#include <iostream>

namespace {

constexpr int kUsageError = 2;

// Parses the command line and runs the chosen subcommand.
int run(int argc, char** argv) {
  CLI::App app{"ipp3d: sign, submit and monitor 3D print jobs for ipp3d-server."};
  app.set_version_flag("--version", "ipp3d 0.1.0");
  app.require_subcommand(0, 1);
  ipp3d::client::CheckOptions check_options;
  CLI::App* check = ipp3d::client::add_check_command(app, check_options);
  ipp3d::client::KeygenOptions keygen_options;
  CLI::App* keygen = ipp3d::client::add_keygen_command(app, keygen_options);
  ipp3d::client::SignCommandOptions sign_options;
  CLI::App* sign = ipp3d::client::add_sign_command(app, sign_options);
  ipp3d::client::VerifyOptions verify_options;
  CLI::App* verify = ipp3d::client::add_verify_command(app, verify_options);
  ipp3d::client::PrintOptions print_options;
  CLI::App* print = ipp3d::client::add_print_command(app, print_options);
  ipp3d::client::PairOptions pair_options;
  CLI::App* pair = ipp3d::client::add_pair_command(app, pair_options);
  ipp3d::client::DiscoverOptions discover_options;
  CLI::App* discover = ipp3d::client::add_discover_command(app, discover_options);
  ipp3d::client::QueueCommands queue;
  ipp3d::client::add_queue_commands(app, queue);
  ipp3d::client::AuditCheckpointOptions audit_options;
  CLI::App* audit_checkpoint = ipp3d::client::add_audit_command(app, audit_options);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : kUsageError;
  }
  if (check->parsed()) return ipp3d::client::run_check(check_options);
  if (keygen->parsed()) return ipp3d::client::run_keygen(keygen_options);
  if (sign->parsed()) return ipp3d::client::run_sign(sign_options);
  if (verify->parsed()) return ipp3d::client::run_verify(verify_options);
  if (print->parsed()) return ipp3d::client::run_print(print_options);
  if (pair->parsed()) return ipp3d::client::run_pair(pair_options);
  if (discover->parsed()) return ipp3d::client::run_discover(discover_options);
  if (const auto code = ipp3d::client::run_queue_command(queue)) return *code;
  if (audit_checkpoint->parsed()) return ipp3d::client::run_audit_checkpoint(audit_options);
  std::cout << app.help();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "ipp3d: " << e.what() << "\n";
  } catch (...) {
    std::cerr << "ipp3d: unexpected error\n";
  }
  return 2;
}
