// JobTicket: the PWG 5100.21 Job Template attributes a 3D job may carry.
#pragma once

#include "ipp3d/attributes/material.hpp"
#include "ipp3d/attributes/types.hpp"

#include <optional>
#include <string>
#include <vector>

namespace ipp3d::attributes {

// Absent members mean "use the printer's default".
struct JobTicket {
  std::vector<Material> materials_col;          // 1setOf collection
  std::optional<int> platform_temperature;      // °C, integer(-273:MAX)
  std::optional<int> chamber_temperature;       // °C, integer(-273:MAX)
  std::optional<PrintAccuracy> print_accuracy;  // collection
  std::optional<std::string> print_base;        // keyword
  std::optional<std::string> print_supports;    // keyword
  std::optional<int> print_quality;             // enum 3, 4, 5
  std::vector<PrintObject> print_objects;       // 1setOf collection; empty = all objects

  bool operator==(const JobTicket&) const = default;
};

// The Job Template attribute names a JobTicket carries, as spelled in the spec.
const std::vector<std::string>& job_ticket_attribute_names();

}  // namespace ipp3d::attributes
