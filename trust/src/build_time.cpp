// The build time baked in by CMake (trust/CMakeLists.txt): the lower bound of
// any plausible clock (docs/envelope.md §6 step 6).
#include "ipp3d/trust/envelope.hpp"

#ifndef IPP3D_BUILD_TIME
#error "IPP3D_BUILD_TIME must be defined (UNIX seconds)"
#endif

namespace ipp3d::trust {

std::int64_t build_time() { return static_cast<std::int64_t>(IPP3D_BUILD_TIME); }

}  // namespace ipp3d::trust
