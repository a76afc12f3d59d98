// `ipp3d check`: loads the printer configuration, checks the file with the
// same gate as the server and prints the report (text or JSON).
#include "check_command.hpp"

#include "ipp3d/config/config.hpp"
#include "ipp3d/gcode/checker.hpp"
#include "ipp3d/gcode/policy.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <iomanip>
#include <iostream>
#include <sstream>

namespace ipp3d::client {
namespace {

constexpr int kAccepted = 0;
constexpr int kRefused = 1;
constexpr int kUsage = 2;

// "4h 49m 40s" from seconds.
std::string duration(double seconds) {
  const auto total = static_cast<long long>(std::llround(seconds));
  std::ostringstream out;
  out << total / 3600 << "h " << std::setfill('0') << std::setw(2) << total / 60 % 60 << "m " << std::setw(2)
      << total % 60 << "s";
  return out.str();
}

// A number with 3 decimals.
std::string fixed(double value) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(3) << value;
  return out.str();
}

// The facts as a JSON object.
nlohmann::json facts_json(const gcode::Facts& f) {
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& mark : f.layers) {
    layers.push_back({{"line", mark.line},
                      {"offset", mark.offset},
                      {"z", std::isnan(mark.z) ? nlohmann::json(nullptr) : nlohmann::json(mark.z)}});
  }
  nlohmann::json box = nullptr;
  if (f.extrusion_box.valid) {
    const auto& b = f.extrusion_box;
    box = {{"min", {b.min_x, b.min_y, b.min_z}}, {"max", {b.max_x, b.max_y, b.max_z}}};
  }
  return {{"bytes", f.bytes},
          {"lines", f.lines},
          {"layer_count", f.layer_count},
          {"layers", layers},
          {"layers_truncated", f.layers_truncated},
          {"extrusion_box_mm", box},
          {"filament_mm", f.filament_mm},
          {"max_hotend_temp", f.max_hotend_temp},
          {"max_bed_temp", f.max_bed_temp},
          {"max_chamber_temp", f.max_chamber_temp},
          {"slicer", f.slicer},
          {"slicer_estimate_s",
           f.slicer_estimate_s ? nlohmann::json(*f.slicer_estimate_s) : nlohmann::json(nullptr)},
          {"computed_estimate_s", f.computed_estimate_s},
          {"estimate_s", f.estimate_s()},
          {"supports", f.supports ? nlohmann::json(*f.supports) : nlohmann::json(nullptr)},
          {"base", f.base ? nlohmann::json(*f.base) : nlohmann::json(nullptr)}};
}

// Prints the report as one JSON document.
void print_json(const CheckOptions& options, const std::string& printer, const std::string& material,
                const gcode::Report& report, const std::string& digest) {
  nlohmann::json violations = nlohmann::json::array();
  for (const auto& v : report.violations) {
    violations.push_back({{"line", v.line},
                          {"command", v.command},
                          {"rule", v.rule},
                          {"value", v.value},
                          {"limit", v.limit},
                          {"message", v.message}});
  }
  const nlohmann::json out = {
      {"file", options.file},
      {"printer", printer},
      {"material", material.empty() ? nlohmann::json(nullptr) : nlohmann::json(material)},
      {"accepted", report.accepted},
      {"violation_count", report.violation_count},
      {"violations", violations},
      {"facts", facts_json(report.facts)},
      {"policy_digest", digest}};
  std::cout << out.dump(2, ' ', true) << "\n";
}

// Prints the report for people.
void print_text(const CheckOptions& options, const std::string& printer, const std::string& material,
                const gcode::Report& report, const std::string& digest) {
  std::cout << options.file << ": " << (report.accepted ? "accepted" : "REFUSED") << " for printer "
            << printer << (material.empty() ? " (no material)" : " with material " + material) << "\n";
  if (!report.accepted) {
    std::cout << report.violation_count << " violation(s)";
    if (report.violation_count > report.violations.size()) {
      std::cout << ", first " << report.violations.size() << " shown";
    }
    std::cout << ":\n";
    for (const auto& v : report.violations) {
      std::cout << "  line " << v.line << "  " << (v.command.empty() ? "-" : v.command) << "  " << v.rule
                << "  value: " << v.value << "  limit: " << v.limit << "  (" << v.message << ")\n";
    }
  }
  const gcode::Facts& f = report.facts;
  std::cout << "facts:\n  slicer: " << (f.slicer.empty() ? "unknown" : f.slicer)
            << "\n  layers: " << f.layer_count << "\n  lines: " << f.lines << ", bytes: " << f.bytes << "\n";
  if (f.extrusion_box.valid) {
    const auto& b = f.extrusion_box;
    std::cout << "  extrusion box: X " << fixed(b.min_x) << ".." << fixed(b.max_x) << "  Y " << fixed(b.min_y)
              << ".." << fixed(b.max_y) << "  Z " << fixed(b.min_z) << ".." << fixed(b.max_z) << " mm\n";
  }
  std::cout << "  filament: " << fixed(f.filament_mm) << " mm\n  max temperatures: hotend "
            << f.max_hotend_temp << " °C, bed " << f.max_bed_temp << " °C, chamber " << f.max_chamber_temp
            << " °C\n"
            << "  estimated time: " << duration(f.estimate_s())
            << (f.slicer_estimate_s ? " (slicer)" : " (computed)") << ", computed "
            << duration(f.computed_estimate_s) << "\n";
  if (f.supports) std::cout << "  supports: " << (*f.supports ? "yes" : "no") << "\n";
  if (f.base) std::cout << "  base: " << *f.base << "\n";
  std::cout << "policy: " << digest << "\n";
}

