// Key sources (keys/key_source.h): DerivedKeySource separates its outputs by every input (master,
// pair secret, set, owner, position), the two owners of a pair derive the same pairwise set key,
// known answers pin the documented formulas, and a source refuses keys its gateway does not
// hold. RngKeySource hands out its stream in the order keys are asked for.
#include "keys/key_source.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/bytes.h"
#include "crypto/kdf.h"
#include "crypto/random.h"
#include "support/counting.h"

namespace kmchain::keys {
namespace {

using kmchain::testing::counting_secret;

std::string hex(ByteView v) {
  return to_hex(v);
}

// Big-endian appends, written out here rather than through the production ByteWriter.
void put_be(Bytes& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i)
    out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

Bytes label(std::string_view s) {
  return Bytes(s.begin(), s.end());
}

const GatewayId kA{1};
const GatewayId kB{2};
const GatewayId kC{3};
const SetId kSetA{0x01000000};   // owned by A (owner in the top byte)
const SetId kSetA2{0x01000001};  // another of A's sets
const SetId kSetB{0x02000000};   // owned by B
const SetId kSetC{0x03000000};   // owned by C
const Position kPos{42};

// The consortium of A, B and C: masters 0x10.., 0x20.., 0x30..; pair secrets 0x40.. (A,B),
// 0x50.. (A,C), 0x60.. (B,C).
DerivedKeySource source_of(GatewayId g) {
  DerivedKeySource::PairSecrets pairs;
  if (g == kA) {
    pairs.emplace(kB, counting_secret(0x40));
    pairs.emplace(kC, counting_secret(0x50));
    return DerivedKeySource(kA, counting_secret(0x10), std::move(pairs));
  }
  if (g == kB) {
    pairs.emplace(kA, counting_secret(0x40));
    pairs.emplace(kC, counting_secret(0x60));
    return DerivedKeySource(kB, counting_secret(0x20), std::move(pairs));
  }
  pairs.emplace(kA, counting_secret(0x50));
  pairs.emplace(kB, counting_secret(0x60));
  return DerivedKeySource(kC, counting_secret(0x30), std::move(pairs));
}

// ---------------------------------------------------------------------------------------------
// Owned keys: set key and pairwise seed

TEST(DerivedKeySource, IsDeterministic) {
  DerivedKeySource a1 = source_of(kA);
  DerivedKeySource a2 = source_of(kA);  // a restarted gateway
  const NewSet s{kSetA, kA, kPos};
  EXPECT_TRUE(a1.set_key(s) == a2.set_key(s));
  EXPECT_TRUE(a1.pairwise_seed(s) == a2.pairwise_seed(s));
  EXPECT_TRUE(a1.pairwise_set_key(s, kSetB, kB) == a2.pairwise_set_key(s, kSetB, kB));
}

TEST(DerivedKeySource, OwnedKeysDifferAcrossMastersSetsAndPositions) {
  DerivedKeySource a = source_of(kA);
  DerivedKeySource other_master(kA, counting_secret(0x11), {});
  const NewSet base{kSetA, kA, kPos};
  std::vector<std::pair<std::string, NewSet>> sets = {
      {"set", NewSet{kSetA2, kA, kPos}},
      {"position", NewSet{kSetA, kA, next(kPos)}},
  };
  std::set<std::string> distinct{hex(a.set_key(base).view()), hex(a.pairwise_seed(base).view())};
  std::size_t expected = 2;
  for (const auto& [what, s] : sets) {
    EXPECT_FALSE(a.set_key(s) == a.set_key(base)) << "set key ignores the " << what;
    EXPECT_FALSE(a.pairwise_seed(s) == a.pairwise_seed(base)) << "seed ignores the " << what;
    distinct.insert(hex(a.set_key(s).view()));
    distinct.insert(hex(a.pairwise_seed(s).view()));
    expected += 2;
  }
  EXPECT_FALSE(other_master.set_key(base) == a.set_key(base)) << "set key ignores the master";
  EXPECT_FALSE(other_master.pairwise_seed(base) == a.pairwise_seed(base));
  // A set key is not the first half of the seed: the labels separate the two.
  Key128 seed_head;
  std::copy_n(a.pairwise_seed(base).data(), 16, seed_head.mutable_view().data());
  EXPECT_FALSE(seed_head == a.set_key(base));
  EXPECT_EQ(distinct.size(), expected);
}

TEST(DerivedKeySource, ManyOwnedKeysNeverCollide) {
  DerivedKeySource a = source_of(kA);
  std::set<std::string> seen;
  std::size_t count = 0;
  for (std::uint32_t set = 0; set < 20; ++set) {
    for (std::uint64_t pos = 1; pos <= 20; ++pos) {
      const NewSet s{SetId{0x01000000 | set}, kA, Position{pos}};
      seen.insert(hex(a.set_key(s).view()));
      seen.insert(hex(a.pairwise_seed(s).view()));
      seen.insert(hex(a.pairwise_set_key(s, kSetB, kB).view()));
      seen.insert(hex(a.pairwise_set_key(s, kSetC, kC).view()));
      count += 4;
    }
  }
  EXPECT_EQ(seen.size(), count);
}

// ---------------------------------------------------------------------------------------------
// Pairwise set keys

TEST(DerivedKeySource, BothOwnersDeriveTheSamePairwiseSetKey) {
  DerivedKeySource a = source_of(kA);
  DerivedKeySource b = source_of(kB);
  DerivedKeySource c = source_of(kC);
  // A opens kSetA while B's kSetB and C's kSetC exist; then B opens a set while A's exists.
  const NewSet sa{kSetA, kA, kPos};
  EXPECT_TRUE(a.pairwise_set_key(sa, kSetB, kB) == b.pairwise_set_key(sa, kSetB, kB));
  EXPECT_TRUE(a.pairwise_set_key(sa, kSetC, kC) == c.pairwise_set_key(sa, kSetC, kC));
  const NewSet sb{SetId{0x02000001}, kB, next(kPos)};
  EXPECT_TRUE(b.pairwise_set_key(sb, kSetA, kA) == a.pairwise_set_key(sb, kSetA, kA));
  // Two sets of one owner: the self-pair secret.
  const NewSet sa2{kSetA2, kA, next(kPos)};
  EXPECT_TRUE(a.pairwise_set_key(sa2, kSetA, kA) == source_of(kA).pairwise_set_key(sa2, kSetA, kA));
}

TEST(DerivedKeySource, PairwiseSetKeysDifferAcrossPairSecretsSetsAndPositions) {
  DerivedKeySource a = source_of(kA);
  const NewSet base{kSetA, kA, kPos};
  const Key128 k = a.pairwise_set_key(base, kSetB, kB);
  DerivedKeySource other_secret(kA, counting_secret(0x10), {{kB, counting_secret(0x41)}});
  EXPECT_FALSE(other_secret.pairwise_set_key(base, kSetB, kB) == k) << "pair secret ignored";
  // The master does not enter a cross-gateway pairwise set key: only the pair secret does.
  DerivedKeySource other_master(kA, counting_secret(0x99), {{kB, counting_secret(0x40)}});
  EXPECT_TRUE(other_master.pairwise_set_key(base, kSetB, kB) == k);
  EXPECT_FALSE(a.pairwise_set_key(NewSet{kSetA2, kA, kPos}, kSetB, kB) == k) << "new set ignored";
  EXPECT_FALSE(a.pairwise_set_key(base, SetId{0x02000001}, kB) == k) << "other set ignored";
  EXPECT_FALSE(a.pairwise_set_key(NewSet{kSetA, kA, next(kPos)}, kSetB, kB) == k)
      << "position ignored";
  // Same pair of gateways, the sets' roles swapped (B's set is the new one).
  EXPECT_FALSE(a.pairwise_set_key(NewSet{kSetB, kB, kPos}, kSetA, kA) == k);
  // Within one gateway the self-pair secret is derived from the master.
  const NewSet sa2{kSetA2, kA, kPos};
  EXPECT_FALSE(a.pairwise_set_key(sa2, kSetA, kA) ==
               DerivedKeySource(kA, counting_secret(0x11), {}).pairwise_set_key(sa2, kSetA, kA));
  EXPECT_FALSE(DerivedKeySource::self_pair_secret(counting_secret(0x10), kA) ==
               DerivedKeySource::self_pair_secret(counting_secret(0x10), kB));
}

// ---------------------------------------------------------------------------------------------
// Known answers: the documented formulas, assembled by hand

Key128 hkdf16(const Secret256& ikm, const Bytes& info) {
  Key128 out;
  crypto::hkdf_sha256({}, ikm.view(), info, out.mutable_view());
  return out;
}

TEST(DerivedKeySource, MatchesTheDocumentedFormulas) {
  const Secret256 master = counting_secret(0x10);
  DerivedKeySource a = source_of(kA);
  const NewSet s{kSetA, kA, Position{0x0102030405060708}};

  Bytes info = label("kmchain/v1/fresh/set-key");
  put_be(info, 2, 1);  // class: set key
  put_be(info, kSetA.value(), 4);
  put_be(info, 0, 4);
  put_be(info, kA.value(), 2);
  put_be(info, 0x0102030405060708, 8);
  EXPECT_TRUE(a.set_key(s) == hkdf16(master, info));

  info = label("kmchain/v1/fresh/pairwise-seed");
  put_be(info, kSetA.value(), 4);
  put_be(info, kA.value(), 2);
  put_be(info, 0x0102030405060708, 8);
  Secret256 seed;
  crypto::hkdf_sha256({}, master.view(), info, seed.mutable_view());
  EXPECT_TRUE(a.pairwise_seed(s) == seed);

  info = label("kmchain/v1/fresh/pairwise-set-key");
  put_be(info, 4, 1);  // class: pairwise set key, ids in increasing order
  put_be(info, kSetA.value(), 4);
  put_be(info, kSetB.value(), 4);
  put_be(info, kSetA.value(), 4);
  put_be(info, kA.value(), 2);
  put_be(info, kSetB.value(), 4);
  put_be(info, kB.value(), 2);
  put_be(info, 0x0102030405060708, 8);
  EXPECT_TRUE(a.pairwise_set_key(s, kSetB, kB) == hkdf16(counting_secret(0x40), info));

  info = label("kmchain/v1/fresh/self-pair-secret");
  put_be(info, kA.value(), 2);
  Secret256 self_pair;
  crypto::hkdf_sha256({}, master.view(), info, self_pair.mutable_view());
  EXPECT_TRUE(DerivedKeySource::self_pair_secret(master, kA) == self_pair);
}

// ---------------------------------------------------------------------------------------------
// Custody: a source serves only its gateway

TEST(DerivedKeySourceDeathTest, RefusesKeysItsGatewayDoesNotHold) {
  DerivedKeySource a = source_of(kA);
  EXPECT_DEATH((void)a.set_key(NewSet{kSetB, kB, kPos}), "invariant broken");
  EXPECT_DEATH((void)a.pairwise_seed(NewSet{kSetB, kB, kPos}), "invariant broken");
  // A pair of sets A owns neither of.
  EXPECT_DEATH((void)a.pairwise_set_key(NewSet{kSetB, kB, kPos}, kSetC, kC), "invariant broken");
  // A peer it has no pair secret with.
  DerivedKeySource lonely(kA, counting_secret(0x10), {});
  EXPECT_DEATH((void)lonely.pairwise_set_key(NewSet{kSetA, kA, kPos}, kSetB, kB),
               "invariant broken");
  // Its own pair secret is derived, never configured.
  EXPECT_DEATH((DerivedKeySource(kA, counting_secret(0x10), {{kA, counting_secret(1)}})),
               "invariant broken");
}

// ---------------------------------------------------------------------------------------------
// RngKeySource and PerGatewayKeySource

TEST(RngKeySource, HandsOutTheStreamInTheOrderAsked) {
  crypto::DeterministicRng rng(5);
  crypto::DeterministicRng same(5);
  RngKeySource source(rng);
  const NewSet s{kSetA, kA, kPos};
  EXPECT_TRUE(source.pairwise_seed(s) == same.secret<32>());
  EXPECT_TRUE(source.set_key(s) == same.key128());
  EXPECT_TRUE(source.pairwise_set_key(s, kSetB, kB) == same.key128());
}

TEST(PerGatewayKeySource, AsksTheNewSetsOwner) {
  DerivedKeySource a = source_of(kA);
  DerivedKeySource b = source_of(kB);
  PerGatewayKeySource both({{kA, &a}, {kB, &b}});
  const NewSet sa{kSetA, kA, kPos};
  const NewSet sb{kSetB, kB, kPos};
  EXPECT_TRUE(both.set_key(sa) == a.set_key(sa));
  EXPECT_TRUE(both.set_key(sb) == b.set_key(sb));
  EXPECT_TRUE(both.pairwise_seed(sb) == b.pairwise_seed(sb));
  EXPECT_TRUE(both.pairwise_set_key(sb, kSetA, kA) == a.pairwise_set_key(sb, kSetA, kA));
}

}  // namespace
}  // namespace kmchain::keys
