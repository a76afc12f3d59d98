// Validation of a job ticket against a printer's capabilities. The server
// calls it for Validate-Job/Print-Job/Create-Job; the client calls it before
// submitting, so both give the same verdict.
#pragma once

#include "ipp3d/attributes/capabilities.hpp"
#include "ipp3d/attributes/job_ticket.hpp"
#include "ipp3d/result.hpp"

#include <vector>

namespace ipp3d::attributes {

// What to do when a requested material exists in the database but is not
// loaded (materials-col-ready).
enum class LoadedMaterialPolicy {
  kRequireLoaded,  // an error: the client wants to print now
  kMayWait,        // acceptable: the job waits for the material (server)
};

// A value the printer substituted for the requested one.
struct Substitution {
  std::string attribute;  // e.g. "materials-col[0].material-temperature"
  std::string message;    // e.g. "... 240 was clamped to 230 for the loaded PLA (190-230)"
  bool operator==(const Substitution&) const = default;
};

// The outcome of a successful validation.
struct ValidatedTicket {
  // The requested materials completed from the database (a client may send
  // only material-key or material-name); if the ticket requested none, the
  // first ready material (or the default when nothing is loaded).
  std::vector<Material> materials;
  // True when every material in `materials` is currently loaded.
  bool materials_loaded = false;
  // Values that were clamped rather than refused (PWG 5100.21 §12): a
  // material-temperature inside material-temperature-supported but outside
  // the material's own range is clamped into that range; `materials` holds
  // the clamped value. One entry per clamped attribute.
  std::vector<Substitution> substitutions;
};

// Checks `ticket` against `caps`:
//  - materials-col: count <= max-materials-col-supported; each material
//    found in the database or ready list by material-key, else by
//    material-name; any other member the client gave must agree with it
//    (type, diameter, ...); material-temperature within
//    material-temperature-supported (else an error that names the
//    material's own range), and clamped into the material's own range;
//    material-diameter in material-diameter-supported; purposes and types
//    in their -supported sets.
//  - platform-temperature / chamber-temperature within their -supported
//    sets (unsupported when the set is empty).
//  - print-base, print-supports, print-quality in their -supported sets.
//  - print-accuracy: units in accuracy-units-supported and not finer than
//    print-accuracy-supported (§8.1.5: only finer values are refused).
//  - print-objects: offsets + sizes inside printer-volume-supported.
// Errors name the attribute path and say why, e.g.
// "materials-col[0].material-temperature 300 is outside 190-230 for the loaded PLA".
Result<ValidatedTicket> validate_job_ticket(const JobTicket& ticket, const PrinterCapabilities& caps,
                                            LoadedMaterialPolicy policy);

// True when `ready` matches `requested`: same material-key when both have one,
// else same material-name; and no member present in both disagrees.
bool material_matches(const Material& requested, const Material& ready);

}  // namespace ipp3d::attributes
