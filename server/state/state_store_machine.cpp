// The state database's record of prints handed to the machine: enough to
// follow a physical print again after the server restarted. Every method
// takes StateStore::mutex_.
#include "state/sqlite_handle.hpp"
#include "state/state_store.hpp"

#include <charconv>

namespace ipp3d::server {
namespace {

using sqlite::Statement;

// "12 480 9310": the offsets as decimal numbers separated by spaces.
std::string offsets_text(const std::vector<std::uint64_t>& offsets) {
  std::string text;
  text.reserve(offsets.size() * 8);
  for (const std::uint64_t offset : offsets) {
    if (!text.empty()) text += ' ';
    text += std::to_string(offset);
  }
  return text;
}

// The offsets of offsets_text(); stops at the first malformed number.
std::vector<std::uint64_t> parse_offsets(const std::string& text) {
  std::vector<std::uint64_t> offsets;
  const char* position = text.data();
  const char* const end = text.data() + text.size();
  while (position < end) {
    std::uint64_t value = 0;
    const auto [next, error] = std::from_chars(position, end, value);
    if (error != std::errc{}) break;
    offsets.push_back(value);
    position = next;
    while (position < end && *position == ' ') ++position;
  }
  return offsets;
}

}  // namespace

Status StateStore::save_machine_print(const MachinePrint& print) {
  const std::lock_guard lock(mutex_);
  Statement insert(
      db_.get(),
      "INSERT OR REPLACE INTO machine_prints(printer, job_id, remote_name, copy, copies, layers, "
      "layer_offsets) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  insert.bind(1, print.printer)
      .bind(2, std::int64_t{print.job_id})
      .bind(3, print.remote_name)
      .bind(4, std::int64_t{print.copy})
      .bind(5, std::int64_t{print.copies})
      .bind(6, std::int64_t{print.layers})
      .bind(7, offsets_text(print.layer_offsets));
  if (!insert.run()) {
    return sqlite::statement_error(db_.get(),
                                   "cannot record the print of job " + std::to_string(print.job_id));
  }
  return {};
}

std::optional<MachinePrint> StateStore::machine_print(const std::string& printer, int job_id) {
  const std::lock_guard lock(mutex_);
  Statement query(db_.get(),
                  "SELECT remote_name, copy, copies, layers, layer_offsets FROM machine_prints "
                  "WHERE printer = ?1 AND job_id = ?2");
  query.bind(1, printer).bind(2, std::int64_t{job_id});
  if (!query.step()) return std::nullopt;
  return MachinePrint{printer,
                      job_id,
                      query.text(0),
                      static_cast<int>(query.int64(1)),
                      static_cast<int>(query.int64(2)),
                      static_cast<int>(query.int64(3)),
                      parse_offsets(query.text(4))};
}

Status StateStore::forget_machine_print(const std::string& printer, int job_id) {
  const std::lock_guard lock(mutex_);
  Statement remove(db_.get(), "DELETE FROM machine_prints WHERE printer = ?1 AND job_id = ?2");
  remove.bind(1, printer).bind(2, std::int64_t{job_id});
  if (!remove.run()) {
    return sqlite::statement_error(db_.get(), "cannot forget the print of job " + std::to_string(job_id));
  }
  return {};
}

}  // namespace ipp3d::server
