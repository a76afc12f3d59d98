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
  limits.gcode.overridden_commands.clear();  // not part of the policy: macro_commands carries them
  return limits;
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
