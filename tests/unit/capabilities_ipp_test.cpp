// Printer Description codec: round trips (in memory and on the wire), value
// tags, exclusion, no duplicates, and decode errors with attribute paths.
#include "ipp3d/attributes/ipp_codec.hpp"
#include "ipp3d/attributes/units.hpp"

#include "ipp_wire.hpp"

#include <cups/ipp.h>
#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace ipp3d::attributes {
namespace {

// A PLA material as a printer's database/ready list would hold it.
Material pla() {
  Material m;
  m.material_key = "pla-generic";
  m.material_name = "Generic PLA";
  m.material_type = "pla";
  m.material_color = "white";
  m.material_diameter = 1'750'000;
  m.material_diameter_tolerance = 20'000;
  m.material_temperature = IntegerOrRange::range(190, 230);
  m.material_purpose = {"all"};
  m.material_fill_density = 20;
  m.material_shell_thickness = 800'000;
  m.material_amount = MaterialAmount{750};
  m.material_amount_units = "g";
  m.material_nozzle_diameter = 400'000;
  m.material_retraction = true;
  m.material_rate = 10;
  m.material_rate_units = "mm_second";
  return m;
}

// A PETG database entry that omits most members (wildcards).
Material petg() {
  Material m;
  m.material_key = "petg-generic";
  m.material_name = "Generic PETG";
  m.material_type = "pet";
  m.material_temperature = IntegerOrRange::single(240);
  m.material_amount = MaterialAmount{};  // unknown
  return m;
}

// A filament printer with a heated bed and chamber; every member set.
PrinterCapabilities full_caps() {
  PrinterCapabilities c;
  c.printer_volume_supported = {22000, 22000, 25000};
  c.platform_shape = "rectangle";
  c.platform_temperature_supported = {IntegerOrRange::range(0, 110)};
  c.platform_temperature_default = 60;
  c.chamber_temperature_supported = {IntegerOrRange::single(0), IntegerOrRange::single(40)};
  c.chamber_temperature_default = 0;
  c.materials_col_database = {pla(), petg()};
  c.materials_col_ready = {pla()};
  c.materials_col_default = {pla()};
  c.materials_col_supported = materials_col_member_names();
  c.max_materials_col_supported = 1;
  c.material_diameter_supported = {IntegerOrRange::single(1'750'000)};
  c.material_nozzle_diameter_supported = {IntegerOrRange::single(400'000), IntegerOrRange::single(600'000)};
  c.material_temperature_supported = {IntegerOrRange::range(0, 0), IntegerOrRange::range(170, 280)};
  c.material_shell_thickness_supported = {IntegerOrRange::range(400'000, 2'000'000)};
  c.material_rate_supported = {IntegerOrRange::range(1, 30)};
  c.material_rate_units_supported = {"mm_second"};
  c.material_purpose_supported = {"all"};
  c.material_type_supported = {"pla", "pet", "abs"};
  c.material_amount_units_supported = {"g", "m"};
  c.print_accuracy_supported = {"um", 12, 12, 40};
  c.print_accuracy_default = {"mm", 0, 0, 0};
  c.accuracy_units_supported = {"mm", "um", "nm"};
  c.print_base_default = "skirt";
  c.print_base_supported = {"none", "brim", "skirt"};
  c.print_supports_default = "none";
  c.print_supports_supported = {"none", "standard"};
  c.print_quality_default = 4;
  c.print_quality_supported = {3, 4, 5};
  c.ipp_features_supported = {"ipp-3d"};
  c.document_format_default = "application/vnd.pwg-safe-gcode";
  c.document_format_supported = {"application/vnd.pwg-safe-gcode", "model/3mf"};
  c.color_supported = true;
  c.multiple_document_jobs_supported = true;
  c.job_creation_attributes_supported = {"materials-col", "platform-temperature", "print-accuracy",
                                         "print-base",    "print-quality",        "print-supports"};
  return c;
}

// Encodes `caps` into a new message.
IppPtr encode(const PrinterCapabilities& caps, const CapabilityEncoding& options = {}) {
  IppPtr ipp = make_ipp();
  encode_capabilities(caps, ipp.get(), options);
  return ipp;
}

using ipp3d::testing::wire_round_trip;

// Number of attributes called `name` in `ipp`.
int occurrences(ipp_t* ipp, const char* name) {
  int n = 0;
  for (ipp_attribute_t* a = ippFindAttribute(ipp, name, IPP_TAG_ZERO); a;
       a = ippFindNextAttribute(ipp, name, IPP_TAG_ZERO)) {
    ++n;
  }
  return n;
}

// True when `ipp` has an attribute called `name`.
bool has(ipp_t* ipp, const char* name) { return ippFindAttribute(ipp, name, IPP_TAG_ZERO) != nullptr; }

TEST(CapabilitiesIpp, FullCapabilitiesRoundTripInMemory) {
  const PrinterCapabilities caps = full_caps();
  IppPtr ipp = encode(caps);
  auto decoded = decode_capabilities(ipp.get());
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(*decoded, caps);
}

TEST(CapabilitiesIpp, FullCapabilitiesRoundTripThroughTheWireFormat) {
  const PrinterCapabilities caps = full_caps();
  IppPtr ipp = encode(caps);
  IppPtr parsed = wire_round_trip(ipp.get());
  auto decoded = decode_capabilities(parsed.get());
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(*decoded, caps);
}

TEST(CapabilitiesIpp, EveryAttributeIsInThePrinterGroup) {
  IppPtr ipp = encode(full_caps());
  int count = 0;
  for (ipp_attribute_t* a = ippFirstAttribute(ipp.get()); a; a = ippNextAttribute(ipp.get())) {
    EXPECT_EQ(ippGetGroupTag(a), IPP_TAG_PRINTER) << ippGetName(a);
    ++count;
  }
  EXPECT_EQ(count, 35);  // every member of PrinterCapabilities
}

TEST(CapabilitiesIpp, NoAttributeNameAppearsTwice) {
  IppPtr ipp = encode(full_caps());
  std::map<std::string, int> seen;
  for (ipp_attribute_t* a = ippFirstAttribute(ipp.get()); a; a = ippNextAttribute(ipp.get())) {
    ++seen[ippGetName(a)];
  }
  for (const auto& [name, n] : seen) EXPECT_EQ(n, 1) << name;
}

struct TagCase {
  const char* name;
  ipp_tag_t tag;
  int count;
};

class CapabilityValueTag : public ::testing::TestWithParam<TagCase> {};

TEST_P(CapabilityValueTag, UsesTheSpecSyntax) {
  IppPtr ipp = encode(full_caps());
  ipp_attribute_t* attr = ippFindAttribute(ipp.get(), GetParam().name, IPP_TAG_ZERO);
  ASSERT_NE(attr, nullptr) << GetParam().name;
  EXPECT_EQ(ippGetValueTag(attr), GetParam().tag) << GetParam().name;
  EXPECT_EQ(ippGetCount(attr), GetParam().count) << GetParam().name;
}

INSTANTIATE_TEST_SUITE_P(Syntax, CapabilityValueTag,
                         ::testing::Values(TagCase{"printer-volume-supported", IPP_TAG_BEGIN_COLLECTION, 1},
                                           TagCase{"platform-shape", IPP_TAG_KEYWORD, 1},
                                           TagCase{"platform-temperature-supported", IPP_TAG_RANGE, 1},
                                           TagCase{"platform-temperature-default", IPP_TAG_INTEGER, 1},
                                           TagCase{"chamber-temperature-supported", IPP_TAG_INTEGER, 2},
                                           TagCase{"materials-col-database", IPP_TAG_BEGIN_COLLECTION, 2},
                                           TagCase{"materials-col-ready", IPP_TAG_BEGIN_COLLECTION, 1},
                                           TagCase{"materials-col-default", IPP_TAG_BEGIN_COLLECTION, 1},
                                           TagCase{"materials-col-supported", IPP_TAG_KEYWORD, 16},
                                           TagCase{"max-materials-col-supported", IPP_TAG_INTEGER, 1},
                                           TagCase{"material-diameter-supported", IPP_TAG_INTEGER, 1},
                                           TagCase{"material-temperature-supported", IPP_TAG_RANGE, 2},
                                           TagCase{"material-type-supported", IPP_TAG_KEYWORD, 3},
                                           TagCase{"print-accuracy-supported", IPP_TAG_BEGIN_COLLECTION, 1},
                                           TagCase{"print-accuracy-default", IPP_TAG_BEGIN_COLLECTION, 1},
                                           TagCase{"accuracy-units-supported", IPP_TAG_KEYWORD, 3},
                                           TagCase{"print-base-default", IPP_TAG_KEYWORD, 1},
                                           TagCase{"print-supports-supported", IPP_TAG_KEYWORD, 2},
                                           TagCase{"print-quality-default", IPP_TAG_ENUM, 1},
                                           TagCase{"print-quality-supported", IPP_TAG_ENUM, 3},
                                           TagCase{"ipp-features-supported", IPP_TAG_KEYWORD, 1},
                                           TagCase{"document-format-default", IPP_TAG_MIMETYPE, 1},
                                           TagCase{"document-format-supported", IPP_TAG_MIMETYPE, 2},
                                           TagCase{"color-supported", IPP_TAG_BOOLEAN, 1},
                                           TagCase{"multiple-document-jobs-supported", IPP_TAG_BOOLEAN, 1},
                                           TagCase{"job-creation-attributes-supported", IPP_TAG_KEYWORD, 6}),
                         [](const auto& test_info) {
                           std::string name = test_info.param.name;
                           std::erase(name, '-');
                           return name;
                         });

// The integer member `name` of collection attribute `attr`.
int member(ipp_attribute_t* attr, const char* name) {
  return ippGetInteger(ippFindAttribute(ippGetCollection(attr, 0), name, IPP_TAG_ZERO), 0);
}

TEST(CapabilitiesIpp, VolumeIsACollectionInHundredthsOfAMillimetre) {
  PrinterCapabilities caps = full_caps();
  caps.printer_volume_supported = {*millimetres_to_hundredths(220.0), *millimetres_to_hundredths(235.5),
                                   *millimetres_to_hundredths(250.0)};
  IppPtr ipp = encode(caps);
  ipp_attribute_t* volume = ippFindAttribute(ipp.get(), "printer-volume-supported", IPP_TAG_BEGIN_COLLECTION);
  ASSERT_NE(volume, nullptr);
  EXPECT_EQ(member(volume, "x-dimension"), 22000);
  EXPECT_EQ(member(volume, "y-dimension"), 23550);
  EXPECT_EQ(member(volume, "z-dimension"), 25000);
}

TEST(CapabilitiesIpp, AccuracyIsACollectionWithUnits) {
  IppPtr ipp = encode(full_caps());
  ipp_attribute_t* accuracy =
      ippFindAttribute(ipp.get(), "print-accuracy-supported", IPP_TAG_BEGIN_COLLECTION);
  ASSERT_NE(accuracy, nullptr);
  ipp_t* col = ippGetCollection(accuracy, 0);
  ipp_attribute_t* units = ippFindAttribute(col, "accuracy-units", IPP_TAG_KEYWORD);
  ASSERT_NE(units, nullptr);
  EXPECT_STREQ(ippGetString(units, 0, nullptr), "um");
  EXPECT_EQ(member(accuracy, "x-accuracy"), 12);
  EXPECT_EQ(member(accuracy, "y-accuracy"), 12);
  EXPECT_EQ(member(accuracy, "z-accuracy"), 40);
}

TEST(CapabilitiesIpp, FilamentDiameterIsInNanometres) {
  PrinterCapabilities caps = full_caps();
  caps.material_diameter_supported = {IntegerOrRange::single(*millimetres_to_nanometres(1.75))};
  IppPtr ipp = encode(caps);
  ipp_attribute_t* attr = ippFindAttribute(ipp.get(), "material-diameter-supported", IPP_TAG_INTEGER);
  ASSERT_NE(attr, nullptr);
  EXPECT_EQ(ippGetInteger(attr, 0), 1'750'000);
}

TEST(CapabilitiesIpp, NothingLoadedEncodesReadyAsNoValue) {
  PrinterCapabilities caps = full_caps();
  caps.materials_col_ready.clear();
  IppPtr ipp = encode(caps);
  ipp_attribute_t* ready = ippFindAttribute(ipp.get(), "materials-col-ready", IPP_TAG_ZERO);
  ASSERT_NE(ready, nullptr);
  EXPECT_EQ(ippGetValueTag(ready), IPP_TAG_NOVALUE);

  IppPtr parsed = wire_round_trip(ipp.get());
  auto decoded = decode_capabilities(parsed.get());
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_TRUE(decoded->materials_col_ready.empty());
  EXPECT_EQ(*decoded, caps);
}

TEST(CapabilitiesIpp, EmptyAndAbsentMembersAreNotEncoded) {
  PrinterCapabilities caps;  // nothing optional set
  caps.print_base_default.clear();
  IppPtr ipp = encode(caps);
  for (const char* name :
       {"platform-shape", "platform-temperature-supported", "platform-temperature-default",
        "chamber-temperature-supported", "chamber-temperature-default", "materials-col-database",
        "materials-col-default", "materials-col-supported", "material-diameter-supported",
        "material-rate-units-supported", "print-accuracy-supported", "print-accuracy-default",
        "print-base-default", "print-base-supported", "print-quality-supported", "document-format-default",
        "document-format-supported", "ipp-features-supported", "job-creation-attributes-supported"}) {
    EXPECT_FALSE(has(ipp.get(), name)) << name;
  }
  // Required attributes with scalar values are always present.
  for (const char* name : {"printer-volume-supported", "materials-col-ready", "max-materials-col-supported",
                           "print-supports-default", "print-quality-default", "color-supported",
                           "multiple-document-jobs-supported"}) {
    EXPECT_TRUE(has(ipp.get(), name)) << name;
  }
}

TEST(CapabilitiesIpp, ExcludedNamesAreLeftOut) {
  CapabilityEncoding options;
  options.exclude = {"document-format-supported", "document-format-default", "color-supported",
                     "materials-col-ready", "print-quality-default"};
  IppPtr ipp = encode(full_caps(), options);
  for (const auto& name : options.exclude) EXPECT_FALSE(has(ipp.get(), name.c_str())) << name;
  EXPECT_TRUE(has(ipp.get(), "printer-volume-supported"));
  EXPECT_TRUE(has(ipp.get(), "materials-col-default"));
  EXPECT_TRUE(has(ipp.get(), "print-quality-supported"));
  EXPECT_EQ(occurrences(ipp.get(), "ipp-features-supported"), 1);
}

TEST(CapabilitiesIpp, MixedIntegerAndRangeSetIsSentAsRanges) {
  PrinterCapabilities caps = full_caps();
  caps.material_temperature_supported = {IntegerOrRange::single(0), IntegerOrRange::range(170, 280)};
  IppPtr ipp = encode(caps);
  ipp_attribute_t* attr = ippFindAttribute(ipp.get(), "material-temperature-supported", IPP_TAG_ZERO);
  ASSERT_EQ(ippGetValueTag(attr), IPP_TAG_RANGE);
  auto decoded = decode_capabilities(ipp.get());
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->material_temperature_supported,
            (std::vector<IntegerOrRange>{IntegerOrRange::range(0, 0), IntegerOrRange::range(170, 280)}));
}

TEST(CapabilitiesIpp, MaterialTypeNamesUseNameSyntax) {
  PrinterCapabilities caps = full_caps();
  caps.material_type_supported = {"pla", "Prusament PETG"};
  IppPtr ipp = encode(caps);
  EXPECT_EQ(ippGetValueTag(ippFindAttribute(ipp.get(), "material-type-supported", IPP_TAG_ZERO)),
            IPP_TAG_NAME);
  auto decoded = decode_capabilities(ipp.get());
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->material_type_supported, caps.material_type_supported);
}

TEST(CapabilitiesIpp, DecodeReadsAnyGroup) {
  const PrinterCapabilities caps = full_caps();
  IppPtr ipp = encode(caps);
  for (ipp_attribute_t* a = ippFirstAttribute(ipp.get()); a; a = ippNextAttribute(ipp.get())) {
    ippSetGroupTag(ipp.get(), &a, IPP_TAG_OPERATION);
  }
  auto decoded = decode_capabilities(ipp.get());
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(*decoded, caps);
}

TEST(CapabilitiesIpp, MissingOptionalAttributesKeepDefaults) {
  IppPtr ipp = make_ipp();
  IppPtr volume = make_ipp();
  ippAddInteger(volume.get(), IPP_TAG_ZERO, IPP_TAG_INTEGER, "x-dimension", 10000);
  ippAddInteger(volume.get(), IPP_TAG_ZERO, IPP_TAG_INTEGER, "y-dimension", 12000);
  ippAddInteger(volume.get(), IPP_TAG_ZERO, IPP_TAG_INTEGER, "z-dimension", 14000);
  ippAddCollection(ipp.get(), IPP_TAG_PRINTER, "printer-volume-supported", volume.get());
  ippAddOutOfBand(ipp.get(), IPP_TAG_PRINTER, IPP_TAG_NOVALUE, "materials-col-ready");
  auto decoded = decode_capabilities(ipp.get());
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  PrinterCapabilities expected;
  expected.printer_volume_supported = {10000, 12000, 14000};
  EXPECT_EQ(*decoded, expected);
}

TEST(CapabilitiesIpp, NoValueDefaultTemperatureIsAbsent) {
  PrinterCapabilities caps = full_caps();
  caps.chamber_temperature_default.reset();
  IppPtr ipp = encode(caps);
  ippAddOutOfBand(ipp.get(), IPP_TAG_PRINTER, IPP_TAG_NOVALUE, "chamber-temperature-default");
  auto decoded = decode_capabilities(ipp.get());
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(*decoded, caps);
}

// ---------------------------------------------------------------------------
// Decode errors: each case edits a fully encoded message.

struct CapsErrorCase {
  std::string label;
  std::function<void(ipp_t*)> edit;
  std::string attribute;
  std::string message;
};

class CapabilitiesDecodeError : public ::testing::TestWithParam<CapsErrorCase> {};

TEST_P(CapabilitiesDecodeError, NamesTheAttributeAndSaysWhy) {
  IppPtr ipp = encode(full_caps());
  GetParam().edit(ipp.get());
  auto decoded = decode_capabilities(ipp.get());
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().attribute, GetParam().attribute);
  EXPECT_EQ(decoded.error().message, GetParam().message);
}

