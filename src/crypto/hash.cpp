#include "crypto/hash.h"

#include "base/check.h"

namespace kmchain::crypto {

namespace {
const EVP_MD* sha256_md() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  KMCHAIN_CHECK(md != nullptr);
  return md;
}
}  // namespace

Digest256 sha256(ByteView data) {
  Digest256 out{};
  unsigned int len = 0;
  KMCHAIN_CHECK(EVP_Digest(data.data(), data.size(), out.data(), &len, sha256_md(), nullptr) == 1);
  KMCHAIN_CHECK(len == out.size());
  return out;
}

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  KMCHAIN_CHECK(ctx_ != nullptr);
  KMCHAIN_CHECK(EVP_DigestInit_ex(ctx_, sha256_md(), nullptr) == 1);
}

Sha256::~Sha256() {
  EVP_MD_CTX_free(ctx_);
}

Sha256& Sha256::update(ByteView data) {
  KMCHAIN_CHECK(EVP_DigestUpdate(ctx_, data.data(), data.size()) == 1);
  return *this;
}

Digest256 Sha256::finish() {
  Digest256 out{};
  unsigned int len = 0;
  KMCHAIN_CHECK(EVP_DigestFinal_ex(ctx_, out.data(), &len) == 1);
  KMCHAIN_CHECK(len == out.size());
  return out;
}

}  // namespace kmchain::crypto
