// The REQUIRED printer attributes of PWG 5100.21 for a filament printer with a
// heated bed (PWG 5100.21 Table 5 and §8.3), with who supplies each.
#include "ipp3d/attributes/required.hpp"

namespace ipp3d::attributes {

const std::vector<RequiredAttribute>& required_filament_printer_attributes() {
  constexpr auto kModel = AttributeSource::kModel;
  constexpr auto kServer = AttributeSource::kIppServer;
  static const std::vector<RequiredAttribute> attributes = {
      // PWG 5100.21 Printer Description attributes (R, and C for filament + heated bed).
      {"accuracy-units-supported", kModel},
      {"material-diameter-supported", kModel},  // C: filament printers
      {"material-purpose-supported", kModel},
      {"material-shell-thickness-supported", kModel},
      {"material-temperature-supported", kModel},  // C: printer controls temperature
      {"material-type-supported", kModel},
      {"materials-col-default", kModel},
      {"materials-col-ready", kModel},
      {"materials-col-supported", kModel},
      {"max-materials-col-supported", kModel},
      {"platform-temperature-default", kModel},    // C: heated bed
      {"platform-temperature-supported", kModel},  // C: heated bed
      {"print-accuracy-default", kModel},
      {"print-accuracy-supported", kModel},
      {"print-base-default", kModel},
      {"print-base-supported", kModel},
      {"print-supports-default", kModel},
      {"print-supports-supported", kModel},
      {"printer-volume-supported", kModel},
      // Existing attributes that Table 5 requires and PrinterCapabilities carries.
      {"color-supported", kModel},
      {"document-format-default", kModel},
      {"document-format-supported", kModel},
      {"ipp-features-supported", kModel},
      {"job-creation-attributes-supported", kModel},
      {"multiple-document-jobs-supported", kModel},
      {"print-quality-default", kModel},
      {"print-quality-supported", kModel},
      // Existing attributes that Table 5 requires and the IPP server generates.
      {"charset-configured", kServer},
      {"charset-supported", kServer},
      {"compression-supported", kServer},
      {"generated-natural-language-supported", kServer},
      {"identify-actions-default", kServer},
      {"identify-actions-supported", kServer},
      {"ipp-versions-supported", kServer},
      {"job-ids-supported", kServer},
      {"multiple-operation-time-out", kServer},
      {"multiple-operation-time-out-action", kServer},
      {"natural-language-configured", kServer},
      {"operations-supported", kServer},
      {"printer-geo-location", kServer},
      {"printer-get-attributes-supported", kServer},
      {"printer-icons", kServer},
      {"printer-info", kServer},
      {"printer-location", kServer},
      {"printer-make-and-model", kServer},
      {"printer-more-info", kServer},
      {"printer-name", kServer},
      {"printer-organization", kServer},
      {"printer-organizational-unit", kServer},
      {"printer-xri-supported", kServer},
      {"which-jobs-supported", kServer},
  };
  return attributes;
}

}  // namespace ipp3d::attributes
