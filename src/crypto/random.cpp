#include "crypto/random.h"

#include <openssl/rand.h>

#include "base/check.h"
#include "crypto/hash.h"

namespace kmchain::crypto {

std::uint64_t Rng::u64() {
  std::array<std::uint8_t, 8> b;
  fill(b);
  std::uint64_t v = 0;
  for (std::uint8_t x : b)
    v = (v << 8) | x;
  return v;
}

std::uint64_t Rng::uniform(std::uint64_t bound) {
  KMCHAIN_CHECK(bound > 0);
  // Reject the top partial block of the 64-bit range so every residue is equally likely.
  const std::uint64_t limit = UINT64_MAX - (UINT64_MAX % bound);
  for (;;) {
    const std::uint64_t v = u64();
    if (v < limit) return v % bound;
  }
}

double Rng::unit() {
  return static_cast<double>(u64() >> 11) * 0x1.0p-53;
}

void OsRng::fill(MutableByteView out) {
  if (out.empty()) return;
  KMCHAIN_CHECK(out.size() <= static_cast<std::size_t>(INT32_MAX));
  KMCHAIN_CHECK(RAND_priv_bytes(out.data(), static_cast<int>(out.size())) == 1);
}

DeterministicRng::DeterministicRng(std::uint64_t seed) {
  Bytes material{'k', 'm', 'c', 'h', 'a', 'i', 'n', ' ', 'r', 'n', 'g'};
  for (int shift = 56; shift >= 0; shift -= 8) {
    material.push_back(static_cast<std::uint8_t>(seed >> shift));
  }
  const Digest256 digest = sha256(material);
  ctx_ = EVP_CIPHER_CTX_new();
  KMCHAIN_CHECK(ctx_ != nullptr);
  const std::array<std::uint8_t, 16> iv{};
  KMCHAIN_CHECK(EVP_EncryptInit_ex(ctx_, EVP_aes_128_ctr(), nullptr, digest.data(), iv.data()) ==
                1);
}

DeterministicRng::~DeterministicRng() {
  EVP_CIPHER_CTX_free(ctx_);
}

void DeterministicRng::refill() {
  // Encrypting zeros yields the keystream.
  std::array<std::uint8_t, sizeof(buffer_)> zeros{};
  int len = 0;
  KMCHAIN_CHECK(EVP_EncryptUpdate(ctx_, buffer_.data(), &len, zeros.data(),
                                  static_cast<int>(zeros.size())) == 1);
  KMCHAIN_CHECK(static_cast<std::size_t>(len) == buffer_.size());
  used_ = 0;
}

void DeterministicRng::fill(MutableByteView out) {
  std::size_t done = 0;
  while (done < out.size()) {
    if (used_ == buffer_.size()) refill();
    const std::size_t n = std::min(out.size() - done, buffer_.size() - used_);
    std::memcpy(out.data() + done, buffer_.data() + used_, n);
    used_ += n;
    done += n;
  }
}

}  // namespace kmchain::crypto
