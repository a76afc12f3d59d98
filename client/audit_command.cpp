#include "audit_command.hpp"

#include "ipp3d/trust/atomic_file.hpp"
#include "ipp3d/trust/audit_checkpoint.hpp"

#include <ctime>
#include <fstream>
#include <iostream>
#include <iterator>

namespace ipp3d::client {
namespace {

// "2026-12-05T01:02:03Z".
std::string utc_text(std::int64_t when) {
  const auto seconds = static_cast<std::time_t>(when);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  if (std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc) == 0) return std::to_string(when);
  return text;
}

// A refusal of the fetched checkpoint.
Error refused(std::string message) { return Error{IPP_STATUS_ERROR_NOT_POSSIBLE, std::move(message), "", 0}; }

// Compares `fetched` with the checkpoint already in `path` (if any): same
// key, and not an earlier record.
Status compare_with_earlier(const std::filesystem::path& path, const trust::AuditCheckpoint& fetched) {
  std::ifstream in(path);
  if (!in) return {};
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto earlier = trust::parse_audit_checkpoint_json(text);
  if (!earlier) return refused(path.string() + ": " + earlier.error().message + "; not overwritten");
  if (earlier->key_id != fetched.key_id) {
    return refused("the printer signed with audit key " + fetched.key_id + ", " + path.string() +
                   " holds a checkpoint of key " + earlier->key_id +
                   " (the host's audit key was replaced); the earlier checkpoint is kept");
  }
  if (fetched.seq < earlier->seq) {
    return refused("the printer's audit log ends at record " + std::to_string(fetched.seq) + " but " +
                   path.string() + " holds a checkpoint of record " + std::to_string(earlier->seq) +
                   " (history truncated); the earlier checkpoint is kept — run `ipp3d-server audit verify "
                   "--against` with it");
  }
  return {};
}

// Writes `json` to `path` atomically.
Status write_checkpoint(const std::filesystem::path& path, const std::string& json) {
  auto writer = trust::AtomicFileWriter::create(path, 0644);
  if (!writer) return std::move(writer).error();
  if (Status written = writer->write({reinterpret_cast<const std::uint8_t*>(json.data()), json.size()});
      !written) {
    return written;
  }
  return writer->commit();
}

}  // namespace

CLI::App* add_audit_command(CLI::App& app, AuditCheckpointOptions& options) {
  CLI::App* audit = app.add_subcommand("audit", "Work with a printer host's tamper-evident audit log.");
  audit->require_subcommand(1);
  CLI::App* checkpoint = audit->add_subcommand(
      "checkpoint",
      "Fetch a fresh signed checkpoint of the printer host's audit log (admin credentials) and keep it "
      "here; `ipp3d-server audit verify --against FILE` then detects a rewritten or truncated history.");
  add_remote_options(*checkpoint, options.remote, false);
  checkpoint->add_option("-o,--output", options.output,
                         "write the checkpoint to FILE (JSON); an earlier checkpoint there must be of the "
                         "same key and not of a later record");
  return checkpoint;
}

int run_audit_checkpoint(const AuditCheckpointOptions& options) {
  const std::string command = "audit checkpoint";
  auto printer = open_printer(options.remote);
  if (!printer) return report(command, printer.error());
  auto body = printer->fetch(kAuditCheckpointResource, 4096);
  if (!body) return report(command, body.error());
  auto checkpoint = trust::parse_audit_checkpoint_json(*body);
  if (!checkpoint) return report(command, refused("the printer's answer is " + checkpoint.error().message));
  if (Status signature = trust::check_audit_checkpoint_signature(*checkpoint); !signature) {
    return report(command, refused(signature.error().message));
  }
  const std::string json = trust::audit_checkpoint_json(*checkpoint);
  if (!options.output.empty()) {
    if (Status same = compare_with_earlier(options.output, *checkpoint); !same)
      return report(command, same.error());
    if (Status written = write_checkpoint(options.output, json); !written) {
      std::cerr << "ipp3d " << command << ": " << written.error().message << "\n";
      return kExitUsage;
    }
  } else {
    std::cout << json;
  }
  std::cerr << "checkpoint: record " << checkpoint->seq << " (hash " << checkpoint->hash << ") at "
            << utc_text(checkpoint->time) << ", signed by audit key " << checkpoint->key_id << "\n";
  if (!options.output.empty()) std::cerr << "saved to " << options.output << "\n";
  return kExitOk;
}

}  // namespace ipp3d::client
