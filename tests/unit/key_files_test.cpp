// Key files (docs/envelope.md §2): round trips, every parse error naming its
// line, secret key permissions (0600 on write, refusal of group/other
// readable files), passphrase protection, atomic writes.
#include "ipp3d/trust/keys.hpp"

#include "trust_test_util.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <sys/stat.h>

namespace ipp3d::trust::testing {
namespace {

using ::testing::HasSubstr;

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

mode_t mode_of(const std::filesystem::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0);
  return st.st_mode & 07777;
}

// Replaces the first occurrence of `from` in `text`.
std::string replace(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

// The 1-based number of the line starting with `prefix`.
long line_of(const std::string& text, const std::string& prefix) {
  std::istringstream in(text);
  std::string line;
  for (long n = 1; std::getline(in, line); ++n) {
    if (line.rfind(prefix, 0) == 0) return n;
  }
  ADD_FAILURE() << prefix;
  return 0;
}

// Expects a parse error on `line` whose message contains `words`.
void expect_public_error(const std::string& text, long line, const std::string& words) {
  const auto parsed = parse_public_key(text, "KEY.pub");
  ASSERT_FALSE(parsed.ok()) << text;
  EXPECT_EQ(parsed.error().line, line) << parsed.error().message;
  EXPECT_THAT(parsed.error().message, HasSubstr("KEY.pub line " + std::to_string(line) + ": "));
  EXPECT_THAT(parsed.error().message, HasSubstr(words));
}

const PublicKey& signer_public() {
  static const PublicKey kKey = [] {
    PublicKey key = fixed_key(KeyAlgorithm::kEd25519, 1).public_key();
    key.comment = "Ada's laptop — ipp3d";
    return key;
  }();
  return kKey;
}

TEST(PublicKeyFile, FormatIsTheDocumentedText) {
  // RFC 8032 TEST 1's public key; its ID as in trust_crypto_test.
  PublicKey key =
      make_public_key(KeyAlgorithm::kEd25519,
                      array_from_hex<32>("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"),
                      "Ada's laptop — ipp3d");
  const std::string text = format_public_key(key);
  EXPECT_EQ(text,
            "ipp3d-public-key-v1\nalgorithm: ed25519\nkey-id: 846887301249f02ef7f8067cc8b17bd2\n"
            "public-key: 11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\ncomment: Ada's laptop — ipp3d\n");
  const auto parsed = parse_public_key(text, "KEY.pub");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(*parsed, key);
  key.comment.clear();
  EXPECT_EQ(format_public_key(key).find("comment"), std::string::npos);
  EXPECT_EQ(*parse_public_key(format_public_key(key), "x"), key);
  const PublicKey x = fixed_key(KeyAlgorithm::kX25519, 2).public_key();
  EXPECT_THAT(format_public_key(x), HasSubstr("algorithm: x25519\n"));
  EXPECT_EQ(*parse_public_key(format_public_key(x), "x"), x);
}

TEST(PublicKeyFile, ParseErrorsNameTheLine) {
  const std::string good = format_public_key(signer_public());
  const std::string id = key_id_hex(signer_public().id);
  expect_public_error(replace(good, "ipp3d-public-key-v1", "ipp3d-public-key-v2"), 1, "ipp3d-public-key-v1");
  expect_public_error(replace(good, "ipp3d-public-key-v1", "ipp3d-secret-key-v1"), 1,
                      "not an ipp3d key file");
  expect_public_error(replace(good, "algorithm: ed25519", "algorithm: rsa"), 2, "algorithm");
  expect_public_error(replace(good, "algorithm: ed25519", "algorithm:ed25519"), 2, "expected \"algorithm: ");
  expect_public_error(replace(good, "key-id: ", "key-id:  "), 3, "32 lowercase hex digits");
  std::string upper = id;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (upper != id) expect_public_error(replace(good, id, upper), 3, "lowercase");
  std::string other_id = id;
  other_id[0] = other_id[0] == '0' ? '1' : '0';
  expect_public_error(replace(good, id, other_id), 3, "does not match the public key");
  const std::string b64 = good.substr(good.find("public-key: ") + 12, 44);
  expect_public_error(replace(good, b64, b64.substr(0, 40)), 4, "base64 of 32 bytes");
  expect_public_error(replace(good, b64, b64.substr(0, 43) + "A"), 4, "base64 of 32 bytes");
  // The last digit before '=' carries 2 padding bits that must be zero.
  std::string loose = b64;
  loose[42] = static_cast<char>(loose[42] == 'B' ? 'C' : 'B');
  expect_public_error(replace(good, b64, loose), 4, "base64 of 32 bytes");
  expect_public_error(replace(good, b64, b64.substr(0, 43) + "%"), 4, "base64 of 32 bytes");
  expect_public_error(replace(good, "comment: Ada", "comment: \tAda"), 5, "control characters");
  expect_public_error(replace(good, "comment: Ada",
                              "comment: \xff"
                              "Ada"),
                      5, "valid UTF-8");
  expect_public_error(replace(good, "comment: Ada", "remark: Ada"), 5, "unexpected line");
  expect_public_error(good + "comment: again\n", 6, "unexpected line");
}

TEST(PublicKeyFile, LineStructureErrors) {
  const std::string good = format_public_key(signer_public());
  expect_public_error("", 1, "empty");
  expect_public_error(good.substr(0, good.size() - 1), 5, "does not end with a line feed");
  expect_public_error(replace(good, "\nalgorithm", "\r\nalgorithm"), 1, "carriage return");
  expect_public_error(replace(good, "\nkey-id", "\n\nkey-id"), 3, "empty line");
  expect_public_error(good.substr(0, good.find("\npublic-key") + 1), 4, "missing \"public-key:\" line");
  expect_public_error(replace(good, "algorithm: ed25519\n", ""), 2, "expected \"algorithm: ");
  expect_public_error(replace(good, "ed25519", std::string("ed25519\0", 8)), 2, "NUL");
}

TEST(PublicKeyFile, WriteAndReadFile) {
  TempDir dir;
  const auto path = dir / "key.pub";
  ASSERT_TRUE(write_public_key_file(path, signer_public()).ok());
  EXPECT_EQ(read_text(path), format_public_key(signer_public()));
  const auto back = read_public_key_file(path);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, signer_public());
  EXPECT_EQ(mode_of(path) & 0600, 0600);
  // Nothing else is left in the directory (no temporary file).
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 1);
  PublicKey bad = signer_public();
  bad.comment = "two\nlines";
  const auto refused = write_public_key_file(path, bad);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.error().message, HasSubstr("comment"));
  EXPECT_THAT(format_public_key(bad), HasSubstr("comment: two lines\n"));
  const auto missing = read_public_key_file(dir / "absent.pub");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.error().message, HasSubstr("absent.pub"));
  const auto directory = read_public_key_file(dir.path());
  ASSERT_FALSE(directory.ok());
  EXPECT_THAT(directory.error().message, HasSubstr("not a regular file"));
}

