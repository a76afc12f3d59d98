#include "state/backup.hpp"

#include "ipp3d/trust/atomic_file.hpp"
#include "ipp3d/trust/sha256.hpp"

#include "state/sqlite_handle.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <memory>
#include <sys/stat.h>
#include <unistd.h>

namespace ipp3d::server {
namespace {

constexpr std::string_view kMagic = "ipp3d-backup-v1";
constexpr std::size_t kMaxLine = 4096;
constexpr std::size_t kMaxMembers = 10000;
constexpr std::size_t kChunk = std::size_t{64} * 1024;

struct FileClose {
  void operator()(std::FILE* file) const noexcept { (void)std::fclose(file); }
};
using File = std::unique_ptr<std::FILE, FileClose>;

// An Error about a backup or restore.
Error backup_error(const std::string& message) {
  return Error{IPP_STATUS_ERROR_INTERNAL, message, "backup", 0};
}

// Lowercase hex of a digest.
std::string hex(const trust::Digest& digest) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text;
  for (const std::uint8_t byte : digest) {
    text += kHex[byte >> 4];
    text += kHex[byte & 0x0F];
  }
  return text;
}

// True for the members that hold secrets (restored 0600 at most).
bool is_secret_member(const std::string& path) {
  return path == "ipp3d.db" || path == "pappl.state" || path == "config.toml" ||
         (path.starts_with("keys/") && path.ends_with(".key")) ||
         (path.starts_with("tls/") && (path.ends_with(".key") || path.ends_with(".key.sealed")));
}

// True when `path` is a member a restore may write: a known top-level file,
// or one plain file name in keys/ or tls/.
bool is_allowed_member_path(const std::string& path) {
  if (path == "ipp3d.db" || path == "pappl.state" || path == "config.toml") return true;
  for (const std::string_view dir : {"keys/", "tls/"}) {
    if (!path.starts_with(dir)) continue;
    const std::string name = path.substr(dir.size());
    if (name.empty() || name.front() == '.' || name.size() > 255) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
             c == '_' || c == '-' || c == ':' || c == '@' || c == '+';
    });
  }
  return false;
}

// Size and SHA-256 of a file, streaming.
Result<std::pair<std::uint64_t, std::string>> digest_file(const std::filesystem::path& file) {
  File in(std::fopen(file.c_str(), "rb"));
  if (!in) return backup_error("cannot read " + file.string() + ": " + std::strerror(errno));
  trust::Sha256 sha;
  std::array<std::uint8_t, kChunk> buffer{};
  std::uint64_t size = 0;
  std::size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), in.get())) > 0) {
    if (!sha.update({buffer.data(), n})) return backup_error("SHA-256 failed");
    size += n;
  }
  if (std::ferror(in.get()) != 0) return backup_error("cannot read " + file.string());
  const auto digest = sha.finish();
  if (!digest) return backup_error("SHA-256 failed");
  return std::make_pair(size, hex(*digest));
}

// A member to archive and the file it is read from.
struct Source {
  BackupMember member;
  std::filesystem::path file;
};

// A consistent copy of the database `db` (VACUUM INTO `copy`), while other
// connections may be writing.
Status copy_database(const std::filesystem::path& db, const std::filesystem::path& copy) {
  sqlite3* raw = nullptr;
  const int opened = sqlite3_open_v2(db.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
  const std::unique_ptr<sqlite3, sqlite::ConnectionCloser> connection(raw);
  if (opened != SQLITE_OK) return backup_error("cannot open " + db.string() + ": " + sqlite3_errstr(opened));
  sqlite3_busy_timeout(raw, 10000);
  sqlite3_stmt* statement = nullptr;
  if (sqlite3_prepare_v2(raw, "VACUUM INTO ?1", -1, &statement, nullptr) != SQLITE_OK) {
    return backup_error("cannot copy " + db.string() + ": " + sqlite3_errmsg(raw));
  }
  const std::unique_ptr<sqlite3_stmt, sqlite::StatementFinalizer> vacuum(statement);
  sqlite3_bind_text(statement, 1, copy.c_str(), -1, SQLITE_TRANSIENT);
  if (sqlite3_step(statement) != SQLITE_DONE) {
    return backup_error("cannot copy " + db.string() + ": " + sqlite3_errmsg(raw));
  }
  return {};
}

// Adds `file` as member `path` with the file's mode.
Status add_source(std::vector<Source>& sources, const std::string& path, const std::filesystem::path& file) {
  struct stat info {};
  if (::stat(file.c_str(), &info) != 0)
    return backup_error("cannot read " + file.string() + ": " + std::strerror(errno));
  auto digest = digest_file(file);
  if (!digest) return digest.error();
  sources.push_back(
      {BackupMember{path, static_cast<unsigned>(info.st_mode & 0777), digest->first, digest->second}, file});
  return {};
}

// The members of `state_dir`: the database copy, PAPPL's state, keys/, tls/, the configuration.
Result<std::vector<Source>> collect_sources(const std::filesystem::path& state_dir,
                                            const std::optional<std::filesystem::path>& config_file,
                                            const std::filesystem::path& database_copy) {
  std::vector<Source> sources;
  if (Status added = add_source(sources, "ipp3d.db", database_copy); !added) return added.error();
  sources.back().member.mode = 0600;
  std::error_code ec;
  if (std::filesystem::is_regular_file(state_dir / "pappl.state", ec)) {
    if (Status added = add_source(sources, "pappl.state", state_dir / "pappl.state"); !added)
      return added.error();
  }
  for (const std::string dir : {"keys", "tls"}) {
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(state_dir / dir, ec)) {
      if (entry.is_regular_file(ec)) files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
      const std::string path = dir + "/" + file.filename().string();
      if (!is_allowed_member_path(path)) continue;  // temporary files (".new-...", "*.tmp")
      if (Status added = add_source(sources, path, file); !added) return added.error();
    }
  }
  if (config_file) {
    if (Status added = add_source(sources, "config.toml", *config_file); !added) return added.error();
  }
  return sources;
}

