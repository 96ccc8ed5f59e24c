// A 128-bit key's value as a hashable fingerprint, for the simulator's sets of "values ever in
// use" and "values a departed device knows". Simulation only: real code never indexes keys.
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>

#include "crypto/secret.h"

namespace kmchain::sim {

struct KeyFingerprint {
  std::uint64_t hi = 0;
  std::uint64_t lo = 0;

  static KeyFingerprint of(const crypto::Key128& key) {
    KeyFingerprint f;
    std::memcpy(&f.hi, key.data(), 8);
    std::memcpy(&f.lo, key.data() + 8, 8);
    return f;
  }
  bool operator==(const KeyFingerprint&) const = default;
};

struct KeyFingerprintHash {
  std::size_t operator()(const KeyFingerprint& f) const noexcept {
    return std::hash<std::uint64_t>{}(f.hi ^ (f.lo * 0x9e3779b97f4a7c15ULL));
  }
};

}  // namespace kmchain::sim
