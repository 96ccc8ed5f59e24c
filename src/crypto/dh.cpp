#include "crypto/dh.h"

#include <openssl/err.h>
#include <openssl/evp.h>

#include <memory>

#include "base/check.h"

namespace kmchain::crypto {

namespace {
struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;
}  // namespace

X25519KeyPair X25519KeyPair::generate(Rng& rng) {
  return from_private(rng.secret<32>());
}

X25519KeyPair X25519KeyPair::from_private(const Secret256& private_key) {
  X25519KeyPair pair;
  pair.private_key_ = private_key;
  PkeyPtr pkey(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, private_key.data(), 32));
  KMCHAIN_CHECK(pkey != nullptr);
  std::size_t len = pair.public_key_.size();
  KMCHAIN_CHECK(EVP_PKEY_get_raw_public_key(pkey.get(), pair.public_key_.data(), &len) == 1);
  KMCHAIN_CHECK(len == 32);
  return pair;
}

bool X25519KeyPair::derive(const X25519PublicKey& peer, Secret256& shared) const {
  PkeyPtr self(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, private_key_.data(), 32));
  PkeyPtr other(EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, peer.data(), peer.size()));
  KMCHAIN_CHECK(self != nullptr);
  if (other == nullptr) {
    ERR_clear_error();
    return false;
  }
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, self.get(), nullptr));
  KMCHAIN_CHECK(ctx != nullptr);
  KMCHAIN_CHECK(EVP_PKEY_derive_init(ctx.get()) == 1);
  Secret256 out;
  std::size_t len = 32;
  // OpenSSL refuses an all-zero result (small-order peer) here.
  if (EVP_PKEY_derive_set_peer(ctx.get(), other.get()) != 1 ||
      EVP_PKEY_derive(ctx.get(), out.mutable_view().data(), &len) != 1 || len != 32) {
    ERR_clear_error();
    return false;
  }
  const Secret256 zero;
  if (out == zero) return false;
  shared = out;
  return true;
}

}  // namespace kmchain::crypto
