// Job template codec: round trips, group search, CUPS `lp -o` input and
// decode errors with attribute paths.
#include "ipp3d/attributes/ipp_codec.hpp"

#include "ipp_wire.hpp"

#include <cups/cups.h>
#include <cups/ipp.h>
#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <string>
#include <vector>

namespace ipp3d::attributes {
namespace {

// A ticket with every member set.
JobTicket full_ticket() {
  JobTicket t;
  Material pla;
  pla.material_key = "pla-generic";
  pla.material_name = "Generic PLA";
  pla.material_type = "pla";
  pla.material_color = "orange";
  pla.material_diameter = 1'750'000;
  pla.material_diameter_tolerance = 20'000;
  pla.material_temperature = IntegerOrRange::single(215);
  pla.material_purpose = {"shell", "in-fill"};
  pla.material_fill_density = 15;
  pla.material_shell_thickness = 1'200'000;
  pla.material_amount = MaterialAmount{42};
  pla.material_amount_units = "g";
  pla.material_nozzle_diameter = 400'000;
  pla.material_retraction = false;
  pla.material_rate = 8;
  pla.material_rate_units = "mm_second";
  Material pva;
  pva.material_name = "Support PVA";
  pva.material_purpose = {"support"};
  t.materials_col = {pla, pva};
  t.platform_temperature = 60;
  t.chamber_temperature = 35;
  t.print_accuracy = PrintAccuracy{"um", 50, 50, 100};
  t.print_base = "brim";
  t.print_supports = "standard";
  t.print_quality = 5;
  PrintObject first;
  first.document_number = 1;
  first.object_offset = ObjectOffset{1000, 2000, 0};
  first.object_size = BuildVolume{5000, 6000, 7000};
  first.object_uuid = "urn:uuid:4a1c2b3d-0000-4000-8000-123456789abc";
  PrintObject second;
  second.object_uuid = "urn:uuid:4a1c2b3d-0000-4000-8000-cba987654321";
  t.print_objects = {first, second};
  return t;
}

// Encodes `ticket` into a new Create-Job request.
IppPtr encode(const JobTicket& ticket, ipp_tag_t group = IPP_TAG_JOB) {
  IppPtr ipp(ippNewRequest(IPP_OP_CREATE_JOB));
  encode_job_ticket(ticket, ipp.get(), group);
  return ipp;
}

using ipp3d::testing::wire_round_trip;

TEST(JobTicketIpp, FullTicketRoundTripsInMemory) {
  const JobTicket ticket = full_ticket();
  IppPtr ipp = encode(ticket);
  auto decoded = decode_job_ticket(ipp.get());
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(*decoded, ticket);
}

TEST(JobTicketIpp, FullTicketRoundTripsThroughTheWireFormat) {
  const JobTicket ticket = full_ticket();
  IppPtr ipp = encode(ticket);
  IppPtr parsed = wire_round_trip(ipp.get());
  auto decoded = decode_job_ticket(parsed.get());
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(*decoded, ticket);
}

TEST(JobTicketIpp, EmptyTicketEncodesNothing) {
  IppPtr ipp = encode(JobTicket{});
  for (const auto& name : job_ticket_attribute_names()) {
    EXPECT_EQ(ippFindAttribute(ipp.get(), name.c_str(), IPP_TAG_ZERO), nullptr) << name;
  }
  auto decoded = decode_job_ticket(ipp.get());
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, JobTicket{});
}

TEST(JobTicketIpp, EveryAttributeIsInTheJobGroupWithItsSyntax) {
  IppPtr ipp = encode(full_ticket());
  const std::vector<std::pair<const char*, ipp_tag_t>> expected = {
      {"materials-col", IPP_TAG_BEGIN_COLLECTION},
      {"platform-temperature", IPP_TAG_INTEGER},
      {"chamber-temperature", IPP_TAG_INTEGER},
      {"print-accuracy", IPP_TAG_BEGIN_COLLECTION},
      {"print-base", IPP_TAG_KEYWORD},
      {"print-supports", IPP_TAG_KEYWORD},
      {"print-quality", IPP_TAG_ENUM},
      {"print-objects", IPP_TAG_BEGIN_COLLECTION}};
  for (const auto& [name, tag] : expected) {
    ipp_attribute_t* attr = ippFindAttribute(ipp.get(), name, IPP_TAG_ZERO);
    ASSERT_NE(attr, nullptr) << name;
    EXPECT_EQ(ippGetGroupTag(attr), IPP_TAG_JOB) << name;
    EXPECT_EQ(ippGetValueTag(attr), tag) << name;
  }
  EXPECT_EQ(ippGetCount(ippFindAttribute(ipp.get(), "materials-col", IPP_TAG_ZERO)), 2);
  EXPECT_EQ(ippGetCount(ippFindAttribute(ipp.get(), "print-objects", IPP_TAG_ZERO)), 2);
}

TEST(JobTicketIpp, PrintObjectMembersAreNestedCollections) {
  IppPtr ipp = encode(full_ticket());
  ipp_t* object = ippGetCollection(ippFindAttribute(ipp.get(), "print-objects", IPP_TAG_ZERO), 0);
  ipp_attribute_t* offset = ippFindAttribute(object, "object-offset", IPP_TAG_BEGIN_COLLECTION);
  ipp_attribute_t* size = ippFindAttribute(object, "object-size", IPP_TAG_BEGIN_COLLECTION);
  ASSERT_NE(offset, nullptr);
  ASSERT_NE(size, nullptr);
  EXPECT_EQ(ippGetInteger(ippFindAttribute(ippGetCollection(offset, 0), "y-offset", IPP_TAG_INTEGER), 0),
            2000);
  EXPECT_EQ(ippGetInteger(ippFindAttribute(ippGetCollection(size, 0), "z-dimension", IPP_TAG_INTEGER), 0),
            7000);
  EXPECT_NE(ippFindAttribute(object, "object-uuid", IPP_TAG_URI), nullptr);
}

TEST(JobTicketIpp, OperationGroupIsSearchedToo) {
  const JobTicket ticket = full_ticket();
  IppPtr ipp = encode(ticket, IPP_TAG_OPERATION);
  auto decoded = decode_job_ticket(ipp.get());
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(*decoded, ticket);
}

TEST(JobTicketIpp, JobGroupWinsOverOperationGroup) {
  IppPtr ipp(ippNewRequest(IPP_OP_CREATE_JOB));
  ippAddString(ipp.get(), IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "print-base", nullptr, "raft");
  ippAddString(ipp.get(), IPP_TAG_JOB, IPP_TAG_KEYWORD, "print-base", nullptr, "brim");
  auto decoded = decode_job_ticket(ipp.get());
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->print_base, "brim");
}

