// ByteReader: reads big-endian integers and raw bytes from untrusted input. It never reads
// past the end: a short read sets a sticky failure flag and yields zeros, so a decoder can
// read a whole structure and check ok() once at the end.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>

#include "base/bytes.h"

namespace kmchain::codec {

class ByteReader {
 public:
  explicit ByteReader(ByteView in) : in_(in) {}

  std::uint8_t u8() { return static_cast<std::uint8_t>(get_be(1)); }
  std::uint16_t u16() { return static_cast<std::uint16_t>(get_be(2)); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(get_be(4)); }
  std::uint64_t u64() { return get_be(8); }

  // Copies exactly out.size() bytes, or fails and zero-fills.
  void raw(MutableByteView out) {
    if (!take(out.size())) {
      std::memset(out.data(), 0, out.size());
      return;
    }
    std::memcpy(out.data(), in_.data() + pos_ - out.size(), out.size());
  }

  // A view of the next n bytes (empty on failure).
  ByteView view(std::size_t n) {
    if (!take(n)) return {};
    return in_.subspan(pos_ - n, n);
  }

  bool ok() const { return ok_; }
  std::size_t remaining() const { return ok_ ? in_.size() - pos_ : 0; }
  bool at_end() const { return ok_ && pos_ == in_.size(); }
  std::size_t position() const { return pos_; }

 private:
  bool take(std::size_t n) {
    if (!ok_ || in_.size() - pos_ < n) {
      ok_ = false;
      return false;
    }
    pos_ += n;
    return true;
  }
  std::uint64_t get_be(std::size_t width) {
    if (!take(width)) return 0;
    std::uint64_t v = 0;
    for (std::size_t i = pos_ - width; i < pos_; ++i)
      v = (v << 8) | in_[i];
    return v;
  }

  ByteView in_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace kmchain::codec
