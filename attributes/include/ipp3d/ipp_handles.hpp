// Owning smart pointers for libcups handles. A raw pointer in ipp3d code is
// always borrowed; ownership is spelled with these aliases.
#pragma once

#include <cups/cups.h>
#include <cups/ipp.h>

#include <memory>

namespace ipp3d {

struct IppDelete {
  void operator()(ipp_t* ipp) const noexcept { ippDelete(ipp); }
};
// An owned IPP message or collection. Note that ippAddCollection() copies a
// reference (it does not take ownership), so the caller still deletes its own.
using IppPtr = std::unique_ptr<ipp_t, IppDelete>;

struct HttpClose {
  void operator()(http_t* http) const noexcept { httpClose(http); }
};
// An owned HTTP connection.
using HttpPtr = std::unique_ptr<http_t, HttpClose>;

struct CupsArrayDelete {
  void operator()(cups_array_t* array) const noexcept { cupsArrayDelete(array); }
};
// An owned CUPS array (elements are not freed unless the array was created
// with a free callback).
using CupsArrayPtr = std::unique_ptr<cups_array_t, CupsArrayDelete>;

// Creates an empty owned IPP message/collection.
inline IppPtr make_ipp() { return IppPtr(ippNew()); }

}  // namespace ipp3d