TEST(SecretKeyFile, PlainRoundTripIsPrivateFromCreation) {
  TempDir dir;
  const mode_t old_umask = ::umask(0);  // the file must not rely on the umask for its privacy
  const SecretKey key = SecretKey::generate(KeyAlgorithm::kEd25519);
  const auto path = dir / "key";
  const Status written = write_secret_key_file(path, key);
  ::umask(old_umask);
  ASSERT_TRUE(written.ok()) << written.error().message;
  EXPECT_EQ(mode_of(path), 0600);
  const std::string text = read_text(path);
  EXPECT_EQ(text.rfind("ipp3d-secret-key-v1\nalgorithm: ed25519\nkey-id: " + key_id_hex(key.id()) + "\n", 0),
            0u);
  EXPECT_THAT(text, HasSubstr("\nprotection: none\nsecret-key: "));
  EXPECT_FALSE(is_protected_secret_key_file(path));
  const auto back = read_secret_key_file(path);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->public_key(), key.public_key());
  EXPECT_TRUE(std::equal(key.secret().begin(), key.secret().end(), back->secret().begin()));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 1);
  // An X25519 printer key too.
  const SecretKey printer = SecretKey::generate(KeyAlgorithm::kX25519);
  ASSERT_TRUE(write_secret_key_file(dir / "printer", printer).ok());
  EXPECT_EQ(read_secret_key_file(dir / "printer")->public_key(), printer.public_key());
}

