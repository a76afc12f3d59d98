// Known-answer tests of the primitives ipp3d_trust builds on: RFC 8032 §7.1
// Ed25519 (through SecretKey / verify_signature), RFC 7748 §5.2 and §6.1
// X25519, SHA-256 (FIPS 180-2 "abc" and the empty string) through Sha256,
// key IDs, libsodium's sealed box and secretstream (with tags, and the
// in-place decryption the reader relies on).
#include "ipp3d/trust/keys.hpp"
#include "ipp3d/trust/sha256.hpp"

#include "trust_test_util.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

namespace ipp3d::trust::testing {
namespace {

struct Ed25519Vector {
  const char* name;
  const char* secret;
  const char* public_key;
  const char* message;
  const char* signature;
};

// RFC 8032 §7.1, typed from the RFC. TEST SHA(abc)'s message is SHA-512("abc").
const Ed25519Vector kRfc8032[] = {
    {"TEST 1", "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
     "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
    {"TEST 2", "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
     "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
    {"TEST 3", "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
     "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"},
    {"TEST SHA(abc)", "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
     "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
     "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
     "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
     "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b589"
     "09351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704"},
};

TEST(Ed25519, Rfc8032Section71Vectors) {
  for (const auto& v : kRfc8032) {
    SCOPED_TRACE(v.name);
    const auto seed = array_from_hex<32>(v.secret);
    const SecretKey key = SecretKey::from_secret(KeyAlgorithm::kEd25519, seed);
    EXPECT_EQ(to_hex(key.public_key().bytes), v.public_key);
    EXPECT_EQ(to_hex(key.secret()), v.secret);
    const Bytes message = from_hex(v.message);
    const auto signature = key.sign(message);
    EXPECT_EQ(to_hex(signature), v.signature);
    const PublicKey pub = make_public_key(KeyAlgorithm::kEd25519, array_from_hex<32>(v.public_key));
    EXPECT_TRUE(verify_signature(pub, message, signature));
  }
}

TEST(Ed25519, RejectsAlteredMessageSignatureAndKey) {
  const auto& v = kRfc8032[2];
  const PublicKey pub = make_public_key(KeyAlgorithm::kEd25519, array_from_hex<32>(v.public_key));
  Bytes message = from_hex(v.message);
  auto signature = array_from_hex<64>(v.signature);
  ASSERT_TRUE(verify_signature(pub, message, signature));
  message[1] ^= 0x01;
  EXPECT_FALSE(verify_signature(pub, message, signature));
  message[1] ^= 0x01;
  signature[63] ^= 0x80;
  EXPECT_FALSE(verify_signature(pub, message, signature));
  signature[63] ^= 0x80;
  const PublicKey other = make_public_key(KeyAlgorithm::kEd25519, array_from_hex<32>(kRfc8032[1].public_key));
  EXPECT_FALSE(verify_signature(other, message, signature));
  // The same bytes labelled X25519 never verify.
  const PublicKey x = make_public_key(KeyAlgorithm::kX25519, pub.bytes);
  EXPECT_FALSE(verify_signature(x, message, signature));
}

// X25519(scalar, u) through libsodium.
std::string x25519(std::string_view scalar, std::string_view u) {
  const auto k = array_from_hex<32>(scalar);
  const auto point = array_from_hex<32>(u);
  std::array<std::uint8_t, 32> out{};
  EXPECT_EQ(crypto_scalarmult(out.data(), k.data(), point.data()), 0);
  return to_hex(out);
}

TEST(X25519, Rfc7748Section52Vectors) {
  EXPECT_EQ(x25519("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
                   "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c"),
            "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");
  EXPECT_EQ(x25519("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
                   "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493"),
            "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957");
}

TEST(X25519, Rfc7748Section52Iterated) {
  std::array<std::uint8_t, 32> k{9};
  std::array<std::uint8_t, 32> u{9};
  for (int i = 1; i <= 1000; ++i) {
    std::array<std::uint8_t, 32> next{};
    ASSERT_EQ(crypto_scalarmult(next.data(), k.data(), u.data()), 0);
    u = k;
    k = next;
    if (i == 1) {
      EXPECT_EQ(to_hex(k), "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079");
    }
  }
  EXPECT_EQ(to_hex(k), "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51");
}

TEST(X25519, Rfc7748Section61KeyAgreement) {
  const SecretKey alice = SecretKey::from_secret(
      KeyAlgorithm::kX25519,
      array_from_hex<32>("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"));
  const SecretKey bob = SecretKey::from_secret(
      KeyAlgorithm::kX25519,
      array_from_hex<32>("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"));
  EXPECT_EQ(to_hex(alice.public_key().bytes),
            "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  EXPECT_EQ(to_hex(bob.public_key().bytes),
            "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
  std::array<std::uint8_t, 32> alice_shared{};
  std::array<std::uint8_t, 32> bob_shared{};
  ASSERT_EQ(crypto_scalarmult(alice_shared.data(), alice.secret().data(), bob.public_key().bytes.data()), 0);
  ASSERT_EQ(crypto_scalarmult(bob_shared.data(), bob.secret().data(), alice.public_key().bytes.data()), 0);
  EXPECT_EQ(to_hex(alice_shared), "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
  EXPECT_EQ(alice_shared, bob_shared);
}

TEST(Sha256, KnownAnswers) {
  EXPECT_EQ(to_hex(Sha256::of(bytes_of("abc")).value()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(to_hex(Sha256::of({}).value()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  // FIPS 180-2 two-block message.
  EXPECT_EQ(to_hex(Sha256::of(bytes_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")).value()),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, StreamingEqualsOneShotAndFinishesOnce) {
  const Bytes data = random_bytes(100'000, 7);
  Sha256 hash;
  for (std::size_t i = 0; i < data.size(); i += 777) {
    ASSERT_TRUE(hash.update(std::span(data).subspan(i, std::min<std::size_t>(777, data.size() - i))));
  }
  const auto digest = hash.finish();
  ASSERT_TRUE(digest);
  EXPECT_EQ(*digest, Sha256::of(data).value());
  EXPECT_FALSE(hash.finish());
  EXPECT_FALSE(hash.update(data));
  Sha256 moved_from;
  const Sha256 moved_to(std::move(moved_from));
  EXPECT_FALSE(moved_from.update(data));  // NOLINT(bugprone-use-after-move): defined as failed
}

TEST(KeyId, IsTheTruncatedLabelledSha256) {
  const PublicKey ed = make_public_key(KeyAlgorithm::kEd25519, array_from_hex<32>(kRfc8032[0].public_key));
  // SHA-256("ipp3d-ed25519" || 0x00 || public key)[0..16), computed independently.
  EXPECT_EQ(key_id_hex(ed.id), "846887301249f02ef7f8067cc8b17bd2");
  const PublicKey x =
      make_public_key(KeyAlgorithm::kX25519,
                      array_from_hex<32>("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"));
  EXPECT_EQ(key_id_hex(x.id), "588e4e21a7f1206146cfd277d778f7ef");
  // The label separates the algorithms.
  EXPECT_NE(key_id_of(KeyAlgorithm::kX25519, ed.bytes), ed.id);
  Bytes input = bytes_of("ipp3d-ed25519");
  input.push_back(0);
  input.insert(input.end(), ed.bytes.begin(), ed.bytes.end());
  const auto digest = Sha256::of(input).value();
  EXPECT_TRUE(std::equal(ed.id.begin(), ed.id.end(), digest.begin()));
}

TEST(KeyId, HexRoundTripAndParsing) {
  const KeyId id = make_public_key(KeyAlgorithm::kEd25519, array_from_hex<32>(kRfc8032[1].public_key)).id;
  EXPECT_EQ(parse_key_id(key_id_hex(id)), id);
  std::string upper = key_id_hex(id);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(parse_key_id(upper), id);
  EXPECT_FALSE(parse_key_id(""));
  EXPECT_FALSE(parse_key_id(key_id_hex(id).substr(1)));
  EXPECT_FALSE(parse_key_id(key_id_hex(id) + "0"));
  EXPECT_FALSE(parse_key_id("g" + key_id_hex(id).substr(1)));
  EXPECT_FALSE(parse_key_id(" " + key_id_hex(id).substr(1)));
}

TEST(SecretKey, GenerateMoveAndAlgorithms) {
  SecretKey a = SecretKey::generate(KeyAlgorithm::kEd25519);
  const SecretKey b = SecretKey::generate(KeyAlgorithm::kEd25519);
  EXPECT_NE(a.id(), b.id());
  EXPECT_EQ(a.id(), key_id_of(KeyAlgorithm::kEd25519, a.public_key().bytes));
  const SecretKey again = SecretKey::from_secret(KeyAlgorithm::kEd25519, a.secret());
  EXPECT_EQ(again.public_key(), a.public_key());
  const auto id = a.id();
  SecretKey moved(std::move(a));
  EXPECT_EQ(moved.id(), id);
  const std::array<std::uint8_t, 32> zero{};
  EXPECT_TRUE(
      std::equal(zero.begin(), zero.end(), a.secret().begin()));  // NOLINT(bugprone-use-after-move): wiped
  const SecretKey x = SecretKey::generate(KeyAlgorithm::kX25519);
  EXPECT_EQ(x.algorithm(), KeyAlgorithm::kX25519);
  std::array<std::uint8_t, 32> derived{};
  ASSERT_EQ(crypto_scalarmult_base(derived.data(), x.secret().data()), 0);
  EXPECT_EQ(derived, x.public_key().bytes);
  EXPECT_STREQ(algorithm_name(KeyAlgorithm::kEd25519), "ed25519");
  EXPECT_STREQ(algorithm_name(KeyAlgorithm::kX25519), "x25519");
}

TEST(SealedBox, RoundTripToAnX25519KeyPair) {
  const SecretKey printer = fixed_key(KeyAlgorithm::kX25519, 0x40);
  const SecretKey other = fixed_key(KeyAlgorithm::kX25519, 0x41);
  const Bytes content_key = random_bytes(32, 1);
  std::array<std::uint8_t, 32 + crypto_box_SEALBYTES> sealed{};
  ASSERT_EQ(crypto_box_seal(sealed.data(), content_key.data(), content_key.size(),
                            printer.public_key().bytes.data()),
            0);
  std::array<std::uint8_t, 32> opened{};
  ASSERT_EQ(crypto_box_seal_open(opened.data(), sealed.data(), sealed.size(),
                                 printer.public_key().bytes.data(), printer.secret().data()),
            0);
  EXPECT_TRUE(std::equal(opened.begin(), opened.end(), content_key.begin()));
  EXPECT_NE(crypto_box_seal_open(opened.data(), sealed.data(), sealed.size(), other.public_key().bytes.data(),
                                 other.secret().data()),
            0);
  sealed[40] ^= 1;
  EXPECT_NE(crypto_box_seal_open(opened.data(), sealed.data(), sealed.size(),
                                 printer.public_key().bytes.data(), printer.secret().data()),
            0);
}

// One pushed secretstream message.
Bytes push(crypto_secretstream_xchacha20poly1305_state& state, const Bytes& plain, std::uint8_t tag,
           const Bytes& ad = {}) {
  Bytes out(plain.size() + crypto_secretstream_xchacha20poly1305_ABYTES);
  EXPECT_EQ(crypto_secretstream_xchacha20poly1305_push(&state, out.data(), nullptr, plain.data(),
                                                       plain.size(), ad.data(), ad.size(), tag),
            0);
  return out;
}

TEST(SecretStream, RoundTripWithTagsAndAssociatedData) {
  std::array<std::uint8_t, crypto_secretstream_xchacha20poly1305_KEYBYTES> key{};
  crypto_secretstream_xchacha20poly1305_keygen(key.data());
  crypto_secretstream_xchacha20poly1305_state push_state{};
  std::array<std::uint8_t, crypto_secretstream_xchacha20poly1305_HEADERBYTES> header{};
  ASSERT_EQ(crypto_secretstream_xchacha20poly1305_init_push(&push_state, header.data(), key.data()), 0);
  const Bytes ad = bytes_of("clear header");
  const std::vector<Bytes> plain = {random_bytes(100, 2), random_bytes(1024, 3), {}};
  const std::vector<Bytes> cipher = {
      push(push_state, plain[0], crypto_secretstream_xchacha20poly1305_TAG_MESSAGE, ad),
      push(push_state, plain[1], crypto_secretstream_xchacha20poly1305_TAG_MESSAGE),
      push(push_state, plain[2], crypto_secretstream_xchacha20poly1305_TAG_FINAL)};
  const auto pull_all = [&](const std::vector<Bytes>& messages, const Bytes& first_ad) {
    crypto_secretstream_xchacha20poly1305_state state{};
    EXPECT_EQ(crypto_secretstream_xchacha20poly1305_init_pull(&state, header.data(), key.data()), 0);
    std::vector<std::uint8_t> tags;
    for (std::size_t i = 0; i < messages.size(); ++i) {
      Bytes out(messages[i].size() - crypto_secretstream_xchacha20poly1305_ABYTES);
      unsigned char tag = 0;
      const Bytes& a = i == 0 ? first_ad : Bytes{};
      if (crypto_secretstream_xchacha20poly1305_pull(&state, out.data(), nullptr, &tag, messages[i].data(),
                                                     messages[i].size(), a.data(), a.size()) != 0) {
        return std::vector<std::uint8_t>{};
      }
      EXPECT_EQ(out, plain[i]);
      tags.push_back(tag);
    }
    return tags;
  };
  EXPECT_EQ(pull_all(cipher, ad), (std::vector<std::uint8_t>{0, 0, 3}));
  EXPECT_TRUE(pull_all(cipher, bytes_of("other header")).empty());
  EXPECT_TRUE(pull_all({cipher[1], cipher[0], cipher[2]}, ad).empty());
}

// The reader decrypts each chunk in place (plaintext written one byte after
// the start of the message it replaces); this must equal a separate buffer,
// and a forged message must still fail.
TEST(SecretStream, InPlacePullEqualsSeparateBuffer) {
  for (const std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{63}, std::size_t{64},
                                 std::size_t{1000}, std::size_t{65536}}) {
    SCOPED_TRACE(size);
    std::array<std::uint8_t, 32> key{};
    crypto_secretstream_xchacha20poly1305_keygen(key.data());
    crypto_secretstream_xchacha20poly1305_state state{};
    std::array<std::uint8_t, crypto_secretstream_xchacha20poly1305_HEADERBYTES> header{};
    ASSERT_EQ(crypto_secretstream_xchacha20poly1305_init_push(&state, header.data(), key.data()), 0);
    const Bytes plain = random_bytes(size, static_cast<std::uint32_t>(size));
    Bytes message = push(state, plain, 0);
    Bytes forged = message;
    forged.back() ^= 1;
    crypto_secretstream_xchacha20poly1305_state pull_state{};
    ASSERT_EQ(crypto_secretstream_xchacha20poly1305_init_pull(&pull_state, header.data(), key.data()), 0);
    crypto_secretstream_xchacha20poly1305_state forged_state = pull_state;
    unsigned char tag = 9;
    ASSERT_EQ(crypto_secretstream_xchacha20poly1305_pull(&pull_state, message.data() + 1, nullptr, &tag,
                                                         message.data(), message.size(), nullptr, 0),
              0);
    EXPECT_EQ(tag, 0);
    EXPECT_EQ(Bytes(message.begin() + 1, message.begin() + 1 + static_cast<std::ptrdiff_t>(size)), plain);
    EXPECT_NE(crypto_secretstream_xchacha20poly1305_pull(&forged_state, forged.data() + 1, nullptr, &tag,
                                                         forged.data(), forged.size(), nullptr, 0),
              0);
  }
}

}  // namespace
}  // namespace ipp3d::trust::testing
