// Recognising G-code sent as application/octet-stream.
#include "document_format.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace ipp3d::server {
namespace {

// The detector applied to a string.
std::optional<std::string> detect(const std::string& text) {
  return detect_format({reinterpret_cast<const unsigned char*>(text.data()), text.size()});
}

// The first 8 KB of a shared sample, as PAPPL would pass them.
std::string sample_head(const std::string& name) {
  std::ifstream in(std::string(IPP3D_TESTDATA_DIR) + "/gcode/" + name, std::ios::binary);
  std::string text(8192, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  return text;
}

TEST(DocumentFormat, RecognisesEverySlicerSample) {
  for (const char* name :
       {"bunny-prusaslicer-klipper.gcode", "box-prusaslicer-marlin.gcode", "torus-curaengine-marlin.gcode"}) {
    const auto head = sample_head(name);
    ASSERT_FALSE(head.empty()) << name;
    EXPECT_EQ(detect(head), "text/x-gcode") << name;
  }
}

struct FormatCase {
  const char* name;
  std::string text;
  bool is_gcode;
};

class DetectFormat : public ::testing::TestWithParam<FormatCase> {};

TEST_P(DetectFormat, Decides) { EXPECT_EQ(detect(GetParam().text).has_value(), GetParam().is_gcode); }

INSTANTIATE_TEST_SUITE_P(
    Documents, DetectFormat,
    ::testing::Values(FormatCase{"Minimal", "G28\nG1 X10 Y10\n", true},
                      FormatCase{"LowerCaseAndCrLf", "g28\r\ng1x10y10e.5\r\n", true},
                      FormatCase{"KlipperMacroAndComments", "; sliced\nPRINT_START BED=60\nM104 S200\n",
                                 true},
                      FormatCase{"LineNumbers", "N1 G28*18\nN2 M105*37\n", true},
                      FormatCase{"CommentsOnly", "; nothing to print\n; really\n", false},
                      FormatCase{"PlainText", "Dear printer,\nplease print this.\n", false},
                      FormatCase{"Pdf", "%PDF-1.7\n1 0 obj\n", false},
                      FormatCase{"Png", std::string("\x89PNG\r\n\x1a\n", 8), false},
                      FormatCase{"NulByte", std::string("G28\n\0G1 X1\n", 11), false},
                      FormatCase{"KlipperOnlyWithoutGorM", "PRINT_START\nPRINT_END\n", false},
                      FormatCase{"Empty", "", false}),
    [](const ::testing::TestParamInfo<FormatCase>& case_info) { return std::string(case_info.param.name); });

TEST(DocumentFormat, AcceptsEnvelopesAndGcodeOnlyWhereSignaturesAreNotRequired) {
  for (const bool required : {true, false}) {
    EXPECT_TRUE(is_accepted_format("application/vnd.ipp3d.envelope", required));
    EXPECT_EQ(is_accepted_format("text/x-gcode", required), !required);
    EXPECT_FALSE(is_accepted_format("application/octet-stream", required));
    EXPECT_FALSE(is_accepted_format("image/pwg-raster", required));
    EXPECT_FALSE(is_accepted_format("application/pdf", required));
  }
}

TEST(DocumentFormat, RecognisesTheEnvelopeByItsMagic) {
  const std::string envelope = std::string("IPP3DENV\x01\x00\x00\x00", 12) + std::string(100, '\0');
  const auto* bytes = reinterpret_cast<const unsigned char*>(envelope.data());
  EXPECT_EQ(detect_format({bytes, envelope.size()}), "application/vnd.ipp3d.envelope");
  EXPECT_STREQ(detected_format_name({bytes, envelope.size()}), "application/vnd.ipp3d.envelope");
  const std::string gcode = "G28\nG1 X1\n";
  EXPECT_STREQ(detected_format_name({reinterpret_cast<const unsigned char*>(gcode.data()), gcode.size()}),
               "text/x-gcode");
  EXPECT_EQ(detected_format_name({bytes, 4}), nullptr) << "a cut-off magic is not an envelope";
}

}  // namespace
}  // namespace ipp3d::server