// Removes attribute `name`.
void remove(ipp_t* ipp, const char* name) {
  ippDeleteAttribute(ipp, ippFindAttribute(ipp, name, IPP_TAG_ZERO));
}

// An edit that replaces attribute `name` with what `add` adds.
std::function<void(ipp_t*)> replace(const char* name, std::function<void(ipp_t*)> add) {
  return [name, add = std::move(add)](ipp_t* ipp) {
    remove(ipp, name);
    add(ipp);
  };
}

// An edit that replaces `name` with a collection built by `build`.
std::function<void(ipp_t*)> replace_collection(const char* name, std::function<void(ipp_t*)> build) {
  return replace(name, [name, build = std::move(build)](ipp_t* ipp) {
    IppPtr col = make_ipp();
    build(col.get());
    ippAddCollection(ipp, IPP_TAG_PRINTER, name, col.get());
  });
}

// Adds member integers to a collection.
std::function<void(ipp_t*)> integers(std::vector<std::pair<const char*, int>> members) {
  return [members = std::move(members)](ipp_t* col) {
    for (const auto& [name, value] : members) ippAddInteger(col, IPP_TAG_ZERO, IPP_TAG_INTEGER, name, value);
  };
}

// An edit that replaces materials-col-ready with {pla, `bad`}.
std::function<void(ipp_t*)> ready_with(std::function<void(ipp_t*)> bad) {
  return replace("materials-col-ready", [bad = std::move(bad)](ipp_t* ipp) {
    IppPtr good = encode_material(pla());
    IppPtr wrong = make_ipp();
    bad(wrong.get());
    const ipp_t* values[] = {good.get(), wrong.get()};
    ippAddCollections(ipp, IPP_TAG_PRINTER, "materials-col-ready", 2, values);
  });
}

