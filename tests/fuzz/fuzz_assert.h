// What the fuzz targets and the corpus generators check with: KMCHAIN_FUZZ_ASSERT, which aborts
// the process so that libFuzzer records the input as a crash, and the byte-for-byte comparison
// of a re-encoding with its input.
#pragma once

#include <algorithm>

#include "base/bytes.h"

#define KMCHAIN_FUZZ_ASSERT(cond) \
  do {                            \
    if (!(cond)) {                \
      __builtin_trap();           \
    }                             \
  } while (false)

namespace kmchain::fuzz {

// Whether `encoded` is exactly the bytes of `input`.
inline bool same_bytes(ByteView encoded, ByteView input) {
  return encoded.size() == input.size() &&
         std::equal(encoded.begin(), encoded.end(), input.begin());
}

}  // namespace kmchain::fuzz
