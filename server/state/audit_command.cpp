#include "state/audit_command.hpp"

#include "printer_keys.hpp"
#include "state/audit_chain.hpp"
#include "state/state_store.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <array>
#include <ctime>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>

namespace ipp3d::server {
namespace {

// Records read at a time by export.
constexpr std::size_t kExportBatch = 1000;
// A checkpoint file is small; anything larger is not one.
constexpr std::streamsize kMaxCheckpointFile = 4096;

// Opens STATE/ipp3d.db when it exists (never creates one); reports why not.
std::unique_ptr<StateStore> open_existing_store(const std::filesystem::path& state_dir, std::ostream& err) {
  const std::filesystem::path path = state_dir / "ipp3d.db";
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    err << "ipp3d-server: no state database at " << path.string() << " (wrong --state-dir?)\n";
    return nullptr;
  }
  auto store = StateStore::open(path);
  if (!store) {
    err << "ipp3d-server: " << store.error().message << "\n";
    return nullptr;
  }
  return std::move(store).value();
}

// Reads a checkpoint file.
Result<AuditCheckpoint> read_checkpoint_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{IPP_STATUS_ERROR_NOT_FOUND, path.string() + ": cannot read", "", 0};
  std::string text(static_cast<std::size_t>(kMaxCheckpointFile) + 1, '\0');
  in.read(text.data(), kMaxCheckpointFile + 1);
  text.resize(static_cast<std::size_t>(in.gcount()));
  auto checkpoint = trust::parse_audit_checkpoint_json(text);
  if (!checkpoint)
    return Error{checkpoint.error().status, path.string() + ": " + checkpoint.error().message, "", 0};
  return checkpoint;
}

// "2026-12-05T01:02:03Z".
std::string utc_text(std::int64_t when) {
  const auto seconds = static_cast<std::time_t>(when);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  std::array<char, 32> text{};
  if (std::strftime(text.data(), text.size(), "%Y-%m-%dT%H:%M:%SZ", &utc) == 0) return std::to_string(when);
  return text.data();
}

// One exported record.
std::string record_json(const AuditRecord& record) {
  nlohmann::ordered_json json;
  json["seq"] = record.seq;
  json["time"] = record.time;
  json["time_utc"] = utc_text(record.time);
  json["type"] = record.event.type;
  json["actor"] = record.event.actor;
  json["source"] = record.event.source;
  json["printer"] = record.event.printer;
  json["job_id"] = record.event.job_id;
  json["details"] = nlohmann::ordered_json::array();
  for (const auto& [name, value] : record.event.details) json["details"].push_back({name, value});
  json["prev_hash"] = record.prev_hash;
  json["hash"] = record.hash;
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Reports the checkpoint file `path` against the chain; true when it holds.
bool report_against(StateStore& store, const std::filesystem::path& path, const AuditCheckpoint& checkpoint,
                    const std::optional<trust::PublicKey>& key, std::ostream& out) {
  const std::string name = "checkpoint " + path.string() + " (record " + std::to_string(checkpoint.seq) +
                           ", " + utc_text(checkpoint.time) + ")";
  if (Status held = check_audit_checkpoint_against(store, checkpoint, key); !held) {
    out << "FAILED: " << name << ": " << held.error().message << "\n";
    return false;
  }
  out << "ok: " << name << " is signed by audit key " << checkpoint.key_id
      << " and the chain still holds it\n";
  return true;
}

}  // namespace

int audit_verify(const std::filesystem::path& state_dir, const std::optional<std::filesystem::path>& against,
                 std::ostream& out, std::ostream& err) {
  auto store = open_existing_store(state_dir, err);
  if (!store) return kAuditCannotCheck;
  auto key = read_audit_public_key(state_dir);
  if (!key) {
    err << "ipp3d-server: " << key.error().message << "\n";
    return kAuditCannotCheck;
  }
  std::optional<AuditCheckpoint> fetched;
  if (against) {
    auto read = read_checkpoint_file(*against);
    if (!read) {
      err << "ipp3d-server: " << read.error().message << "\n";
      return kAuditCannotCheck;
    }
    fetched = std::move(read).value();
  }
  const AuditVerification verification = verify_audit_log(*store, *key);
  out << "audit log: " << verification.records << " records, " << verification.checkpoints
      << " signed checkpoints";
  if (*key) out << " (audit key " << trust::key_id_hex((*key)->id) << ")";
  out << "\n";
  bool intact = verification.ok();
  if (verification.first_bad) out << "FAILED: " << *verification.first_bad << "\n";
  for (const auto& problem : verification.checkpoint_errors) out << "FAILED: " << problem << "\n";
  if (fetched) intact = report_against(*store, *against, *fetched, *key, out) && intact;
  if (!intact) return kAuditTampered;
  out << "ok: every record matches its hash and follows the one before it";
  if (verification.records > 0) out << " up to record " << verification.head.seq;
  out << "; every stored checkpoint is validly signed and matches the chain\n";
  return kAuditIntact;
}