TEST(JobTicketIpp, OtherGroupsAreIgnored) {
  IppPtr ipp(ippNewRequest(IPP_OP_CREATE_JOB));
  ippAddString(ipp.get(), IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "print-base", nullptr, "brim");
  auto decoded = decode_job_ticket(ipp.get());
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->print_base, std::nullopt);
}

TEST(JobTicketIpp, AcceptsWhatCupsLpOptionsProduce) {
  // lp -d printer -o 'print-base=brim platform-temperature=60 print-quality=5 ...' file.gcode
  IppPtr ipp(ippNewRequest(IPP_OP_CREATE_JOB));
  cups_option_t* options = nullptr;
  const int count = cupsParseOptions(
      "print-base=brim print-supports=standard platform-temperature=60 chamber-temperature=-5 "
      "print-quality=5 "
      "materials-col={material-key=pla-generic material-temperature=210 material-retraction=true "
      "material-diameter=1750000 material-type=pla material-purpose=all} "
      "print-objects={document-number=1 object-uuid=urn:uuid:4a1c2b3d-0000-4000-8000-123456789abc "
      "object-offset={x-offset=10 y-offset=20 z-offset=0}}",
      0, &options);
  cupsEncodeOptions2(ipp.get(), count, options, IPP_TAG_JOB);
  cupsFreeOptions(count, options);

  auto decoded = decode_job_ticket(ipp.get());
  ASSERT_TRUE(decoded.ok()) << decoded.error().attribute << ": " << decoded.error().message;
  JobTicket expected;
  Material material;
  material.material_key = "pla-generic";
  material.material_temperature = IntegerOrRange::single(210);
  material.material_retraction = true;
  material.material_diameter = 1'750'000;
  material.material_type = "pla";
  material.material_purpose = {"all"};
  expected.materials_col = {material};
  expected.print_base = "brim";
  expected.print_supports = "standard";
  expected.platform_temperature = 60;
  expected.chamber_temperature = -5;
  expected.print_quality = 5;
  PrintObject object;
  object.document_number = 1;
  object.object_uuid = "urn:uuid:4a1c2b3d-0000-4000-8000-123456789abc";
  object.object_offset = ObjectOffset{10, 20, 0};
  expected.print_objects = {object};
  EXPECT_EQ(*decoded, expected);
}

