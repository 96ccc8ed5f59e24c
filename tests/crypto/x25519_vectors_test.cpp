// X25519 against RFC 7748: section 6.1 (Alice's and Bob's key pairs and their shared secret) and
// the first two scalar-multiplication vectors of section 5.2, whose input u-coordinate is passed
// as the peer public key. A low-order peer key must make derive() fail.
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "crypto/dh.h"
#include "crypto/random.h"
#include "crypto/secret.h"
#include "support/hex.h"
#include "test_util.h"

namespace kmchain::crypto {
namespace {

using kmchain::testing::unhex_array;

X25519KeyPair from_private_hex(std::string_view hex) {
  return X25519KeyPair::from_private(Secret256(unhex_array<32>(hex)));
}

// RFC 7748 section 6.1.
constexpr std::string_view kAlicePrivate =
    "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
constexpr std::string_view kAlicePublic =
    "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
constexpr std::string_view kBobPrivate =
    "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
constexpr std::string_view kBobPublic =
    "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
constexpr std::string_view kSharedSecret =
    "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";

TEST(X25519Rfc7748Section6_1, AlicePublicKey) {
  EXPECT_EQ(to_hex(from_private_hex(kAlicePrivate).public_key()), kAlicePublic);
}

TEST(X25519Rfc7748Section6_1, BobPublicKey) {
  EXPECT_EQ(to_hex(from_private_hex(kBobPrivate).public_key()), kBobPublic);
}

TEST(X25519Rfc7748Section6_1, SharedSecretFromBothSides) {
  Secret256 alice_shared;
  ASSERT_TRUE(from_private_hex(kAlicePrivate).derive(unhex_array<32>(kBobPublic), alice_shared));
  EXPECT_EQ(to_hex(alice_shared.view()), kSharedSecret);

  Secret256 bob_shared;
  ASSERT_TRUE(from_private_hex(kBobPrivate).derive(unhex_array<32>(kAlicePublic), bob_shared));
  EXPECT_EQ(to_hex(bob_shared.view()), kSharedSecret);
}

// RFC 7748 section 5.2: X25519(scalar, u) for an arbitrary u-coordinate. The second vector's u
// has its top bit set, which X25519 must mask.
struct ScalarMultVector {
  std::string_view name;
  std::string_view scalar;
  std::string_view u;
  std::string_view output;
};

// Failure messages name the vector instead of dumping its bytes.
void PrintTo(const ScalarMultVector& v, std::ostream* os) {
  *os << v.name;
}

constexpr ScalarMultVector kSection5_2[] = {
    {"Vector1", "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
     "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
     "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"},
    {"Vector2", "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
     "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
     "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957"},
};

class X25519Rfc7748Section5_2Test : public ::testing::TestWithParam<ScalarMultVector> {};

TEST_P(X25519Rfc7748Section5_2Test, ScalarMultiplication) {
  const ScalarMultVector& v = GetParam();
  Secret256 shared;
  ASSERT_TRUE(from_private_hex(v.scalar).derive(unhex_array<32>(v.u), shared));
  EXPECT_EQ(to_hex(shared.view()), v.output);
}

INSTANTIATE_TEST_SUITE_P(Section5_2, X25519Rfc7748Section5_2Test, ::testing::ValuesIn(kSection5_2),
                         testutil::VectorName());

// The all-zero u-coordinate is a point of small order: every scalar maps it to the all-zero
// shared secret, which derive() refuses without touching `shared`.
TEST(X25519, LowOrderPeerKeyIsRejected) {
  const X25519KeyPair alice = from_private_hex(kAlicePrivate);
  const X25519PublicKey zero{};
  const Secret256 before(unhex_array<32>(kSharedSecret));
  Secret256 shared = before;
  EXPECT_FALSE(alice.derive(zero, shared));
  EXPECT_TRUE(shared == before);
}

TEST(X25519, GeneratedKeyPairsAgree) {
  DeterministicRng rng(7748);
  const X25519KeyPair a = X25519KeyPair::generate(rng);
  const X25519KeyPair b = X25519KeyPair::generate(rng);
  Secret256 ab;
  Secret256 ba;
  ASSERT_TRUE(a.derive(b.public_key(), ab));
  ASSERT_TRUE(b.derive(a.public_key(), ba));
  EXPECT_TRUE(ab == ba);
  EXPECT_FALSE(ab == Secret256());
}

}  // namespace
}  // namespace kmchain::crypto
