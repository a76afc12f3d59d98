// `ipp3d-server admin set-password`: creates or changes the admin account.
#pragma once

#include "state/password.hpp"
#include "state/state_store.hpp"

#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <memory>
#include <string>

namespace ipp3d::server {

// Sets the password of admin account `user` in STATE_DIR/ipp3d.db. When
// `interactive` (stdin is a terminal) it prompts twice without echo on the
// terminal; otherwise it reads one line from `in` (for scripts and tests).
// Prints the outcome to `out`/`err`; returns the process exit status
// (0 done, 1 refused or failed, with the reason on `err`).
int admin_set_password(const std::filesystem::path& state_dir, const std::string& user, std::istream& in,
                       bool interactive, std::ostream& out, std::ostream& err);

// Reads a new password for `user` into `secret`: when `interactive`, prompts
// twice on `out` with terminal echo off and requires both to match; else
// reads one line of `in`. False with the reason on `err`.
bool read_new_password(const std::string& user, std::istream& in, bool interactive, std::ostream& out,
                       std::ostream& err, password::SecretString& secret);

// Creates the state directory `dir` (mode 0700) when missing, with any
// missing parents. False with the reason on `err`.
bool ensure_state_dir(const std::filesystem::path& dir, std::ostream& err);

// Opens STATE_DIR/ipp3d.db for a state command (`user ...`, `trust ...`),
// creating the directory when missing; nullptr with the reason on `err`.
std::unique_ptr<StateStore> open_state_store(const std::filesystem::path& state_dir, std::ostream& err);

// "2026-12-04": the UTC date of UNIX time `when` ("?" when it cannot be shown).
std::string utc_date(std::int64_t when);

}  // namespace ipp3d::server
