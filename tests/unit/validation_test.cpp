// Tests of validate_job_ticket() and material_matches() against a hand-built
// 220x220x250 mm filament printer with a heated bed and PLA loaded.
#include "ipp3d/attributes/validation.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace ipp3d::attributes {
namespace {

using ::testing::HasSubstr;

// The database PLA: key "pla-generic", type pla, 1.75 mm, 190-230 °C.
Material pla() {
  Material m;
  m.material_key = "pla-generic";
  m.material_name = "PLA";
  m.material_type = "pla";
  m.material_diameter = 1'750'000;
  m.material_temperature = IntegerOrRange::range(190, 230);
  return m;
}

// The database PETG: key "petg-generic", type pet, 1.75 mm, 220-250 °C.
Material petg() {
  Material m;
  m.material_key = "petg-generic";
  m.material_name = "PETG";
  m.material_type = "pet";
  m.material_diameter = 1'750'000;
  m.material_temperature = IntegerOrRange::range(220, 250);
  return m;
}

// A request naming a material by key only.
Material by_key(std::string key) {
  Material m;
  m.material_key = std::move(key);
  return m;
}

// A request naming a material by name only.
Material by_name(std::string name) {
  Material m;
  m.material_name = std::move(name);
  return m;
}

// `m` with `change` applied.
Material with(Material m, const std::function<void(Material&)>& change) {
  change(m);
  return m;
}

// A 220x220x250 mm filament printer with a heated bed (0 or 20-110 °C), no
// heated chamber, PLA and PETG in its database and PLA loaded.
PrinterCapabilities printer() {
  PrinterCapabilities caps;
  caps.printer_volume_supported = {22000, 22000, 25000};
  caps.platform_temperature_supported = {IntegerOrRange::single(0), IntegerOrRange::range(20, 110)};
  caps.materials_col_database = {pla(), petg()};
  caps.materials_col_ready = {pla()};
  caps.materials_col_default = {pla()};
  caps.max_materials_col_supported = 1;
  caps.material_diameter_supported = {IntegerOrRange::single(1'750'000)};
  caps.material_nozzle_diameter_supported = {IntegerOrRange::single(400'000),
                                             IntegerOrRange::single(600'000)};
  caps.material_temperature_supported = {IntegerOrRange::single(0), IntegerOrRange::range(180, 260)};
  caps.material_shell_thickness_supported = {IntegerOrRange::range(0, 2'000'000)};
  caps.material_purpose_supported = {"all", "base", "in-fill", "shell", "support"};
  caps.material_type_supported = {"pla", "pet"};
  caps.print_accuracy_supported = {"um", 50, 50, 100};
  caps.accuracy_units_supported = {"mm", "um"};
  caps.print_base_supported = {"none", "brim", "skirt"};
  caps.print_supports_supported = {"none", "standard"};
  caps.print_quality_supported = {3, 4, 5};
  return caps;
}

// A ticket requesting `material` only.
JobTicket ticket_for(Material material) {
  JobTicket ticket;
  ticket.materials_col = {std::move(material)};
  return ticket;
}

// ---------------------------------------------------------------------------
// Error paths.

// Changes the ticket and/or the printer of a case.
using Setup = std::function<void(JobTicket&, PrinterCapabilities&)>;

struct ErrorCase {
  std::string name;
  Setup setup;
  LoadedMaterialPolicy policy;
  std::string attribute;
  std::string message;  // a phrase the message must contain
};

// Prints a case by name in gtest output.
void PrintTo(const ErrorCase& c, std::ostream* os) { *os << c.name; }

class ValidationError : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(ValidationError, NamesAttributeAndReason) {
  const auto& c = GetParam();
  JobTicket ticket;
  auto caps = printer();
  c.setup(ticket, caps);
  const auto result = validate_job_ticket(ticket, caps, c.policy);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().status, IPP_STATUS_ERROR_ATTRIBUTES_OR_VALUES);
  EXPECT_EQ(result.error().attribute, c.attribute);
  EXPECT_THAT(result.error().message, HasSubstr(c.message));
}

constexpr auto kWait = LoadedMaterialPolicy::kMayWait;
constexpr auto kRequire = LoadedMaterialPolicy::kRequireLoaded;

// Sets the ticket to request `material`.
Setup request(Material material) {
  return [material](JobTicket& t, PrinterCapabilities&) { t.materials_col = {material}; };
}

// Requests "pla-generic" with `change` applied to the request.
Setup request_pla(const std::function<void(Material&)>& change) {
  auto m = by_key("pla-generic");
  change(m);
  return request(m);
}

// Leaves the materials empty and applies `change` to the ticket.
Setup ticket_change(const std::function<void(JobTicket&)>& change) {
  return [change](JobTicket& t, PrinterCapabilities&) { change(t); };
}

// Applies `change` to both, for cases that need a different printer.
Setup both(const std::function<void(JobTicket&, PrinterCapabilities&)>& change) { return change; }

const ErrorCase kMaterialErrors[] = {
    {"MissingKeyAndName", request_pla([](Material& m) {
       m.material_key.reset();
       m.material_type = "pla";
     }),
     kWait, "materials-col[0]", "materials-col[0] needs material-key or material-name"},
    {"UnknownKey", request(by_key("xyz")), kWait, "materials-col[0].material-key",
     "materials-col[0].material-key 'xyz' is not in this printer's materials database"},
    {"UnknownName", request(by_name("Wood PLA")), kWait, "materials-col[0].material-name",
     "materials-col[0].material-name 'Wood PLA' is not in this printer's materials database"},
    {"KeyWinsOverName", request_pla([](Material& m) { m.material_key = "nope", m.material_name = "PLA"; }),
     kWait, "materials-col[0].material-key", "'nope' is not in this printer's materials database"},
    {"TypeDisagrees", request_pla([](Material& m) { m.material_type = "pet"; }), kWait,
     "materials-col[0].material-type",
     "materials-col[0].material-type 'pet' does not match 'pla' of the loaded PLA"},
    {"NameDisagreesWithKey", request_pla([](Material& m) { m.material_name = "PETG"; }), kWait,
     "materials-col[0].material-name", "'PETG' does not match 'PLA' of the loaded PLA"},
    {"DiameterDisagrees",
     [](JobTicket& t, PrinterCapabilities&) {
       auto m = by_key("petg-generic");
       m.material_diameter = 2'850'000;
       t.materials_col = {m};
     },
     kWait, "materials-col[0].material-diameter",
     "materials-col[0].material-diameter 2850000 does not match 1750000 of PETG"},
    {"ColorDisagreesWithLoaded",
     [](JobTicket& t, PrinterCapabilities& caps) {
       caps.materials_col_ready[0].material_color = "white";
       caps.materials_col_database = {petg()};  // no wildcard PLA to fall back on
       t.materials_col = {by_key("pla-generic")};
       t.materials_col[0].material_color = "black";
     },
     kWait, "materials-col[0].material-color", "'black' does not match 'white' of the loaded PLA"},
    {"NozzleDisagrees",
     [](JobTicket& t, PrinterCapabilities& caps) {
       caps.materials_col_ready[0].material_nozzle_diameter = 400'000;
       caps.materials_col_database[0].material_nozzle_diameter = 400'000;
       t.materials_col = {by_key("pla-generic")};
       t.materials_col[0].material_nozzle_diameter = 600'000;
     },
     kWait, "materials-col[0].material-nozzle-diameter", "600000 does not match 400000 of the loaded PLA"},
};

const ErrorCase kTemperatureErrors[] = {
    {"TemperatureOutsideLoadedMaterial",
     request_pla([](Material& m) { m.material_temperature = IntegerOrRange::single(300); }), kWait,
     "materials-col[0].material-temperature",
     "materials-col[0].material-temperature 300 is outside 190-230 for the loaded PLA"},
    {"TemperatureOutsidePrinterLimits",
     [](JobTicket& t, PrinterCapabilities& caps) {
       caps.materials_col_ready[0].material_temperature = IntegerOrRange::range(190, 300);
       t.materials_col = {by_key("pla-generic")};
       t.materials_col[0].material_temperature = IntegerOrRange::single(280);
     },
     kWait, "materials-col[0].material-temperature",
     "materials-col[0].material-temperature 280 is outside 0, 180-260"},
    {"TemperatureNotControlled",
     [](JobTicket& t, PrinterCapabilities& caps) {
       caps.material_temperature_supported.clear();
       t.materials_col = {by_key("pla-generic")};
       t.materials_col[0].material_temperature = IntegerOrRange::single(200);
     },
     kWait, "materials-col[0].material-temperature", "is not supported"},
    {"PlatformWithoutHeatedBed",
     [](JobTicket& t, PrinterCapabilities& caps) {
       caps.platform_temperature_supported.clear();
       t.platform_temperature = 60;
     },
     kWait, "platform-temperature", "platform-temperature is not supported: this printer has no heated bed"},
    {"PlatformTooHot", ticket_change([](JobTicket& t) { t.platform_temperature = 150; }), kWait,
     "platform-temperature", "platform-temperature 150 is outside 0, 20-110"},
    {"PlatformBetweenOffAndMinimum", ticket_change([](JobTicket& t) { t.platform_temperature = 10; }), kWait,
     "platform-temperature", "platform-temperature 10 is outside 0, 20-110"},
    {"ChamberWithoutHeater", ticket_change([](JobTicket& t) { t.chamber_temperature = 40; }), kWait,
     "chamber-temperature", "chamber-temperature is not supported: this printer has no heated chamber"},
    {"ChamberTooHot", both([](JobTicket& t, PrinterCapabilities& caps) {
       caps.chamber_temperature_supported = {IntegerOrRange::single(0), IntegerOrRange::range(30, 60)};
       t.chamber_temperature = 70;
     }),
     kWait, "chamber-temperature", "chamber-temperature 70 is outside 0, 30-60"},
};

const ErrorCase kMemberErrors[] = {
    {"DiameterNotSupported", both([](JobTicket& t, PrinterCapabilities& caps) {
       caps.material_diameter_supported = {IntegerOrRange::single(2'850'000)};
       t.materials_col = {by_key("pla-generic")};
     }),
     kWait, "materials-col[0].material-diameter",
     "materials-col[0].material-diameter 1750000 is outside 2850000"},
    {"NozzleNotSupported", request_pla([](Material& m) { m.material_nozzle_diameter = 800'000; }), kWait,
     "materials-col[0].material-nozzle-diameter",
     "materials-col[0].material-nozzle-diameter 800000 is outside 400000, 600000"},
    {"TypeNotSupported", both([](JobTicket& t, PrinterCapabilities& caps) {
       caps.material_type_supported = {"pet"};
       t.materials_col = {by_key("pla-generic")};
     }),
     kWait, "materials-col[0].material-type",
     "materials-col[0].material-type 'pla' is not supported (supported: pet)"},
    {"PurposeNotSupported", both([](JobTicket& t, PrinterCapabilities& caps) {
       caps.material_purpose_supported = {"all", "in-fill", "shell"};
       t.materials_col = {by_key("pla-generic")};
       t.materials_col[0].material_purpose = {"shell", "support"};
     }),
     kWait, "materials-col[0].material-purpose",
     "materials-col[0].material-purpose 'support' is not supported (supported: all, in-fill, shell)"},
    {"FillDensityOver100", request_pla([](Material& m) { m.material_fill_density = 120; }), kWait,
     "materials-col[0].material-fill-density", "materials-col[0].material-fill-density 120 is outside 0-100"},
    {"FillDensityNegative", request_pla([](Material& m) { m.material_fill_density = -1; }), kWait,
     "materials-col[0].material-fill-density", "-1 is outside 0-100"},
    {"ShellThicknessNotSupported", request_pla([](Material& m) { m.material_shell_thickness = 3'000'000; }),
     kWait, "materials-col[0].material-shell-thickness",
     "materials-col[0].material-shell-thickness 3000000 is outside 0-2000000"},
    {"TooManyMaterials",
     [](JobTicket& t, PrinterCapabilities&) {
       t.materials_col = {by_key("pla-generic"), by_key("petg-generic")};
     },
     kWait, "materials-col", "materials-col has 2 values but this printer supports at most 1"},
    {"SecondMaterialUnknown", both([](JobTicket& t, PrinterCapabilities& caps) {
       caps.max_materials_col_supported = 2;
       t.materials_col = {by_key("pla-generic"), by_key("abs-generic")};
     }),
     kWait, "materials-col[1].material-key", "materials-col[1].material-key 'abs-generic' is not in"},
    {"NotLoadedWhenRequired", request(by_key("petg-generic")), kRequire, "materials-col[0]",
     "materials-col[0]: PETG is not loaded (loaded: PLA)"},
    {"NothingLoadedWhenRequired",
     both([](JobTicket&, PrinterCapabilities& caps) { caps.materials_col_ready.clear(); }), kRequire,
     "materials-col", "no material is loaded"},
    {"NothingLoadedNoDefault", both([](JobTicket&, PrinterCapabilities& caps) {
       caps.materials_col_ready.clear();
       caps.materials_col_default.clear();
     }),
     kWait, "materials-col", "no material is loaded"},
    {"NothingLoadedRequestedAnyway", both([](JobTicket& t, PrinterCapabilities& caps) {
       caps.materials_col_ready.clear();
       t.materials_col = {by_key("pla-generic")};
     }),
     kRequire, "materials-col[0]", "materials-col[0]: PLA is not loaded (loaded: none)"},
};

const ErrorCase kPrintErrors[] = {
    {"PrintBaseNotSupported", ticket_change([](JobTicket& t) { t.print_base = "raft"; }), kWait, "print-base",
     "print-base 'raft' is not supported (supported: none, brim, skirt)"},
    {"PrintSupportsNotSupported", ticket_change([](JobTicket& t) { t.print_supports = "material"; }), kWait,
     "print-supports", "print-supports 'material' is not supported (supported: none, standard)"},
    {"PrintQualityNotSupported", both([](JobTicket& t, PrinterCapabilities& caps) {
       caps.print_quality_supported = {3, 4};
       t.print_quality = 5;
     }),
     kWait, "print-quality", "print-quality 5 is not supported (supported: 3, 4)"},
    {"AccuracyUnitsNotSupported", ticket_change([](JobTicket& t) {
       t.print_accuracy = PrintAccuracy{"nm", 1, {}, {}};
     }),
     kWait, "print-accuracy.accuracy-units",
     "print-accuracy.accuracy-units 'nm' is not supported (supported: mm, um)"},
    {"AccuracyWithoutUnits", ticket_change([](JobTicket& t) {
       t.print_accuracy = PrintAccuracy{{}, 100, {}, {}};
     }),
     kWait, "print-accuracy.accuracy-units", "needs accuracy-units"},
    {"AccuracyXFiner", ticket_change([](JobTicket& t) {
       t.print_accuracy = PrintAccuracy{"um", 10, {}, {}};
     }),
     kWait, "print-accuracy.x-accuracy",
     "print-accuracy.x-accuracy 10 um is finer than this printer's best 50 um"},
    {"AccuracyYFiner", ticket_change([](JobTicket& t) {
       t.print_accuracy = PrintAccuracy{"um", 50, 49, 100};
     }),
     kWait, "print-accuracy.y-accuracy", "49 um is finer than this printer's best 50 um"},
    {"AccuracyZFiner", ticket_change([](JobTicket& t) {
       t.print_accuracy = PrintAccuracy{"um", {}, {}, 99};
     }),
     kWait, "print-accuracy.z-accuracy", "99 um is finer than this printer's best 100 um"},
    {"AccuracyFinerAcrossUnits", both([](JobTicket& t, PrinterCapabilities& caps) {
       caps.print_accuracy_supported = {"mm", 1, 1, 1};
       t.print_accuracy = PrintAccuracy{"um", 500, {}, {}};
     }),
     kWait, "print-accuracy.x-accuracy", "500 um is finer than this printer's best 1 mm"},
    {"AccuracyZeroIsBetterThanOneUnit", ticket_change([](JobTicket& t) {
       t.print_accuracy = PrintAccuracy{"um", {}, {}, 0};
     }),
     kWait, "print-accuracy.z-accuracy", "0 um is finer"},
    {"ObjectBeyondX", ticket_change([](JobTicket& t) {
       t.print_objects = {PrintObject{1, ObjectOffset{1000, 0, 0}, BuildVolume{21500, 100, 100}, {}}};
     }),
     kWait, "print-objects[0].object-size",
     "print-objects[0] x-offset 1000 + x-dimension 21500 exceeds printer-volume-supported x-dimension 22000"},
    {"ObjectTooTall", ticket_change([](JobTicket& t) {
       t.print_objects = {PrintObject{{}, {}, BuildVolume{100, 100, 25001}, {}}};
     }),
     kWait, "print-objects[0].object-size", "z-offset 0 + z-dimension 25001 exceeds"},
    {"ObjectOffsetBeyondY", ticket_change([](JobTicket& t) {
       t.print_objects = {PrintObject{{}, ObjectOffset{0, 23000, 0}, {}, {}}};
     }),
     kWait, "print-objects[0].object-offset", "y-offset 23000 + y-dimension 0 exceeds"},
    {"ObjectOfSecondDocument", ticket_change([](JobTicket& t) {
       t.print_objects = {PrintObject{1, {}, {}, {}}, PrintObject{2, {}, {}, {}}};
     }),
     kWait, "print-objects[1].document-number", "print-objects[1].document-number 2 is not 1"},
};

// The test name of a case.
std::string case_name(const ::testing::TestParamInfo<ErrorCase>& info) { return info.param.name; }

INSTANTIATE_TEST_SUITE_P(Materials, ValidationError, ::testing::ValuesIn(kMaterialErrors), case_name);
INSTANTIATE_TEST_SUITE_P(Temperatures, ValidationError, ::testing::ValuesIn(kTemperatureErrors), case_name);
INSTANTIATE_TEST_SUITE_P(MaterialMembers, ValidationError, ::testing::ValuesIn(kMemberErrors), case_name);
INSTANTIATE_TEST_SUITE_P(PrintOptions, ValidationError, ::testing::ValuesIn(kPrintErrors), case_name);

// ---------------------------------------------------------------------------
// Success paths.

// Validates `ticket` against the default printer and requires success.
ValidatedTicket validate_ok(const JobTicket& ticket, const PrinterCapabilities& caps = printer(),
                            LoadedMaterialPolicy policy = kWait) {
  auto result = validate_job_ticket(ticket, caps, policy);
  EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.error().attribute + ": " + result.error().message);
  return result.ok() ? std::move(result).value() : ValidatedTicket{};
}

TEST(ValidateJobTicket, KeyOnlyIsCompletedFromTheLoadedEntry) {
  const auto out = validate_ok(ticket_for(by_key("pla-generic")), printer(), kRequire);
  ASSERT_EQ(out.materials.size(), 1u);
  EXPECT_EQ(out.materials[0], pla());
  EXPECT_TRUE(out.materials_loaded);
}

TEST(ValidateJobTicket, NameOnlyIsCompletedFromTheDatabase) {
  const auto out = validate_ok(ticket_for(by_name("PETG")));
  ASSERT_EQ(out.materials.size(), 1u);
  EXPECT_EQ(out.materials[0], petg());
  EXPECT_FALSE(out.materials_loaded);
}

TEST(ValidateJobTicket, CompatibleExtraMembersAreOverlaid) {
  auto request = by_key("pla-generic");
  request.material_fill_density = 20;
  request.material_purpose = {"shell", "in-fill"};
  request.material_shell_thickness = 800'000;
  request.material_temperature = IntegerOrRange::single(210);
  request.material_color = "white";
  request.material_type = "pla";
  request.material_nozzle_diameter = 400'000;
  const auto out = validate_ok(ticket_for(request), printer(), kRequire);
  ASSERT_EQ(out.materials.size(), 1u);
  auto expected = pla();
  expected.material_fill_density = 20;
  expected.material_purpose = {"shell", "in-fill"};
  expected.material_shell_thickness = 800'000;
  expected.material_temperature = IntegerOrRange::single(210);
  expected.material_color = "white";
  expected.material_nozzle_diameter = 400'000;
  EXPECT_EQ(out.materials[0], expected);
  EXPECT_TRUE(out.materials_loaded);  // color and nozzle are wildcards in the loaded entry
}

TEST(ValidateJobTicket, NarrowerTemperatureRangeIsAccepted) {
  auto request = by_key("petg-generic");
  request.material_temperature = IntegerOrRange::range(230, 240);
  const auto out = validate_ok(ticket_for(request));
  ASSERT_EQ(out.materials.size(), 1u);
  EXPECT_EQ(out.materials[0].material_temperature, IntegerOrRange::range(230, 240));
}

TEST(ValidateJobTicket, DatabaseEntryIsUsedWhenTheLoadedOneDisagrees) {
  auto caps = printer();
  caps.materials_col_ready[0].material_color = "white";
  auto request = by_key("pla-generic");
  request.material_color = "black";
  const auto out = validate_ok(ticket_for(request), caps);
  ASSERT_EQ(out.materials.size(), 1u);
  EXPECT_EQ(out.materials[0].material_color, "black");
  EXPECT_FALSE(out.materials_loaded);
}

TEST(ValidateJobTicket, MaterialNotLoadedMayWait) {
  const auto out = validate_ok(ticket_for(by_key("petg-generic")), printer(), kWait);
  EXPECT_FALSE(out.materials_loaded);
}

TEST(ValidateJobTicket, OneOfTwoMaterialsNotLoaded) {
  auto caps = printer();
  caps.max_materials_col_supported = 2;
  JobTicket ticket;
  ticket.materials_col = {by_key("pla-generic"), by_name("PETG")};
  const auto out = validate_ok(ticket, caps);
  ASSERT_EQ(out.materials.size(), 2u);
  EXPECT_EQ(out.materials[1], petg());
  EXPECT_FALSE(out.materials_loaded);
}

TEST(ValidateJobTicket, ReadyEntryWithoutKeyMatchesByName) {
  auto caps = printer();
  caps.materials_col_ready[0].material_key.reset();
  const auto out = validate_ok(ticket_for(by_key("pla-generic")), caps, kRequire);
  EXPECT_EQ(out.materials[0], pla());  // completed from the database entry
  EXPECT_TRUE(out.materials_loaded);
}

TEST(ValidateJobTicket, EmptyTicketUsesTheLoadedMaterial) {
  const auto out = validate_ok(JobTicket{}, printer(), kRequire);
  ASSERT_EQ(out.materials.size(), 1u);
  EXPECT_EQ(out.materials[0], pla());
  EXPECT_TRUE(out.materials_loaded);
}

TEST(ValidateJobTicket, EmptyTicketWithNothingLoadedUsesTheDefault) {
  auto caps = printer();
  caps.materials_col_ready.clear();
  caps.materials_col_default = {petg()};
  const auto out = validate_ok(JobTicket{}, caps, kWait);
  ASSERT_EQ(out.materials.size(), 1u);
  EXPECT_EQ(out.materials[0], petg());
  EXPECT_FALSE(out.materials_loaded);
}

TEST(ValidateJobTicket, BoundaryValuesAreAccepted) {
  JobTicket ticket;
  ticket.platform_temperature = 110;
  ticket.print_base = "brim";
  ticket.print_supports = "standard";
  ticket.print_quality = 5;
  ticket.print_objects = {PrintObject{1, ObjectOffset{0, 0, 0}, BuildVolume{22000, 22000, 25000}, {}},
                          PrintObject{{}, ObjectOffset{21000, 21000, 0}, BuildVolume{1000, 1000, 1}, {}}};
  (void)validate_ok(ticket);
  ticket.platform_temperature = 0;  // heater off
  (void)validate_ok(ticket);
  ticket.platform_temperature = 20;
  (void)validate_ok(ticket);
}

TEST(ValidateJobTicket, ChamberTemperatureInSetIsAccepted) {
  auto caps = printer();
  caps.chamber_temperature_supported = {IntegerOrRange::single(0), IntegerOrRange::range(30, 60)};
  JobTicket ticket;
  ticket.chamber_temperature = 0;
  (void)validate_ok(ticket, caps);
  ticket.chamber_temperature = 45;
  (void)validate_ok(ticket, caps);
}

TEST(ValidateJobTicket, AccuracyEqualOrCoarserIsAccepted) {
  JobTicket ticket;
  ticket.print_accuracy = PrintAccuracy{"um", 50, 60, 100};
  (void)validate_ok(ticket);
  ticket.print_accuracy = PrintAccuracy{"mm", 1, 2, 1};
  (void)validate_ok(ticket);
  ticket.print_accuracy = PrintAccuracy{"mm", 0, 0, 0};  // better than 1 mm: 50/100 um qualify
  (void)validate_ok(ticket);
  ticket.print_accuracy = PrintAccuracy{};
  (void)validate_ok(ticket);
}

TEST(ValidateJobTicket, AnyNozzleWhenTheSetIsEmpty) {
  auto caps = printer();
  caps.material_nozzle_diameter_supported.clear();
  auto request = by_key("pla-generic");
  request.material_nozzle_diameter = 800'000;
  (void)validate_ok(ticket_for(request), caps);
}

TEST(ValidateJobTicket, TemperatureInsideBothRangesIsAccepted) {
  auto request = by_key("pla-generic");
  request.material_temperature = IntegerOrRange::single(230);
  const auto out = validate_ok(ticket_for(request), printer(), kRequire);
  EXPECT_TRUE(out.materials_loaded);
}

// §12: inside the printer's limits but outside the material's range is
// clamped into the material's range and reported, not refused.
TEST(ValidateJobTicket, TemperatureOutsideTheMaterialIsClampedAndReported) {
  auto request = by_key("petg-generic");
  request.material_temperature = IntegerOrRange::single(210);
  const auto out = validate_ok(ticket_for(request), printer(), kWait);
  ASSERT_EQ(out.materials.size(), 1u);
  EXPECT_EQ(out.materials[0].material_temperature, IntegerOrRange::single(220));
  ASSERT_EQ(out.substitutions.size(), 1u);
  EXPECT_EQ(out.substitutions[0].attribute, "materials-col[0].material-temperature");
  EXPECT_EQ(out.substitutions[0].message,
            "materials-col[0].material-temperature 210 was clamped to 220 for PETG (220-250)");
}

TEST(ValidateJobTicket, TemperatureRangeIsClampedToItsOverlap) {
  auto request = by_key("pla-generic");
  request.material_temperature = IntegerOrRange::range(180, 220);
  const auto out = validate_ok(ticket_for(request), printer(), kRequire);
  EXPECT_EQ(out.materials[0].material_temperature, IntegerOrRange::range(190, 220));
  ASSERT_EQ(out.substitutions.size(), 1u);
  EXPECT_NE(out.substitutions[0].message.find("180-220 was clamped to 190-220 for the loaded PLA"),
            std::string::npos)
      << out.substitutions[0].message;
}

TEST(ValidateJobTicket, NoSubstitutionWhenInsideTheMaterialRange) {
  auto request = by_key("pla-generic");
  request.material_temperature = IntegerOrRange::single(200);
  EXPECT_TRUE(validate_ok(ticket_for(request), printer(), kRequire).substitutions.empty());
}

// ---------------------------------------------------------------------------
// material_matches() truth table.

struct MatchCase {
  std::string name;
  Material requested;
  Material ready;
  bool matches;
};

// Prints a case by name in gtest output.
void PrintTo(const MatchCase& c, std::ostream* os) { *os << c.name; }

class MaterialMatches : public ::testing::TestWithParam<MatchCase> {};

TEST_P(MaterialMatches, TruthTable) {
  EXPECT_EQ(material_matches(GetParam().requested, GetParam().ready), GetParam().matches);
}

const MatchCase kMatchCases[] = {
    {"SameKey", by_key("pla-generic"), pla(), true},
    {"Identical", pla(), pla(), true},
    {"DifferentKey", by_key("petg-generic"), pla(), false},
    {"DifferentKeySameName", with(by_key("other"), [](Material& m) { m.material_name = "PLA"; }), pla(),
     false},
    {"KeyAgainstKeylessSameName", with(by_key("pla-generic"), [](Material& m) { m.material_name = "PLA"; }),
     by_name("PLA"), true},
    {"KeyAgainstKeylessNoName", by_key("pla-generic"), by_name("PLA"), false},
    {"SameNameNoKeys", by_name("PLA"), by_name("PLA"), true},
    {"DifferentNameNoKeys", by_name("PLA"), by_name("PETG"), false},
    {"NothingToCompare", Material{}, Material{}, false},
    {"TypeDisagrees", with(by_key("pla-generic"), [](Material& m) { m.material_type = "pet"; }), pla(),
     false},
    {"TypeWildcardInReady", with(pla(), [](Material& m) { m.material_type = "pla"; }),
     with(pla(), [](Material& m) { m.material_type.reset(); }), true},
    {"NameDisagreesWithSameKey", with(by_key("pla-generic"), [](Material& m) { m.material_name = "Other"; }),
     pla(), false},
    {"DiameterDisagrees", with(pla(), [](Material& m) { m.material_diameter = 2'850'000; }), pla(), false},
    {"ColorDisagrees", with(pla(), [](Material& m) { m.material_color = "black"; }),
     with(pla(), [](Material& m) { m.material_color = "white"; }), false},
    {"ColorWildcardInReady", with(pla(), [](Material& m) { m.material_color = "black"; }), pla(), true},
    {"NozzleDisagrees", with(pla(), [](Material& m) { m.material_nozzle_diameter = 600'000; }),
     with(pla(), [](Material& m) { m.material_nozzle_diameter = 400'000; }), false},
    {"TemperatureInside",
     with(pla(), [](Material& m) { m.material_temperature = IntegerOrRange::single(210); }), pla(), true},
    {"TemperatureOutside",
     with(pla(), [](Material& m) { m.material_temperature = IntegerOrRange::single(240); }), pla(), false},
    {"TemperatureRangeWider",
     with(pla(), [](Material& m) { m.material_temperature = IntegerOrRange::range(180, 230); }), pla(),
     false},
    {"JobSettingsDoNotMatter",
     with(pla(),
          [](Material& m) {
            m.material_fill_density = 20;
            m.material_purpose = {"all"};
            m.material_shell_thickness = 400'000;
            m.material_amount = MaterialAmount{50};
          }),
     with(pla(),
          [](Material& m) {
            m.material_fill_density = 15;
            m.material_purpose = {"shell"};
            m.material_amount = MaterialAmount{1000};
          }),
     true},
};

// The test name of a case.
std::string match_name(const ::testing::TestParamInfo<MatchCase>& info) { return info.param.name; }

INSTANTIATE_TEST_SUITE_P(Validation, MaterialMatches, ::testing::ValuesIn(kMatchCases), match_name);

}  // namespace
}  // namespace ipp3d::attributes