// ---------------------------------------------------------------------------
// Text syntax accepted in place of keywords and integers (real clients).

struct TextCase {
  std::string label;
  const char* name;
  ipp_tag_t tag;
  const char* value;
  JobTicket expected;
};

class JobTicketTextSyntax : public ::testing::TestWithParam<TextCase> {};

TEST_P(JobTicketTextSyntax, IsAccepted) {
  IppPtr ipp(ippNewRequest(IPP_OP_CREATE_JOB));
  ippAddString(ipp.get(), IPP_TAG_JOB, GetParam().tag, GetParam().name, nullptr, GetParam().value);
  auto decoded = decode_job_ticket(ipp.get());
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(*decoded, GetParam().expected);
}

// A ticket with one change applied.
JobTicket ticket_with(const std::function<void(JobTicket&)>& change) {
  JobTicket t;
  change(t);
  return t;
}

INSTANTIATE_TEST_SUITE_P(
    Text, JobTicketTextSyntax,
    ::testing::Values(TextCase{"BaseAsName", "print-base", IPP_TAG_NAME, "raft",
                               ticket_with([](JobTicket& ticket) { ticket.print_base = "raft"; })},
                      TextCase{"SupportsAsText", "print-supports", IPP_TAG_TEXT, "material",
                               ticket_with([](JobTicket& ticket) { ticket.print_supports = "material"; })},
                      TextCase{"PlatformTemperatureAsName", "platform-temperature", IPP_TAG_NAME, "60",
                               ticket_with([](JobTicket& ticket) { ticket.platform_temperature = 60; })},
                      TextCase{"NegativeChamberAsText", "chamber-temperature", IPP_TAG_TEXT, "-20",
                               ticket_with([](JobTicket& ticket) { ticket.chamber_temperature = -20; })},
                      TextCase{"QualityAsName", "print-quality", IPP_TAG_NAME, "3",
                               ticket_with([](JobTicket& ticket) { ticket.print_quality = 3; })}),
    [](const auto& test_info) { return test_info.param.label; });

// ---------------------------------------------------------------------------
// Decode errors.

struct TicketErrorCase {
  std::string label;
  std::function<void(ipp_t*)> build;  // adds attributes to a Create-Job request
  std::string attribute;
  std::string message;
};

class JobTicketDecodeError : public ::testing::TestWithParam<TicketErrorCase> {};

TEST_P(JobTicketDecodeError, NamesTheAttributeAndSaysWhy) {
  IppPtr ipp(ippNewRequest(IPP_OP_CREATE_JOB));
  GetParam().build(ipp.get());
  auto decoded = decode_job_ticket(ipp.get());
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().attribute, GetParam().attribute);
  EXPECT_EQ(decoded.error().message, GetParam().message);
  EXPECT_EQ(decoded.error().status, IPP_STATUS_ERROR_ATTRIBUTES_OR_VALUES);
}

// Adds a job-group integer attribute.
std::function<void(ipp_t*)> job_integer(const char* name, int value, ipp_tag_t tag = IPP_TAG_INTEGER) {
  return [=](ipp_t* ipp) { ippAddInteger(ipp, IPP_TAG_JOB, tag, name, value); };
}

// Adds a job-group string attribute.
std::function<void(ipp_t*)> job_string(const char* name, ipp_tag_t tag, const char* value) {
  return [=](ipp_t* ipp) { ippAddString(ipp, IPP_TAG_JOB, tag, name, nullptr, value); };
}

