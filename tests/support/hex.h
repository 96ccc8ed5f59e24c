// Hex literals in tests: the bytes a literal spells (base's from_hex), as a buffer or as an
// array of a fixed size. A malformed literal is a broken test and is reported as a failure.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/bytes.h"

namespace kmchain::testing {

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

}  // namespace kmchain::testing
