// Key derivation (keys/derivation.h): every input separates outputs, pairwise node keys do not
// depend on the order of the two nodes, and known answers pin the KDF definitions on the wire.
#include "keys/derivation.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "crypto/kdf.h"
#include "network_fixture.h"
#include "support/counting.h"

namespace kmchain::keys {
namespace {

using fixture::counting_key;
using kmchain::testing::counting_secret;

std::string hex(const Key128& k) {
  return to_hex(k.view());
}

// Big-endian appends, written out here rather than through the production ByteWriter.
void put_be(Bytes& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i)
    out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

Bytes label(std::string_view s) {
  return Bytes(s.begin(), s.end());
}

const Key128 kKey = counting_key(0x00);
const Key128 kRefreshKey = counting_key(0x10);
const KeyId kId = KeyId::set_key(SetId{0x01000002});
const Position kPos{0x0102030405060708};

// ---------------------------------------------------------------------------------------------
// refresh()

TEST(Refresh, IsDeterministic) {
  EXPECT_TRUE(refresh(kKey, kRefreshKey, kId, kPos) == refresh(kKey, kRefreshKey, kId, kPos));
}

TEST(Refresh, ChangesTheKey) {
  const Key128 next_key = refresh(kKey, kRefreshKey, kId, kPos);
  EXPECT_FALSE(next_key == kKey);
  EXPECT_FALSE(next_key == kRefreshKey);
}

TEST(Refresh, EveryInputSeparatesTheOutput) {
  const Key128 base = refresh(kKey, kRefreshKey, kId, kPos);
  std::vector<std::pair<std::string, Key128>> variants;
  variants.emplace_back("key", refresh(counting_key(0x01), kRefreshKey, kId, kPos));
  variants.emplace_back("refresh key", refresh(kKey, counting_key(0x11), kId, kPos));
  variants.emplace_back("class",
                        refresh(kKey, kRefreshKey, KeyId{KeyClass::kNodeKey, kId.a, kId.b}, kPos));
  variants.emplace_back("id a",
                        refresh(kKey, kRefreshKey, KeyId::set_key(SetId{0x01000003}), kPos));
  variants.emplace_back("id b",
                        refresh(kKey, kRefreshKey, KeyId{KeyClass::kSetKey, kId.a, 1}, kPos));
  variants.emplace_back("position", refresh(kKey, kRefreshKey, kId, next(kPos)));
  // a and b are not interchangeable: the label is not a set of ids.
  variants.emplace_back("a/b swapped",
                        refresh(kKey, kRefreshKey, KeyId{KeyClass::kPairwiseSetKey, 2, 1}, kPos));
  variants.emplace_back("a/b ordered",
                        refresh(kKey, kRefreshKey, KeyId{KeyClass::kPairwiseSetKey, 1, 2}, kPos));
  std::set<std::string> distinct{hex(base)};
  for (const auto& [what, key] : variants) {
    EXPECT_FALSE(key == base) << "changing the " << what << " did not change the output";
    distinct.insert(hex(key));
  }
  EXPECT_EQ(distinct.size(), variants.size() + 1);
}

TEST(Refresh, AChainOfRefreshesNeverRepeats) {
  Key128 k = kKey;
  std::set<std::string> seen{hex(k)};
  for (std::uint64_t p = 1; p <= 500; ++p) {
    k = refresh(k, kRefreshKey, kId, Position{p});
    ASSERT_TRUE(seen.insert(hex(k)).second) << "repeat at position " << p;
  }
}

// The documented formula, assembled by hand:
//   HKDF-SHA-256(salt = R, ikm = K, info = "kmchain/v1/refresh" || class u8 || a u32be ||
//                b u32be || position u64be), 16 bytes.
Key128 refresh_by_hand(const Key128& k, const Key128& r, std::uint8_t key_class, std::uint32_t a,
                       std::uint32_t b, std::uint64_t position) {
  Bytes info = label("kmchain/v1/refresh");
  put_be(info, key_class, 1);
  put_be(info, a, 4);
  put_be(info, b, 4);
  put_be(info, position, 8);
  EXPECT_EQ(info.size(), 18u + 17u);
  Key128 out;
  crypto::hkdf_sha256(r.view(), k.view(), info, out.mutable_view());
  return out;
}

TEST(Refresh, MatchesTheDocumentedHkdfFormula) {
  EXPECT_TRUE(refresh(kKey, kRefreshKey, kId, kPos) ==
              refresh_by_hand(kKey, kRefreshKey, 2, 0x01000002, 0, 0x0102030405060708));
  const KeyId pair = KeyId::pairwise_set_key(SetId{0x02000001}, SetId{3});
  EXPECT_TRUE(refresh(kKey, kRefreshKey, pair, Position{77}) ==
              refresh_by_hand(kKey, kRefreshKey, 4, 3, 0x02000001, 77));
  const KeyId node = KeyId::node_key(NodeId{0xdeadbeef});
  EXPECT_TRUE(refresh(kRefreshKey, kKey, node, Position{1}) ==
              refresh_by_hand(kRefreshKey, kKey, 1, 0xdeadbeef, 0, 1));
}

// Known answers computed outside this code base (Python's hmac/hashlib, RFC 5869 by hand) for
// K = 00..0f, R = 10..1f.
TEST(Refresh, KnownAnswers) {
  EXPECT_EQ(hex(refresh(kKey, kRefreshKey, kId, kPos)), "b125a1a0ec89e92f22c6566decae8b75");
  EXPECT_EQ(hex(refresh(kKey, kRefreshKey, KeyId::pairwise_set_key(SetId{0x02000001}, SetId{3}),
                        Position{77})),
            "804e0b05d819b2843eab2b2e3fe22c00");
}

// ---------------------------------------------------------------------------------------------
// pairwise_node_key()

const Secret256 kSeed = counting_secret(0x20);
const SetId kSet{0x01000000};

TEST(PairwiseNodeKey, IsSymmetricInTheTwoNodes) {
  for (std::uint32_t x = 1; x < 20; ++x) {
    for (std::uint32_t y = x + 1; y < 20; ++y) {
      EXPECT_TRUE(pairwise_node_key(kSeed, kSet, NodeId{x}, NodeId{y}, Position{9}) ==
                  pairwise_node_key(kSeed, kSet, NodeId{y}, NodeId{x}, Position{9}))
          << x << ", " << y;
    }
  }
}

TEST(PairwiseNodeKey, EveryInputSeparatesTheOutput) {
  const NodeId x{5};
  const NodeId y{9};
  const Key128 base = pairwise_node_key(kSeed, kSet, x, y, Position{42});
  EXPECT_TRUE(base == pairwise_node_key(kSeed, kSet, x, y, Position{42}));
  EXPECT_FALSE(base == pairwise_node_key(counting_secret(0x21), kSet, x, y, Position{42}));
  EXPECT_FALSE(base == pairwise_node_key(kSeed, SetId{0x01000001}, x, y, Position{42}));
  EXPECT_FALSE(base == pairwise_node_key(kSeed, kSet, x, NodeId{10}, Position{42}));
  EXPECT_FALSE(base == pairwise_node_key(kSeed, kSet, NodeId{4}, y, Position{42}));
  EXPECT_FALSE(base == pairwise_node_key(kSeed, kSet, x, y, Position{43}));
}

TEST(PairwiseNodeKey, DistinctForEveryPairOfASet) {
  std::set<std::string> keys;
  std::size_t pairs = 0;
  for (std::uint32_t x = 1; x <= 30; ++x) {
    for (std::uint32_t y = x + 1; y <= 30; ++y) {
      keys.insert(hex(pairwise_node_key(kSeed, kSet, NodeId{x}, NodeId{y}, Position{1})));
      ++pairs;
    }
  }
  EXPECT_EQ(keys.size(), pairs);
}

// HKDF-SHA-256(salt = -, ikm = seed, info = "kmchain/v1/pairwise-node" || 3 || min || max ||
// set u32be || placed_at u64be), computed outside this code base.
TEST(PairwiseNodeKey, KnownAnswer) {
  EXPECT_EQ(hex(pairwise_node_key(kSeed, kSet, NodeId{9}, NodeId{5}, Position{42})),
            "b897c8d57d7d5a922ec73a6ebbc8fb68");
}

// ---------------------------------------------------------------------------------------------
// step_refresh_key()

TEST(StepRefreshKey, DiffersPerStepIndexAndFromTheOperationKey) {
  std::set<std::string> keys{hex(kRefreshKey)};
  for (std::uint32_t i = 0; i < 64; ++i) {
    const Key128 k = step_refresh_key(kRefreshKey, i);
    EXPECT_TRUE(k == step_refresh_key(kRefreshKey, i)) << i;
    EXPECT_TRUE(keys.insert(hex(k)).second) << "step " << i << " repeats a key";
  }
  EXPECT_FALSE(step_refresh_key(kRefreshKey, 0) == step_refresh_key(kKey, 0));
}

// HKDF-SHA-256(salt = -, ikm = R, info = "kmchain/v1/step" || i u32be), computed outside.
TEST(StepRefreshKey, KnownAnswer) {
  EXPECT_EQ(hex(step_refresh_key(kRefreshKey, 3)), "7c2ef1d38622eeb7de6cc65fcd4cad2f");
}

// ---------------------------------------------------------------------------------------------
// KeyId

TEST(KeyIdEncoding, IsClassThenBigEndianIds) {
  Bytes out;
  KeyId::pairwise_set_key(SetId{0x0a0b0c0d}, SetId{0x01020304}).encode(out);
  EXPECT_EQ(to_hex(out), "04010203040a0b0c0d");
  EXPECT_TRUE(KeyId::pairwise_node_key(NodeId{7}, NodeId{3}) ==
              KeyId::pairwise_node_key(NodeId{3}, NodeId{7}));
}

}  // namespace
}  // namespace kmchain::keys