// Finds the printer to check for; nullptr (reported) when there is none.
const config::PrinterConfig* select_printer(const config::Config& config, const std::string& name) {
  if (name.empty()) {
    if (config.printers.size() == 1) return &config.printers.front();
    std::cerr << "ipp3d check: the configuration has " << config.printers.size()
              << " printers; choose one with --printer NAME\n";
    return nullptr;
  }
  for (const auto& printer : config.printers) {
    if (printer.name == name) return &printer;
  }
  std::cerr << "ipp3d check: no printer \"" << name << "\" in the configuration\n";
  return nullptr;
}

}  // namespace

CLI::App* add_check_command(CLI::App& app, CheckOptions& options) {
  CLI::App* check =
      app.add_subcommand("check", "Check a G-code file against a printer's limits (the server's gate).");
  check->add_option("file", options.file, "G-code file")->required();
  check->add_option("--config", options.config, "printer configuration (ipp3d-server TOML)");
  check->add_option("--printer", options.printer,
                    "a printer of --config by name (default: the only one), or a printer URI "
                    "(ipps://HOST:PORT/ipp/print/NAME) or DNS-SD name without --config: check with the "
                    "policy it publishes");
  check->add_option("--fingerprint", options.fingerprint,
                    "with a printer URI: pin this certificate fingerprint");
  check->add_flag("--insecure", options.insecure, "with a printer URI: allow plain ipp://");
  check->add_option("--material", options.material, "material key (default: the loaded material)");
  check->add_option("--platform-temperature", options.platform_temperature,
                    "the job ticket's bed temperature in °C (as ipp3d print --platform-temperature)");
  check->add_flag("--json", options.json, "print the report as JSON");
  return check;
}

void print_check_report(const CheckOptions& options, const std::string& printer, const std::string& material,
                        const gcode::Report& report, const std::string& digest) {
  if (options.json) {
    print_json(options, printer, material, report, digest);
  } else {
    print_text(options, printer, material, report, digest);
  }
}

int run_check(const CheckOptions& options) {
  // A URI, or without --config a DNS-SD instance name: the printer's published policy.
  const bool remote = options.printer.find("://") != std::string::npos ||
                      (options.config.empty() && !options.printer.empty());
  if (remote) return run_remote_check(options);
  if (options.config.empty()) {
    std::cerr << "ipp3d check: give --config FILE (and --printer NAME) or --printer URI\n";
    return kUsage;
  }
  const auto config = config::load_config(options.config);
  if (!config.ok()) {
    std::cerr << config::format_errors(config.error()) << "\n";
    return kUsage;
  }
  const config::PrinterConfig* printer = select_printer(*config, options.printer);
  if (printer == nullptr) return kUsage;
  gcode::Job job;
  const std::string material =
      options.material.empty() ? printer->loaded_material.value_or("") : options.material;
  if (!material.empty()) {
    auto range = gcode::find_material(*printer, material);
    if (!range.ok()) {
      std::cerr << "ipp3d check: " << range.error().message << "\n";
      return kUsage;
    }
    job.material = std::move(range).value();
  }
  job.platform_temperature = options.platform_temperature;
  if (job.platform_temperature) {
    // Clamped as the server's request gate does: into the bed range of the
    // ticket's material, else of materials-col-default.
    const auto defaults = config::capabilities_for(*printer, printer->loaded_material).materials_col_default;
    const std::string clamp_key = !options.material.empty() ? options.material
                                  : defaults.empty()        ? std::string()
                                                            : defaults.front().material_key.value_or("");
    if (auto range = gcode::find_material(*printer, clamp_key)) {
      job.platform_temperature = gcode::actual_platform_temperature(*job.platform_temperature, *range);
    }
  }
  const gcode::Limits limits = gcode::limits_for(*printer);
  const auto report = gcode::check_file(options.file, limits, job);
  if (!report.ok()) {
    std::cerr << "ipp3d check: cannot read " << report.error().message << "\n";
    return kUsage;
  }
  const auto digest = gcode::policy_digest(limits);
  const std::string shown_digest = digest.ok() ? *digest : "unavailable";
  print_check_report(options, printer->name, material, *report, shown_digest);
  return report->accepted ? kAccepted : kRefused;
}

}  // namespace ipp3d::client
