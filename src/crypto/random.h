// Randomness is injected: cores take an Rng&. Production uses OsRng (the OS CSPRNG through
// OpenSSL); tests and the simulators use DeterministicRng, a seeded stream that replays.
#pragma once

#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <memory>

#include "base/bytes.h"
#include "crypto/secret.h"

namespace kmchain::crypto {

class Rng {
 public:
  virtual ~Rng() = default;
  virtual void fill(MutableByteView out) = 0;

  template <std::size_t N>
  Secret<N> secret() {
    Secret<N> s;
    fill(s.mutable_view());
    return s;
  }
  Key128 key128() { return secret<16>(); }
  std::uint64_t u64();
  // Uniform in [0, bound); bound > 0. Rejection sampling, so no modulo bias.
  std::uint64_t uniform(std::uint64_t bound);
  // Uniform in [0, 1).
  double unit();
};

// The operating system's CSPRNG (OpenSSL's private DRBG). Aborts if it ever fails.
class OsRng final : public Rng {
 public:
  void fill(MutableByteView out) override;
};

// A deterministic stream for tests and simulation only: AES-128-CTR keyed by the SHA-256 of
// the seed. Never used for keys that protect real traffic.
class DeterministicRng final : public Rng {
 public:
  explicit DeterministicRng(std::uint64_t seed);
  ~DeterministicRng() override;
  DeterministicRng(const DeterministicRng&) = delete;
  DeterministicRng& operator=(const DeterministicRng&) = delete;
  void fill(MutableByteView out) override;

 private:
  void refill();
  EVP_CIPHER_CTX* ctx_ = nullptr;
  std::array<std::uint8_t, 4096> buffer_{};
  std::size_t used_ = sizeof(buffer_);
};

}  // namespace kmchain::crypto
