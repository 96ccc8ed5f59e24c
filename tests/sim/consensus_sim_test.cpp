// The consensus simulator's own guarantees: a seed replays exactly; the split-lock attack is
// really mounted and the correct engine survives it; and every rule broken on purpose is caught
// by the check it breaks within a small batch of seeds (the checks can fail). The fixed seed
// batches of correct engines run through the command line (tests/sim/CMakeLists.txt).
#include "sim/consensus_sim.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

#include "consensus/broken_rules.h"
#include "sim/byzantine.h"
#include "sim/consensus_sweep.h"
#include "sim/sim_consortium.h"
#include "support/sim_faults.h"

namespace kmchain::consensus {
// So that a parameterized test names its rule rather than printing its bytes.
void PrintTo(const RuleInfo& rule, std::ostream* os) {
  *os << rule.name;
}
}  // namespace kmchain::consensus

namespace kmchain::sim {
namespace {

ConsensusSimConfig four_gateways(std::uint64_t seed) {
  ConsensusSimConfig c;
  c.gateways = 4;
  c.byzantine = 1;
  c.seed = seed;
  return c;
}

TEST(ConsensusSim, ASeedReplaysExactly) {
  for (std::uint64_t seed : {3u, 11u}) {
    const ConsensusSimResult a = run_consensus_sim(four_gateways(seed));
    const ConsensusSimResult b = run_consensus_sim(four_gateways(seed));
    EXPECT_EQ(a.fault_mix, b.fault_mix);
    EXPECT_EQ(a.blocks, b.blocks);
    EXPECT_EQ(a.transactions_committed, b.transactions_committed);
    EXPECT_EQ(a.messages_sent, b.messages_sent);
    EXPECT_EQ(a.messages_dropped, b.messages_dropped);
    EXPECT_EQ(a.crashes, b.crashes);
    EXPECT_EQ(a.signatures_verified, b.signatures_verified);
    EXPECT_EQ(a.commit_latency_ms, b.commit_latency_ms);
    EXPECT_EQ(a.sim_ms, b.sim_ms);
    EXPECT_GT(a.blocks, 0u);
  }
  // And another seed is another run.
  EXPECT_NE(run_consensus_sim(four_gateways(3)).messages_sent,
            run_consensus_sim(four_gateways(4)).messages_sent);
}

TEST(ConsensusSim, CorrectEnginesSurviveTheSplitLockAttack) {
  std::uint64_t attacks = 0;
  for (std::uint64_t seed = 1; seed <= 8; ++seed) {
    ConsensusSimConfig c = four_gateways(seed);
    c.force_split_lock = true;
    const ConsensusSimResult r = run_consensus_sim(c);
    attacks += r.split_lock_attacks;
    EXPECT_TRUE(r.ok()) << "seed " << seed << ": "
                        << (r.violations.empty()
                                ? r.liveness_detail
                                : r.violations[0].invariant + ": " + r.violations[0].detail);
  }
  EXPECT_GT(attacks, 8u);
}

#if KMCHAIN_FAULTS_ENABLED
// Runs seeds 1..max_seeds with `fault` injected; the first seed whose run breaks `invariant`.
std::uint64_t first_seed_breaking(const std::string& fault, const std::string& invariant,
                                  std::uint64_t max_seeds, std::size_t gateways = 4) {
  return testing::first_seed_breaking(max_seeds, invariant, [&](std::uint64_t seed) {
    ConsensusSimConfig c;
    c.gateways = gateways;
    c.byzantine = (gateways - 1) / 3;
    c.seed = seed;
    EXPECT_TRUE(inject_fault(fault, c));
    return run_consensus_sim(c);
  });
}

TEST(ConsensusSimChecksCanFail, PrevotingAgainstTheLockForksTheChain) {
  const std::uint64_t seed = first_seed_breaking("ignore-lock", "agreement", 40);
  EXPECT_NE(seed, 0u) << "a broken lock rule went unnoticed in 40 seeds";
}

// A quorum of 2 of 4 commits on half the power: the first block a gateway stores carries a
// certificate that the real quorum test refuses (before the fork it leads to is seen).
TEST(ConsensusSimChecksCanFail, TwoThirdsInsteadOfMoreThanTwoThirdsStoresShortCertificates) {
  const std::uint64_t seed = first_seed_breaking("two-thirds-quorum", "certificate", 40);
  EXPECT_NE(seed, 0u) << "a short quorum went unnoticed in 40 seeds";
}

TEST(ConsensusSimChecksCanFail, SigningBeforeTheWalIsDurableSignsTwice) {
  const std::uint64_t seed = first_seed_breaking("skip-wal", "double-sign", 40);
  EXPECT_NE(seed, 0u) << "a skipped WAL went unnoticed in 40 seeds";
}

TEST(ConsensusSimChecksCanFail, BrokenRulesAreCaughtWithSevenGatewaysToo) {
  EXPECT_NE(first_seed_breaking("two-thirds-quorum", "certificate", 40, 7), 0u);
  EXPECT_NE(first_seed_breaking("skip-wal", "double-sign", 40, 7), 0u);
  EXPECT_NE(first_seed_breaking("ignore-lock", "agreement", 40, 7), 0u);
}

// The rules no seed catches, each argued harmless in docs/consensus.md ("Broken on purpose").
bool argued_harmless(std::string_view rule) {
  for (std::string_view r : {"prevote-invalid-block", "no-nil-precommit", "no-round-skip",
                             "sync-skips-validity", "skip-height-check"}) {
    if (r == rule) return true;
  }
  return false;
}

// Every other rule of consensus/broken_rules.h, broken on every correct gateway, fails some
// check (a violation or a stall) within 20 seeds at P=4.
class EveryBrokenRule : public ::testing::TestWithParam<consensus::RuleInfo> {};

TEST_P(EveryBrokenRule, IsCaughtWithinTwentySeeds) {
  const consensus::RuleInfo& rule = GetParam();
  if (argued_harmless(rule.name)) GTEST_SKIP() << "argued harmless in docs/consensus.md";
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    ConsensusSimConfig c = four_gateways(seed);
    ASSERT_TRUE(inject_fault(rule.name, c));
    if (!run_consensus_sim(c).ok()) return;
  }
  ADD_FAILURE() << rule.name << " (" << rule.label << ": " << rule.broken
                << ") went unnoticed in 20 seeds";
}

INSTANTIATE_TEST_SUITE_P(ConsensusSimChecksCanFail, EveryBrokenRule,
                         ::testing::ValuesIn(consensus::kRules),
                         [](const ::testing::TestParamInfo<consensus::RuleInfo>& param) {
                           std::string name(param.param.name);
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

#endif

// The lock survives a restart: each locker of the split-lock attack crashes right after it
// locks and resumes from its WAL, while the attacker backs the next round's fresh block.
constexpr std::uint64_t kLockerSeeds = 12;

TEST(ConsensusSim, LockersRestartedDuringTheSplitLockAttackKeepTheirLock) {
  std::uint64_t attacks = 0, crashes = 0;
  for (std::uint64_t seed = 1; seed <= kLockerSeeds; ++seed) {
    ConsensusSimConfig c = four_gateways(seed);
    c.force_split_lock = true;
    c.force_behaviours = kFakePolka;
    c.restart_lockers = true;
    const ConsensusSimResult r = run_consensus_sim(c);
    attacks += r.split_lock_attacks;
    crashes += r.crashes;
    EXPECT_TRUE(r.ok()) << "seed " << seed << ": "
                        << (r.violations.empty()
                                ? r.liveness_detail
                                : r.violations[0].invariant + ": " + r.violations[0].detail);
  }
  EXPECT_GT(attacks, kLockerSeeds);
  EXPECT_GT(crashes, kLockerSeeds);
}

// The liars' widened repertoire, forced on: invalid and out-of-turn proposals, forged sync
// answers, fake polkas. Correct engines keep every check.
TEST(ConsensusSim, CorrectEnginesSurviveEveryForgery) {
  for (std::uint64_t seed = 1; seed <= 8; ++seed) {
    ConsensusSimConfig c = four_gateways(seed);
    c.force_behaviours = kInvalidProposals | kOutOfTurn | kForgedSync | kFakePolka | kRoundAhead;
    const ConsensusSimResult r = run_consensus_sim(c);
    EXPECT_TRUE(r.ok()) << "seed " << seed << ": "
                        << (r.violations.empty()
                                ? r.liveness_detail
                                : r.violations[0].invariant + ": " + r.violations[0].detail);
  }
}

TEST(ConsensusSim, ByzantinePowerToleratedIsLessThanAThird) {
  EXPECT_TRUE(byzantine_power_tolerated({1, 1, 1, 1}, 1));
  EXPECT_FALSE(byzantine_power_tolerated({1, 1, 1}, 1));  // 1 of 3 is a third
  EXPECT_TRUE(byzantine_power_tolerated({3, 3, 2, 1}, 1));
  EXPECT_FALSE(byzantine_power_tolerated({3, 3, 2, 1}, 2));  // 1 + 2 = 3 of 9
  EXPECT_TRUE(byzantine_power_tolerated({1, 2, 3, 4, 5, 6}, 3));
  EXPECT_FALSE(byzantine_power_tolerated({1, 2, 3, 4, 5, 6}, 4));
  EXPECT_TRUE(byzantine_power_tolerated({5}, 0));
  EXPECT_FALSE(byzantine_power_tolerated({5, 1}, 2));
}

// Every consortium of the sweep: the liars it draws hold less than a third of the power, and
// its unequal powers have a group of exactly two thirds (which is not a quorum).
TEST(ConsensusSim, SweepConsortiaDrawLiarsBelowAThirdAndSplitAtTwoThirds) {
  const auto consortia = sweep_consortia();
  ASSERT_EQ(consortia.size(), 16u);
  std::uint64_t seeds = 0;
  for (const SweepConsortium& c : consortia) {
    seeds += c.seeds;
    if (c.powers.empty()) continue;
    std::uint64_t total = 0;
    for (std::uint64_t p : c.powers)
      total += p;
    bool exact_two_thirds = false;
    for (std::uint32_t subset = 0; subset < (1u << c.powers.size()); ++subset) {
      std::uint64_t power = 0;
      for (std::size_t i = 0; i < c.powers.size(); ++i)
        power += (subset >> i) & 1u ? c.powers[i] : 0;
      exact_two_thirds = exact_two_thirds || 3 * power == 2 * total;
    }
    EXPECT_TRUE(exact_two_thirds) << c.name();
    EXPECT_GE(c.byzantine, 1u) << c.name();
    for (std::uint64_t seed : {1u, 2u, 3u}) {
      ConsensusSimConfig config;
      config.gateways = c.gateways;
      config.byzantine = c.byzantine;
      config.powers = c.powers;
      config.seed = seed;
      config.ticks = 600;
      const ConsensusSimResult r = run_consensus_sim(config);
      EXPECT_EQ(r.total_power, total);
      EXPECT_LT(3 * r.byzantine_power, r.total_power) << c.name() << " seed " << seed;
      EXPECT_GT(r.byzantine_power, 0u) << c.name();
    }
  }
  EXPECT_GE(seeds, 10'000u);
}

TEST(ConsensusSim, FaultNamesAreTakenOnlyWhereFaultsAreBuiltIn) {
  testing::expect_fault_names<ConsensusSimConfig>(injectable_faults(), inject_fault);
#if KMCHAIN_FAULTS_ENABLED
  ConsensusSimConfig c;
  ASSERT_TRUE(inject_fault("none", c));
  EXPECT_TRUE(c.faults.empty());
  EXPECT_EQ(injectable_faults().size(), static_cast<std::size_t>(consensus::Rule::kCount));
#endif
}

}  // namespace
}  // namespace kmchain::sim
