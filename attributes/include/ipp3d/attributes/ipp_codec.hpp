// Conversion between the attribute model and libcups ipp_t messages.
//
// Encoding adds attributes to a caller-owned ipp_t; decoding reads a borrowed
// ipp_t and checks syntax (value tags), cardinality and value ranges, and
// returns an Error naming the attribute path and member, e.g.
// "materials-col[0].material-diameter".
#pragma once

#include "ipp3d/attributes/capabilities.hpp"
#include "ipp3d/attributes/job_ticket.hpp"
#include "ipp3d/attributes/material.hpp"
#include "ipp3d/ipp_handles.hpp"
#include "ipp3d/result.hpp"

#include <cups/ipp.h>

#include <set>
#include <string>

namespace ipp3d::attributes {

// Encodes one material as a materials-col collection value. The returned
// collection is owned by the caller.
IppPtr encode_material(const Material& material);

// Decodes one materials-col collection. `path` prefixes error attribute
// names (e.g. "materials-col[0]"). Errors: wrong value tag, more than one
// value for a single-valued member, a value outside its range (e.g. a
// negative diameter, fill density above 100), an unknown member.
Result<Material> decode_material(ipp_t* collection, const std::string& path);

// Options for encode_capabilities().
struct CapabilityEncoding {
  // Attribute names to leave out (e.g. those PAPPL generates itself).
  std::set<std::string> exclude;
};

// Adds every supported capability attribute to `ipp` in IPP_TAG_PRINTER.
// Members that are empty/nullopt are not added.
void encode_capabilities(const PrinterCapabilities& caps, ipp_t* ipp, const CapabilityEncoding& options = {});

// Reads capabilities from a Get-Printer-Attributes response (any group).
// Missing optional attributes stay empty; missing REQUIRED ones
// (printer-volume-supported, materials-col-ready) are an error.
Result<PrinterCapabilities> decode_capabilities(ipp_t* response);

// Adds the ticket's attributes to `ipp` in `group` (IPP_TAG_JOB for a
// request, IPP_TAG_OPERATION is never used for job template attributes).
void encode_job_ticket(const JobTicket& ticket, ipp_t* ipp, ipp_tag_t group = IPP_TAG_JOB);

// Reads the job template attributes of a JobTicket from `request` (job group;
// the operation group is searched too, as some clients put them there).
// Checks syntax, cardinality and ranges; semantic checks against a printer's
// capabilities are validate_job_ticket()'s job.
Result<JobTicket> decode_job_ticket(ipp_t* request);

}  // namespace ipp3d::attributes
