#include "crypto/aead.h"

#include <openssl/err.h>
#include <openssl/evp.h>

#include "base/check.h"

namespace kmchain::crypto {

namespace {

const EVP_CIPHER* ccm_cipher() {
  static EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, "AES-128-CCM", nullptr);
  KMCHAIN_CHECK(cipher != nullptr);
  return cipher;
}

// One context per thread, re-initialised per message: allocation is not on the hot path.
EVP_CIPHER_CTX* thread_ctx() {
  struct Holder {
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    ~Holder() { EVP_CIPHER_CTX_free(ctx); }
  };
  thread_local Holder holder;
  KMCHAIN_CHECK(holder.ctx != nullptr);
  return holder.ctx;
}

int as_int(std::size_t n) {
  KMCHAIN_CHECK(n <= static_cast<std::size_t>(INT32_MAX));
  return static_cast<int>(n);
}

void check_shape(ByteView key, ByteView nonce, std::size_t tag_len) {
  KMCHAIN_CHECK(key.size() == 16);
  KMCHAIN_CHECK(nonce.size() >= 7 && nonce.size() <= 13);
  KMCHAIN_CHECK(tag_len >= 4 && tag_len <= 16 && tag_len % 2 == 0);
}

// OpenSSL treats NULL data pointers as a length-only call; an empty message must still pass
// a real pointer or the tag is never computed.
const std::uint8_t* non_null(ByteView v) {
  static const std::uint8_t kEmpty = 0;
  return v.empty() ? &kEmpty : v.data();
}

}  // namespace

namespace detail {

void ccm_seal(ByteView key16, ByteView nonce, ByteView aad, ByteView plaintext, std::size_t tag_len,
              Bytes& out) {
  check_shape(key16, nonce, tag_len);
  EVP_CIPHER_CTX* ctx = thread_ctx();
  int len = 0;
  // CCM's call order is strict: lengths and tag size before key and nonce, then the total
  // message length, then the AAD, then the whole plaintext in one call.
  KMCHAIN_CHECK(EVP_EncryptInit_ex(ctx, ccm_cipher(), nullptr, nullptr, nullptr) == 1);
  KMCHAIN_CHECK(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, as_int(nonce.size()), nullptr) ==
                1);
  KMCHAIN_CHECK(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, as_int(tag_len), nullptr) == 1);
  KMCHAIN_CHECK(EVP_EncryptInit_ex(ctx, nullptr, nullptr, key16.data(), nonce.data()) == 1);
  KMCHAIN_CHECK(EVP_EncryptUpdate(ctx, nullptr, &len, nullptr, as_int(plaintext.size())) == 1);
  if (!aad.empty()) {
    KMCHAIN_CHECK(EVP_EncryptUpdate(ctx, nullptr, &len, aad.data(), as_int(aad.size())) == 1);
  }
  const std::size_t start = out.size();
  out.resize(start + plaintext.size() + tag_len);
  std::uint8_t dummy = 0;
  std::uint8_t* ct = plaintext.empty() ? &dummy : out.data() + start;
  KMCHAIN_CHECK(EVP_EncryptUpdate(ctx, ct, &len, non_null(plaintext), as_int(plaintext.size())) ==
                1);
  KMCHAIN_CHECK(EVP_EncryptFinal_ex(ctx, ct + len, &len) == 1);
  KMCHAIN_CHECK(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, as_int(tag_len),
                                    out.data() + start + plaintext.size()) == 1);
}

bool ccm_open(ByteView key16, ByteView nonce, ByteView aad, ByteView sealed, std::size_t tag_len,
              Bytes& out) {
  check_shape(key16, nonce, tag_len);
  if (sealed.size() < tag_len) return false;
  const ByteView ciphertext = sealed.first(sealed.size() - tag_len);
  const ByteView tag = sealed.last(tag_len);
  EVP_CIPHER_CTX* ctx = thread_ctx();
  int len = 0;
  KMCHAIN_CHECK(EVP_DecryptInit_ex(ctx, ccm_cipher(), nullptr, nullptr, nullptr) == 1);
  KMCHAIN_CHECK(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, as_int(nonce.size()), nullptr) ==
                1);
  KMCHAIN_CHECK(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, as_int(tag_len),
                                    const_cast<std::uint8_t*>(tag.data())) == 1);
  KMCHAIN_CHECK(EVP_DecryptInit_ex(ctx, nullptr, nullptr, key16.data(), nonce.data()) == 1);
  KMCHAIN_CHECK(EVP_DecryptUpdate(ctx, nullptr, &len, nullptr, as_int(ciphertext.size())) == 1);
  if (!aad.empty()) {
    KMCHAIN_CHECK(EVP_DecryptUpdate(ctx, nullptr, &len, aad.data(), as_int(aad.size())) == 1);
  }
  const std::size_t start = out.size();
  out.resize(start + ciphertext.size());
  std::uint8_t dummy = 0;
  std::uint8_t* pt = ciphertext.empty() ? &dummy : out.data() + start;
  // For CCM the tag verdict is the return value of the data update; there is no Final.
  const int verdict =
      EVP_DecryptUpdate(ctx, pt, &len, non_null(ciphertext), as_int(ciphertext.size()));
  if (verdict <= 0) {
    OPENSSL_cleanse(out.data() + start, ciphertext.size());
    out.resize(start);
    ERR_clear_error();
    return false;
  }
  return true;
}

}  // namespace detail

void aes128_ccm_seal(const Key128& key, const CcmNonce& nonce, ByteView aad, ByteView plaintext,
                     CcmTag tag, Bytes& out) {
  detail::ccm_seal(key.view(), nonce, aad, plaintext, tag_bytes(tag), out);
}

bool aes128_ccm_open(const Key128& key, const CcmNonce& nonce, ByteView aad, ByteView sealed,
                     CcmTag tag, Bytes& out) {
  return detail::ccm_open(key.view(), nonce, aad, sealed, tag_bytes(tag), out);
}

}  // namespace kmchain::crypto