INSTANTIATE_TEST_SUITE_P(
    Errors, CapabilitiesDecodeError,
    ::testing::Values(
        CapsErrorCase{"MissingVolume", [](ipp_t* ipp) { remove(ipp, "printer-volume-supported"); },
                      "printer-volume-supported", "printer-volume-supported is missing"},
        CapsErrorCase{"MissingReady", [](ipp_t* ipp) { remove(ipp, "materials-col-ready"); },
                      "materials-col-ready", "materials-col-ready is missing"},
        CapsErrorCase{"VolumeWithoutZ",
                      replace_collection("printer-volume-supported",
                                         integers({{"x-dimension", 100}, {"y-dimension", 100}})),
                      "printer-volume-supported.z-dimension",
                      "printer-volume-supported.z-dimension is missing"},
        CapsErrorCase{
            "ZeroWidthVolume",
            replace_collection("printer-volume-supported",
                               integers({{"x-dimension", 0}, {"y-dimension", 100}, {"z-dimension", 9}})),
            "printer-volume-supported.x-dimension",
            "printer-volume-supported.x-dimension 0 is outside 1-MAX"},
        CapsErrorCase{"VolumeUnknownMember",
                      replace_collection("printer-volume-supported", integers({{"w-dimension", 1}})),
                      "printer-volume-supported.w-dimension",
                      "unknown member w-dimension in printer-volume-supported (not a dimensions member)"},
        CapsErrorCase{
            "VolumeAsInteger",
            replace("printer-volume-supported",
                    [](ipp_t* ipp) {
                      ippAddInteger(ipp, IPP_TAG_PRINTER, IPP_TAG_INTEGER, "printer-volume-supported", 5);
                    }),
            "printer-volume-supported", "printer-volume-supported must be a collection, got integer"},
        CapsErrorCase{"ReadyMaterialDiameterAsKeyword", ready_with([](ipp_t* c) {
                        ippAddString(c, IPP_TAG_ZERO, IPP_TAG_KEYWORD, "material-diameter", nullptr, "thin");
                      }),
                      "materials-col-ready[1].material-diameter",
                      "materials-col-ready[1].material-diameter must be an integer, got keyword"},
        CapsErrorCase{"ReadyMaterialUnknownMember", ready_with(integers({{"material-hue", 3}})),
                      "materials-col-ready[1].material-hue",
                      "unknown member material-hue in materials-col-ready[1] (not a materials-col member)"},
        CapsErrorCase{"QualityOutOfRange",
                      replace("print-quality-supported",
                              [](ipp_t* ipp) {
                                const int values[] = {4, 7};
                                ippAddIntegers(ipp, IPP_TAG_PRINTER, IPP_TAG_ENUM, "print-quality-supported",
                                               2, values);
                              }),
                      "print-quality-supported", "print-quality-supported 7 is outside 3-5"},
        CapsErrorCase{"QualityDefaultAsInteger",
                      replace("print-quality-default",
                              [](ipp_t* ipp) {
                                ippAddInteger(ipp, IPP_TAG_PRINTER, IPP_TAG_INTEGER, "print-quality-default",
                                              4);
                              }),
                      "print-quality-default", "print-quality-default must be an enum, got integer"},
        CapsErrorCase{
            "NegativeDiameterRange",
            replace("material-diameter-supported",
                    [](ipp_t* ipp) {
                      ippAddRange(ipp, IPP_TAG_PRINTER, "material-diameter-supported", -10, 1'750'000);
                    }),
            "material-diameter-supported", "material-diameter-supported -10-1750000 is outside 0-MAX"},
        CapsErrorCase{"RateZero",
                      replace("material-rate-supported",
                              [](ipp_t* ipp) {
                                ippAddInteger(ipp, IPP_TAG_PRINTER, IPP_TAG_INTEGER,
                                              "material-rate-supported", 0);
                              }),
                      "material-rate-supported", "material-rate-supported 0 is outside 1-MAX"},
        CapsErrorCase{"TemperatureKeyword",
                      replace("platform-temperature-supported",
                              [](ipp_t* ipp) {
                                ippAddString(ipp, IPP_TAG_PRINTER, IPP_TAG_KEYWORD,
                                             "platform-temperature-supported", nullptr, "hot");
                              }),
                      "platform-temperature-supported",
                      "platform-temperature-supported must be an integer or rangeOfInteger, got keyword"},
        CapsErrorCase{"DefaultBelowAbsoluteZero",
                      replace("platform-temperature-default",
                              [](ipp_t* ipp) {
                                ippAddInteger(ipp, IPP_TAG_PRINTER, IPP_TAG_INTEGER,
                                              "platform-temperature-default", -300);
                              }),
                      "platform-temperature-default",
                      "platform-temperature-default -300 is outside -273-MAX"},
        CapsErrorCase{"TwoPrintBaseDefaults",
                      replace("print-base-default",
                              [](ipp_t* ipp) {
                                const char* const values[] = {"brim", "raft"};
                                ippAddStrings(ipp, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "print-base-default", 2,
                                              nullptr, values);
                              }),
                      "print-base-default", "print-base-default must have exactly one value, got 2"},
        CapsErrorCase{"MaxMaterialsZero",
                      replace("max-materials-col-supported",
                              [](ipp_t* ipp) {
                                ippAddInteger(ipp, IPP_TAG_PRINTER, IPP_TAG_INTEGER,
                                              "max-materials-col-supported", 0);
                              }),
                      "max-materials-col-supported", "max-materials-col-supported 0 is outside 1-MAX"},
        CapsErrorCase{"FormatsAsKeywords",
                      replace("document-format-supported",
                              [](ipp_t* ipp) {
                                ippAddString(ipp, IPP_TAG_PRINTER, IPP_TAG_KEYWORD,
                                             "document-format-supported", nullptr, "gcode");
                              }),
                      "document-format-supported",
                      "document-format-supported must be a mimeMediaType, got keyword"},
        CapsErrorCase{"ColorAsKeyword",
                      replace("color-supported",
                              [](ipp_t* ipp) {
                                ippAddString(ipp, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "color-supported",
                                             nullptr, "true");
                              }),
                      "color-supported", "color-supported must be a boolean, got keyword"},
        CapsErrorCase{"AccuracyUnknownMember",
                      replace_collection("print-accuracy-supported", integers({{"w-accuracy", 1}})),
                      "print-accuracy-supported.w-accuracy",
                      "unknown member w-accuracy in print-accuracy-supported (not a print-accuracy member)"},
        CapsErrorCase{
            "AccuracyNegative", replace_collection("print-accuracy-default", integers({{"z-accuracy", -1}})),
            "print-accuracy-default.z-accuracy", "print-accuracy-default.z-accuracy -1 is outside 0-MAX"},
        CapsErrorCase{"FeatureNotAKeyword",
                      replace("ipp-features-supported",
                              [](ipp_t* ipp) {
                                ippAddString(ipp, IPP_TAG_PRINTER, IPP_TAG_KEYWORD, "ipp-features-supported",
                                             nullptr, "IPP 3D");
                              }),
                      "ipp-features-supported", "ipp-features-supported \"IPP 3D\" is not a valid keyword"}),
    [](const auto& test_info) { return test_info.param.label; });

}  // namespace
}  // namespace ipp3d::attributes
