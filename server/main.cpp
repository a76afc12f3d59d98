// ipp3d-server: the IPP 3D printer application.
#include "application.hpp"
#include "options.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <iostream>

namespace {

// Defines the command-line interface; returns the parsed options.
int parse_command_line(int argc, char** argv, ipp3d::server::CommandLine& command_line) {
  CLI::App app{
      "ipp3d-server: a secure IPP printer application for 3D printers.\n"
      "Without --config it runs one virtual printer on 127.0.0.1:8631."};
  app.set_version_flag("--version", "ipp3d-server 0.1.0");
  app.add_option("--config", command_line.config_file, "TOML configuration file (docs/configuration.md)")
      ->check(CLI::ExistingFile);
  app.add_option("--listen", command_line.listen,
                 "HOST:PORT to listen on ([::1]:PORT for IPv6); overrides [server].listen");
  app.add_option("--state-dir", command_line.state_dir,
                 "state directory (keys, spool, database); default $IPP3D_STATE_DIR or ~/.local/state/ipp3d");
  app.add_option("--log-level", command_line.log_level, "debug, info, warn or error (default info)");
  app.add_option("--log-file", command_line.log_file, "log to FILE instead of stderr");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? -1 : 2;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    ipp3d::server::CommandLine command_line;
    if (const int rc = parse_command_line(argc, argv, command_line); rc != 0) return rc < 0 ? 0 : rc;

    auto settings = ipp3d::server::resolve_settings(command_line);
    if (!settings) {
      std::cerr << "ipp3d-server: " << settings.error().message << "\n";
      return 2;
    }
    auto app = ipp3d::server::Application::create(std::move(settings).value());
    if (!app) {
      std::cerr << "ipp3d-server: " << app.error().message << "\n";
      return 1;
    }
    for (const auto& uri : app.value()->printer_uris()) std::cout << "printer: " << uri << "\n";
    std::cout << "certificate SHA-256: " << app.value()->certificate_fingerprint() << std::endl;
    return app.value()->run();
  } catch (const std::exception& e) {
    std::cerr << "ipp3d-server: " << e.what() << "\n";
  } catch (...) {
    std::cerr << "ipp3d-server: unexpected error\n";
  }
  return 1;
}
