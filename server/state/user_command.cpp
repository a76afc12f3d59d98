// `ipp3d-server user ...`: account management on the state database, each
// change recorded in the audit log (docs/audit.md, "Users and roles").
#include "state/user_command.hpp"

#include "audit.hpp"
#include "state/admin_command.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <ctime>
#include <iomanip>
#include <istream>
#include <ostream>

namespace ipp3d::server {
namespace {

// Appends a user-management event with the account first among the details
// (docs/audit.md, "Users and roles"); a failed append is reported, never fatal.
void audit_user_change(StateStore& store, const std::string& type, const std::string& name,
                       std::vector<std::pair<std::string, std::string>> details) {
  details.insert(details.begin(), {"account", name});
  audit(store, AuditEvent{type, local_actor(), "", "", 0, std::move(details)});
}

// Reports a failed Status; returns the exit status.
int outcome(const Status& status, std::ostream& err) {
  if (status) return 0;
  err << "ipp3d-server: " << status.error().message << "\n";
  return 1;
}

}  // namespace

int user_add(const std::filesystem::path& state_dir, const std::string& name, Role role,
             const CommandIo& io) {
  if (Status valid = password::validate_user_name(name); !valid) return outcome(valid, io.err);
  auto store = open_state_store(state_dir, io.err);
  if (!store) return 1;
  if (store->account(name)) {
    io.err << "ipp3d-server: an account named '" << name << "' exists already\n";
    return 1;
  }
  password::SecretString secret;
  if (!read_new_password(name, io.in, io.interactive, io.out, io.err, secret)) return 1;
  if (outcome(store->add_account(name, secret.str(), role), io.err) != 0) return 1;
  audit_user_change(*store, "user-added", name, {{"role", role_name(role)}});
  io.out << "Added " << role_name(role) << " account '" << name << "'.\n";
  return 0;
}

int user_passwd(const std::filesystem::path& state_dir, const std::string& name, const CommandIo& io) {
  auto store = open_state_store(state_dir, io.err);
  if (!store) return 1;
  if (!store->account(name)) {
    io.err << "ipp3d-server: no account named '" << name << "' (add it with `ipp3d-server user add`)\n";
    return 1;
  }
  password::SecretString secret;
  if (!read_new_password(name, io.in, io.interactive, io.out, io.err, secret)) return 1;
  if (outcome(store->change_password(name, secret.str()), io.err) != 0) return 1;
  audit_user_change(*store, "user-password-changed", name, {});
  io.out << "Password changed for account '" << name << "'.\n";
  return 0;
}

int user_role(const std::filesystem::path& state_dir, const std::string& name, Role role, std::ostream& out,
              std::ostream& err) {
  auto store = open_state_store(state_dir, err);
  if (!store) return 1;
  const auto before = store->account(name);
  if (outcome(store->set_role(name, role), err) != 0) return 1;
  if (before && before->role != role) {
    audit_user_change(*store, "user-role-changed", name,
                      {{"from", role_name(before->role)}, {"to", role_name(role)}});
  }
  out << "Account '" << name << "' is now " << role_name(role) << ".\n";
  return 0;
}

int user_del(const std::filesystem::path& state_dir, const std::string& name, std::ostream& out,
             std::ostream& err) {
  auto store = open_state_store(state_dir, err);
  if (!store) return 1;
  const auto before = store->account(name);
  if (outcome(store->remove_account(name), err) != 0) return 1;
  audit_user_change(*store, "user-removed", name, {{"role", before ? role_name(before->role) : "?"}});
  out << "Removed account '" << name << "'.\n";
  return 0;
}

int user_list(const std::filesystem::path& state_dir, bool json, std::ostream& out, std::ostream& err) {
  auto store = open_state_store(state_dir, err);
  if (!store) return 1;
  const auto accounts = store->accounts();
  if (json) {
    auto list = nlohmann::json::array();
    for (const auto& account : accounts) {
      list.push_back(
          {{"name", account.name}, {"role", role_name(account.role)}, {"created", account.created}});
    }
    out << list.dump() << "\n";
    return 0;
  }
  if (accounts.empty()) {
    out << "no accounts (add the first admin with `ipp3d-server user add NAME --role admin`)\n";
    return 0;
  }
  for (const auto& account : accounts) {
    out << std::left << std::setw(24) << account.name << " " << std::setw(9) << role_name(account.role)
        << " created " << utc_date(account.created) << "\n";
  }
  return 0;
}

UserCommands::UserCommands(CLI::App& app) {
  CLI::App* user = app.add_subcommand("user", "manage accounts and their roles (admin, operator, user)");
  user->require_subcommand(1);
  user->fallthrough();  // --state-dir and --config belong to the main command (inherited below)
  const auto role_option = [this](CLI::App* command) {
    command->add_option("--role", role_name_, "admin, operator or user (default user)")
        ->check(CLI::IsMember({"admin", "operator", "user"}));
  };
  add_ = user->add_subcommand("add", "create an account (the password is prompted, or read from stdin)");
  add_->add_option("NAME", name_, "account name")->required();
  role_option(add_);
  passwd_ = user->add_subcommand("passwd", "change an account's password (prompted, or read from stdin)");
  passwd_->add_option("NAME", name_, "account name")->required();
  role_ = user->add_subcommand("role", "change an account's role");
  role_->add_option("NAME", name_, "account name")->required();
  role_->add_option("ROLE", role_name_, "admin, operator or user")
      ->required()
      ->check(CLI::IsMember({"admin", "operator", "user"}));
  del_ = user->add_subcommand("del", "delete an account (never the last admin)");
  del_->add_option("NAME", name_, "account name")->required();
  list_ = user->add_subcommand("list", "list the accounts and their roles");
  list_->add_flag("--json", json_, "one JSON array");
}

bool UserCommands::selected() const {
  return add_->parsed() || passwd_->parsed() || role_->parsed() || del_->parsed() || list_->parsed();
}

int UserCommands::run(const std::filesystem::path& state_dir, const CommandIo& io) const {
  const Role role = parse_role(role_name_).value_or(Role::kUser);
  if (add_->parsed()) return user_add(state_dir, name_, role, io);
  if (passwd_->parsed()) return user_passwd(state_dir, name_, io);
  if (role_->parsed()) return user_role(state_dir, name_, role, io.out, io.err);
  if (del_->parsed()) return user_del(state_dir, name_, io.out, io.err);
  return user_list(state_dir, json_, io.out, io.err);
}

}  // namespace ipp3d::server
