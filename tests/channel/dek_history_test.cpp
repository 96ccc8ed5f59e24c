// DekHistory (channel/dek_history.h): the current version first, then older versions newest
// first while their grace lasts; at most kDekVersionsMax versions; erase drops them all; a
// repeated update changes nothing; expire wipes what can no longer be a candidate.
#include "channel/dek_history.h"

#include <gtest/gtest.h>

#include <cstdint>

#include "channel_fixture.h"

namespace kmchain::channel {
namespace {

using namespace fixture;

const KeyId kId = KeyId::pairwise_node_key(kAlice, kBob);
const KeyId kOther = KeyId::pairwise_set_key(kSetA, kSetC);

// The epochs of the candidates, in order.
std::vector<std::uint64_t> epochs(const DekCandidates& c) {
  std::vector<std::uint64_t> out;
  for (const DekVersion& v : c)
    out.push_back(v.epoch);
  return out;
}

using Epochs = std::vector<std::uint64_t>;

TEST(DekHistory, UnknownKeyHasNoCandidates) {
  DekHistory h(1000);
  EXPECT_TRUE(h.candidates(kId, 0).empty());
  h.update(kOther, counting_key(1), 1, 0);
  EXPECT_TRUE(h.candidates(kId, 0).empty());
  EXPECT_EQ(h.versions(kId), 0u);
}

TEST(DekHistory, CurrentFirstThenOlderWithinGrace) {
  DekHistory h(1000);
  h.update(kId, counting_key(1), 10, 0);
  EXPECT_EQ(epochs(h.candidates(kId, 5000)), Epochs{10});  // the current version never expires
  h.update(kId, counting_key(2), 20, 5000);
  const DekCandidates c = h.candidates(kId, 5000);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_TRUE(c[0].key == counting_key(2));
  EXPECT_TRUE(c[1].key == counting_key(1));
  EXPECT_EQ(epochs(h.candidates(kId, 5999)), (Epochs{20, 10}));
  EXPECT_EQ(epochs(h.candidates(kId, 6000)), Epochs{20});  // grace ends at 5000 + 1000
}

TEST(DekHistory, EachReplacedVersionKeepsItsOwnGrace) {
  DekHistory h(1000);
  h.update(kId, counting_key(1), 1, 0);
  h.update(kId, counting_key(2), 2, 100);  // version 1 until 1100
  h.update(kId, counting_key(3), 3, 600);  // version 2 until 1600
  EXPECT_EQ(epochs(h.candidates(kId, 600)), (Epochs{3, 2, 1}));
  EXPECT_EQ(epochs(h.candidates(kId, 1099)), (Epochs{3, 2, 1}));
  EXPECT_EQ(epochs(h.candidates(kId, 1100)), (Epochs{3, 2}));
  EXPECT_EQ(epochs(h.candidates(kId, 1600)), Epochs{3});
}

TEST(DekHistory, HoldsAtMostTheBoundNewestFirst) {
  DekHistory h(1'000'000);
  for (std::uint64_t e = 1; e <= 6; ++e)
    h.update(kId, counting_key(static_cast<std::uint8_t>(e)), e, e);
  EXPECT_EQ(h.versions(kId), kDekVersionsMax);
  EXPECT_EQ(epochs(h.candidates(kId, 10)), (Epochs{6, 5, 4}));
}

TEST(DekHistory, ZeroGraceKeepsOnlyTheCurrentVersion) {
  DekHistory h(0);
  h.update(kId, counting_key(1), 1, 0);
  h.update(kId, counting_key(2), 2, 50);
  EXPECT_EQ(epochs(h.candidates(kId, 50)), Epochs{2});
}

TEST(DekHistory, RepeatedUpdateChangesNothing) {
  DekHistory h(1000);
  h.update(kId, counting_key(1), 1, 0);
  h.update(kId, counting_key(2), 2, 10);
  h.update(kId, counting_key(2), 2, 500);  // the same version again: no new grace, no copy
  EXPECT_EQ(h.versions(kId), 2u);
  EXPECT_EQ(epochs(h.candidates(kId, 1009)), (Epochs{2, 1}));
  EXPECT_EQ(epochs(h.candidates(kId, 1010)), Epochs{2});
}

TEST(DekHistory, EraseDropsEveryVersionAtOnce) {
  DekHistory h(1000);
  h.update(kId, counting_key(1), 1, 0);
  h.update(kId, counting_key(2), 2, 10);
  h.update(kOther, counting_key(3), 1, 0);
  h.erase(kId);
  EXPECT_TRUE(h.candidates(kId, 10).empty());
  EXPECT_EQ(h.versions(kId), 0u);
  EXPECT_EQ(h.size(), 1u);
  EXPECT_EQ(epochs(h.candidates(kOther, 10)), Epochs{1});
  h.erase(kId);  // erasing an unknown key is harmless
  EXPECT_EQ(h.size(), 1u);
}

TEST(DekHistory, ExpireWipesVersionsPastTheirGrace) {
  DekHistory h(1000);
  h.update(kId, counting_key(1), 1, 0);
  h.update(kId, counting_key(2), 2, 0);
  h.update(kOther, counting_key(3), 1, 0);
  h.update(kOther, counting_key(4), 2, 500);
  h.expire(999);
  EXPECT_EQ(h.versions(kId), 2u);
  h.expire(1000);
  EXPECT_EQ(h.versions(kId), 1u);
  EXPECT_EQ(h.versions(kOther), 2u);
  h.expire(1500);
  EXPECT_EQ(h.versions(kOther), 1u);
}

TEST(DekHistory, GraceNearTheEndOfTheClockSaturates) {
  DekHistory h(1000);
  h.update(kId, counting_key(1), 1, 0);
  h.update(kId, counting_key(2), 2, UINT64_MAX - 10);
  EXPECT_EQ(epochs(h.candidates(kId, UINT64_MAX - 1)), (Epochs{2, 1}));
}

TEST(DekHistoryDeath, AnOlderEpochOrAChangedKeyAtTheSameEpochIsABrokenInvariant) {
  DekHistory h(1000);
  h.update(kId, counting_key(1), 5, 0);
  EXPECT_DEATH(h.update(kId, counting_key(2), 4, 0), "invariant broken");
  EXPECT_DEATH(h.update(kId, counting_key(2), 5, 0), "invariant broken");
}

}  // namespace
}  // namespace kmchain::channel
