// JobTicket <-> Job Template attributes (PWG 5100.21 §8.1).
#include "ipp3d/attributes/ipp_codec.hpp"

#include "ipp_reader.hpp"

namespace ipp3d::attributes {
namespace {

using detail::Syntax;

// Stores a successful read in `out`, or passes the error on.
template <class V, class Out>
Status assign(Result<V> result, Out& out) {
  if (!result) return std::move(result).error();
  out = std::move(*result);
  return {};
}

// ---------------------------------------------------------------------------
// print-objects.

// object-offset members as read, before the required-member check.
struct PartialOffset {
  std::optional<int> x;
  std::optional<int> y;
  std::optional<int> z;
};

using OffsetRule = detail::MemberRule<PartialOffset>;

// Rules for the members of object-offset, each integer(0:MAX).
constexpr OffsetRule kOffsetRules[] = {
    {"x-offset", [](ipp_attribute_t* a, const std::string& p, PartialOffset& out,
                    Syntax s) { return assign(detail::read_integer(a, p, detail::kNonNegative, s), out.x); }},
    {"y-offset", [](ipp_attribute_t* a, const std::string& p, PartialOffset& out,
                    Syntax s) { return assign(detail::read_integer(a, p, detail::kNonNegative, s), out.y); }},
    {"z-offset", [](ipp_attribute_t* a, const std::string& p, PartialOffset& out,
                    Syntax s) { return assign(detail::read_integer(a, p, detail::kNonNegative, s), out.z); }},
};

// Decodes an object-offset collection; all three members are required.
Result<ObjectOffset> decode_offset(ipp_t* collection, const std::string& path, Syntax syntax) {
  PartialOffset read;
  Status status =
      detail::read_members<PartialOffset>(collection, path, "object-offset", kOffsetRules, read, syntax);
  if (!status) return std::move(status).error();
  if (!read.x) return detail::missing(detail::member_path(path, "x-offset"));
  if (!read.y) return detail::missing(detail::member_path(path, "y-offset"));
  if (!read.z) return detail::missing(detail::member_path(path, "z-offset"));
  return ObjectOffset{*read.x, *read.y, *read.z};
}

// Reads the object-offset member of a print-objects value.
Status read_offset(ipp_attribute_t* a, const std::string& p, PrintObject& out, Syntax s) {
  auto collection = detail::read_collection(a, p);
  if (!collection) return std::move(collection).error();
  return assign(decode_offset(*collection, p, s), out.object_offset);
}

// Reads the object-size member of a print-objects value.
Status read_size(ipp_attribute_t* a, const std::string& p, PrintObject& out, Syntax s) {
  auto collection = detail::read_collection(a, p);
  if (!collection) return std::move(collection).error();
  return assign(detail::decode_dimensions(*collection, p, s), out.object_size);
}

using ObjectRule = detail::MemberRule<PrintObject>;

// Rules for the members of print-objects.
constexpr ObjectRule kObjectRules[] = {
    {"document-number",
     [](ipp_attribute_t* a, const std::string& p, PrintObject& out, Syntax s) {
       return assign(detail::read_integer(a, p, detail::kPositive, s), out.document_number);
     }},
    {"object-offset", read_offset},
    {"object-size", read_size},
    {"object-uuid", [](ipp_attribute_t* a, const std::string& p, PrintObject& out,
                       Syntax s) { return assign(detail::read_uri(a, p, s), out.object_uuid); }},
};

// Encodes one print-objects value.
IppPtr encode_print_object(const PrintObject& object) {
  IppPtr col = make_ipp();
  if (object.document_number) {
    ippAddInteger(col.get(), IPP_TAG_ZERO, IPP_TAG_INTEGER, "document-number", *object.document_number);
  }
  if (object.object_offset) {
    IppPtr offset = make_ipp();
    ippAddInteger(offset.get(), IPP_TAG_ZERO, IPP_TAG_INTEGER, "x-offset", object.object_offset->x_offset);
    ippAddInteger(offset.get(), IPP_TAG_ZERO, IPP_TAG_INTEGER, "y-offset", object.object_offset->y_offset);
    ippAddInteger(offset.get(), IPP_TAG_ZERO, IPP_TAG_INTEGER, "z-offset", object.object_offset->z_offset);
    ippAddCollection(col.get(), IPP_TAG_ZERO, "object-offset", offset.get());
  }
  if (object.object_size) {
    ippAddCollection(col.get(), IPP_TAG_ZERO, "object-size",
                     detail::encode_dimensions(*object.object_size).get());
  }
  if (object.object_uuid) {
    ippAddString(col.get(), IPP_TAG_ZERO, IPP_TAG_URI, "object-uuid", nullptr, object.object_uuid->c_str());
  }
  return col;
}

// ---------------------------------------------------------------------------
// Top-level job template attributes.

// Reads materials-col, 1setOf collection.
Status read_materials(ipp_attribute_t* a, const std::string& p, JobTicket& out, Syntax s) {
  auto collections = detail::read_collections(a, p);
  if (!collections) return std::move(collections).error();
  for (std::size_t i = 0; i < collections->size(); ++i) {
    const std::string path = detail::index_path(p, static_cast<int>(i));
    auto material = detail::decode_material_with((*collections)[i], path, s);
    if (!material) return std::move(material).error();
    out.materials_col.push_back(std::move(*material));
  }
  return {};
}

// Reads print-accuracy, one collection.
Status read_accuracy(ipp_attribute_t* a, const std::string& p, JobTicket& out, Syntax s) {
  auto collection = detail::read_collection(a, p);
  if (!collection) return std::move(collection).error();
  return assign(detail::decode_print_accuracy(*collection, p, s), out.print_accuracy);
}

// Reads print-objects, 1setOf collection.
Status read_objects(ipp_attribute_t* a, const std::string& p, JobTicket& out, Syntax s) {
  auto collections = detail::read_collections(a, p);
  if (!collections) return std::move(collections).error();
  for (std::size_t i = 0; i < collections->size(); ++i) {
    const std::string path = detail::index_path(p, static_cast<int>(i));
    PrintObject object;
    Status status =
        detail::read_members<PrintObject>((*collections)[i], path, "print-objects", kObjectRules, object, s);
    if (!status) return status;
    out.print_objects.push_back(std::move(object));
  }
  return {};
}

using TicketRule = detail::MemberRule<JobTicket>;

// One rule per job template attribute of JobTicket.
constexpr TicketRule kTicketRules[] = {
    {"materials-col", read_materials},
    {"platform-temperature",
     [](ipp_attribute_t* a, const std::string& p, JobTicket& out, Syntax s) {
       return assign(detail::read_integer(a, p, detail::kCelsius, s), out.platform_temperature);
     }},
    {"chamber-temperature",
     [](ipp_attribute_t* a, const std::string& p, JobTicket& out, Syntax s) {
       return assign(detail::read_integer(a, p, detail::kCelsius, s), out.chamber_temperature);
     }},
    {"print-accuracy", read_accuracy},
    {"print-base", [](ipp_attribute_t* a, const std::string& p, JobTicket& out,
                      Syntax s) { return assign(detail::read_keyword(a, p, s), out.print_base); }},
    {"print-supports", [](ipp_attribute_t* a, const std::string& p, JobTicket& out,
                          Syntax s) { return assign(detail::read_keyword(a, p, s), out.print_supports); }},
    {"print-quality",
     [](ipp_attribute_t* a, const std::string& p, JobTicket& out, Syntax s) {
       return assign(detail::read_enum(a, p, detail::kPrintQuality, s), out.print_quality);
     }},
    {"print-objects", read_objects},
};

// The attribute `name` from the job group, else from the operation group.
ipp_attribute_t* find_template_attribute(ipp_t* request, const char* name) {
  if (ipp_attribute_t* attr = detail::find_in_group(request, name, IPP_TAG_JOB)) return attr;
  return detail::find_in_group(request, name, IPP_TAG_OPERATION);
}

}  // namespace

void encode_job_ticket(const JobTicket& ticket, ipp_t* ipp, ipp_tag_t group) {
  if (!ticket.materials_col.empty()) {
    std::vector<IppPtr> materials;
    materials.reserve(ticket.materials_col.size());
    for (const auto& material : ticket.materials_col) materials.push_back(encode_material(material));
    detail::add_collections(ipp, group, "materials-col", materials);
  }
  if (ticket.platform_temperature) {
    ippAddInteger(ipp, group, IPP_TAG_INTEGER, "platform-temperature", *ticket.platform_temperature);
  }
  if (ticket.chamber_temperature) {
    ippAddInteger(ipp, group, IPP_TAG_INTEGER, "chamber-temperature", *ticket.chamber_temperature);
  }
  if (ticket.print_accuracy) {
    ippAddCollection(ipp, group, "print-accuracy",
                     detail::encode_print_accuracy(*ticket.print_accuracy).get());
  }
  if (ticket.print_base) {
    ippAddString(ipp, group, IPP_TAG_KEYWORD, "print-base", nullptr, ticket.print_base->c_str());
  }
  if (ticket.print_supports) {
    ippAddString(ipp, group, IPP_TAG_KEYWORD, "print-supports", nullptr, ticket.print_supports->c_str());
  }
  if (ticket.print_quality) ippAddInteger(ipp, group, IPP_TAG_ENUM, "print-quality", *ticket.print_quality);
  if (!ticket.print_objects.empty()) {
    std::vector<IppPtr> objects;
    objects.reserve(ticket.print_objects.size());
    for (const auto& object : ticket.print_objects) objects.push_back(encode_print_object(object));
    detail::add_collections(ipp, group, "print-objects", objects);
  }
}

Result<JobTicket> decode_job_ticket(ipp_t* request) {
  JobTicket ticket;
  for (const auto& rule : kTicketRules) {
    ipp_attribute_t* attr = find_template_attribute(request, rule.name);
    if (!attr) continue;
    if (Status status = rule.read(attr, rule.name, ticket, Syntax::kAcceptText); !status) {
      return std::move(status).error();
    }
  }
  return ticket;
}

}  // namespace ipp3d::attributes
