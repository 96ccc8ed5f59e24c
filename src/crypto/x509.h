// X.509 and PEM for the gateway links: each gateway's TLS certificate is self-signed by its
// Ed25519 identity key, the key the genesis lists. A peer is authenticated by pinning: the
// public key of the certificate it presents must be the genesis key of the gateway it claims
// to be, so no certificate authority is needed and none can be abused.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"
#include "crypto/sign.h"

namespace kmchain::crypto {

// A PEM text that holds a private key: wiped when destroyed.
class SecretPem {
 public:
  explicit SecretPem(std::string text) : text_(std::move(text)) {}
  SecretPem(const SecretPem&) = delete;
  SecretPem& operator=(const SecretPem&) = delete;
  SecretPem(SecretPem&& other) noexcept : text_(std::move(other.text_)) { other.text_.clear(); }
  ~SecretPem();
  std::string_view view() const { return text_; }

 private:
  std::string text_;
};

enum class PemError : std::uint8_t {
  kNotPem = 1,        // no PEM block of the expected kind
  kNotEd25519 = 2,    // a key or certificate of another algorithm
  kBadSignature = 3,  // a certificate whose self-signature does not verify
};
const char* to_string(PemError e);

// PKCS#8 PEM ("BEGIN PRIVATE KEY") of an Ed25519 identity; readable by `openssl pkey`.
SecretPem private_key_pem(const Ed25519KeyPair& key);
Result<Ed25519KeyPair, PemError> parse_private_key_pem(std::string_view pem);

// A self-signed X.509 v3 certificate of `key` with subject CN = `common_name`, valid from
// `not_before_s` (Unix seconds) for `days`, for TLS client and server authentication.
std::string self_signed_certificate_pem(const Ed25519KeyPair& key, const std::string& common_name,
                                        std::int64_t not_before_s, int days);
// The Ed25519 public key of a PEM certificate whose self-signature verifies.
Result<Ed25519PublicKey, PemError> certificate_public_key(std::string_view pem);

}  // namespace kmchain::crypto
