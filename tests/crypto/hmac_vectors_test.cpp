// HMAC-SHA-256 against RFC 4231 section 4, test cases 1-7 (the HMAC-SHA-256 outputs; case 5
// truncated to 128 bits as the RFC gives it), plus the incremental form and verification:
// truncated tags of the allowed lengths, every one-bit change refused, and lengths outside
// kHmacTagBytesMin..32 refused even when they are a prefix of the right tag.
#include <gtest/gtest.h>

#include <cstddef>
#include <ostream>
#include <string_view>

#include "base/bytes.h"
#include "crypto/mac.h"
#include "support/hex.h"
#include "test_util.h"

namespace kmchain::crypto {
namespace {

using kmchain::testing::unhex;
using testutil::flip_bit;

struct HmacVector {
  std::string_view name;
  std::string_view key;
  std::string_view data;
  std::string_view mac;  // HMAC-SHA-256, or its first 16 bytes for test case 5
};

// Failure messages name the vector instead of dumping its bytes.
void PrintTo(const HmacVector& v, std::ostream* os) {
  *os << v.name;
}

constexpr HmacVector kRfc4231[] = {
    // 4.2: "Hi There" under twenty 0x0b bytes.
    {"TestCase1", "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265",
     "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
    // 4.3: a key shorter than the output ("Jefe").
    {"TestCase2", "4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
    // 4.4: 50 bytes of 0xdd under twenty 0xaa bytes.
    {"TestCase3", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
     "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
     "dddddddddddd",
     "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
    // 4.5: 50 bytes of 0xcd under the key 0x01..0x19.
    {"TestCase4", "0102030405060708090a0b0c0d0e0f10111213141516171819",
     "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"
     "cdcdcdcdcdcd",
     "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
    // 4.6: output truncated to 128 bits.
    {"TestCase5", "0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c",
     "546573742057697468205472756e636174696f6e", "a3b6167473100ee06e0c796c2955552b"},
    // 4.7: a 131-byte key, longer than the 64-byte block, hashed first.
    {"TestCase6",
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
     "54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a65204b6579202d2048617368"
     "204b6579204669727374",
     "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
    // 4.8: a larger-than-block key and larger-than-block data.
    {"TestCase7",
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
     "5468697320697320612074657374207573696e672061206c6172676572207468616e20626c6f636b2d73697a"
     "65206b657920616e642061206c6172676572207468616e20626c6f636b2d73697a6520646174612e20546865"
     "206b6579206e6565647320746f20626520686173686564206265666f7265206265696e672075736564206279"
     "2074686520484d414320616c676f726974686d2e",
     "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
};

const HmacVector& vector_named(std::string_view name) {
  for (const HmacVector& v : kRfc4231) {
    if (v.name == name) return v;
  }
  ADD_FAILURE() << "no vector " << name;
  return kRfc4231[0];
}

class HmacRfc4231Test : public ::testing::TestWithParam<HmacVector> {};

TEST_P(HmacRfc4231Test, KeyLengthsMatchTheRfc) {
  const HmacVector& v = GetParam();
  const std::size_t key_bytes = unhex(v.key).size();
  if (v.name == "TestCase6" || v.name == "TestCase7") {
    EXPECT_EQ(key_bytes, 131u);
  } else if (v.name == "TestCase4") {
    EXPECT_EQ(key_bytes, 25u);
  } else if (v.name == "TestCase2") {
    EXPECT_EQ(key_bytes, 4u);
  } else {
    EXPECT_EQ(key_bytes, 20u);
  }
}

TEST_P(HmacRfc4231Test, MacMatchesByteForByte) {
  const HmacVector& v = GetParam();
  const HmacTag tag = hmac_sha256(unhex(v.key), unhex(v.data));
  const Bytes expected = unhex(v.mac);
  EXPECT_EQ(to_hex(ByteView(tag).first(expected.size())), to_hex(expected));
}

TEST_P(HmacRfc4231Test, VerifyAcceptsThePublishedMac) {
  const HmacVector& v = GetParam();
  EXPECT_TRUE(hmac_sha256_verify(unhex(v.key), unhex(v.data), unhex(v.mac)));
}

// Every piece boundary gives the same MAC as the one-shot form.
TEST_P(HmacRfc4231Test, IncrementalMatchesOneShotAtEverySplit) {
  const HmacVector& v = GetParam();
  const Bytes key = unhex(v.key);
  const Bytes data = unhex(v.data);
  const HmacTag whole = hmac_sha256(key, data);
  for (std::size_t split = 0; split <= data.size(); ++split) {
    HmacSha256 mac(key);
    mac.update(ByteView(data).first(split)).update(ByteView(data).subspan(split));
    EXPECT_EQ(mac.finish(), whole) << "split at " << split;
  }
}

INSTANTIATE_TEST_SUITE_P(Section4, HmacRfc4231Test, ::testing::ValuesIn(kRfc4231),
                         testutil::VectorName());

// Not in RFC 4231: the empty key and the empty message, a widely published value that anyone can
// reproduce with `openssl mac -digest SHA256 -macopt hexkey: HMAC` on empty input.
TEST(HmacSha256, EmptyKeyAndMessage) {
  EXPECT_EQ(to_hex(hmac_sha256({}, {})),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(HmacSha256Verify, EveryOneBitChangeOfTheTagIsRefused) {
  const HmacVector& v = vector_named("TestCase2");
  const Bytes key = unhex(v.key);
  const Bytes data = unhex(v.data);
  const Bytes good = unhex(v.mac);
  for (std::size_t i = 0; i < good.size(); ++i) {
    for (unsigned bit = 0; bit < 8; ++bit) {
      Bytes bad = good;
      flip_bit(bad, i, bit);
      EXPECT_FALSE(hmac_sha256_verify(key, data, bad)) << "byte " << i << " bit " << bit;
    }
  }
}

TEST(HmacSha256Verify, ChangedKeyOrMessageIsRefused) {
  const HmacVector& v = vector_named("TestCase2");
  Bytes key = unhex(v.key);
  Bytes data = unhex(v.data);
  const Bytes tag = unhex(v.mac);
  flip_bit(data, 0);
  EXPECT_FALSE(hmac_sha256_verify(key, data, tag));
  flip_bit(data, 0);
  flip_bit(key, 3, 7);
  EXPECT_FALSE(hmac_sha256_verify(key, data, tag));
}

TEST(HmacSha256Verify, TruncatedTagsOfAllowedLengthsVerify) {
  const HmacVector& v = vector_named("TestCase1");
  const Bytes full = unhex(v.mac);
  for (std::size_t n = kHmacTagBytesMin; n <= kHmacSha256Bytes; ++n) {
    EXPECT_TRUE(hmac_sha256_verify(unhex(v.key), unhex(v.data), ByteView(full).first(n))) << n;
  }
}

// A prefix shorter than the minimum is refused although it matches: otherwise whoever controls
// the length controls the forgery odds.
TEST(HmacSha256Verify, ShortOrLongTagsAreRefused) {
  const HmacVector& v = vector_named("TestCase1");
  const Bytes key = unhex(v.key);
  const Bytes data = unhex(v.data);
  Bytes full = unhex(v.mac);
  for (std::size_t n = 0; n < kHmacTagBytesMin; ++n) {
    EXPECT_FALSE(hmac_sha256_verify(key, data, ByteView(full).first(n))) << n;
  }
  full.push_back(0);
  EXPECT_FALSE(hmac_sha256_verify(key, data, full));
}

}  // namespace
}  // namespace kmchain::crypto
