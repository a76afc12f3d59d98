// Private to the state store: RAII ownership of SQLite statements and a thin
// prepared-statement wrapper that binds parameters (never concatenated SQL).
#pragma once

#include "ipp3d/result.hpp"

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace ipp3d::server::sqlite {

// Stateless deleter: finalizes a prepared statement.
struct StatementFinalizer {
  // Finalizes `statement` (null is a no-op in SQLite).
  void operator()(sqlite3_stmt* statement) const noexcept { sqlite3_finalize(statement); }
};

// Stateless deleter: closes a connection (also used by StateStore).
struct ConnectionCloser {
  // Closes `db` (null is a no-op in SQLite).
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};

// An internal error for a failed statement on an open database:
// "state database: WHAT: SQLITE'S MESSAGE".
inline Error statement_error(sqlite3* db, std::string_view what) {
  return Error{IPP_STATUS_ERROR_INTERNAL,
               "state database: " + std::string(what) + ": " + std::string(sqlite3_errmsg(db)), "", 0};
}

using StatementPtr = std::unique_ptr<sqlite3_stmt, StatementFinalizer>;
using ConnectionPtr = std::unique_ptr<sqlite3, ConnectionCloser>;

// One prepared statement on a connection. Check ok() after construction; the
// bind_* calls are 1-based like SQLite's and remember the first failure.
class Statement {
 public:
  // Prepares `sql` on `db`.
  Statement(sqlite3* db, std::string_view sql) : db_(db) {
    sqlite3_stmt* raw = nullptr;
    rc_ = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &raw, nullptr);
    statement_.reset(raw);
  }

  // True while preparing, binding and stepping have all succeeded.
  [[nodiscard]] bool ok() const { return rc_ == SQLITE_OK || rc_ == SQLITE_ROW || rc_ == SQLITE_DONE; }
  // SQLite's message for the connection's last error.
  [[nodiscard]] std::string error_message() const { return sqlite3_errmsg(db_); }

  // Binds text (copied by SQLite).
  Statement& bind(int index, std::string_view text) {
    if (ok()) {
      rc_ = sqlite3_bind_text64(statement_.get(), index, text.data(), text.size(), SQLITE_TRANSIENT,
                                SQLITE_UTF8);
    }
    return *this;
  }
  // Binds an integer.
  Statement& bind(int index, std::int64_t number) {
    if (ok()) rc_ = sqlite3_bind_int64(statement_.get(), index, number);
    return *this;
  }
  // Binds text, or NULL for nullopt.
  Statement& bind_optional(int index, const std::optional<std::string>& text) {
    if (text) return bind(index, std::string_view(*text));
    if (ok()) rc_ = sqlite3_bind_null(statement_.get(), index);
    return *this;
  }

  // Steps once: true when a row is available; false when done or on error
  // (then ok() is false).
  bool step() {
    if (!ok()) return false;
    rc_ = sqlite3_step(statement_.get());
    return rc_ == SQLITE_ROW;
  }
  // Steps a statement that returns no rows; true on success.
  bool run() {
    while (step()) {
    }
    return ok();
  }

  // True when column `column` of the current row is NULL.
  [[nodiscard]] bool is_null(int column) const {
    return sqlite3_column_type(statement_.get(), column) == SQLITE_NULL;
  }
  // Column `column` of the current row as an integer.
  [[nodiscard]] std::int64_t int64(int column) const {
    return sqlite3_column_int64(statement_.get(), column);
  }
  // Column `column` of the current row as text ("" for NULL).
  [[nodiscard]] std::string text(int column) const {
    const unsigned char* data = sqlite3_column_text(statement_.get(), column);
    if (data == nullptr) return {};
    return {reinterpret_cast<const char*>(data),
            static_cast<std::size_t>(sqlite3_column_bytes(statement_.get(), column))};
  }

 private:
  sqlite3* db_;             // the connection (not owned)
  StatementPtr statement_;  // owned prepared statement
  int rc_ = SQLITE_OK;      // last SQLite result code
};

}  // namespace ipp3d::server::sqlite