TEST(SecretKeyFile, RefusesFilesOthersMayRead) {
  TempDir dir;
  const SecretKey key = fixed_key(KeyAlgorithm::kEd25519, 3);
  const auto path = dir / "key";
  ASSERT_TRUE(write_secret_key_file(path, key).ok());
  for (const mode_t mode : {0640, 0604, 0644, 0660}) {
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);
    const auto refused = read_secret_key_file(path);
    ASSERT_FALSE(refused.ok()) << mode;
    EXPECT_THAT(refused.error().message, HasSubstr("chmod 600 " + path.string()));
    EXPECT_THAT(refused.error().message, HasSubstr("group or others"));
  }
  ASSERT_EQ(::chmod(path.c_str(), 0400), 0);
  EXPECT_TRUE(read_secret_key_file(path).ok());
}

TEST(SecretKeyFile, ParseErrorsNameTheLine) {
  const SecretKey key = fixed_key(KeyAlgorithm::kEd25519, 4);
  TempDir dir;
  ASSERT_TRUE(write_secret_key_file(dir / "key", key).ok());
  const std::string good = read_text(dir / "key");
  const auto error_of = [](const std::string& text) {
    const auto parsed = parse_secret_key(text, "KEY");
    EXPECT_FALSE(parsed.ok());
    return parsed.ok() ? Error{} : parsed.error();
  };
  EXPECT_EQ(error_of(replace(good, "protection: none", "protection: rot13")).line, 5);
  EXPECT_EQ(error_of(replace(good, "secret-key: ", "secret-key: AAAA")).line, 6);
  EXPECT_EQ(error_of(replace(good, "secret-key: ", "secret: ")).line, 6);
  EXPECT_EQ(error_of(good + "comment: x\n").line, 7);
  EXPECT_EQ(error_of(replace(good, "ipp3d-secret-key-v1", "ipp3d-public-key-v1")).line, 1);
  // The secret of another key under this key's public lines.
  const SecretKey other = fixed_key(KeyAlgorithm::kEd25519, 5);
  ASSERT_TRUE(write_secret_key_file(dir / "other", other).ok());
  const std::string other_text = read_text(dir / "other");
  const std::string swapped =
      good.substr(0, good.find("secret-key: ")) + other_text.substr(other_text.find("secret-key: "));
  const Error mismatch = error_of(swapped);
  EXPECT_EQ(mismatch.line, 4);
  EXPECT_THAT(mismatch.message, HasSubstr("does not belong"));
  // No message repeats secret material.
  const std::string secret_b64 = other_text.substr(other_text.find("secret-key: ") + 12, 44);
  EXPECT_THAT(mismatch.message, ::testing::Not(HasSubstr(secret_b64)));
}

TEST(SecretKeyFile, PassphraseProtection) {
  TempDir dir;
  const SecretKey key = SecretKey::generate(KeyAlgorithm::kEd25519);
  const auto path = dir / "key";
  ASSERT_TRUE(write_secret_key_file(path, key, std::string("correct horse battery staple")).ok());
  EXPECT_EQ(mode_of(path), 0600);
  const std::string text = read_text(path);
  EXPECT_THAT(text, HasSubstr("\nprotection: argon2id\nkdf-salt: "));
  EXPECT_THAT(text, HasSubstr("\nkdf-opslimit: 3\nkdf-memlimit: 67108864\nsecret-key: "));
  EXPECT_EQ(text.substr(text.find("secret-key: ") + 12).size(), 96u + 1);  // base64 of 72 bytes + LF
  EXPECT_TRUE(is_protected_secret_key_file(path));

  int asked = 0;
  const auto right = read_secret_key_file(path, [&] {
    ++asked;
    return std::optional<std::string>("correct horse battery staple");
  });
  ASSERT_TRUE(right.ok()) << right.error().message;
  EXPECT_EQ(asked, 1);
  EXPECT_EQ(right->public_key(), key.public_key());
  EXPECT_TRUE(std::equal(key.secret().begin(), key.secret().end(), right->secret().begin()));

  const auto wrong = read_secret_key_file(path, [] { return std::optional<std::string>("Correct horse"); });
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().message, path.string() + ": wrong passphrase");
  for (const PassphraseProvider& none :
       {PassphraseProvider{}, PassphraseProvider([] { return std::optional<std::string>(); }),
        PassphraseProvider([] { return std::optional<std::string>(std::string()); })}) {
    const auto refused = read_secret_key_file(path, none);
    ASSERT_FALSE(refused.ok());
    EXPECT_THAT(refused.error().message, HasSubstr("protected by a passphrase"));
  }
  // The associated data binds the public key: another key's lines do not open it.
  const SecretKey other = SecretKey::generate(KeyAlgorithm::kEd25519);
  ASSERT_TRUE(write_secret_key_file(dir / "other", other).ok());
  const std::string other_text = read_text(dir / "other");
  const std::string grafted =
      other_text.substr(0, other_text.find("protection: ")) + text.substr(text.find("protection: "));
  const auto graft = parse_secret_key(
      grafted, "KEY", [] { return std::optional<std::string>("correct horse battery staple"); });
  ASSERT_FALSE(graft.ok());
  EXPECT_THAT(graft.error().message, HasSubstr("wrong passphrase"));
  // An empty passphrase writes an unprotected file.
  ASSERT_TRUE(write_secret_key_file(dir / "plain", key, std::string()).ok());
  EXPECT_FALSE(is_protected_secret_key_file(dir / "plain"));
}

