// ByteWriter: appends big-endian integers and raw bytes to a buffer. Every wire format of
// kmchain is written through it, so byte order is decided in one place.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>

#include "base/bytes.h"

namespace kmchain::codec {

class ByteWriter {
 public:
  explicit ByteWriter(Bytes& out) : out_(out) {}

  void u8(std::uint8_t v) { out_.push_back(v); }
  void u16(std::uint16_t v) { put_be(v, 2); }
  void u32(std::uint32_t v) { put_be(v, 4); }
  void u64(std::uint64_t v) { put_be(v, 8); }
  void raw(ByteView bytes) {
    // resize + memcpy rather than insert: GCC 12 reports a false stringop-overflow on insert.
    if (bytes.empty()) return;
    const std::size_t at = out_.size();
    out_.resize(at + bytes.size());
    std::memcpy(out_.data() + at, bytes.data(), bytes.size());
  }
  std::size_t size() const { return out_.size(); }

 private:
  void put_be(std::uint64_t v, int width) {
    for (int shift = (width - 1) * 8; shift >= 0; shift -= 8) {
      out_.push_back(static_cast<std::uint8_t>(v >> shift));
    }
  }
  Bytes& out_;
};

}  // namespace kmchain::codec
