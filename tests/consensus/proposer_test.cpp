// The weighted proposer schedule (consensus/proposer.h): equal powers rotate, every validator
// proposes exactly its power's share of every period (any window of W consecutive slots when
// the smooth sequence is used, one whole period above kScheduleSlotsMax), and the slot is
// height - 1 + round.
#include "consensus/proposer.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cstddef>
#include <cstdint>
#include <numeric>
#include <vector>

#include "ledger_fixture.h"

namespace kmchain::consensus {
namespace {

using ledger::fixture::make_genesis;

// Slot s as (height s + 1, round 0).
GatewayId at_slot(const ProposerSchedule& schedule, std::uint64_t slot) {
  return schedule.proposer(Height{slot + 1}, Round{0});
}

std::vector<std::uint64_t> counts(const ProposerSchedule& schedule, std::size_t validators,
                                  std::uint64_t first, std::uint64_t slots) {
  std::vector<std::uint64_t> out(validators, 0);
  for (std::uint64_t s = first; s < first + slots; ++s) {
    const GatewayId g = at_slot(schedule, s);
    if (g.value() < validators) ++out[g.value()];
  }
  return out;
}

TEST(Proposer, EqualPowersRotate) {
  const ledger::Genesis genesis = make_genesis({1, 1, 1, 1});
  const ProposerSchedule schedule(genesis);
  for (std::uint64_t h = 1; h <= 9; ++h) {
    for (std::uint32_t r = 0; r < 9; ++r) {
      EXPECT_EQ(schedule.proposer(Height{h}, Round{r}),
                GatewayId{static_cast<std::uint16_t>((h - 1 + r) % 4)})
          << h << "/" << r;
    }
  }
  EXPECT_EQ(schedule.proposer(Height{1}, Round{0}), GatewayId{0});
  EXPECT_EQ(schedule.proposer(Height{2}, Round{0}), GatewayId{1});
  EXPECT_EQ(schedule.proposer(Height{1}, Round{3}), GatewayId{3});
}

TEST(Proposer, SlotIsHeightMinusOnePlusRound) {
  const ledger::Genesis genesis = make_genesis({3, 1, 4, 1, 5});
  const ProposerSchedule schedule(genesis);
  for (std::uint64_t h = 1; h <= 20; ++h) {
    for (std::uint32_t r = 0; r < 20; ++r) {
      EXPECT_EQ(schedule.proposer(Height{h}, Round{r}), at_slot(schedule, h - 1 + r));
    }
  }
}

TEST(Proposer, SingleValidatorAlwaysProposes) {
  const ledger::Genesis genesis = make_genesis({7});
  const ProposerSchedule schedule(genesis);
  for (std::uint64_t s = 0; s < 30; ++s)
    EXPECT_EQ(at_slot(schedule, s), GatewayId{0});
}

TEST(Proposer, PowersOneTwoThreeAreSmoothAndExactInEveryWindowOfSix) {
  const ledger::Genesis genesis = make_genesis({1, 2, 3});
  const ProposerSchedule schedule(genesis);
  // Smooth weighted round-robin, ties to the lowest index: 2 1 0 2 1 2, repeating.
  const std::vector<std::uint16_t> period{2, 1, 0, 2, 1, 2};
  for (std::uint64_t s = 0; s < 24; ++s)
    EXPECT_EQ(at_slot(schedule, s), GatewayId{period[s % 6]}) << s;
  for (std::uint64_t first = 0; first < 40; ++first) {
    EXPECT_EQ(counts(schedule, 3, first, 6), (std::vector<std::uint64_t>{1, 2, 3})) << first;
  }
}

TEST(Proposer, LargeTotalGivesPowerProportionalCountsOverOnePeriod) {
  const ledger::Genesis genesis = make_genesis({70000, 30000});
  ASSERT_GT(genesis.total_power(), kScheduleSlotsMax);
  const ProposerSchedule schedule(genesis);
  EXPECT_EQ(counts(schedule, 2, 0, 100000), (std::vector<std::uint64_t>{70000, 30000}));
  // Any window of one period, wherever it starts.
  EXPECT_EQ(counts(schedule, 2, 12345, 100000), (std::vector<std::uint64_t>{70000, 30000}));
  // The period repeats.
  for (std::uint64_t s :
       {std::uint64_t{0}, std::uint64_t{69999}, std::uint64_t{70000}, std::uint64_t{99999}}) {
    EXPECT_EQ(at_slot(schedule, s), at_slot(schedule, s + 100000)) << s;
  }
}

TEST(Proposer, LargeTotalWithThreeValidators) {
  const ledger::Genesis genesis = make_genesis({40000, 1, 59999});
  const ProposerSchedule schedule(genesis);
  EXPECT_EQ(counts(schedule, 3, 777, 100000), (std::vector<std::uint64_t>{40000, 1, 59999}));
}

TEST(Proposer, TotalAtTheBoundUsesTheSmoothSequence) {
  // W = kScheduleSlotsMax exactly: still computed once, and exact over every period window.
  const ledger::Genesis genesis = make_genesis({kScheduleSlotsMax - 3, 1, 2});
  const ProposerSchedule schedule(genesis);
  EXPECT_EQ(counts(schedule, 3, 5, kScheduleSlotsMax),
            (std::vector<std::uint64_t>{kScheduleSlotsMax - 3, 1, 2}));
}

RC_GTEST_PROP(ProposerProperty, CountsOverAPeriodEqualThePowers, ()) {
  const auto n = *rc::gen::inRange<std::size_t>(1, 12);
  std::vector<std::uint64_t> powers;
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t room = 1000 - total - (n - 1 - i);  // leave at least 1 for the rest
    const auto p = *rc::gen::inRange<std::uint64_t>(1, std::min<std::uint64_t>(room, 200) + 1);
    powers.push_back(p);
    total += p;
  }
  RC_ASSERT(total <= 1000u);
  const ledger::Genesis genesis = make_genesis(powers);
  const ProposerSchedule schedule(genesis);
  const auto first = *rc::gen::inRange<std::uint64_t>(0, 5000);
  RC_ASSERT(counts(schedule, n, first, total) == powers);
  // And by (height, round) pairs of one slot.
  const auto r = *rc::gen::inRange<std::uint32_t>(0, 50);
  RC_ASSERT(schedule.proposer(Height{first + 1}, Round{r}) == at_slot(schedule, first + r));
}

}  // namespace
}  // namespace kmchain::consensus
