// `ipp3d-server user add|passwd|role|del|list`: the accounts and their roles
// (docs/security.md, "Who may do what"). Passwords are never taken from the
// command line: a prompt on a terminal, else one line of standard input.
// Every change is appended to the audit log.
#pragma once

#include "state/state_store.hpp"

#include <filesystem>
#include <iosfwd>
#include <string>

namespace CLI {  // NOLINT(readability-identifier-naming): CLI11's namespace
class App;
}

namespace ipp3d::server {

// Where a password comes from and where messages go.
struct CommandIo {
  std::istream& in;
  bool interactive;  // `in` is a terminal: prompt twice without echo
  std::ostream& out;
  std::ostream& err;
};

// Creates account `name` with `role` and a password read from `io`. Exit
// status 0, or 1 with the reason on `io.err` (invalid name or password, the
// name is taken, database failure).
int user_add(const std::filesystem::path& state_dir, const std::string& name, Role role, const CommandIo& io);

// Changes the password of account `name`. 0, or 1 (no such account, ...).
int user_passwd(const std::filesystem::path& state_dir, const std::string& name, const CommandIo& io);

// Changes the role of account `name`. 0, or 1 (no such account, the last admin).
int user_role(const std::filesystem::path& state_dir, const std::string& name, Role role, std::ostream& out,
              std::ostream& err);

// Deletes account `name`. 0, or 1 (no such account, the last admin).
int user_del(const std::filesystem::path& state_dir, const std::string& name, std::ostream& out,
             std::ostream& err);

// Lists the accounts (name, role, date created), or as a JSON array of
// {"name", "role", "created"} objects when `json`. 0, or 1 on database failure.
int user_list(const std::filesystem::path& state_dir, bool json, std::ostream& out, std::ostream& err);

// The `user` subcommand tree on the command line.
class UserCommands {
 public:
  // Adds `user add|passwd|role|del|list` to `app`.
  explicit UserCommands(CLI::App& app);
  // True when the command line chose one of them.
  [[nodiscard]] bool selected() const;
  // Runs the chosen one on `state_dir`; returns the exit status.
  int run(const std::filesystem::path& state_dir, const CommandIo& io) const;

 private:
  CLI::App* add_ = nullptr;
  CLI::App* passwd_ = nullptr;
  CLI::App* role_ = nullptr;
  CLI::App* del_ = nullptr;
  CLI::App* list_ = nullptr;
  std::string name_;
  std::string role_name_ = "user";
  bool json_ = false;
};

}  // namespace ipp3d::server