// Adds job attribute `name` as a 1setOf collection of two values: the one
// `good` builds followed by the one `bad` builds.
std::function<void(ipp_t*)> job_collections(const char* name, const std::function<void(ipp_t*)>& good,
                                            const std::function<void(ipp_t*)>& bad) {
  return [=](ipp_t* ipp) {
    IppPtr first = make_ipp();
    IppPtr second = make_ipp();
    good(first.get());
    bad(second.get());
    const ipp_t* values[] = {first.get(), second.get()};
    ippAddCollections(ipp, IPP_TAG_JOB, name, 2, values);
  };
}

// Adds a print-objects value whose object-offset/object-size is built by `build`.
std::function<void(ipp_t*)> object_with_member(const char* member, const std::function<void(ipp_t*)>& build) {
  return [=](ipp_t* ipp) {
    IppPtr inner = make_ipp();
    build(inner.get());
    IppPtr object = make_ipp();
    ippAddCollection(object.get(), IPP_TAG_ZERO, member, inner.get());
    ippAddCollection(ipp, IPP_TAG_JOB, "print-objects", object.get());
  };
}

// Adds integer members to a collection.
std::function<void(ipp_t*)> members(std::vector<std::pair<const char*, int>> values) {
  return [values = std::move(values)](ipp_t* col) {
    for (const auto& [name, value] : values) ippAddInteger(col, IPP_TAG_ZERO, IPP_TAG_INTEGER, name, value);
  };
}

