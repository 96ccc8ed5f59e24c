// HKDF-SHA-256 against RFC 5869 Appendix A, test cases 1-3 (the SHA-256 cases): the full OKM is
// compared byte for byte. PRK is internal to crypto::hkdf_sha256 and is not observable here.
#include <gtest/gtest.h>

#include <cstddef>
#include <ostream>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "crypto/kdf.h"
#include "support/hex.h"
#include "test_util.h"

namespace kmchain::crypto {
namespace {

using kmchain::testing::unhex;

struct HkdfVector {
  std::string_view name;
  std::string_view ikm;
  std::size_t ikm_len;  // octets, as stated in the RFC
  std::string_view salt;
  std::size_t salt_len;
  std::string_view info;
  std::size_t info_len;
  std::size_t length;  // L
  std::string_view okm;
};

// Failure messages name the vector instead of dumping its bytes.
void PrintTo(const HkdfVector& v, std::ostream* os) {
  *os << v.name;
}

constexpr HkdfVector kRfc5869[] = {
    // A.1: basic test case with SHA-256.
    {"TestCase1", "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", 22, "000102030405060708090a0b0c",
     13, "f0f1f2f3f4f5f6f7f8f9", 10, 42,
     "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"},
    // A.2: SHA-256 with longer inputs and outputs (three expand rounds).
    {"TestCase2",
     "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
     "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
     "404142434445464748494a4b4c4d4e4f",
     80,
     "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
     "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
     "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
     80,
     "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
     "d0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeef"
     "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
     80, 82,
     "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
     "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
     "cc30c58179ec3e87c14c01d5c1f3434f1d87"},
    // A.3: SHA-256 with zero-length salt and info (the salt defaults to HashLen zero octets).
    {"TestCase3", "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", 22, "", 0, "", 0, 42,
     "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"},
};

const HkdfVector& vector_named(std::string_view name) {
  for (const HkdfVector& v : kRfc5869) {
    if (v.name == name) return v;
  }
  ADD_FAILURE() << "no vector " << name;
  return kRfc5869[0];
}

Bytes derive(const HkdfVector& v, std::size_t length) {
  Bytes okm(length);
  hkdf_sha256(unhex(v.salt), unhex(v.ikm), unhex(v.info), okm);
  return okm;
}

class HkdfRfc5869Test : public ::testing::TestWithParam<HkdfVector> {};

TEST_P(HkdfRfc5869Test, LengthsMatchTheRfc) {
  const HkdfVector& v = GetParam();
  EXPECT_EQ(unhex(v.ikm).size(), v.ikm_len);
  EXPECT_EQ(unhex(v.salt).size(), v.salt_len);
  EXPECT_EQ(unhex(v.info).size(), v.info_len);
  EXPECT_EQ(unhex(v.okm).size(), v.length);
}

TEST_P(HkdfRfc5869Test, OkmMatchesByteForByte) {
  const HkdfVector& v = GetParam();
  EXPECT_EQ(to_hex(derive(v, v.length)), to_hex(unhex(v.okm)));
}

INSTANTIATE_TEST_SUITE_P(AppendixA, HkdfRfc5869Test, ::testing::ValuesIn(kRfc5869),
                         testutil::VectorName());

// The context is reused per thread: a call without salt or info must not inherit the previous
// call's. Test case 3 right after test case 2 would fail if it did.
TEST(HkdfSha256, ReusedContextCarriesNoSaltOrInfo) {
  const HkdfVector& two = vector_named("TestCase2");
  const HkdfVector& three = vector_named("TestCase3");
  EXPECT_EQ(to_hex(derive(two, two.length)), to_hex(unhex(two.okm)));
  EXPECT_EQ(to_hex(derive(three, three.length)), to_hex(unhex(three.okm)));
  EXPECT_EQ(to_hex(derive(two, two.length)), to_hex(unhex(two.okm)));
}

// HKDF-Expand output is a prefix-closed stream: a shorter L yields the first L octets of the OKM.
TEST(HkdfSha256, ShorterOutputIsPrefixOfOkm) {
  const HkdfVector& two = vector_named("TestCase2");
  const Bytes full = unhex(two.okm);
  for (std::size_t length : {1u, 16u, 32u, 33u, 64u}) {
    EXPECT_EQ(to_hex(derive(two, length)), to_hex(ByteView(full).first(length))) << length;
  }
}

TEST(HkdfSha256, Key128IsFirstSixteenOctetsOfOkm) {
  const HkdfVector& one = vector_named("TestCase1");
  const Key128 key = hkdf_sha256_key128(unhex(one.salt), unhex(one.ikm), unhex(one.info));
  EXPECT_EQ(to_hex(key.view()), to_hex(ByteView(unhex(one.okm)).first(16)));
}

}  // namespace
}  // namespace kmchain::crypto