// The manifest text of `members` (without its digest line).
std::string manifest_text(const std::vector<BackupMember>& members) {
  char created[32];
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  (void)std::strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tm);
  std::string text = std::string(kMagic) + "\ncreated: " + created + "\n";
  for (const auto& m : members) {
    char mode[8];
    (void)std::snprintf(mode, sizeof mode, "%04o", m.mode);
    text +=
        "member: " + std::string(mode) + " " + std::to_string(m.size) + " " + m.sha256 + " " + m.path + "\n";
  }
  return text;
}

// Copies `size` bytes from `in` to `write`, checking the SHA-256 on the way.
template <class Write>
Status copy_checked(std::FILE* in, const BackupMember& member, const Write& write) {
  trust::Sha256 sha;
  std::array<std::uint8_t, kChunk> buffer{};
  std::uint64_t left = member.size;
  while (left > 0) {
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(left, buffer.size()));
    const std::size_t n = std::fread(buffer.data(), 1, want, in);
    if (n == 0) return backup_error(member.path + ": the archive ends inside this member (truncated)");
    if (!sha.update({buffer.data(), n})) return backup_error("SHA-256 failed");
    if (Status written = write(std::span<const std::uint8_t>(buffer.data(), n)); !written) return written;
    left -= n;
  }
  const auto digest = sha.finish();
  if (!digest || hex(*digest) != member.sha256) {
    return backup_error(member.path +
                        ": SHA-256 does not match the manifest (the archive is damaged or altered)");
  }
  return {};
}

// Reads one line (without LF) of at most kMaxLine bytes.
std::optional<std::string> read_line(std::FILE* in) {
  std::string line;
  for (int c = std::fgetc(in); c != EOF; c = std::fgetc(in)) {
    if (c == '\n') return line;
    if (line.size() == kMaxLine) return std::nullopt;
    line.push_back(static_cast<char>(c));
  }
  return std::nullopt;
}

// Parses "member: MODE SIZE SHA256 PATH".
Result<BackupMember> parse_member(const std::string& line) {
  const std::string bad = "bad manifest line \"" + line.substr(0, 120) + "\"";
  BackupMember m;
  const std::string_view rest = std::string_view(line).substr(8);
  const auto first = rest.find(' ');
  const auto second = first == std::string_view::npos ? first : rest.find(' ', first + 1);
  const auto third = second == std::string_view::npos ? second : rest.find(' ', second + 1);
  if (third == std::string_view::npos) return backup_error(bad);
  const std::string_view mode = rest.substr(0, first);
  const std::string_view size = rest.substr(first + 1, second - first - 1);
  m.sha256 = std::string(rest.substr(second + 1, third - second - 1));
  m.path = std::string(rest.substr(third + 1));
  const auto mode_parsed = std::from_chars(mode.data(), mode.data() + mode.size(), m.mode, 8);
  const auto size_parsed = std::from_chars(size.data(), size.data() + size.size(), m.size);
  const bool hex_ok = m.sha256.size() == 64 && std::all_of(m.sha256.begin(), m.sha256.end(), [](char c) {
                        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                      });
  if (mode_parsed.ec != std::errc{} || mode_parsed.ptr != mode.data() + mode.size() || m.mode > 0777 ||
      size_parsed.ec != std::errc{} || size_parsed.ptr != size.data() + size.size() || !hex_ok) {
    return backup_error(bad);
  }
  if (!is_allowed_member_path(m.path)) return backup_error("member \"" + m.path + "\" is not a state file");
  return m;
}

