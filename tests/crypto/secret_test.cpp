// Secret<N> compares by value (in constant time); ct_equal handles strings of different lengths.
#include "crypto/secret.h"

#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "base/bytes.h"

namespace kmchain::crypto {
namespace {

std::array<std::uint8_t, 32> counting_bytes() {
  std::array<std::uint8_t, 32> bytes{};
  for (std::size_t i = 0; i < bytes.size(); ++i)
    bytes[i] = static_cast<std::uint8_t>(i + 1);
  return bytes;
}

TEST(Secret, EqualityIsByValue) {
  const auto bytes = counting_bytes();
  const Secret256 a(bytes);
  const Secret256 b(bytes);
  EXPECT_NE(a.data(), b.data());  // two objects ...
  EXPECT_TRUE(a == b);            // ... equal by content
  EXPECT_FALSE(a != b);
}

TEST(Secret, AnyDifferingOctetMakesThemUnequal) {
  const auto bytes = counting_bytes();
  const Secret256 a(bytes);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    auto other = bytes;
    other[i] = static_cast<std::uint8_t>(other[i] ^ 0x80u);
    EXPECT_FALSE(a == Secret256(other)) << "octet " << i;
    EXPECT_TRUE(a != Secret256(other)) << "octet " << i;
  }
}

TEST(Secret, CopiesCompareEqual) {
  const Secret256 a(counting_bytes());
  const Secret256 copy = a;  // NOLINT(performance-unnecessary-copy-initialization)
  Secret256 assigned;
  assigned = a;
  EXPECT_TRUE(copy == a);
  EXPECT_TRUE(assigned == a);
}

TEST(Secret, DefaultIsAllZero) {
  const Secret256 zero;
  EXPECT_TRUE(zero == Secret256(std::array<std::uint8_t, 32>{}));
  EXPECT_EQ(to_hex(zero.view()), std::string(64, '0'));
  EXPECT_FALSE(zero == Secret256(counting_bytes()));
}

TEST(Secret, FromViewCopiesTheBytes) {
  const auto bytes = counting_bytes();
  const Secret256 s = Secret256::from_view(bytes);
  EXPECT_TRUE(s == Secret256(bytes));
  EXPECT_EQ(to_hex(s.view()), to_hex(bytes));
}

TEST(Secret, MutableViewWritesThrough) {
  Key128 key;
  key.mutable_view()[15] = 0x01;
  std::array<std::uint8_t, 16> expected{};
  expected[15] = 0x01;
  EXPECT_TRUE(key == Key128(expected));
}

TEST(CtEqual, EqualContents) {
  EXPECT_TRUE(ct_equal(as_bytes("abcd"), as_bytes("abcd")));
  EXPECT_TRUE(ct_equal({}, {}));
}

TEST(CtEqual, DifferentContents) {
  EXPECT_FALSE(ct_equal(as_bytes("abcd"), as_bytes("abce")));
  EXPECT_FALSE(ct_equal(as_bytes("abcd"), as_bytes("bbcd")));
}

TEST(CtEqual, LengthMismatchIsUnequal) {
  // A prefix is not equal, whichever side is longer, and nothing reads past the shorter one.
  EXPECT_FALSE(ct_equal(as_bytes("abc"), as_bytes("abcd")));
  EXPECT_FALSE(ct_equal(as_bytes("abcd"), as_bytes("abc")));
  EXPECT_FALSE(ct_equal({}, as_bytes("a")));
  EXPECT_FALSE(ct_equal(as_bytes("a"), {}));
}

}  // namespace
}  // namespace kmchain::crypto
