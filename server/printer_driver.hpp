// The PAPPL driver of an ipp3d printer: PAPPL validates drivers as if every
// printer printed sheets, so the driver fills those fields with fixed values
// and advertises the 3D capabilities (PWG 5100.21) through driver_attrs.
#pragma once

#include "ipp3d/attributes/capabilities.hpp"
#include "ipp3d/config/config.hpp"

#include <pappl/pappl.h>

#include <set>
#include <string>
#include <vector>

namespace ipp3d::server {

// One configured printer as the driver callback sees it. Owned by the
// Application; PAPPL holds a borrowed pointer to the list.
struct PrinterSetup {
  config::PrinterConfig config;
  attributes::PrinterCapabilities capabilities;
  std::string driver_name;  // "ipp3d-" + printer name
};

// The attribute names PAPPL 1.3.1 generates itself; adding them through
// driver_attrs would make them appear twice in Get-Printer-Attributes.
const std::set<std::string>& pappl_generated_attributes();

// Fills `driver` and `driver_attrs` for `setup`. Never throws.
bool fill_driver_data(const PrinterSetup& setup, pappl_pr_driver_data_t* driver, ipp_t** driver_attrs);

}  // namespace ipp3d::server
