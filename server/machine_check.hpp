// Checks of the machine behind a printer that decide whether it is safe to
// print on: Moonraker's access configuration, Klipper's own limits against
// ours, and Klipper macros that replace standard commands.
#pragma once

#include "printer_runtime.hpp"

namespace ipp3d::server {

// Inspects the machine behind `printer` and records the outcome in the
// runtime (set_config_problem() with the reason, or "" when it is fine).
// Called by the printer monitor at start and whenever Klippy becomes
// ready. Never throws; a machine that cannot be asked leaves the previous
// outcome in place.
void check_machine(PrinterRuntime& printer) noexcept;

}  // namespace ipp3d::server
