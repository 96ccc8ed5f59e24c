#include "crypto/x509.h"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

#include "base/check.h"

namespace kmchain::crypto {

namespace {

struct Free {
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
};
template <class T>
using Ptr = std::unique_ptr<T, Free>;

Ptr<EVP_PKEY> pkey_of(const Ed25519KeyPair& key) {
  EVP_PKEY* raw =
      EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, key.seed().data(), Secret256::kSize);
  KMCHAIN_CHECK(raw != nullptr);
  return Ptr<EVP_PKEY>(raw);
}

Ptr<BIO> reader(std::string_view text) {
  BIO* bio = BIO_new_mem_buf(text.data(), static_cast<int>(text.size()));
  KMCHAIN_CHECK(bio != nullptr);
  return Ptr<BIO>(bio);
}

std::string drain(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  KMCHAIN_CHECK(size >= 0);
  return std::string(data, static_cast<std::size_t>(size));
}

void add_extension(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  Ptr<X509_EXTENSION> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  KMCHAIN_CHECK(ext != nullptr);
  KMCHAIN_CHECK(X509_add_ext(cert, ext.get(), -1) == 1);
}

}  // namespace

SecretPem::~SecretPem() {
  if (!text_.empty()) OPENSSL_cleanse(text_.data(), text_.size());
}

const char* to_string(PemError e) {
  switch (e) {
    case PemError::kNotPem:
      return "not a PEM block of the expected kind";
    case PemError::kNotEd25519:
      return "not an Ed25519 key";
    case PemError::kBadSignature:
      return "certificate self-signature does not verify";
  }
  return "unknown PEM error";
}

SecretPem private_key_pem(const Ed25519KeyPair& key) {
  // A secure-memory BIO: OpenSSL wipes its buffer when it is freed.
  Ptr<BIO> bio(BIO_new(BIO_s_secmem()));
  KMCHAIN_CHECK(bio != nullptr);
  const Ptr<EVP_PKEY> pkey = pkey_of(key);
  KMCHAIN_CHECK(
      PEM_write_bio_PrivateKey(bio.get(), pkey.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1);
  return SecretPem(drain(bio.get()));
}

Result<Ed25519KeyPair, PemError> parse_private_key_pem(std::string_view pem) {
  const Ptr<BIO> bio = reader(pem);
  Ptr<EVP_PKEY> pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (pkey == nullptr) {
    ERR_clear_error();
    return Err{PemError::kNotPem};
  }
  if (EVP_PKEY_get_id(pkey.get()) != EVP_PKEY_ED25519) return Err{PemError::kNotEd25519};
  Secret256 seed;
  std::size_t len = Secret256::kSize;
  KMCHAIN_CHECK(EVP_PKEY_get_raw_private_key(pkey.get(), seed.mutable_view().data(), &len) == 1);
  KMCHAIN_CHECK(len == Secret256::kSize);
  return Ed25519KeyPair::from_seed(seed);
}

std::string self_signed_certificate_pem(const Ed25519KeyPair& key, const std::string& common_name,
                                        std::int64_t not_before_s, int days) {
  const Ptr<EVP_PKEY> pkey = pkey_of(key);
  Ptr<X509> cert(X509_new());
  KMCHAIN_CHECK(cert != nullptr);
  KMCHAIN_CHECK(X509_set_version(cert.get(), X509_VERSION_3) == 1);
  // The serial is the first 8 bytes of the public key: unique per gateway, no randomness needed.
  std::uint64_t serial = 0;
  for (int i = 0; i < 8; ++i)
    serial = (serial << 8) | key.public_key()[static_cast<std::size_t>(i)];
  KMCHAIN_CHECK(ASN1_INTEGER_set_uint64(X509_get_serialNumber(cert.get()), serial >> 1) == 1);
  KMCHAIN_CHECK(X509_time_adj_ex(X509_getm_notBefore(cert.get()), 0, 0, &not_before_s) != nullptr);
  KMCHAIN_CHECK(X509_time_adj_ex(X509_getm_notAfter(cert.get()), days, 0, &not_before_s) !=
                nullptr);
  KMCHAIN_CHECK(X509_set_pubkey(cert.get(), pkey.get()) == 1);
  X509_NAME* name = X509_get_subject_name(cert.get());
  KMCHAIN_CHECK(X509_NAME_add_entry_by_txt(
                    name, "CN", MBSTRING_UTF8,
                    reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1, 0) == 1);
  KMCHAIN_CHECK(X509_set_issuer_name(cert.get(), name) == 1);
  add_extension(cert.get(), NID_basic_constraints, "critical,CA:FALSE");
  add_extension(cert.get(), NID_key_usage, "critical,digitalSignature");
  add_extension(cert.get(), NID_ext_key_usage, "serverAuth,clientAuth");
  // Ed25519 signs the whole to-be-signed structure: no digest.
  KMCHAIN_CHECK(X509_sign(cert.get(), pkey.get(), nullptr) > 0);
  Ptr<BIO> bio(BIO_new(BIO_s_mem()));
  KMCHAIN_CHECK(bio != nullptr);
  KMCHAIN_CHECK(PEM_write_bio_X509(bio.get(), cert.get()) == 1);
  return drain(bio.get());
}

Result<Ed25519PublicKey, PemError> certificate_public_key(std::string_view pem) {
  const Ptr<BIO> bio = reader(pem);
  Ptr<X509> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (cert == nullptr) {
    ERR_clear_error();
    return Err{PemError::kNotPem};
  }
  EVP_PKEY* pkey = X509_get0_pubkey(cert.get());
  if (pkey == nullptr || EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519) {
    ERR_clear_error();
    return Err{PemError::kNotEd25519};
  }
  if (X509_verify(cert.get(), pkey) != 1) {
    ERR_clear_error();
    return Err{PemError::kBadSignature};
  }
  Ed25519PublicKey out{};
  std::size_t len = out.size();
  KMCHAIN_CHECK(EVP_PKEY_get_raw_public_key(pkey, out.data(), &len) == 1);
  KMCHAIN_CHECK(len == out.size());
  return out;
}

}  // namespace kmchain::crypto