TEST(SecretKeyFile, ArgonParametersAreBounded) {
  TempDir dir;
  const SecretKey key = fixed_key(KeyAlgorithm::kX25519, 6);
  ASSERT_TRUE(write_secret_key_file(dir / "key", key, std::string("pw")).ok());
  const std::string good = read_text(dir / "key");
  const auto line_error = [&](const std::string& from, const std::string& to) {
    const std::string text = replace(good, from, to);
    const auto parsed = parse_secret_key(text, "KEY", [] { return std::optional<std::string>("pw"); });
    EXPECT_FALSE(parsed.ok()) << to;
    return parsed.ok() ? 0L : parsed.error().line;
  };
  EXPECT_EQ(line_error("kdf-opslimit: 3", "kdf-opslimit: 0"), 7);
  EXPECT_EQ(line_error("kdf-opslimit: 3", "kdf-opslimit: 11"), 7);
  EXPECT_EQ(line_error("kdf-opslimit: 3", "kdf-opslimit: 03"), 7);
  EXPECT_EQ(line_error("kdf-opslimit: 3", "kdf-opslimit: +3"), 7);
  EXPECT_EQ(line_error("kdf-memlimit: 67108864", "kdf-memlimit: 268435457"), 8);
  EXPECT_EQ(line_error("kdf-memlimit: 67108864", "kdf-memlimit: 8191"), 8);
  EXPECT_EQ(line_error("kdf-salt: ", "kdf-salt: AAAA"), 6);
  EXPECT_EQ(line_of(good, "kdf-memlimit"), 8);
  // A different (valid) opslimit derives another key: wrong passphrase, not a crash.
  const auto changed = parse_secret_key(replace(good, "kdf-opslimit: 3", "kdf-opslimit: 1"), "KEY",
                                        [] { return std::optional<std::string>("pw"); });
  ASSERT_FALSE(changed.ok());
  EXPECT_THAT(changed.error().message, HasSubstr("wrong passphrase"));
}

TEST(SecretKeyFile, AtomicReplaceKeepsTheDirectoryClean) {
  TempDir dir;
  const auto path = dir / "key";
  const SecretKey first = fixed_key(KeyAlgorithm::kEd25519, 7);
  const SecretKey second = fixed_key(KeyAlgorithm::kEd25519, 8);
  ASSERT_TRUE(write_secret_key_file(path, first).ok());
  ASSERT_TRUE(write_secret_key_file(path, second).ok());
  EXPECT_EQ(read_secret_key_file(path)->id(), second.id());
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 1);
  const Status failed = write_secret_key_file(dir / "missing-dir" / "key", first);
  ASSERT_FALSE(failed.ok());
  EXPECT_THAT(failed.error().message, HasSubstr("missing-dir"));
}

}  // namespace
}  // namespace ipp3d::trust::testing
