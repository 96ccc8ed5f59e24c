// Recognisable test bytes: first, first + 1, first + 2, ... (mod 256), as an array, a key or a
// secret. No gtest here: the fuzz targets use these too.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "crypto/secret.h"

namespace kmchain::testing {

template <std::size_t N>
std::array<std::uint8_t, N> counting(std::uint8_t first) {
  std::array<std::uint8_t, N> out{};
  for (std::size_t i = 0; i < N; ++i)
    out[i] = static_cast<std::uint8_t>(first + i);
  return out;
}

inline crypto::Key128 counting_key(std::uint8_t first) {
  return crypto::Key128(counting<crypto::Key128::kSize>(first));
}

inline crypto::Secret256 counting_secret(std::uint8_t first) {
  return crypto::Secret256(counting<crypto::Secret256::kSize>(first));
}

}  // namespace kmchain::testing
