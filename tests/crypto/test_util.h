// Helpers shared by the crypto test suites: single-bit tampering, names of vector tests. Hex
// literals are support/hex.h's.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace kmchain::testutil {

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
