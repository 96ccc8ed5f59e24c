#include "crypto/sign.h"

#include <openssl/err.h>

#include "base/check.h"
#include "crypto/hash.h"
#include "crypto/verify_memo.h"

namespace kmchain::crypto {

namespace {
struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
}  // namespace

Ed25519KeyPair Ed25519KeyPair::generate(Rng& rng) {
  return from_seed(rng.secret<32>());
}

Ed25519KeyPair Ed25519KeyPair::from_seed(const Secret256& seed) {
  Ed25519KeyPair pair;
  pair.seed_ = seed;
  EVP_PKEY* raw = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), 32);
  KMCHAIN_CHECK(raw != nullptr);
  pair.pkey_ = std::shared_ptr<EVP_PKEY>(raw, PkeyFree{});
  std::size_t len = pair.public_key_.size();
  KMCHAIN_CHECK(EVP_PKEY_get_raw_public_key(raw, pair.public_key_.data(), &len) == 1);
  KMCHAIN_CHECK(len == 32);
  return pair;
}

Ed25519Signature Ed25519KeyPair::sign(ByteView message) const {
  // Ed25519 is one-shot: DigestSignInit with no digest, then a single DigestSign.
  MdCtxPtr ctx(EVP_MD_CTX_new());
  KMCHAIN_CHECK(ctx != nullptr);
  KMCHAIN_CHECK(EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, pkey_.get()) == 1);
  Ed25519Signature sig{};
  std::size_t len = sig.size();
  KMCHAIN_CHECK(EVP_DigestSign(ctx.get(), sig.data(), &len, message.data(), message.size()) == 1);
  KMCHAIN_CHECK(len == sig.size());
  return sig;
}

namespace {

bool verify_with_openssl(const Ed25519PublicKey& public_key, ByteView message,
                         const Ed25519Signature& signature) {
  EVP_PKEY* raw =
      EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, public_key.data(), public_key.size());
  if (raw == nullptr) {
    ERR_clear_error();
    return false;
  }
  std::unique_ptr<EVP_PKEY, void (*)(EVP_PKEY*)> pkey(raw, EVP_PKEY_free);
  MdCtxPtr ctx(EVP_MD_CTX_new());
  KMCHAIN_CHECK(ctx != nullptr);
  KMCHAIN_CHECK(EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) == 1);
  const int verdict = EVP_DigestVerify(ctx.get(), signature.data(), signature.size(),
                                       message.data(), message.size());
  if (verdict != 1) {
    ERR_clear_error();
    return false;
  }
  return true;
}

}  // namespace

bool ed25519_verify(const Ed25519PublicKey& public_key, ByteView message,
                    const Ed25519Signature& signature) {
  VerifyMemo* memo = current_verify_memo();
  if (memo == nullptr) return verify_with_openssl(public_key, message, signature);
  Sha256 h;
  h.update(public_key).update(signature).update(message);
  const Digest256 key = h.finish();
  if (const std::optional<bool> known = memo->find(key)) return *known;
  const bool verdict = verify_with_openssl(public_key, message, signature);
  memo->remember(key, verdict);
  return verdict;
}

}  // namespace kmchain::crypto
