// limits_from_policy: the published G-code policy read back into the gate's
// limits, accepted only when it reproduces the text byte for byte.
#include "ipp3d/client/policy_limits.hpp"

#include "ipp3d/config/config.hpp"
#include "ipp3d/gcode/policy.hpp"

#include <gtest/gtest.h>

namespace ipp3d::client {
namespace {

// The limits of the default printer plus a macro, a macro command and a chamber.
gcode::Limits sample_limits() {
  gcode::Limits limits = gcode::limits_for(config::default_config().printers.front());
  limits.macros.push_back(config::Macro{"PRINT_START", {"EXTRUDER"}, {"BED"}, {}, true});
  limits.macro_commands.insert("M600");
  limits.chamber = config::HeaterLimits{0, 60};
  return limits;
}

// A printer whose configuration lists things out of order: macros, their
// parameters, materials (one without a bed range), overridden commands.
config::PrinterConfig unordered_printer() {
  config::PrinterConfig printer = config::default_config().printers.front();
  printer.macros.push_back(config::Macro{"M600", {}, {}, {}, false});
  printer.macros.push_back(config::Macro{"HEAT_SOAK", {"T2", "T1"}, {"BED_B", "BED_A"}, {"CH"}, true});
  printer.limits.overridden_commands = {"M109", "G29"};
  printer.chamber = config::HeaterLimits{0, 70};
  config::MaterialConfig abs_material;
  abs_material.key = "abs-no-bed-range";
  abs_material.name = "ABS";
  abs_material.type = "abs";
  abs_material.hotend_min_temp = 230;
  abs_material.hotend_max_temp = 260;
  printer.materials.push_back(abs_material);
  return printer;
}

TEST(PolicyLimits, ReproducesTheServersLimitsExactly) {
  for (const auto& printer : {config::default_config().printers.front(), unordered_printer()}) {
    const gcode::Limits server = gcode::limits_for(printer);
    auto client = limits_from_policy(gcode::policy_json(server));
    ASSERT_TRUE(client) << client.error().message;
    EXPECT_TRUE(*client == server) << gcode::policy_json(server);
    EXPECT_EQ(client->materials, server.materials);
    EXPECT_EQ(client->macros, server.macros);
  }
}

TEST(PolicyLimits, CarriesTheMaterialsDatabase) {
  auto limits = limits_from_policy(gcode::policy_json(gcode::limits_for(unordered_printer())));
  ASSERT_TRUE(limits) << limits.error().message;
  ASSERT_EQ(limits->materials.size(), 3U);  // sorted by key
  EXPECT_EQ(limits->materials[0], (gcode::MaterialRange{"abs-no-bed-range", 230, 260, {}, {}}));
  EXPECT_EQ(limits->materials[2], (gcode::MaterialRange{"pla-generic", 190, 230, 50, 70}));
  auto petg = gcode::find_material(*limits, "petg-generic");
  ASSERT_TRUE(petg) << petg.error().message;
  EXPECT_EQ(petg->bed_min, 70);
  EXPECT_EQ(petg->bed_max, 90);
  auto unknown = gcode::find_material(*limits, "unobtainium");
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("known: abs-no-bed-range, petg-generic, pla-generic"),
            std::string::npos)
      << unknown.error().message;
}

TEST(PolicyLimits, PlatformTemperatureIsClampedAsTheServerRecordsIt) {
  const gcode::MaterialRange pla{"pla-generic", 190, 230, 50, 70};
  EXPECT_EQ(gcode::actual_platform_temperature(90, pla), 70);
  EXPECT_EQ(gcode::actual_platform_temperature(40, pla), 50);
  EXPECT_EQ(gcode::actual_platform_temperature(60, pla), 60);
  EXPECT_EQ(gcode::actual_platform_temperature(0, pla), 0);  // heater off is kept
  const gcode::MaterialRange no_bed{"abs", 230, 260, {}, {}};
  EXPECT_EQ(gcode::actual_platform_temperature(100, no_bed), 100);
}

TEST(PolicyLimits, ReadsBackWhatThePolicySays) {
  const gcode::Limits limits = sample_limits();
  auto read = limits_from_policy(gcode::policy_json(limits));
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(gcode::policy_json(*read), gcode::policy_json(limits));
  // (Macros come back sorted by name, as the policy lists them.)
  EXPECT_EQ(read->volume, limits.volume);
  EXPECT_EQ(read->hotend, limits.hotend);
  EXPECT_EQ(read->bed, limits.bed);
  EXPECT_EQ(read->chamber, limits.chamber);
  EXPECT_EQ(read->gcode, limits.gcode);
  EXPECT_EQ(read->macro_commands, limits.macro_commands);
  EXPECT_EQ(read->macros.size(), limits.macros.size());
}

TEST(PolicyLimits, RefusesAnotherVersionOrRuleSet) {
  std::string text = gcode::policy_json(sample_limits());
  const std::string version(gcode::kPolicyVersion);
  std::string other_version = text;
  other_version.replace(other_version.find(version), version.size(), "ipp3d-gcode-policy/99");
  auto refused = limits_from_policy(other_version);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("ipp3d-gcode-policy/99"), std::string::npos)
      << refused.error().message;
  // A rule this client does not know: the text is no longer reproduced.
  std::string other_rules = text;
  other_rules.insert(other_rules.find("\"rules\":[") + 9, "\"a.new-rule\",");
  refused = limits_from_policy(other_rules);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("differs"), std::string::npos) << refused.error().message;
}

TEST(PolicyLimits, RefusesMalformedText) {
  EXPECT_FALSE(limits_from_policy("not json"));
  EXPECT_FALSE(limits_from_policy("[]"));
  const std::string version(gcode::kPolicyVersion);
  auto missing = limits_from_policy("{\"version\":\"" + version + "\"}");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("malformed"), std::string::npos) << missing.error().message;
}

}  // namespace
}  // namespace ipp3d::client
