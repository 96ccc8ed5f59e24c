// Secret<N>: fixed-size secret bytes that wipe themselves when destroyed and compare in
// constant time. Every key in kmchain lives in one of these; none is printed or logged.
#pragma once

#include <openssl/crypto.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "base/bytes.h"

namespace kmchain::crypto {

template <std::size_t N>
class Secret {
 public:
  static constexpr std::size_t kSize = N;

  Secret() { bytes_.fill(0); }
  explicit Secret(std::span<const std::uint8_t, N> bytes) {
    std::memcpy(bytes_.data(), bytes.data(), N);
  }
  // Copies exactly N bytes from `bytes`; the caller has checked the length.
  static Secret from_view(ByteView bytes) {
    Secret s;
    std::memcpy(s.bytes_.data(), bytes.data(), bytes.size() < N ? bytes.size() : N);
    return s;
  }
  Secret(const Secret&) = default;
  Secret& operator=(const Secret&) = default;
  ~Secret() { OPENSSL_cleanse(bytes_.data(), N); }

  ByteView view() const { return {bytes_.data(), N}; }
  MutableByteView mutable_view() { return {bytes_.data(), N}; }
  const std::uint8_t* data() const { return bytes_.data(); }

  // Constant time: the comparison does not stop at the first differing byte.
  friend bool operator==(const Secret& a, const Secret& b) {
    return CRYPTO_memcmp(a.bytes_.data(), b.bytes_.data(), N) == 0;
  }

 private:
  std::array<std::uint8_t, N> bytes_;
};

using Key128 = Secret<16>;
using Secret256 = Secret<32>;

// Constant-time equality of two byte strings (the length itself is not secret).
inline bool ct_equal(ByteView a, ByteView b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace kmchain::crypto