// Reads and checks the manifest; `in` is then at the first member's bytes.
Result<std::vector<BackupMember>> read_manifest(std::FILE* in, const std::string& source) {
  auto magic = read_line(in);
  if (!magic || *magic != kMagic)
    return backup_error(source + " is not an ipp3d backup (no \"ipp3d-backup-v1\" line)");
  std::string text = std::string(kMagic) + "\n";
  std::vector<BackupMember> members;
  for (;;) {
    auto line = read_line(in);
    if (!line) return backup_error(source + ": the manifest is truncated or has an over-long line");
    if (line->starts_with("manifest-sha256: ")) {
      const auto digest =
          trust::Sha256::of({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
      if (!digest || hex(*digest) != line->substr(17)) {
        return backup_error(source + ": the manifest does not match its SHA-256 (damaged or altered)");
      }
      return members;
    }
    if (line->starts_with("member: ")) {
      auto member = parse_member(*line);
      if (!member) return backup_error(source + ": " + member.error().message);
      if (members.size() == kMaxMembers) return backup_error(source + ": too many members");
      for (const auto& other : members) {
        if (other.path == member->path)
          return backup_error(source + ": member " + member->path + " appears twice");
      }
      members.push_back(std::move(member).value());
    } else if (!line->starts_with("created: ")) {
      return backup_error(source + ": unexpected manifest line \"" + line->substr(0, 120) + "\"");
    }
    text += *line + "\n";
  }
}

// Checks every member and that nothing follows the last one.
Status check_members(std::FILE* in, const std::vector<BackupMember>& members, const std::string& source) {
  for (const auto& member : members) {
    if (Status ok = copy_checked(in, member, [](std::span<const std::uint8_t>) { return Status{}; }); !ok) {
      return backup_error(source + ": " + ok.error().message);
    }
  }
  if (std::fgetc(in) != EOF) return backup_error(source + ": data after the last member");
  return {};
}

// Opens `archive` and reads its manifest.
Result<std::pair<File, std::vector<BackupMember>>> open_archive(const std::filesystem::path& archive) {
  File in(std::fopen(archive.c_str(), "rb"));
  if (!in) return backup_error("cannot open " + archive.string() + ": " + std::strerror(errno));
  auto members = read_manifest(in.get(), archive.string());
  if (!members) return members.error();
  return std::make_pair(std::move(in), std::move(members).value());
}

// Makes a new directory from a mkdtemp pattern ending in XXXXXX.
Result<std::filesystem::path> make_temp_dir(const std::filesystem::path& pattern) {
  std::string text = pattern.string();
  if (::mkdtemp(text.data()) == nullptr) {
    return backup_error("cannot create a directory like " + pattern.string() + ": " + std::strerror(errno));
  }
  return std::filesystem::path(text);
}

// Writes one member below `root` with its (bounded) mode.
Status write_member(std::FILE* in, const BackupMember& member, const std::filesystem::path& root) {
  const std::filesystem::path target = root / member.path;
  std::error_code ec;
  if (target.parent_path() != root) {
    std::filesystem::create_directory(target.parent_path(), ec);
    std::filesystem::permissions(target.parent_path(), std::filesystem::perms::owner_all, ec);
  }
  const unsigned mode = member.mode & (is_secret_member(member.path) ? 0600U : 0644U);
  const int fd = ::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) return backup_error("cannot create " + target.string() + ": " + std::strerror(errno));
  Status copied = copy_checked(in, member, [&](std::span<const std::uint8_t> bytes) -> Status {
    for (std::size_t done = 0; done < bytes.size();) {
      const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return backup_error("cannot write " + target.string() + ": " + std::strerror(errno));
      done += static_cast<std::size_t>(n);
    }
    return {};
  });
  const bool synced = ::fchmod(fd, mode) == 0 && ::fsync(fd) == 0;
  (void)::close(fd);
  if (!copied) return copied;
  if (!synced) return backup_error("cannot write " + target.string() + ": " + std::strerror(errno));
  return {};
}

// True when `dir` exists and holds anything.
bool is_non_empty_directory(const std::filesystem::path& dir) {
  std::error_code ec;
  return std::filesystem::exists(dir, ec) && !std::filesystem::is_empty(dir, ec);
}

}  // namespace

