// Test helper: round trip of an IPP message through the wire format
// (ippWriteIO / ippReadIO over an in-memory buffer).
#pragma once

#include "ipp3d/ipp_handles.hpp"

#include <cups/ipp.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace ipp3d::testing {

// A growable in-memory byte stream for ippWriteIO/ippReadIO.
struct WireBuffer {
  std::vector<ipp_uchar_t> bytes;
  std::size_t read_pos = 0;
};

// ipp_iocb_t that appends to a WireBuffer.
inline ssize_t wire_write(void* context, ipp_uchar_t* data, size_t length) {
  auto* buffer = static_cast<WireBuffer*>(context);
  buffer->bytes.insert(buffer->bytes.end(), data, data + length);
  return static_cast<ssize_t>(length);
}

// ipp_iocb_t that consumes a WireBuffer.
inline ssize_t wire_read(void* context, ipp_uchar_t* data, size_t length) {
  auto* buffer = static_cast<WireBuffer*>(context);
  const std::size_t n = std::min(length, buffer->bytes.size() - buffer->read_pos);
  std::memcpy(data, buffer->bytes.data() + buffer->read_pos, n);
  buffer->read_pos += n;
  return static_cast<ssize_t>(n);
}

// Serialises `ipp` to the IPP wire format and parses it back.
inline IppPtr wire_round_trip(ipp_t* ipp) {
  WireBuffer buffer;
  EXPECT_EQ(ippWriteIO(&buffer, wire_write, 1, nullptr, ipp), IPP_STATE_DATA);
  IppPtr parsed = make_ipp();
  EXPECT_EQ(ippReadIO(&buffer, wire_read, 1, nullptr, parsed.get()), IPP_STATE_DATA);
  return parsed;
}

}  // namespace ipp3d::testing