INSTANTIATE_TEST_SUITE_P(
    Errors, JobTicketDecodeError,
    ::testing::Values(
        TicketErrorCase{"TwoPrintBases",
                        [](ipp_t* ipp) {
                          const char* const values[] = {"brim", "raft"};
                          ippAddStrings(ipp, IPP_TAG_JOB, IPP_TAG_KEYWORD, "print-base", 2, nullptr, values);
                        },
                        "print-base", "print-base must have exactly one value, got 2"},
        TicketErrorCase{"SupportsAsInteger", job_integer("print-supports", 1), "print-supports",
                        "print-supports must be a keyword, got integer"},
        TicketErrorCase{"BaseNotAKeyword", job_string("print-base", IPP_TAG_NAME, "Brim please"),
                        "print-base", "print-base \"Brim please\" is not a valid keyword"},
        TicketErrorCase{"QualityOutOfRange", job_integer("print-quality", 6, IPP_TAG_ENUM), "print-quality",
                        "print-quality 6 is outside 3-5"},
        TicketErrorCase{"QualityAsKeyword", job_string("print-quality", IPP_TAG_KEYWORD, "high"),
                        "print-quality", "print-quality must be an enum, got keyword"},
        TicketErrorCase{"PlatformBelowAbsoluteZero", job_integer("platform-temperature", -274),
                        "platform-temperature", "platform-temperature -274 is outside -273-MAX"},
        TicketErrorCase{"PlatformAsWord", job_string("platform-temperature", IPP_TAG_NAME, "hot"),
                        "platform-temperature",
                        "platform-temperature must be an integer, got nameWithoutLanguage \"hot\""},
        TicketErrorCase{"PlatformWithUnit", job_string("platform-temperature", IPP_TAG_NAME, "60C"),
                        "platform-temperature",
                        "platform-temperature must be an integer, got nameWithoutLanguage \"60C\""},
        TicketErrorCase{"PlatformWithPlus", job_string("platform-temperature", IPP_TAG_TEXT, "+60"),
                        "platform-temperature",
                        "platform-temperature must be an integer, got textWithoutLanguage \"+60\""},
        TicketErrorCase{"PlatformEmptyName", job_string("platform-temperature", IPP_TAG_NAME, ""),
                        "platform-temperature",
                        "platform-temperature must be an integer, got nameWithoutLanguage \"\""},
        TicketErrorCase{"PlatformAsKeyword", job_string("platform-temperature", IPP_TAG_KEYWORD, "60"),
                        "platform-temperature", "platform-temperature must be an integer, got keyword"},
        TicketErrorCase{"ChamberAsRange",
                        [](ipp_t* ipp) { ippAddRange(ipp, IPP_TAG_JOB, "chamber-temperature", 30, 40); },
                        "chamber-temperature", "chamber-temperature must be an integer, got rangeOfInteger"},
        TicketErrorCase{"MaterialsAsKeyword", job_string("materials-col", IPP_TAG_KEYWORD, "pla"),
                        "materials-col", "materials-col must be a collection, got keyword"},
        TicketErrorCase{"SecondMaterialFillDensity",
                        job_collections("materials-col", members({{"material-fill-density", 20}}),
                                        members({{"material-fill-density", 101}})),
                        "materials-col[1].material-fill-density",
                        "materials-col[1].material-fill-density 101 is outside 0-100"},
        TicketErrorCase{"MaterialUnknownMember",
                        job_collections("materials-col", members({}), members({{"material-size", 1}})),
                        "materials-col[1].material-size",
                        "unknown member material-size in materials-col[1] (not a materials-col member)"},
        TicketErrorCase{
            "MaterialDiameterWord",
            job_collections("materials-col", members({}),
                            [](ipp_t* c) {
                              ippAddString(c, IPP_TAG_ZERO, IPP_TAG_NAME, "material-diameter", nullptr,
                                           "1.75mm");
                            }),
            "materials-col[1].material-diameter",
            "materials-col[1].material-diameter must be an integer, got nameWithoutLanguage \"1.75mm\""},
        TicketErrorCase{"AccuracyNegative",
                        [](ipp_t* ipp) {
                          IppPtr col = make_ipp();
                          ippAddInteger(col.get(), IPP_TAG_ZERO, IPP_TAG_INTEGER, "x-accuracy", -1);
                          ippAddCollection(ipp, IPP_TAG_JOB, "print-accuracy", col.get());
                        },
                        "print-accuracy.x-accuracy", "print-accuracy.x-accuracy -1 is outside 0-MAX"},
        TicketErrorCase{"TwoAccuracies", job_collections("print-accuracy", members({}), members({})),
                        "print-accuracy", "print-accuracy must have exactly one value, got 2"},
        TicketErrorCase{"OffsetMissingZ",
                        object_with_member("object-offset", members({{"x-offset", 1}, {"y-offset", 2}})),
                        "print-objects[0].object-offset.z-offset",
                        "print-objects[0].object-offset.z-offset is missing"},
        TicketErrorCase{"NegativeOffset",
                        object_with_member("object-offset",
                                           members({{"x-offset", -1}, {"y-offset", 2}, {"z-offset", 0}})),
                        "print-objects[0].object-offset.x-offset",
                        "print-objects[0].object-offset.x-offset -1 is outside 0-MAX"},
        TicketErrorCase{
            "ZeroSize",
            object_with_member("object-size",
                               members({{"x-dimension", 0}, {"y-dimension", 2}, {"z-dimension", 3}})),
            "print-objects[0].object-size.x-dimension",
            "print-objects[0].object-size.x-dimension 0 is outside 1-MAX"},
        TicketErrorCase{"SizeMissingY",
                        object_with_member("object-size", members({{"x-dimension", 1}, {"z-dimension", 3}})),
                        "print-objects[0].object-size.y-dimension",
                        "print-objects[0].object-size.y-dimension is missing"},
        TicketErrorCase{"ZeroDocumentNumber",
                        job_collections("print-objects", members({{"document-number", 1}}),
                                        members({{"document-number", 0}})),
                        "print-objects[1].document-number",
                        "print-objects[1].document-number 0 is outside 1-MAX"},
        TicketErrorCase{
            "UuidAsKeyword",
            job_collections("print-objects", members({}),
                            [](ipp_t* c) {
                              ippAddString(c, IPP_TAG_ZERO, IPP_TAG_KEYWORD, "object-uuid", nullptr, "abc");
                            }),
            "print-objects[1].object-uuid", "print-objects[1].object-uuid must be a uri, got keyword"},
        TicketErrorCase{"ObjectUnknownMember",
                        job_collections("print-objects", members({}), members({{"object-colour", 1}})),
                        "print-objects[1].object-colour",
                        "unknown member object-colour in print-objects[1] (not a print-objects member)"},
        TicketErrorCase{
            "ErrorInOperationGroup",
            [](ipp_t* ipp) { ippAddInteger(ipp, IPP_TAG_OPERATION, IPP_TAG_ENUM, "print-quality", 2); },
            "print-quality", "print-quality 2 is outside 3-5"}),
    [](const auto& test_info) { return test_info.param.label; });

}  // namespace
}  // namespace ipp3d::attributes
