// materials-col codec: round trips, value tags, units and decode errors.
#include "ipp3d/attributes/ipp_codec.hpp"
#include "ipp3d/attributes/units.hpp"

#include <cups/ipp.h>
#include <gtest/gtest.h>

#include <functional>
#include <string>

namespace ipp3d::attributes {
namespace {

// A Material with every member set.
Material full_material() {
  Material m;
  m.material_key = "pla-generic";
  m.material_name = "Generic PLA";
  m.material_type = "pla";
  m.material_color = "red";
  m.material_diameter = 1'750'000;
  m.material_diameter_tolerance = 20'000;
  m.material_temperature = IntegerOrRange::range(190, 230);
  m.material_purpose = {"all", "support"};
  m.material_fill_density = 20;
  m.material_shell_thickness = 800'000;
  m.material_amount = MaterialAmount{1000};
  m.material_amount_units = "g";
  m.material_nozzle_diameter = 400'000;
  m.material_retraction = true;
  m.material_rate = 12;
  m.material_rate_units = "mm_second";
  return m;
}

TEST(MaterialIpp, FullMaterialRoundTrips) {
  const Material material = full_material();
  IppPtr col = encode_material(material);
  auto decoded = decode_material(col.get(), "materials-col[0]");
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(*decoded, material);
}

TEST(MaterialIpp, EveryMemberIsEncoded) {
  IppPtr col = encode_material(full_material());
  for (const auto& name : materials_col_member_names()) {
    EXPECT_NE(ippFindAttribute(col.get(), name.c_str(), IPP_TAG_ZERO), nullptr) << name;
  }
}

struct RoundTripCase {
  std::string label;
  Material material;
};

class MaterialRoundTrip : public ::testing::TestWithParam<RoundTripCase> {};

TEST_P(MaterialRoundTrip, DecodesToTheSameMaterial) {
  IppPtr col = encode_material(GetParam().material);
  auto decoded = decode_material(col.get(), "materials-col[0]");
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(*decoded, GetParam().material);
}

// Builds a Material with one change applied.
Material with(const std::function<void(Material&)>& change) {
  Material m;
  change(m);
  return m;
}

INSTANTIATE_TEST_SUITE_P(
    Variants, MaterialRoundTrip,
    ::testing::Values(
        RoundTripCase{"Empty", Material{}},
        RoundTripCase{"KeyOnly", with([](Material& m) { m.material_key = "petg-blue"; })},
        RoundTripCase{"SingleTemperature",
                      with([](Material& m) { m.material_temperature = IntegerOrRange::single(210); })},
        RoundTripCase{"RangeWithEqualEnds",
                      with([](Material& m) { m.material_temperature = IntegerOrRange::range(210, 210); })},
        RoundTripCase{"ColdTemperature",
                      with([](Material& m) { m.material_temperature = IntegerOrRange::single(-273); })},
        RoundTripCase{"UnknownAmount", with([](Material& m) { m.material_amount = MaterialAmount{}; })},
        RoundTripCase{"ZeroAmount", with([](Material& m) { m.material_amount = MaterialAmount{0}; })},
        RoundTripCase{"TypeAsName", with([](Material& m) { m.material_type = "PLA Silk"; })},
        RoundTripCase{"OrgStdType", with([](Material& m) { m.material_type = "astmb247m-a97050"; })},
        RoundTripCase{"NoRetraction", with([](Material& m) { m.material_retraction = false; })},
        RoundTripCase{"FullDensity", with([](Material& m) { m.material_fill_density = 100; })},
        RoundTripCase{"OnePurpose", with([](Material& m) { m.material_purpose = {"shell"}; })}),
    [](const auto& test_info) { return test_info.param.label; });

// The value tag of member `name` of `col`, or IPP_TAG_ZERO when absent.
ipp_tag_t tag_of(ipp_t* col, const char* name) {
  ipp_attribute_t* attr = ippFindAttribute(col, name, IPP_TAG_ZERO);
  return attr ? ippGetValueTag(attr) : IPP_TAG_ZERO;
}

TEST(MaterialIpp, UsesTheSpecValueTags) {
  IppPtr col = encode_material(full_material());
  EXPECT_EQ(tag_of(col.get(), "material-key"), IPP_TAG_KEYWORD);
  EXPECT_EQ(tag_of(col.get(), "material-name"), IPP_TAG_NAME);
  EXPECT_EQ(tag_of(col.get(), "material-type"), IPP_TAG_KEYWORD);
  EXPECT_EQ(tag_of(col.get(), "material-color"), IPP_TAG_KEYWORD);
  EXPECT_EQ(tag_of(col.get(), "material-diameter"), IPP_TAG_INTEGER);
  EXPECT_EQ(tag_of(col.get(), "material-temperature"), IPP_TAG_RANGE);
  EXPECT_EQ(tag_of(col.get(), "material-purpose"), IPP_TAG_KEYWORD);
  EXPECT_EQ(tag_of(col.get(), "material-retraction"), IPP_TAG_BOOLEAN);
  EXPECT_EQ(tag_of(col.get(), "material-amount-units"), IPP_TAG_KEYWORD);
  EXPECT_EQ(tag_of(col.get(), "material-rate-units"), IPP_TAG_KEYWORD);
  EXPECT_EQ(ippGetCount(ippFindAttribute(col.get(), "material-purpose", IPP_TAG_ZERO)), 2);
}

TEST(MaterialIpp, NameTypeUsesNameSyntaxAndUnknownAmountIsOutOfBand) {
  Material m;
  m.material_type = "PLA Silk";
  m.material_amount = MaterialAmount{};
  IppPtr col = encode_material(m);
  EXPECT_EQ(tag_of(col.get(), "material-type"), IPP_TAG_NAME);
  EXPECT_EQ(tag_of(col.get(), "material-amount"), IPP_TAG_UNKNOWN);
}

TEST(MaterialIpp, SingleTemperatureIsAnInteger) {
  Material m;
  m.material_temperature = IntegerOrRange::single(215);
  IppPtr col = encode_material(m);
  ipp_attribute_t* attr = ippFindAttribute(col.get(), "material-temperature", IPP_TAG_ZERO);
  ASSERT_NE(attr, nullptr);
  EXPECT_EQ(ippGetValueTag(attr), IPP_TAG_INTEGER);
  EXPECT_EQ(ippGetInteger(attr, 0), 215);
}

TEST(MaterialIpp, FilamentDiameterIsInNanometres) {
  Material m;
  m.material_diameter = millimetres_to_nanometres(1.75);
  m.material_nozzle_diameter = millimetres_to_nanometres(0.4);
  IppPtr col = encode_material(m);
  EXPECT_EQ(ippGetInteger(ippFindAttribute(col.get(), "material-diameter", IPP_TAG_ZERO), 0), 1'750'000);
  EXPECT_EQ(ippGetInteger(ippFindAttribute(col.get(), "material-nozzle-diameter", IPP_TAG_ZERO), 0), 400'000);
}

TEST(MaterialIpp, EmptyMaterialEncodesNoMembers) {
  IppPtr col = encode_material(Material{});
  EXPECT_EQ(ippFirstAttribute(col.get()), nullptr);
}

// ---------------------------------------------------------------------------
// Decode errors.

struct DecodeErrorCase {
  std::string label;
  std::function<void(ipp_t*)> build;  // adds members to an empty collection
  std::string attribute;
  std::string message;
};

class MaterialDecodeError : public ::testing::TestWithParam<DecodeErrorCase> {};

TEST_P(MaterialDecodeError, NamesTheMemberAndSaysWhy) {
  IppPtr col = make_ipp();
  GetParam().build(col.get());
  auto decoded = decode_material(col.get(), "materials-col[0]");
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().attribute, GetParam().attribute);
  EXPECT_EQ(decoded.error().message, GetParam().message);
  EXPECT_EQ(decoded.error().status, IPP_STATUS_ERROR_ATTRIBUTES_OR_VALUES);
}

// Adds an integer member.
std::function<void(ipp_t*)> integer(const char* name, int value) {
  return [=](ipp_t* c) { ippAddInteger(c, IPP_TAG_ZERO, IPP_TAG_INTEGER, name, value); };
}

// Adds a string member with the given tag.
std::function<void(ipp_t*)> string(const char* name, ipp_tag_t tag, const char* value) {
  return [=](ipp_t* c) { ippAddString(c, IPP_TAG_ZERO, tag, name, nullptr, value); };
}

INSTANTIATE_TEST_SUITE_P(
    Errors, MaterialDecodeError,
    ::testing::Values(
        DecodeErrorCase{"DiameterAsKeyword", string("material-diameter", IPP_TAG_KEYWORD, "thick"),
                        "materials-col[0].material-diameter",
                        "materials-col[0].material-diameter must be an integer, got keyword"},
        DecodeErrorCase{"DiameterAsTextInStrictMode", string("material-diameter", IPP_TAG_NAME, "1750000"),
                        "materials-col[0].material-diameter",
                        "materials-col[0].material-diameter must be an integer, got nameWithoutLanguage "
                        "\"1750000\""},
        DecodeErrorCase{"NegativeDiameter", integer("material-diameter", -1),
                        "materials-col[0].material-diameter",
                        "materials-col[0].material-diameter -1 is outside 0-MAX"},
        DecodeErrorCase{"NegativeTolerance", integer("material-diameter-tolerance", -5),
                        "materials-col[0].material-diameter-tolerance",
                        "materials-col[0].material-diameter-tolerance -5 is outside 0-MAX"},
        DecodeErrorCase{"FillDensityAbove100", integer("material-fill-density", 150),
                        "materials-col[0].material-fill-density",
                        "materials-col[0].material-fill-density 150 is outside 0-100"},
        DecodeErrorCase{"NegativeShell", integer("material-shell-thickness", -1),
                        "materials-col[0].material-shell-thickness",
                        "materials-col[0].material-shell-thickness -1 is outside 0-MAX"},
        DecodeErrorCase{"NegativeNozzle", integer("material-nozzle-diameter", -400),
                        "materials-col[0].material-nozzle-diameter",
                        "materials-col[0].material-nozzle-diameter -400 is outside 0-MAX"},
        DecodeErrorCase{"BelowAbsoluteZero", integer("material-temperature", -274),
                        "materials-col[0].material-temperature",
                        "materials-col[0].material-temperature -274 is outside -273-MAX"},
        DecodeErrorCase{
            "InvertedTemperatureRange",
            [](ipp_t* c) { ippAddRange(c, IPP_TAG_ZERO, "material-temperature", 230, 190); },
            "materials-col[0].material-temperature",
            "materials-col[0].material-temperature 230-190 is not a valid range (lower above upper)"},
        DecodeErrorCase{"TemperatureRangeBelowZero",
                        [](ipp_t* c) { ippAddRange(c, IPP_TAG_ZERO, "material-temperature", -300, 20); },
                        "materials-col[0].material-temperature",
                        "materials-col[0].material-temperature -300-20 is outside -273-MAX"},
        DecodeErrorCase{
            "TemperatureAsKeyword", string("material-temperature", IPP_TAG_KEYWORD, "hot"),
            "materials-col[0].material-temperature",
            "materials-col[0].material-temperature must be an integer or rangeOfInteger, got keyword"},
        DecodeErrorCase{"ZeroRate", integer("material-rate", 0), "materials-col[0].material-rate",
                        "materials-col[0].material-rate 0 is outside 1-MAX"},
        DecodeErrorCase{"NegativeAmount", integer("material-amount", -1), "materials-col[0].material-amount",
                        "materials-col[0].material-amount -1 is outside 0-MAX"},
        DecodeErrorCase{
            "AmountNoValue",
            [](ipp_t* c) { ippAddOutOfBand(c, IPP_TAG_ZERO, IPP_TAG_NOVALUE, "material-amount"); },
            "materials-col[0].material-amount",
            "materials-col[0].material-amount must be an integer, got no-value"},
        DecodeErrorCase{"TwoKeys",
                        [](ipp_t* c) {
                          const char* const keys[] = {"pla", "abs"};
                          ippAddStrings(c, IPP_TAG_ZERO, IPP_TAG_KEYWORD, "material-key", 2, nullptr, keys);
                        },
                        "materials-col[0].material-key",
                        "materials-col[0].material-key must have exactly one value, got 2"},
        DecodeErrorCase{"KeyNotAKeyword", string("material-key", IPP_TAG_KEYWORD, "Generic PLA"),
                        "materials-col[0].material-key",
                        "materials-col[0].material-key \"Generic PLA\" is not a valid keyword"},
        DecodeErrorCase{"KeyAsName", string("material-key", IPP_TAG_NAME, "pla"),
                        "materials-col[0].material-key",
                        "materials-col[0].material-key must be a keyword, got nameWithoutLanguage \"pla\""},
        DecodeErrorCase{"NameAsKeyword", string("material-name", IPP_TAG_KEYWORD, "pla"),
                        "materials-col[0].material-name",
                        "materials-col[0].material-name must be a name, got keyword"},
        DecodeErrorCase{"TypeAsInteger", integer("material-type", 3), "materials-col[0].material-type",
                        "materials-col[0].material-type must be a keyword or name, got integer"},
        DecodeErrorCase{"ColorNotAKeyword", string("material-color", IPP_TAG_KEYWORD, "Red"),
                        "materials-col[0].material-color",
                        "materials-col[0].material-color \"Red\" is not a valid keyword"},
        DecodeErrorCase{"UnknownPurpose", string("material-purpose", IPP_TAG_KEYWORD, "decoration"),
                        "materials-col[0].material-purpose",
                        "materials-col[0].material-purpose \"decoration\" is not one of all, base, in-fill, "
                        "shell, support"},
        DecodeErrorCase{"UnknownAmountUnits", string("material-amount-units", IPP_TAG_KEYWORD, "lb"),
                        "materials-col[0].material-amount-units",
                        "materials-col[0].material-amount-units \"lb\" is not one of g, kg, l, m, ml, mm"},
        DecodeErrorCase{"UnknownRateUnits", string("material-rate-units", IPP_TAG_KEYWORD, "ft_sec"),
                        "materials-col[0].material-rate-units",
                        "materials-col[0].material-rate-units \"ft_sec\" is not one of mg_second, ml_second, "
                        "mm_second"},
        DecodeErrorCase{"RetractionAsInteger", integer("material-retraction", 1),
                        "materials-col[0].material-retraction",
                        "materials-col[0].material-retraction must be a boolean, got integer"},
        DecodeErrorCase{"UnknownMember", integer("material-flavour", 1), "materials-col[0].material-flavour",
                        "unknown member material-flavour in materials-col[0] (not a materials-col member)"},
        DecodeErrorCase{"RepeatedMember",
                        [](ipp_t* c) {
                          ippAddInteger(c, IPP_TAG_ZERO, IPP_TAG_INTEGER, "material-diameter", 1'750'000);
                          ippAddInteger(c, IPP_TAG_ZERO, IPP_TAG_INTEGER, "material-diameter", 2'850'000);
                        },
                        "materials-col[0].material-diameter",
                        "materials-col[0].material-diameter appears more than once"}),
    [](const auto& test_info) { return test_info.param.label; });

TEST(MaterialIpp, ErrorPathUsesTheGivenPrefix) {
  IppPtr col = make_ipp();
  ippAddInteger(col.get(), IPP_TAG_ZERO, IPP_TAG_INTEGER, "material-fill-density", -1);
  auto decoded = decode_material(col.get(), "materials-col-ready[2]");
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().attribute, "materials-col-ready[2].material-fill-density");
}

TEST(MaterialIpp, DecodeAcceptsNameWithLanguageForTheName) {
  IppPtr col = make_ipp();
  ippAddString(col.get(), IPP_TAG_ZERO, IPP_TAG_NAMELANG, "material-name", "en", "Generic PLA");
  auto decoded = decode_material(col.get(), "materials-col[0]");
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->material_name, "Generic PLA");
}

}  // namespace
}  // namespace ipp3d::attributes

namespace ipp3d::attributes {
namespace {

// §8.1.3.12 says "mm_sec", the IANA registry "mm_second": both decode to the IANA spelling.
TEST(MaterialIpp, RateUnitsAcceptBothSpecSpellings) {
  for (const char* sent : {"mm_sec", "mm_second"}) {
    IppPtr col = make_ipp();
    ippAddString(col.get(), IPP_TAG_ZERO, IPP_TAG_KEYWORD, "material-key", nullptr, "pla-generic");
    ippAddString(col.get(), IPP_TAG_ZERO, IPP_TAG_KEYWORD, "material-rate-units", nullptr, sent);
    auto decoded = decode_material(col.get(), "materials-col[0]");
    ASSERT_TRUE(decoded.ok()) << sent << ": " << decoded.error().message;
    EXPECT_EQ(decoded->material_rate_units, "mm_second") << sent;
  }
  IppPtr col = make_ipp();
  ippAddString(col.get(), IPP_TAG_ZERO, IPP_TAG_KEYWORD, "material-rate-units", nullptr, "furlong_sec");
  auto decoded = decode_material(col.get(), "materials-col[0]");
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().attribute, "materials-col[0].material-rate-units");
}

}  // namespace
}  // namespace ipp3d::attributes
