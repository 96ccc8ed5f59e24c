#include "crypto_counters.h"

#include <openssl/evp.h>
#include <openssl/kdf.h>

#include <atomic>
#include <cstddef>

namespace {
std::atomic<std::uint64_t> g_hkdf{0};
std::atomic<std::uint64_t> g_seals{0};
}  // namespace

// The linker resolves our objects' references to EVP_KDF_derive / EVP_EncryptFinal_ex to
// these shims, and __real_* to OpenSSL's functions (GNU ld / gold / lld `--wrap`).
extern "C" {
int __real_EVP_KDF_derive(EVP_KDF_CTX* ctx, unsigned char* key, std::size_t keylen,
                          const OSSL_PARAM params[]);
int __real_EVP_EncryptFinal_ex(EVP_CIPHER_CTX* ctx, unsigned char* out, int* outl);

int __wrap_EVP_KDF_derive(EVP_KDF_CTX* ctx, unsigned char* key, std::size_t keylen,
                          const OSSL_PARAM params[]) {
  g_hkdf.fetch_add(1, std::memory_order_relaxed);
  return __real_EVP_KDF_derive(ctx, key, keylen, params);
}

int __wrap_EVP_EncryptFinal_ex(EVP_CIPHER_CTX* ctx, unsigned char* out, int* outl) {
  g_seals.fetch_add(1, std::memory_order_relaxed);
  return __real_EVP_EncryptFinal_ex(ctx, out, outl);
}
}

namespace kmchain::bench {

CryptoCounts crypto_counts() {
  return {g_hkdf.load(std::memory_order_relaxed), g_seals.load(std::memory_order_relaxed)};
}

}  // namespace kmchain::bench
