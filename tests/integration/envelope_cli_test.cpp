// `ipp3d keygen`, `ipp3d sign` and `ipp3d verify` as a user runs them: both
// envelope modes end to end, the JSON report, exit codes (0 valid, 1
// refused, 2 usage or I/O), a pipe refused by sign, tampered and truncated
// envelopes refused, and a passphrase-protected key through IPP3D_PASSPHRASE.
#include "server_process.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <vector>

namespace ipp3d::testing {
namespace {

const std::string kSample = std::string(IPP3D_TESTDATA_DIR) + "/gcode/bunny-prusaslicer-klipper.gcode";

// A scratch directory that is the configuration directory of every command.
class EnvelopeCli : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "ipp3d-cli-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    // About 3000 bytes of real G-code lines.
    std::ifstream in(kSample);
    std::string line;
    std::string text;
    while (text.size() < 3000 && std::getline(in, line)) text += line + "\n";
    write("doc.gcode", text);
    document_ = text;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Runs `ipp3d ARGS...` in a clean environment (IPP3D_CONFIG_DIR = dir,
  // no controlling terminal, IPP3D_PASSPHRASE only when given).
  int ipp3d(const std::vector<std::string>& args, std::string& output, const std::string& passphrase = "",
            const std::string& input = "") {
    std::vector<std::string> argv = {"env", "-u", "IPP3D_PASSPHRASE",
                                     "IPP3D_CONFIG_DIR=" + (dir_ / "config").string()};
    if (!passphrase.empty()) argv.push_back("IPP3D_PASSPHRASE=" + passphrase);
    argv.insert(argv.end(), {"setsid", "-w", IPP3D_CLIENT_BINARY});
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command_with_input(argv, input, output);
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  void write(const std::string& name, const std::string& bytes) const {
    std::ofstream(dir_ / name, std::ios::binary) << bytes;
  }
  std::string read(const std::string& name) const {
    std::ifstream in(dir_ / name, std::ios::binary);
    std::stringstream out;
    out << in.rdbuf();
    return out.str();
  }
  // keygen of the default author key and an x25519 printer key.
  void make_keys() {
    std::string out;
    ASSERT_EQ(ipp3d({"keygen", "--comment", "author"}, out), 0) << out;
    ASSERT_EQ(ipp3d({"keygen", "--algorithm", "x25519", "--out", path("printer")}, out), 0) << out;
  }
  std::string author_pub() const { return (dir_ / "config" / "key.pub").string(); }

  std::filesystem::path dir_;
  std::string document_;
};

mode_t mode_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

TEST_F(EnvelopeCli, KeygenWritesAPrivateKeyAndRefusesToOverwrite) {
  std::string out;
  ASSERT_EQ(ipp3d({"keygen"}, out), 0) << out;
  const std::string key = path("config/key");
  EXPECT_EQ(mode_of(key), 0600);
  EXPECT_EQ(mode_of(path("config")), 0700);
  EXPECT_TRUE(std::filesystem::exists(key + ".pub"));
  const auto id_at = out.find("key ID: ");
  ASSERT_NE(id_at, std::string::npos) << out;
  EXPECT_NE(read("config/key.pub").find("key-id: " + out.substr(id_at + 8, 32) + "\n"), std::string::npos);
  EXPECT_EQ(ipp3d({"keygen"}, out), 2);
  EXPECT_NE(out.find("exists; use --force"), std::string::npos) << out;
  EXPECT_EQ(ipp3d({"keygen", "--force"}, out), 0) << out;
  EXPECT_EQ(ipp3d({"keygen", "--out", path("k2"), "--comment", "two\tfields"}, out), 2);
}

TEST_F(EnvelopeCli, SignedModeEndToEnd) {
  make_keys();
  std::string out;
  ASSERT_EQ(ipp3d({"sign", path("doc.gcode"), "-o", path("doc.ipp3d"), "--expires", "2h"}, out), 0) << out;
  EXPECT_NE(out.find("doc.ipp3d: signer "), std::string::npos) << out;
  EXPECT_EQ(read("doc.ipp3d").size(), 4108 + document_.size());
  ASSERT_EQ(ipp3d({"verify", "--trust", author_pub(), path("doc.ipp3d"), "-o", path("plain.gcode")}, out), 0)
      << out;
  EXPECT_NE(out.find("doc.ipp3d: valid\n"), std::string::npos) << out;
  EXPECT_NE(out.find("document:      doc.gcode\n"), std::string::npos) << out;
  EXPECT_NE(out.find("recipients:    any printer"), std::string::npos) << out;
  EXPECT_NE(out.find("size:          " + std::to_string(document_.size()) + " bytes"), std::string::npos)
      << out;
  EXPECT_EQ(read("plain.gcode"), document_);
  // From standard input.
  ASSERT_EQ(ipp3d({"verify", "--trust", author_pub(), "-"}, out, "", read("doc.ipp3d")), 0) << out;
  EXPECT_NE(out.find("-: valid"), std::string::npos) << out;
}

TEST_F(EnvelopeCli, EncryptedModeEndToEnd) {
  make_keys();
  std::string out;
  ASSERT_EQ(ipp3d({"sign", path("doc.gcode"), "-o", path("doc.ipp3d"), "--for", path("printer.pub"),
                   "--encrypt", "--copies", "3", "--licence", "batch-7", "--name", "Bunny"},
                  out),
            0)
      << out;
  const std::string envelope = read("doc.ipp3d");
  EXPECT_EQ(envelope.find(document_.substr(0, 40)), std::string::npos);
  // Without the printer key: what an intermediary sees, and exit 1.
  ASSERT_EQ(ipp3d({"verify", "--trust", author_pub(), path("doc.ipp3d")}, out), 1) << out;
  EXPECT_NE(out.find("refused: cannot-decrypt"), std::string::npos) << out;
  EXPECT_NE(out.find("encrypted to:  "), std::string::npos) << out;
  ASSERT_EQ(ipp3d({"verify", "--trust", author_pub(), path("doc.ipp3d"), "--key", path("printer"), "-o",
                   path("plain.gcode")},
                  out),
            0)
      << out;
  EXPECT_NE(out.find("licence:       batch-7, 3 copies per printer"), std::string::npos) << out;
  EXPECT_NE(out.find("document:      Bunny"), std::string::npos) << out;
  EXPECT_EQ(read("plain.gcode"), document_);
  EXPECT_EQ(mode_of(path("plain.gcode")), 0600);
  // --encrypt needs exactly one printer.
  EXPECT_EQ(ipp3d({"sign", path("doc.gcode"), "-o", path("x.ipp3d"), "--encrypt"}, out), 2);
}

TEST_F(EnvelopeCli, JsonReport) {
  make_keys();
  std::string out;
  ASSERT_EQ(ipp3d({"sign", path("doc.gcode"), "-o", path("doc.ipp3d"), "--for", path("printer.pub")}, out),
            0);
  ASSERT_EQ(ipp3d({"verify", "--trust", author_pub(), path("doc.ipp3d"), "--json"}, out), 0) << out;
  const auto json = nlohmann::json::parse(out);
  EXPECT_TRUE(json["valid"].get<bool>());
  EXPECT_TRUE(json["problem"].is_null());
  const auto& claims = json["claims"];
  EXPECT_EQ(claims["size"].get<std::size_t>(), document_.size());
  EXPECT_EQ(claims["document_name"], "doc.gcode");
  EXPECT_EQ(claims["content_type"], "text/x-gcode");
  EXPECT_EQ(claims["signer"]["trust_file"], author_pub());
  EXPECT_EQ(claims["recipients"].size(), 1u);
  EXPECT_EQ(claims["sha256"].get<std::string>().size(), 64u);
  EXPECT_EQ(claims["not_after"].get<std::int64_t>() - claims["created"].get<std::int64_t>(), 7 * 86400);
  // A refusal in JSON too.
  std::string tampered = read("doc.ipp3d");
  tampered[4108 + 100] ^= 1;
  write("bad.ipp3d", tampered);
  ASSERT_EQ(ipp3d({"verify", "--trust", author_pub(), path("bad.ipp3d"), "--json"}, out), 1) << out;
  const auto refused = nlohmann::json::parse(out);
  EXPECT_FALSE(refused["valid"].get<bool>());
  EXPECT_EQ(refused["problem"], "digest-mismatch");
}

TEST_F(EnvelopeCli, SignRefusesAPipe) {
  make_keys();
  std::string out;
  EXPECT_EQ(ipp3d({"sign", "/dev/stdin", "-o", path("doc.ipp3d")}, out, "", document_), 2);
  EXPECT_NE(out.find("save it to a file first"), std::string::npos) << out;
  EXPECT_FALSE(std::filesystem::exists(path("doc.ipp3d")));
  // No temporary file is left: config/, doc.gcode, printer, printer.pub.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_), {}), 4);
}

TEST_F(EnvelopeCli, TamperedTruncatedAndUntrustedEnvelopesAreRefused) {
  make_keys();
  std::string out;
  ASSERT_EQ(
      ipp3d({"sign", path("doc.gcode"), "-o", path("doc.ipp3d"), "--for", path("printer.pub"), "--encrypt"},
            out),
      0);
  const std::string good = read("doc.ipp3d");
  std::string tampered = good;
  tampered[4257 + 10] ^= 1;
  write("bad.ipp3d", tampered);
  EXPECT_EQ(ipp3d({"verify", "--trust", author_pub(), path("bad.ipp3d"), "--key", path("printer")}, out), 1);
  EXPECT_NE(out.find("refused: tampered"), std::string::npos) << out;
  write("bad.ipp3d", good.substr(0, good.size() - 17));
  EXPECT_EQ(ipp3d({"verify", "--trust", author_pub(), path("bad.ipp3d"), "--key", path("printer")}, out), 1);
  EXPECT_NE(out.find("refused: truncated"), std::string::npos) << out;
  ASSERT_EQ(ipp3d({"keygen", "--out", path("stranger")}, out), 0);
  EXPECT_EQ(
      ipp3d({"verify", "--trust", path("stranger.pub"), path("doc.ipp3d"), "--key", path("printer")}, out),
      1);
  EXPECT_NE(out.find("refused: unknown-signer"), std::string::npos) << out;
  // Usage errors are 2: no --trust, a missing file.
  EXPECT_EQ(ipp3d({"verify", path("doc.ipp3d")}, out), 2);
  EXPECT_EQ(ipp3d({"verify", "--trust", author_pub(), path("absent.ipp3d")}, out), 2);
}

TEST_F(EnvelopeCli, ExpiredEnvelopeIsRefused) {
  make_keys();
  std::string out;
  ASSERT_EQ(ipp3d({"sign", path("doc.gcode"), "-o", path("doc.ipp3d"), "--expires", "1s"}, out), 0) << out;
  ::sleep(2);
  EXPECT_EQ(ipp3d({"verify", "--trust", author_pub(), path("doc.ipp3d")}, out), 1);
  EXPECT_NE(out.find("refused: expired"), std::string::npos) << out;
}

TEST_F(EnvelopeCli, ProtectedKeyThroughTheEnvironment) {
  std::string out;
  ASSERT_EQ(ipp3d({"keygen", "--passphrase"}, out, "correct horse"), 0) << out;
  EXPECT_NE(out.find("protected by a passphrase"), std::string::npos) << out;
  EXPECT_NE(read("config/key").find("protection: argon2id\n"), std::string::npos);
  EXPECT_EQ(ipp3d({"sign", path("doc.gcode"), "-o", path("doc.ipp3d")}, out, "correct horse"), 0) << out;
  EXPECT_EQ(ipp3d({"sign", path("doc.gcode"), "-o", path("x.ipp3d")}, out, "wrong horse"), 2);
  EXPECT_NE(out.find("wrong passphrase"), std::string::npos) << out;
  // No IPP3D_PASSPHRASE and no terminal: a clear error, nothing written.
  EXPECT_EQ(ipp3d({"sign", path("doc.gcode"), "-o", path("x.ipp3d")}, out), 2);
  EXPECT_NE(out.find("IPP3D_PASSPHRASE"), std::string::npos) << out;
  EXPECT_FALSE(std::filesystem::exists(path("x.ipp3d")));
  EXPECT_EQ(ipp3d({"verify", "--trust", author_pub(), path("doc.ipp3d")}, out), 0) << out;
}

}  // namespace
}  // namespace ipp3d::testing
