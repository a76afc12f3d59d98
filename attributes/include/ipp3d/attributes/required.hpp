// The Printer Description attributes PWG 5100.21 marks REQUIRED (Table 5 and
// the section texts), as data, so tests and docs can check against them.
#pragma once

#include <string>
#include <vector>

namespace ipp3d::attributes {

// Who supplies a required attribute in a running ipp3d printer.
enum class AttributeSource {
  kModel,     // PrinterCapabilities (encode_capabilities) supplies it
  kIppServer  // the IPP server (PAPPL) generates it
};

struct RequiredAttribute {
  std::string name;
  AttributeSource source;
};

// The REQUIRED printer attributes for a filament printer with a heated bed
// (conditionally required ones included for that printer class).
const std::vector<RequiredAttribute>& required_filament_printer_attributes();

}  // namespace ipp3d::attributes
