#include "ipp3d/attributes/units.hpp"

#include "ipp3d/attributes/types.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace ipp3d::attributes {
namespace {

struct MillimetreCase {
  double mm;
  std::optional<int> nm;
};

class MillimetresToNanometres : public ::testing::TestWithParam<MillimetreCase> {};

TEST_P(MillimetresToNanometres, Converts) {
  EXPECT_EQ(millimetres_to_nanometres(GetParam().mm), GetParam().nm);
}

INSTANTIATE_TEST_SUITE_P(
    Units, MillimetresToNanometres,
    ::testing::Values(MillimetreCase{1.75, 1'750'000}, MillimetreCase{2.85, 2'850'000},
                      MillimetreCase{0.4, 400'000}, MillimetreCase{0.0, 0},
                      MillimetreCase{-0.1, std::nullopt}, MillimetreCase{std::nan(""), std::nullopt},
                      MillimetreCase{std::numeric_limits<double>::infinity(), std::nullopt},
                      MillimetreCase{3000.0, std::nullopt}));  // 3 m does not fit integer(0:MAX) in nm

TEST(Units, HundredthsOfMillimetreAllowNegativeMinimums) {
  EXPECT_EQ(millimetres_to_hundredths(220.0), 22000);
  EXPECT_EQ(millimetres_to_hundredths(-4.0), -400);
  EXPECT_EQ(millimetres_to_hundredths(0.005), 1);  // rounds to nearest
  EXPECT_EQ(millimetres_to_hundredths(std::nan("")), std::nullopt);
  EXPECT_DOUBLE_EQ(hundredths_to_millimetres(22050), 220.5);
  EXPECT_DOUBLE_EQ(nanometres_to_millimetres(1'750'000), 1.75);
}

TEST(IntegerOrRange, ContainsAndFormats) {
  const auto r = IntegerOrRange::range(190, 230);
  EXPECT_TRUE(r.contains(190));
  EXPECT_TRUE(r.contains(230));
  EXPECT_FALSE(r.contains(231));
  EXPECT_TRUE(r.contains(IntegerOrRange::range(200, 210)));
  EXPECT_FALSE(r.contains(IntegerOrRange::range(180, 210)));
  EXPECT_EQ(r.to_string(), "190-230");
  EXPECT_EQ(IntegerOrRange::single(0).to_string(), "0");
  EXPECT_TRUE(any_contains({IntegerOrRange::single(0), r}, 0));
  EXPECT_FALSE(any_contains({IntegerOrRange::single(0), r}, 100));
  EXPECT_FALSE(any_contains({}, 0));
  EXPECT_EQ(to_string({IntegerOrRange::single(0), r}), "0, 190-230");
  EXPECT_EQ(to_string({}), "none");
}

}  // namespace
}  // namespace ipp3d::attributes
