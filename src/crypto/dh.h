// X25519 key agreement (RFC 7748) through EVP.
#pragma once

#include <array>
#include <cstdint>

#include "crypto/random.h"
#include "crypto/secret.h"

namespace kmchain::crypto {

using X25519PublicKey = std::array<std::uint8_t, 32>;

class X25519KeyPair {
 public:
  static X25519KeyPair generate(Rng& rng);
  // From a 32-byte private scalar (clamped by X25519 itself).
  static X25519KeyPair from_private(const Secret256& private_key);

  const X25519PublicKey& public_key() const { return public_key_; }

  // The shared secret with `peer`. Fails on a peer key of small order, whose shared secret
  // is all zeros and would carry no secret at all.
  [[nodiscard]] bool derive(const X25519PublicKey& peer, Secret256& shared) const;

 private:
  X25519KeyPair() = default;
  Secret256 private_key_;
  X25519PublicKey public_key_{};
};

}  // namespace kmchain::crypto
