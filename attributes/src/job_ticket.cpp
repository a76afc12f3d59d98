#include "ipp3d/attributes/job_ticket.hpp"

namespace ipp3d::attributes {

const std::vector<std::string>& job_ticket_attribute_names() {
  static const std::vector<std::string> names = {
      "materials-col", "platform-temperature", "chamber-temperature", "print-accuracy",
      "print-base",    "print-supports",       "print-quality",       "print-objects"};
  return names;
}

}  // namespace ipp3d::attributes
