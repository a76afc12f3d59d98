#include "machine_check.hpp"

namespace ipp3d::server {

void check_machine(PrinterRuntime& printer) noexcept { (void)printer; }

}  // namespace ipp3d::server
