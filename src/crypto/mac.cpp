#include "crypto/mac.h"

#include <openssl/core_names.h>
#include <openssl/params.h>

#include "base/check.h"
#include "crypto/secret.h"

namespace kmchain::crypto {

namespace {

EVP_MAC* hmac_algorithm() {
  // Fetched once: an EVP_MAC is immutable and may be shared by every thread's contexts.
  static EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  KMCHAIN_CHECK(mac != nullptr);
  return mac;
}

}  // namespace

HmacSha256::HmacSha256(ByteView key) : ctx_(EVP_MAC_CTX_new(hmac_algorithm())) {
  KMCHAIN_CHECK(ctx_ != nullptr);
  static char kDigest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, kDigest, 0),
                         OSSL_PARAM_construct_end()};
  // A null key pointer means "keep the previous key" to EVP_MAC_init; the empty key is a key.
  static const std::uint8_t kEmpty = 0;
  const std::uint8_t* key_data = key.empty() ? &kEmpty : key.data();
  KMCHAIN_CHECK(EVP_MAC_init(ctx_, key_data, key.size(), params) == 1);
}

HmacSha256::~HmacSha256() {
  // Frees and wipes the keyed inner and outer digest states.
  EVP_MAC_CTX_free(ctx_);
}

HmacSha256& HmacSha256::update(ByteView data) {
  KMCHAIN_CHECK(!finished_);
  KMCHAIN_CHECK(EVP_MAC_update(ctx_, data.data(), data.size()) == 1);
  return *this;
}

HmacTag HmacSha256::finish() {
  KMCHAIN_CHECK(!finished_);
  finished_ = true;
  HmacTag tag{};
  std::size_t len = 0;
  KMCHAIN_CHECK(EVP_MAC_final(ctx_, tag.data(), &len, tag.size()) == 1);
  KMCHAIN_CHECK(len == tag.size());
  return tag;
}

HmacTag hmac_sha256(ByteView key, ByteView message) {
  HmacSha256 mac(key);
  mac.update(message);
  return mac.finish();
}

bool hmac_sha256_verify(ByteView key, ByteView message, ByteView tag) {
  if (tag.size() < kHmacTagBytesMin || tag.size() > kHmacSha256Bytes) return false;
  const HmacTag expected = hmac_sha256(key, message);
  return ct_equal(ByteView(expected).first(tag.size()), tag);
}

}  // namespace kmchain::crypto