Result<BackupSummary> backup_state(const std::filesystem::path& state_dir,
                                   const std::optional<std::filesystem::path>& config_file,
                                   const std::filesystem::path& archive) {
  const std::filesystem::path db = state_dir / "ipp3d.db";
  std::error_code ec;
  if (!std::filesystem::is_regular_file(db, ec))
    return backup_error("no database " + db.string() + " to back up");
  const std::filesystem::path parent = std::filesystem::absolute(archive, ec).parent_path();
  auto work = make_temp_dir(parent / ".ipp3d-backup-XXXXXX");
  if (!work) return work.error();
  struct RemoveDir {
    std::filesystem::path dir;
    ~RemoveDir() {
      std::error_code ignored;
      std::filesystem::remove_all(dir, ignored);
    }
  } cleanup{*work};
  const std::filesystem::path copy = *work / "ipp3d.db";
  if (Status copied = copy_database(db, copy); !copied) return copied.error();
  auto sources = collect_sources(state_dir, config_file, copy);
  if (!sources) return sources.error();
  BackupSummary summary;
  for (const auto& source : *sources) summary.members.push_back(source.member);
  std::string manifest = manifest_text(summary.members);
  const auto digest =
      trust::Sha256::of({reinterpret_cast<const std::uint8_t*>(manifest.data()), manifest.size()});
  if (!digest) return backup_error("SHA-256 failed");
  manifest += "manifest-sha256: " + hex(*digest) + "\n";
  auto writer = trust::AtomicFileWriter::create(archive, 0600);
  if (!writer) return writer.error();
  if (Status written =
          writer->write({reinterpret_cast<const std::uint8_t*>(manifest.data()), manifest.size()});
      !written) {
    return written.error();
  }
  for (const auto& source : *sources) {
    File in(std::fopen(source.file.c_str(), "rb"));
    if (!in) return backup_error("cannot read " + source.file.string());
    Status copied = copy_checked(in.get(), source.member,
                                 [&](std::span<const std::uint8_t> bytes) { return writer->write(bytes); });
    if (!copied) return backup_error(source.file.string() + " changed during the backup; run it again");
  }
  if (Status committed = writer->commit(); !committed) return committed.error();
  return summary;
}

Result<BackupSummary> verify_backup(const std::filesystem::path& archive) {
  auto opened = open_archive(archive);
  if (!opened) return opened.error();
  if (Status ok = check_members(opened->first.get(), opened->second, archive.string()); !ok)
    return ok.error();
  return BackupSummary{std::move(opened->second)};
}

Result<BackupSummary> restore_state(const std::filesystem::path& archive,
                                    const std::filesystem::path& state_dir, bool force,
                                    std::filesystem::path* replaced) {
  auto verified = verify_backup(archive);  // nothing is written before the whole archive checks out
  if (!verified) return verified.error();
  const bool occupied = is_non_empty_directory(state_dir);
  if (occupied && !force) {
    return backup_error(state_dir.string() +
                        " is not empty; restore into an empty directory, or add --force "
                        "to replace it (the old one is kept beside it)");
  }
  std::error_code ec;
  const std::filesystem::path target = std::filesystem::absolute(state_dir, ec).lexically_normal();
  const std::filesystem::path name =
      target.has_filename() ? target.filename() : target.parent_path().filename();
  const std::filesystem::path base = target.has_filename() ? target : target.parent_path();
  std::filesystem::create_directories(base.parent_path(), ec);
  auto staging = make_temp_dir(base.parent_path() / (name.string() + ".restore-XXXXXX"));
  if (!staging) return staging.error();
  auto opened = open_archive(archive);
  Status written = opened ? Status{} : Status{opened.error()};
  for (std::size_t i = 0; written && i < opened->second.size(); ++i) {
    written = write_member(opened->first.get(), opened->second[i], *staging);
  }
  if (!written) {
    std::filesystem::remove_all(*staging, ec);
    return written.error();
  }
  if (occupied) {
    auto old = make_temp_dir(base.parent_path() / (name.string() + ".replaced-XXXXXX"));
    if (!old) return old.error();
    std::filesystem::rename(base, *old, ec);  // onto the empty directory just made
    if (ec) return backup_error("cannot move " + base.string() + " aside: " + ec.message());
    if (replaced != nullptr) *replaced = *old;
  } else {
    std::filesystem::remove(base, ec);  // an empty directory, or nothing
  }
  std::filesystem::rename(*staging, base, ec);
  if (ec) return backup_error("cannot move the restored state into " + base.string() + ": " + ec.message());
  return verified;
}

}  // namespace ipp3d::server
