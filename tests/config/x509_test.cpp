// The gateway identity files: PKCS#8 private keys and self-signed Ed25519 certificates, as
// OpenSSL reads and writes them, and what a peer pins (the certificate's public key).
#include "crypto/x509.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <memory>
#include <string>

#include "crypto/random.h"

namespace kmchain::crypto {
namespace {

Ed25519KeyPair key(std::uint64_t seed) {
  DeterministicRng rng(seed);
  return Ed25519KeyPair::generate(rng);
}

TEST(X509, PrivateKeyPemRoundTrips) {
  const Ed25519KeyPair k = key(1);
  const SecretPem pem = private_key_pem(k);
  EXPECT_NE(pem.view().find("-----BEGIN PRIVATE KEY-----"), std::string_view::npos);
  auto back = parse_private_key_pem(pem.view());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->public_key(), k.public_key());
  EXPECT_TRUE(back->seed() == k.seed());
}

TEST(X509, CertificateCarriesTheIdentityKey) {
  const Ed25519KeyPair k = key(2);
  const std::string pem = self_signed_certificate_pem(k, "gateway 0", 1'700'000'000, 30);
  auto pinned = certificate_public_key(pem);
  ASSERT_TRUE(pinned.ok()) << to_string(pinned.error());
  EXPECT_EQ(*pinned, k.public_key());
  EXPECT_NE(*pinned, key(3).public_key());
}

TEST(X509, TamperedCertificateIsRefused) {
  const std::string pem = self_signed_certificate_pem(key(4), "gateway 1", 1'700'000'000, 30);
  // Flip one base64 character inside the body: either the DER no longer parses or the
  // signature no longer verifies; it must never yield a key.
  int refused = 0;
  for (std::size_t at = 40; at < pem.size() - 40; at += 7) {
    std::string bad = pem;
    if (bad[at] == '\n') continue;
    bad[at] = bad[at] == 'A' ? 'B' : 'A';
    auto r = certificate_public_key(bad);
    if (!r.ok()) {
      ++refused;
    } else {
      // A flip that decodes to the same DER (base64 padding bits) leaves the same key.
      EXPECT_EQ(*r, key(4).public_key()) << at;
    }
  }
  EXPECT_GT(refused, 0);
}

TEST(X509, WhatIsNotAnEd25519PemIsRefused) {
  EXPECT_EQ(certificate_public_key("").error(), PemError::kNotPem);
  EXPECT_EQ(certificate_public_key("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
                .error(),
            PemError::kNotPem);
  EXPECT_EQ(parse_private_key_pem("garbage").error(), PemError::kNotPem);
  // A P-256 key is a valid PEM key of another algorithm.
  std::unique_ptr<EVP_PKEY, void (*)(EVP_PKEY*)> ec(
      EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"), EVP_PKEY_free);
  ASSERT_NE(ec, nullptr);
  std::unique_ptr<BIO, int (*)(BIO*)> bio(BIO_new(BIO_s_mem()), BIO_free);
  ASSERT_EQ(PEM_write_bio_PrivateKey(bio.get(), ec.get(), nullptr, nullptr, 0, nullptr, nullptr),
            1);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  EXPECT_EQ(parse_private_key_pem(std::string(data, static_cast<std::size_t>(size))).error(),
            PemError::kNotEd25519);
}

}  // namespace
}  // namespace kmchain::crypto
