// Helpers shared by the crypto test suites: hex literals to bytes, single-bit tampering.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/bytes.h"

namespace kmchain::testutil {

// The bytes of a hex literal. A malformed literal is a broken test and is reported as a failure.
inline Bytes unhex(std::string_view hex) {
  Bytes out;
  EXPECT_TRUE(from_hex(hex, out)) << "malformed hex literal: " << hex;
  return out;
}

// A fixed-size array from a hex literal that must hold exactly N bytes.
template <std::size_t N>
std::array<std::uint8_t, N> unhex_array(std::string_view hex) {
  const Bytes bytes = unhex(hex);
  EXPECT_EQ(bytes.size(), N) << "hex literal of the wrong length: " << hex;
  std::array<std::uint8_t, N> out{};
  std::copy_n(bytes.begin(), std::min(N, bytes.size()), out.begin());
  return out;
}

// Flips bit `bit` (0..7) of byte `index`.
template <typename Buffer>
void flip_bit(Buffer& buffer, std::size_t index, unsigned bit = 0) {
  buffer[index] = static_cast<std::uint8_t>(buffer[index] ^ (1u << bit));
}

// Names parameterized tests after the `name` member of their vector struct.
struct VectorName {
  template <typename Vector>
  std::string operator()(const ::testing::TestParamInfo<Vector>& param) const {
    return std::string(param.param.name);
  }
};

}  // namespace kmchain::testutil
