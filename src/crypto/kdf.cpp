#include "crypto/kdf.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "base/check.h"

namespace kmchain::crypto {

namespace {

EVP_KDF_CTX* thread_ctx() {
  struct Holder {
    EVP_KDF_CTX* ctx = nullptr;
    Holder() {
      EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
      KMCHAIN_CHECK(kdf != nullptr);
      ctx = EVP_KDF_CTX_new(kdf);
      EVP_KDF_free(kdf);
      KMCHAIN_CHECK(ctx != nullptr);
    }
    ~Holder() { EVP_KDF_CTX_free(ctx); }
  };
  thread_local Holder holder;
  return holder.ctx;
}

// OSSL_PARAM wants non-const pointers even for inputs it only reads.
void* mutable_ptr(ByteView v) {
  return const_cast<std::uint8_t*>(v.data());  // NOLINT(cppcoreguidelines-pro-type-const-cast)
}

}  // namespace

void hkdf_sha256(ByteView salt, ByteView ikm, ByteView info, MutableByteView out) {
  KMCHAIN_CHECK(!out.empty() && out.size() <= 255 * 32);
  EVP_KDF_CTX* ctx = thread_ctx();
  // A reused context keeps the previous call's salt and info: start from a clean one.
  EVP_KDF_CTX_reset(ctx);
  static char kDigest[] = "SHA256";
  static const std::uint8_t kEmpty = 0;
  OSSL_PARAM params[5];
  std::size_t n = 0;
  params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, kDigest, 0);
  params[n++] = OSSL_PARAM_construct_octet_string(
      OSSL_KDF_PARAM_KEY, ikm.empty() ? const_cast<std::uint8_t*>(&kEmpty) : mutable_ptr(ikm),
      ikm.size());
  if (!salt.empty()) {
    params[n++] =
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, mutable_ptr(salt), salt.size());
  }
  if (!info.empty()) {
    params[n++] =
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, mutable_ptr(info), info.size());
  }
  params[n] = OSSL_PARAM_construct_end();
  KMCHAIN_CHECK(EVP_KDF_derive(ctx, out.data(), out.size(), params) == 1);
}

}  // namespace kmchain::crypto
