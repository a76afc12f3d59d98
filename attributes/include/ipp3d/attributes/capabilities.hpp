// PrinterCapabilities: the PWG 5100.21 Printer Description attributes of a
// filament (FDM) printer, plus the generic capability attributes the 3D spec
// requires (document formats, ipp-features-supported, print-quality).
#pragma once

#include "ipp3d/attributes/material.hpp"
#include "ipp3d/attributes/types.hpp"

#include <optional>
#include <string>
#include <vector>

namespace ipp3d::attributes {

// Every member is named after its IPP attribute (dashes become underscores).
// Empty vectors / nullopt mean "not supported": such attributes are not
// encoded. Units as in units.hpp.
struct PrinterCapabilities {
  // Build platform and volume.
  BuildVolume printer_volume_supported;                        // R, 1/100 mm
  std::optional<std::string> platform_shape;                   // Rec: "rectangle" | "ellipse"
  std::vector<IntegerOrRange> platform_temperature_supported;  // C (heated bed), °C
  std::optional<int> platform_temperature_default;             // C (heated bed), °C
  std::vector<IntegerOrRange> chamber_temperature_supported;   // C (heated chamber), °C
  std::optional<int> chamber_temperature_default;              // C (heated chamber), °C

  // Materials.
  std::vector<Material> materials_col_database;                    // Rec: catalogue
  std::vector<Material> materials_col_ready;                       // R: loaded now
  std::vector<Material> materials_col_default;                     // R
  std::vector<std::string> materials_col_supported;                // R: member names
  int max_materials_col_supported = 1;                             // R
  std::vector<IntegerOrRange> material_diameter_supported;         // R (filament), nm
  std::vector<IntegerOrRange> material_nozzle_diameter_supported;  // C, nm
  std::vector<IntegerOrRange> material_temperature_supported;      // R (controls temperature), °C
  std::vector<IntegerOrRange> material_shell_thickness_supported;  // R, nm
  std::vector<IntegerOrRange> material_rate_supported;             // C
  std::vector<std::string> material_rate_units_supported;          // C
  std::vector<std::string> material_purpose_supported;             // R
  std::vector<std::string> material_type_supported;                // R
  std::vector<std::string> material_amount_units_supported;        // C

  // Print quality and structure.
  PrintAccuracy print_accuracy_supported;             // R: best accuracy
  PrintAccuracy print_accuracy_default;               // R
  std::vector<std::string> accuracy_units_supported;  // R: mm, um, nm
  std::string print_base_default = "none";            // R
  std::vector<std::string> print_base_supported;      // R
  std::string print_supports_default = "none";        // R
  std::vector<std::string> print_supports_supported;  // R
  int print_quality_default = 4;                      // R: enum 3 draft, 4 normal, 5 high
  std::vector<int> print_quality_supported;           // R

  // Generic capability attributes required by PWG 5100.21 Table 5.
  std::vector<std::string> ipp_features_supported;             // R: contains "ipp-3d"
  std::string document_format_default;                         // R
  std::vector<std::string> document_format_supported;          // R
  bool color_supported = false;                                // R
  bool multiple_document_jobs_supported = false;               // R
  std::vector<std::string> job_creation_attributes_supported;  // R: 3D job template names

  bool operator==(const PrinterCapabilities&) const = default;
};

// Job template keywords of PWG 5100.21.
const std::vector<std::string>& known_print_base_keywords();      // none, brim, raft, skirt, standard
const std::vector<std::string>& known_print_supports_keywords();  // none, standard, material
const std::vector<std::string>& known_accuracy_units();           // mm, um, nm

}  // namespace ipp3d::attributes
