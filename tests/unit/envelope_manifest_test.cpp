// The manifest (docs/envelope.md §3): exact canonical bytes, round trips,
// and refusal (kMalformed naming the field) of every non-canonical or
// invalid encoding. A local raw encoder writes any field values.
#include "ipp3d/trust/envelope.hpp"

#include "trust_test_util.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

// Raw{.field = value} leaves the other fields at their defaults on purpose.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace ipp3d::trust::testing {
namespace {

using ::testing::HasSubstr;

// Field values written as given, without any check.
struct Raw {
  std::uint8_t version = 1;
  std::uint8_t flags = 0;
  std::string content_type = "text/x-gcode";
  std::uint64_t payload_length = 3000;
  Digest digest{};
  KeyId signer{};
  std::int64_t created = 1'790'000'000;
  std::int64_t not_after = 1'790'604'800;
  std::vector<KeyId> recipients;
  std::optional<std::size_t> recipient_count;  // overrides recipients.size()
  Nonce nonce{};
  std::uint8_t licence_flag = 0;
  std::string licence_id;
  std::uint32_t copies = 0;
  std::string name = "benchy.gcode";
  Bytes trailer;
};

void put(Bytes& out, std::uint64_t value, int size) {
  for (int i = size - 1; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
}

Bytes encode_raw(const Raw& r) {
  Bytes out;
  put(out, r.version, 1);
  put(out, r.flags, 1);
  put(out, r.content_type.size(), 1);
  out.insert(out.end(), r.content_type.begin(), r.content_type.end());
  put(out, r.payload_length, 8);
  out.insert(out.end(), r.digest.begin(), r.digest.end());
  out.insert(out.end(), r.signer.begin(), r.signer.end());
  put(out, static_cast<std::uint64_t>(r.created), 8);
  put(out, static_cast<std::uint64_t>(r.not_after), 8);
  put(out, r.recipient_count.value_or(r.recipients.size()), 1);
  for (const auto& id : r.recipients) out.insert(out.end(), id.begin(), id.end());
  out.insert(out.end(), r.nonce.begin(), r.nonce.end());
  put(out, r.licence_flag, 1);
  if (r.licence_flag == 1) {
    put(out, r.licence_id.size(), 1);
    out.insert(out.end(), r.licence_id.begin(), r.licence_id.end());
    put(out, r.copies, 4);
  }
  put(out, r.name.size(), 2);
  out.insert(out.end(), r.name.begin(), r.name.end());
  out.insert(out.end(), r.trailer.begin(), r.trailer.end());
  return out;
}

KeyId id_of(std::uint8_t first) {
  KeyId id{};
  id.fill(0x11);
  id[0] = first;
  return id;
}

// A manifest using every field.
Manifest full_manifest() {
  Manifest m;
  m.content_type = "text/x-gcode";
  m.payload_length = 123'456'789;
  for (std::size_t i = 0; i < m.payload_sha256.size(); ++i)
    m.payload_sha256[i] = static_cast<std::uint8_t>(i);
  m.signer = id_of(0xaa);
  m.created = -5;  // i64 is two's complement
  m.not_after = 1'790'604'800;
  m.recipients = {id_of(0x01), id_of(0x02), id_of(0xf0)};
  m.nonce.fill(0x5a);
  m.licence = Licence{"batch-2026.A_1", 25};
  m.document_name = "Überhang – test.gcode";
  return m;
}

// Expects decode to refuse `bytes` as malformed with `words` in the message.
void expect_refused(const Bytes& bytes, const std::string& words) {
  const auto decoded = decode_manifest(bytes);
  ASSERT_FALSE(decoded.ok()) << words;
  EXPECT_EQ(decoded.error().problem, EnvelopeProblem::kMalformed);
  EXPECT_THAT(decoded.error().message, HasSubstr("manifest: "));
  EXPECT_THAT(decoded.error().message, HasSubstr(words));
}

TEST(Manifest, ExactCanonicalBytes) {
  Manifest m;
  m.payload_length = 0x0102;
  m.signer = id_of(0xab);
  m.created = 1;
  m.not_after = 2;
  m.document_name = "a";
  const Bytes bytes = encode_manifest(m);
  const std::string expected =
      "01"  // version
      "00"  // flags
      "0c"
      "746578742f782d67636f6465"          // "text/x-gcode"
      "0000000000000102"                  // payload length
      + std::string(64, '0') +            // digest
      "ab111111111111111111111111111111"  // signer
      "0000000000000001"                  // created
      "0000000000000002"                  // not-after
      "00"                                // recipients
      + std::string(32, '0') +            // nonce
      "00"                                // no licence
      "000161";                           // document name "a"
  EXPECT_EQ(to_hex(bytes), expected);
  EXPECT_EQ(bytes,
            encode_raw(Raw{
                .payload_length = 0x0102, .signer = id_of(0xab), .created = 1, .not_after = 2, .name = "a"}));
}

TEST(Manifest, RoundTripOfEveryField) {
  const Manifest m = full_manifest();
  ASSERT_TRUE(validate_manifest(m).ok());
  const Bytes bytes = encode_manifest(m);
  const auto decoded = decode_manifest(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(*decoded, m);
  EXPECT_EQ(encode_manifest(*decoded), bytes);
  Manifest encrypted = m;
  encrypted.encrypted = true;
  encrypted.recipients = {id_of(0x07)};
  encrypted.licence.reset();
  encrypted.document_name.clear();
  EXPECT_EQ(*decode_manifest(encode_manifest(encrypted)), encrypted);
}

TEST(Manifest, LargestManifestFitsTheHeaderBlock) {
  Manifest m = full_manifest();
  m.content_type = "application/" + std::string(115, 'x');
  m.recipients.clear();
  for (int i = 0; i < 16; ++i) m.recipients.push_back(id_of(static_cast<std::uint8_t>(i)));
  m.licence = Licence{std::string(64, 'L'), 1'000'000};
  m.document_name = std::string(255, 'n');
  const Bytes bytes = encode_manifest(m);
  EXPECT_EQ(bytes.size(), 802u);
  EXPECT_LE(bytes.size(), kMaxManifestSize);
  EXPECT_EQ(*decode_manifest(bytes), m);
}

TEST(Manifest, RefusesUnknownVersionAndFlags) {
  expect_refused(encode_raw(Raw{.version = 2}), "version 2");
  expect_refused(encode_raw(Raw{.version = 0}), "version 0");
  expect_refused(encode_raw(Raw{.flags = 0x02}), "flag");
  expect_refused(encode_raw(Raw{.flags = 0x81, .recipients = {id_of(1)}}), "flag");
  expect_refused(encode_raw(Raw{.flags = 0x01}), "exactly one recipient");
  expect_refused(encode_raw(Raw{.flags = 0x01, .recipients = {id_of(1), id_of(2)}}), "exactly one recipient");
  EXPECT_TRUE(decode_manifest(encode_raw(Raw{.flags = 0x01, .recipients = {id_of(1)}})).ok());
}

TEST(Manifest, RefusesBadContentTypes) {
  for (const std::string& type :
       std::vector<std::string>{"", "TEXT/x-gcode", "text", "text/", "/x", "text/x gcode", "text/x/gcode",
                                "-text/x", "text/-x", "téxt/x", std::string(128, 'a')}) {
    SCOPED_TRACE(type);
    expect_refused(encode_raw(Raw{.content_type = type}), "content type");
  }
  for (const std::string& type :
       std::vector<std::string>{"text/x-gcode", "model/3mf", "application/vnd.ipp3d+x.y_z", "a/b"}) {
    EXPECT_TRUE(decode_manifest(encode_raw(Raw{.content_type = type})).ok()) << type;
  }
}

TEST(Manifest, RefusesOutOfRangeLengthAndTimes) {
  expect_refused(encode_raw(Raw{.payload_length = kMaxPayloadLength + 1}), "payload length");
  EXPECT_TRUE(decode_manifest(encode_raw(Raw{.payload_length = kMaxPayloadLength})).ok());
  expect_refused(encode_raw(Raw{.created = 100, .not_after = 100}), "not-after");
  expect_refused(encode_raw(Raw{.created = 100, .not_after = 99}), "not-after");
  expect_refused(encode_raw(Raw{.created = 0, .not_after = -1}), "not-after");
}

TEST(Manifest, RefusesBadRecipientLists) {
  std::vector<KeyId> seventeen;
  for (int i = 0; i < 17; ++i) seventeen.push_back(id_of(static_cast<std::uint8_t>(i)));
  expect_refused(encode_raw(Raw{.recipients = seventeen}), "above 16");
  expect_refused(encode_raw(Raw{.recipients = {id_of(2), id_of(1)}}), "strictly increasing");
  expect_refused(encode_raw(Raw{.recipients = {id_of(1), id_of(1)}}), "strictly increasing");
  expect_refused(encode_raw(Raw{.recipients = {id_of(1)}, .recipient_count = 2}), "ends inside");
  EXPECT_TRUE(decode_manifest(encode_raw(Raw{.recipients = {id_of(1), id_of(2)}})).ok());
}

TEST(Manifest, RefusesBadLicences) {
  expect_refused(encode_raw(Raw{.licence_flag = 2}), "licence flag 2");
  expect_refused(encode_raw(Raw{.licence_flag = 1, .licence_id = "", .copies = 1}), "licence ID");
  expect_refused(encode_raw(Raw{.licence_flag = 1, .licence_id = std::string(65, 'a'), .copies = 1}),
                 "licence ID");
  expect_refused(encode_raw(Raw{.licence_flag = 1, .licence_id = "a/b", .copies = 1}), "licence ID");
  expect_refused(encode_raw(Raw{.licence_flag = 1, .licence_id = "a b", .copies = 1}), "licence ID");
  expect_refused(encode_raw(Raw{.licence_flag = 1, .licence_id = "ok", .copies = 0}), "licence copies 0");
  expect_refused(encode_raw(Raw{.licence_flag = 1, .licence_id = "ok", .copies = 1'000'001}),
                 "licence copies");
  const auto decoded =
      decode_manifest(encode_raw(Raw{.licence_flag = 1, .licence_id = "ok", .copies = 1'000'000}));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->licence, (Licence{"ok", 1'000'000}));
}

TEST(Manifest, RefusesBadDocumentNames) {
  expect_refused(encode_raw(Raw{.name = std::string(256, 'a')}), "document name");
  for (const std::string& name :
       {std::string("a\nb"), std::string("tab\t"), std::string("nul\0x", 5), std::string("del\x7f"),
        std::string("\xff"), std::string("\xc0\xaf"), std::string("\xed\xa0\x80"),
        std::string("\xf4\x90\x80\x80"), std::string("\xe2\x82")}) {
    expect_refused(encode_raw(Raw{.name = name}), "document name");
  }
  EXPECT_TRUE(decode_manifest(encode_raw(Raw{.name = std::string(255, 'a')})).ok());
  EXPECT_TRUE(decode_manifest(encode_raw(Raw{.name = "\xf0\x9f\x96\xa8 printer \xe2\x82\xac"})).ok());
}

TEST(Manifest, RefusesLeftOverAndMissingBytes) {
  const Bytes good = encode_raw(Raw{.licence_flag = 1, .licence_id = "x", .copies = 2});
  ASSERT_TRUE(decode_manifest(good).ok());
  expect_refused(encode_raw(Raw{.trailer = {0}}), "left over");
  expect_refused({}, "not within 1-4030");
  expect_refused(Bytes(4031, 1), "not within 1-4030");
  // Every proper prefix is refused and names a field.
  for (std::size_t size = 1; size < good.size(); ++size) {
    const auto decoded = decode_manifest(std::span(good).first(size));
    ASSERT_FALSE(decoded.ok()) << size;
    EXPECT_THAT(decoded.error().message, HasSubstr("ends inside the")) << size;
  }
}

TEST(Manifest, ValidateNamesTheField) {
  Manifest m = full_manifest();
  m.document_name = std::string(256, 'x');
  EXPECT_THAT(validate_manifest(m).error().message, HasSubstr("document name"));
  m = full_manifest();
  m.licence->copies = 0;
  EXPECT_THAT(validate_manifest(m).error().message, HasSubstr("licence copies"));
  m = full_manifest();
  std::swap(m.recipients[0], m.recipients[1]);
  EXPECT_THAT(validate_manifest(m).error().message, HasSubstr("recipients"));
  m = full_manifest();
  m.content_type = "Text/X";
  EXPECT_THAT(validate_manifest(m).error().message, HasSubstr("content type"));
}

TEST(Manifest, SignedMessageHasTheDomainPrefix) {
  const Bytes manifest = {1, 2, 3};
  const Bytes message = signed_message(manifest);
  Bytes expected = bytes_of("ipp3d-envelope-v1/manifest");
  expected.push_back(0);
  expected.insert(expected.end(), manifest.begin(), manifest.end());
  EXPECT_EQ(message, expected);
}

}  // namespace
}  // namespace ipp3d::trust::testing