int audit_export(const std::filesystem::path& state_dir, std::optional<std::int64_t> since, std::ostream& out,
                 std::ostream& err) {
  auto store = open_existing_store(state_dir, err);
  if (!store) return kAuditCannotCheck;
  std::int64_t after = 0;
  for (;;) {
    const auto batch = store->audit_records(after, kExportBatch);
    for (const auto& record : batch) {
      if (!since || record.time >= *since) out << record_json(record) << "\n";
    }
    if (batch.size() < kExportBatch) break;
    after = batch.back().seq;
  }
  out.flush();
  return 0;
}

std::optional<std::int64_t> parse_audit_time(const std::string& text) {
  static const std::regex unix_time(R"(\d{1,12})");
  static const std::regex iso(
      R"((\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?(Z|[+-]\d{2}:\d{2})?)");
  if (std::regex_match(text, unix_time)) return std::stoll(text);
  std::smatch match;
  if (!std::regex_match(text, match, iso)) return std::nullopt;
  const auto number = [&match](std::size_t group) {
    return match[group].matched ? std::stoi(match[group].str()) : 0;
  };
  std::tm utc{};
  utc.tm_year = number(1) - 1900;
  utc.tm_mon = number(2) - 1;
  utc.tm_mday = number(3);
  utc.tm_hour = number(4);
  utc.tm_min = number(5);
  utc.tm_sec = number(6);
  if (utc.tm_mon < 0 || utc.tm_mon > 11 || utc.tm_mday < 1 || utc.tm_mday > 31 || utc.tm_hour > 23 ||
      utc.tm_min > 59 || utc.tm_sec > 60) {
    return std::nullopt;
  }
  std::int64_t seconds = timegm(&utc);
  const std::string zone = match[7].str();
  if (zone.size() == 6) {
    const int offset = std::stoi(zone.substr(1, 2)) * 3600 + std::stoi(zone.substr(4, 2)) * 60;
    seconds += zone[0] == '+' ? -offset : offset;
  }
  return seconds;
}

void add_audit_commands(CLI::App& app, StateDirCommand& command) {
  CLI::App* audit = app.add_subcommand("audit", "check and export the tamper-evident audit log");
  audit->require_subcommand(1);
  CLI::App* verify = audit->add_subcommand(
      "verify",
      "check the hash chain and its signed checkpoints; name the first bad record (exit 0 intact, 1 "
      "tampering found, 2 cannot check)");
  auto against = std::make_shared<std::string>();
  verify->add_option("--against", *against,
                     "also check a checkpoint fetched earlier with `ipp3d audit checkpoint` (a rewritten or "
                     "truncated history fails)");
  verify->callback([&command, against] {
    command = [against](const std::filesystem::path& state_dir) {
      const std::optional<std::filesystem::path> file =
          against->empty() ? std::nullopt : std::optional<std::filesystem::path>(*against);
      return audit_verify(state_dir, file, std::cout, std::cerr);
    };
  });
  CLI::App* exporter =
      audit->add_subcommand("export", "write the audit records as JSON lines (oldest first)");
  auto since = std::make_shared<std::string>();
  exporter->add_option("--since", *since,
                       "only records at or after T (UNIX seconds, or ISO 8601 such as 2026-12-05T10:00Z)");
  exporter->callback([&command, since] {
    std::optional<std::int64_t> from;
    if (!since->empty()) {
      from = parse_audit_time(*since);
      if (!from)
        throw CLI::ValidationError("--since", "'" + *since + "' is neither UNIX seconds nor ISO 8601");
    }
    command = [from](const std::filesystem::path& state_dir) {
      return audit_export(state_dir, from, std::cout, std::cerr);
    };
  });
}

}  // namespace ipp3d::server
