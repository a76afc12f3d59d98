// The REQUIRED attribute list and its agreement with encode_capabilities().
#include "ipp3d/attributes/required.hpp"

#include "ipp3d/attributes/ipp_codec.hpp"

#include <cups/ipp.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>

namespace ipp3d::attributes {
namespace {

// The source listed for `name`, or nullopt when it is not listed.
std::optional<AttributeSource> source_of(const std::string& name) {
  const auto& list = required_filament_printer_attributes();
  auto it = std::find_if(list.begin(), list.end(), [&](const auto& a) { return a.name == name; });
  if (it == list.end()) return std::nullopt;
  return it->source;
}

// A representative filament printer with a heated bed, as a configuration
// would describe it: only what such a printer has, no heated chamber.
PrinterCapabilities filament_heated_bed_printer() {
  Material pla;
  pla.material_key = "pla";
  pla.material_name = "PLA";
  pla.material_type = "pla";
  pla.material_diameter = 1'750'000;
  pla.material_temperature = IntegerOrRange::range(190, 230);
  pla.material_purpose = {"all"};
  pla.material_fill_density = 20;
  pla.material_shell_thickness = 800'000;

  PrinterCapabilities c;
  c.printer_volume_supported = {22000, 22000, 25000};
  c.platform_temperature_supported = {IntegerOrRange::range(0, 110)};
  c.platform_temperature_default = 60;
  c.materials_col_database = {pla};
  c.materials_col_ready = {};  // nothing loaded yet: still encoded (no-value)
  c.materials_col_default = {pla};
  c.materials_col_supported = {"material-diameter",    "material-fill-density", "material-key",
                               "material-name",        "material-purpose",      "material-shell-thickness",
                               "material-temperature", "material-type"};
  c.max_materials_col_supported = 1;
  c.material_diameter_supported = {IntegerOrRange::single(1'750'000)};
  c.material_temperature_supported = {IntegerOrRange::range(170, 280)};
  c.material_shell_thickness_supported = {IntegerOrRange::range(400'000, 2'000'000)};
  c.material_purpose_supported = {"all"};
  c.material_type_supported = {"pla", "pet"};
  c.print_accuracy_supported = {"um", 12, 12, 40};
  c.print_accuracy_default = {"um", 100, 100, 200};
  c.accuracy_units_supported = {"mm", "um", "nm"};
  c.print_base_supported = {"none", "brim", "skirt"};
  c.print_supports_supported = {"none"};
  c.print_quality_supported = {3, 4, 5};
  c.ipp_features_supported = {"ipp-3d"};
  c.document_format_default = "application/vnd.pwg-safe-gcode";
  c.document_format_supported = {"application/vnd.pwg-safe-gcode"};
  c.job_creation_attributes_supported = {"materials-col", "platform-temperature", "print-accuracy",
                                         "print-base",    "print-quality",        "print-supports"};
  return c;
}

TEST(RequiredAttributes, NamesAreUnique) {
  std::set<std::string> names;
  for (const auto& attribute : required_filament_printer_attributes()) {
    EXPECT_TRUE(names.insert(attribute.name).second) << attribute.name;
  }
}

struct SourceCase {
  const char* name;
  AttributeSource source;
};

class RequiredAttributeSource : public ::testing::TestWithParam<SourceCase> {};

TEST_P(RequiredAttributeSource, IsListedWithItsSource) {
  EXPECT_EQ(source_of(GetParam().name), GetParam().source) << GetParam().name;
}

INSTANTIATE_TEST_SUITE_P(Sources, RequiredAttributeSource,
                         ::testing::Values(
                             // 3D-specific REQUIRED attributes.
                             SourceCase{"printer-volume-supported", AttributeSource::kModel},
                             SourceCase{"materials-col-ready", AttributeSource::kModel},
                             SourceCase{"materials-col-default", AttributeSource::kModel},
                             SourceCase{"materials-col-supported", AttributeSource::kModel},
                             SourceCase{"max-materials-col-supported", AttributeSource::kModel},
                             SourceCase{"material-purpose-supported", AttributeSource::kModel},
                             SourceCase{"material-type-supported", AttributeSource::kModel},
                             SourceCase{"material-shell-thickness-supported", AttributeSource::kModel},
                             SourceCase{"accuracy-units-supported", AttributeSource::kModel},
                             SourceCase{"print-accuracy-supported", AttributeSource::kModel},
                             SourceCase{"print-accuracy-default", AttributeSource::kModel},
                             SourceCase{"print-base-default", AttributeSource::kModel},
                             SourceCase{"print-base-supported", AttributeSource::kModel},
                             SourceCase{"print-supports-default", AttributeSource::kModel},
                             SourceCase{"print-supports-supported", AttributeSource::kModel},
                             // Conditionally required for a filament printer with a heated bed.
                             SourceCase{"material-diameter-supported", AttributeSource::kModel},
                             SourceCase{"material-temperature-supported", AttributeSource::kModel},
                             SourceCase{"platform-temperature-default", AttributeSource::kModel},
                             SourceCase{"platform-temperature-supported", AttributeSource::kModel},
                             // Generic Table 5 attributes the model carries.
                             SourceCase{"ipp-features-supported", AttributeSource::kModel},
                             SourceCase{"document-format-default", AttributeSource::kModel},
                             SourceCase{"document-format-supported", AttributeSource::kModel},
                             SourceCase{"color-supported", AttributeSource::kModel},
                             SourceCase{"multiple-document-jobs-supported", AttributeSource::kModel},
                             SourceCase{"job-creation-attributes-supported", AttributeSource::kModel},
                             SourceCase{"print-quality-default", AttributeSource::kModel},
                             SourceCase{"print-quality-supported", AttributeSource::kModel},
                             // Generic Table 5 attributes the IPP server generates.
                             SourceCase{"charset-configured", AttributeSource::kIppServer},
                             SourceCase{"charset-supported", AttributeSource::kIppServer},
                             SourceCase{"compression-supported", AttributeSource::kIppServer},
                             SourceCase{"generated-natural-language-supported", AttributeSource::kIppServer},
                             SourceCase{"identify-actions-default", AttributeSource::kIppServer},
                             SourceCase{"identify-actions-supported", AttributeSource::kIppServer},
                             SourceCase{"ipp-versions-supported", AttributeSource::kIppServer},
                             SourceCase{"job-ids-supported", AttributeSource::kIppServer},
                             SourceCase{"multiple-operation-time-out", AttributeSource::kIppServer},
                             SourceCase{"multiple-operation-time-out-action", AttributeSource::kIppServer},
                             SourceCase{"natural-language-configured", AttributeSource::kIppServer},
                             SourceCase{"operations-supported", AttributeSource::kIppServer},
                             SourceCase{"printer-geo-location", AttributeSource::kIppServer},
                             SourceCase{"printer-get-attributes-supported", AttributeSource::kIppServer},
                             SourceCase{"printer-icons", AttributeSource::kIppServer},
                             SourceCase{"printer-info", AttributeSource::kIppServer},
                             SourceCase{"printer-location", AttributeSource::kIppServer},
                             SourceCase{"printer-make-and-model", AttributeSource::kIppServer},
                             SourceCase{"printer-more-info", AttributeSource::kIppServer},
                             SourceCase{"printer-name", AttributeSource::kIppServer},
                             SourceCase{"printer-organization", AttributeSource::kIppServer},
                             SourceCase{"printer-organizational-unit", AttributeSource::kIppServer},
                             SourceCase{"printer-xri-supported", AttributeSource::kIppServer},
                             SourceCase{"which-jobs-supported", AttributeSource::kIppServer}),
                         [](const auto& test_info) {
                           std::string name = test_info.param.name;
                           std::erase(name, '-');
                           return name;
                         });

TEST(RequiredAttributes, ListHasExactlyTheTableEntries) {
  EXPECT_EQ(required_filament_printer_attributes().size(), 51u);
}

TEST(RequiredAttributes, ConditionalAttributesOfOtherPrinterClassesAreNotListed) {
  for (const char* name : {"chamber-temperature-default", "chamber-temperature-supported",
                           "chamber-humidity-supported", "pdf-features-supported", "print-objects-supported",
                           "multiple-object-handling-supported", "materials-col-database"}) {
    EXPECT_EQ(source_of(name), std::nullopt) << name;
  }
}

TEST(RequiredAttributes, RepresentativePrinterEncodesEveryModelAttribute) {
  IppPtr ipp = make_ipp();
  encode_capabilities(filament_heated_bed_printer(), ipp.get());
  for (const auto& attribute : required_filament_printer_attributes()) {
    if (attribute.source != AttributeSource::kModel) continue;
    ipp_attribute_t* attr = ippFindAttribute(ipp.get(), attribute.name.c_str(), IPP_TAG_ZERO);
    ASSERT_NE(attr, nullptr) << attribute.name;
    EXPECT_EQ(ippGetGroupTag(attr), IPP_TAG_PRINTER) << attribute.name;
  }
}

TEST(RequiredAttributes, ModelNeverEncodesServerAttributes) {
  IppPtr ipp = make_ipp();
  encode_capabilities(filament_heated_bed_printer(), ipp.get());
  for (ipp_attribute_t* a = ippFirstAttribute(ipp.get()); a; a = ippNextAttribute(ipp.get())) {
    EXPECT_NE(source_of(ippGetName(a)), AttributeSource::kIppServer) << ippGetName(a);
  }
}

}  // namespace
}  // namespace ipp3d::attributes
