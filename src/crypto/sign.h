// Ed25519 signatures (RFC 8032) through EVP: gateway identities, votes, certificates.
#pragma once

#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <memory>

#include "base/bytes.h"
#include "crypto/random.h"
#include "crypto/secret.h"

namespace kmchain::crypto {

using Ed25519PublicKey = std::array<std::uint8_t, 32>;
using Ed25519Signature = std::array<std::uint8_t, 64>;

class Ed25519KeyPair {
 public:
  static Ed25519KeyPair generate(Rng& rng);
  // From the 32-byte private seed of RFC 8032.
  static Ed25519KeyPair from_seed(const Secret256& seed);

  const Ed25519PublicKey& public_key() const { return public_key_; }
  const Secret256& seed() const { return seed_; }
  Ed25519Signature sign(ByteView message) const;

 private:
  struct PkeyFree {
    void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  };
  Ed25519KeyPair() = default;
  Secret256 seed_;
  Ed25519PublicKey public_key_{};
  std::shared_ptr<EVP_PKEY> pkey_;
};

[[nodiscard]] bool ed25519_verify(const Ed25519PublicKey& public_key, ByteView message,
                                  const Ed25519Signature& signature);

}  // namespace kmchain::crypto
