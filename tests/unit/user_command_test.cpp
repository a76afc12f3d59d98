// Tests of `ipp3d-server user add|passwd|role|del|list` (non-interactive:
// passwords as one line of standard input) and the audit events they append.
#include "state/user_command.hpp"

#include "ipp3d/trust/keys.hpp"

#include "state/state_store.hpp"
#include "state/trust_command.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace ipp3d::server {
namespace {

using ::testing::HasSubstr;

class UserCommandTest : public ::testing::Test {
 protected:
  // A fresh temporary state directory.
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "ipp3d-user-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // `user add NAME --role ROLE` with `password` on standard input.
  int add(const std::string& name, Role role, const std::string& password) {
    std::istringstream in(password + "\n");
    return user_add(dir_, name, role, CommandIo{in, false, out_, err_});
  }
  // `user passwd NAME`.
  int passwd(const std::string& name, const std::string& password) {
    std::istringstream in(password + "\n");
    return user_passwd(dir_, name, CommandIo{in, false, out_, err_});
  }
  // Opens the store the commands wrote.
  std::unique_ptr<StateStore> store() {
    auto opened = StateStore::open(dir_ / "ipp3d.db");
    EXPECT_TRUE(opened.ok());
    return opened.ok() ? std::move(opened).value() : nullptr;
  }
  // The audit event types appended so far, in order.
  std::vector<std::string> audit_types() {
    std::vector<std::string> types;
    for (const auto& record : store()->audit_records(0, 100)) types.push_back(record.event.type);
    return types;
  }

  std::filesystem::path dir_;
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(UserCommandTest, AddsAccountsWithTheirRoles) {
  ASSERT_EQ(add("alice", Role::kAdmin, "alice-password-1"), 0) << err_.str();
  ASSERT_EQ(add("olga", Role::kOperator, "olga-password-1"), 0) << err_.str();
  ASSERT_EQ(add("cupsd", Role::kUser, "cupsd-password-1"), 0) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("Added operator account 'olga'."));
  auto db = store();
  EXPECT_EQ(db->verify_password("olga", "olga-password-1"), Role::kOperator);
  EXPECT_EQ(db->verify_password("cupsd", "cupsd-password-1"), Role::kUser);
  EXPECT_EQ(db->verify_password("cupsd", "wrong-password"), std::nullopt);
  EXPECT_EQ(audit_types(), (std::vector<std::string>{"user-added", "user-added", "user-added"}));
  const auto records = db->audit_records(0, 10);
  EXPECT_EQ(records[1].event.details[0], (std::pair<std::string, std::string>{"account", "olga"}));
  EXPECT_EQ(records[1].event.details[1], (std::pair<std::string, std::string>{"role", "operator"}));
}

TEST_F(UserCommandTest, RefusesTakenNamesBadNamesAndShortPasswords) {
  ASSERT_EQ(add("alice", Role::kAdmin, "alice-password-1"), 0);
  EXPECT_EQ(add("alice", Role::kUser, "another-password"), 1);
  EXPECT_THAT(err_.str(), HasSubstr("an account named 'alice' exists already"));
  EXPECT_EQ(add("bad name", Role::kUser, "long-enough-password"), 1);
  EXPECT_EQ(add("bob", Role::kUser, "short"), 1);
  EXPECT_EQ(store()->account("bob"), std::nullopt);
  EXPECT_EQ(store()->account("alice")->role, Role::kAdmin);  // unchanged
}

TEST_F(UserCommandTest, ChangesPasswordsKeepingTheRole) {
  ASSERT_EQ(add("olga", Role::kOperator, "olga-password-1"), 0);
  ASSERT_EQ(passwd("olga", "olga-password-2"), 0) << err_.str();
  EXPECT_EQ(store()->verify_password("olga", "olga-password-2"), Role::kOperator);
  EXPECT_EQ(store()->verify_password("olga", "olga-password-1"), std::nullopt);
  EXPECT_EQ(passwd("nobody", "some-password-1"), 1);
  EXPECT_THAT(err_.str(), HasSubstr("no account named 'nobody'"));
  EXPECT_EQ(audit_types(), (std::vector<std::string>{"user-added", "user-password-changed"}));
}

TEST_F(UserCommandTest, NeverRemovesOrDemotesTheLastAdmin) {
  ASSERT_EQ(add("admin", Role::kAdmin, "admin-password-1"), 0);
  EXPECT_EQ(user_del(dir_, "admin", out_, err_), 1);
  EXPECT_THAT(err_.str(), HasSubstr("cannot remove 'admin': it is the last admin account"));
  EXPECT_EQ(user_role(dir_, "admin", Role::kOperator, out_, err_), 1);
  EXPECT_THAT(err_.str(), HasSubstr("cannot demote 'admin': it is the last admin account"));
  EXPECT_EQ(store()->account("admin")->role, Role::kAdmin);

  // With a second admin, the first may go.
  ASSERT_EQ(add("alice", Role::kAdmin, "alice-password-1"), 0);
  EXPECT_EQ(user_role(dir_, "admin", Role::kUser, out_, err_), 0) << err_.str();
  EXPECT_EQ(store()->account("admin")->role, Role::kUser);
  EXPECT_EQ(user_del(dir_, "alice", out_, err_), 1);  // now the last admin again
  EXPECT_EQ(user_del(dir_, "admin", out_, err_), 0);
  EXPECT_EQ(store()->account("admin"), std::nullopt);
  EXPECT_EQ(user_del(dir_, "admin", out_, err_), 1);
  EXPECT_THAT(err_.str(), HasSubstr("no account named 'admin'"));
  EXPECT_EQ(audit_types(),
            (std::vector<std::string>{"user-added", "user-added", "user-role-changed", "user-removed"}));
}

TEST_F(UserCommandTest, ListsAccountsAsTextAndJson) {
  ASSERT_EQ(add("olga", Role::kOperator, "olga-password-1"), 0);
  ASSERT_EQ(add("admin", Role::kAdmin, "admin-password-1"), 0);
  std::ostringstream text;
  ASSERT_EQ(user_list(dir_, false, text, err_), 0);
  EXPECT_THAT(text.str(), HasSubstr("admin                    admin     created "));
  EXPECT_THAT(text.str(), HasSubstr("olga                     operator  created "));
  EXPECT_LT(text.str().find("admin"), text.str().find("olga"));
  EXPECT_EQ(text.str().find("$argon2"), std::string::npos) << "a hash was listed";
  std::ostringstream json;
  ASSERT_EQ(user_list(dir_, true, json, err_), 0);
  const auto list = nlohmann::json::parse(json.str());
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0]["name"], "admin");
  EXPECT_EQ(list[1]["role"], "operator");
  EXPECT_GT(list[1]["created"].get<std::int64_t>(), 0);
}

// `trust add --user`: a signer bound to an account (whose jobs its
// signatures are); `trust list` shows the binding.
TEST_F(UserCommandTest, BindsASignerToAnExistingAccount) {
  const auto key = trust::SecretKey::generate(trust::KeyAlgorithm::kEd25519);
  const auto key_file = dir_ / "alice.pub";
  std::ofstream(key_file) << trust::format_public_key(key.public_key());
  EXPECT_EQ(trust_add(dir_, key_file, "alice-laptop", "alice", out_, err_), 1);
  EXPECT_THAT(err_.str(), HasSubstr("no account named 'alice' to bind the signer to"));
  EXPECT_TRUE(store()->trusted_signers().empty());

  ASSERT_EQ(add("alice", Role::kUser, "alice-password-1"), 0);
  ASSERT_EQ(trust_add(dir_, key_file, "alice-laptop", "alice", out_, err_), 0) << err_.str();
  EXPECT_THAT(out_.str(), HasSubstr("jobs recorded as account 'alice'"));
  const auto signers = store()->trusted_signers();
  ASSERT_EQ(signers.size(), 1u);
  EXPECT_EQ(signers[0].user, "alice");
  EXPECT_EQ(store()->trusted_signer(signers[0].key_id)->user, "alice");
  std::ostringstream listed;
  ASSERT_EQ(trust_list(dir_, listed, err_), 0);
  EXPECT_THAT(listed.str(), HasSubstr("alice-laptop"));
  EXPECT_THAT(listed.str(), HasSubstr("user alice"));

  // Without --user the signer is not bound.
  const auto other = trust::SecretKey::generate(trust::KeyAlgorithm::kEd25519);
  std::ofstream(dir_ / "relay.pub") << trust::format_public_key(other.public_key());
  ASSERT_EQ(trust_add(dir_, dir_ / "relay.pub", "relay", "", out_, err_), 0) << err_.str();
  EXPECT_EQ(store()->trusted_signer(trust::key_id_hex(other.id()))->user, "");
  ASSERT_EQ(trust_remove(dir_, "relay", out_, err_), 0);
  EXPECT_EQ(audit_types(), (std::vector<std::string>{"user-added", "trust-signer-added", "trust-signer-added",
                                                     "trust-signer-removed"}));
  const auto records = store()->audit_records(0, 10);
  EXPECT_EQ(records[1].event.details[2], (std::pair<std::string, std::string>{"user", "alice"}));
}

}  // namespace
}  // namespace ipp3d::server
