// The Layer-1 churn simulator (sim/key_sim.h): the real key manager and keyrings keep every
// invariant across sizes, gateway counts and seeds; a run replays from its seed; and each
// deliberate protocol violation is caught by the invariant it breaks.
#include "sim/key_sim.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>

#include "keys/key_manager.h"

namespace kmchain::sim {
namespace {

std::string describe(const KeySimResult& r) {
  return r.ok ? std::string("ok")
              : r.invariant + " broken at operation " + std::to_string(r.operation) + ": " +
                    r.detail;
}

KeySimConfig config(std::size_t devices, std::size_t ops, std::size_t gateways,
                    std::uint64_t seed) {
  KeySimConfig c;
  c.devices = devices;
  c.ops = ops;
  c.gateways = gateways;
  c.seed = seed;
  return c;
}

// What every passing run must also show: it did churn, and the final state is well shaped.
void expect_healthy(const KeySimResult& r, const KeySimConfig& c) {
  ASSERT_TRUE(r.ok) << describe(r);
  EXPECT_TRUE(r.invariant.empty());
  EXPECT_EQ(r.stats.joins + r.stats.leaves + r.stats.evictions, c.devices + c.ops);
  EXPECT_GT(r.stats.leaves, 0u);
  EXPECT_GT(r.stats.evictions, 0u);
  EXPECT_EQ(r.stats.final_devices, r.stats.joins - r.stats.leaves - r.stats.evictions);
  EXPECT_GT(r.stats.rejected_forgeries, 0u);
  EXPECT_GT(r.stats.decrypt_attempts_by_departed, 0u);
  EXPECT_GT(r.stats.pairs_checked, 0u);
  const std::size_t n = r.stats.final_devices;
  if (n > 0) {
    // Every device holds |S| + #sets keys, with |S| <= cap + slack.
    EXPECT_LE(r.stats.max_keys_per_device, keys::SetTable::capacity(n) + 1 + r.stats.final_sets);
    EXPECT_GE(r.stats.min_keys_per_device, 1 + r.stats.final_sets);
  }
}

// ---------------------------------------------------------------------------------------------
// Runs that must pass

struct SimCase {
  const char* name;
  std::size_t devices;
  std::size_t ops;
  std::size_t gateways;
  std::uint64_t seed;
};

void PrintTo(const SimCase& c, std::ostream* os) {
  *os << c.name;
}

class KeySimPasses : public ::testing::TestWithParam<SimCase> {};

TEST_P(KeySimPasses, EveryInvariantHolds) {
  const SimCase& p = GetParam();
  const KeySimConfig c = config(p.devices, p.ops, p.gateways, p.seed);
  const KeySimResult r = run_key_sim(c);
  expect_healthy(r, c);
}

INSTANTIATE_TEST_SUITE_P(Sizes, KeySimPasses,
                         ::testing::Values(SimCase{"Devices16Ops400", 16, 400, 1, 1},
                                           SimCase{"Devices100Ops1500", 100, 1500, 1, 2},
                                           SimCase{"Devices150Ops1500Gw3", 150, 1500, 3, 3},
                                           SimCase{"Devices400Ops2000Gw4", 400, 2000, 4, 4}),
                         [](const ::testing::TestParamInfo<SimCase>& p) {
                           return std::string(p.param.name);
                         });

class KeySimSeeds : public ::testing::TestWithParam<std::uint64_t> {};

TEST_P(KeySimSeeds, Devices64Ops600) {
  // Seeds also vary the gateway count, so the batch covers one to three gateways.
  const std::uint64_t seed = GetParam();
  const KeySimConfig c = config(64, 600, 1 + seed % 3, seed);
  const KeySimResult r = run_key_sim(c);
  expect_healthy(r, c);
}

INSTANTIATE_TEST_SUITE_P(Batch, KeySimSeeds, ::testing::Range<std::uint64_t>(100, 110));

TEST(KeySim, GrowthOnlyReachesSquareShapes) {
  // No churn: the simulator checks k sets of k (2k keys each) at every square on the way.
  KeySimConfig c = config(144, 0, 1, 9);
  const KeySimResult r = run_key_sim(c);
  ASSERT_TRUE(r.ok) << describe(r);
  EXPECT_EQ(r.stats.final_devices, 144u);
  EXPECT_EQ(r.stats.final_sets, 12u);
  EXPECT_EQ(r.stats.min_keys_per_device, 24u);
  EXPECT_EQ(r.stats.max_keys_per_device, 24u);
  EXPECT_EQ(r.stats.pairs_checked, 144u * 143u / 2u);
}

TEST(KeySim, ARunReplaysFromItsSeed) {
  const KeySimConfig c = config(40, 300, 2, 77);
  const KeySimResult a = run_key_sim(c);
  const KeySimResult b = run_key_sim(c);
  ASSERT_TRUE(a.ok) << describe(a);
  ASSERT_TRUE(b.ok) << describe(b);
  EXPECT_EQ(a.stats.joins, b.stats.joins);
  EXPECT_EQ(a.stats.leaves, b.stats.leaves);
  EXPECT_EQ(a.stats.steps, b.stats.steps);
  EXPECT_EQ(a.stats.deliveries, b.stats.deliveries);
  EXPECT_EQ(a.stats.wire_bytes, b.stats.wire_bytes);
  EXPECT_EQ(a.stats.messages_by_kind, b.stats.messages_by_kind);
  EXPECT_EQ(a.stats.final_sets, b.stats.final_sets);

  const KeySimResult other = run_key_sim(config(40, 300, 2, 78));
  ASSERT_TRUE(other.ok) << describe(other);
  EXPECT_NE(std::make_tuple(a.stats.joins, a.stats.steps, a.stats.wire_bytes),
            std::make_tuple(other.stats.joins, other.stats.steps, other.stats.wire_bytes));
}

TEST(KeySim, ProgressIsReportedEveryThousandOperations) {
  std::size_t reports = 0;
  const KeySimResult r = run_key_sim(config(20, 1980, 1, 5), [&](const std::string& line) {
    ++reports;
    EXPECT_NE(line.find("devices"), std::string::npos) << line;
  });
  ASSERT_TRUE(r.ok) << describe(r);
  EXPECT_EQ(reports, 2u);  // operations 1000 and 2000
}

// ---------------------------------------------------------------------------------------------
// The checks can fail: each deliberate violation is caught

#if KMCHAIN_FAULTS_ENABLED
KeySimResult run_with_fault(keys::Fault fault, std::uint64_t seed = 1) {
  KeySimConfig c = config(64, 600, 1, seed);
  c.fault = fault;
  return run_key_sim(c);
}

TEST(KeySimCatches, LeaveRefreshUnderTheOldSetKeyBreaksForwardSecrecy) {
  for (const std::uint64_t seed : {std::uint64_t{1}, std::uint64_t{2}}) {
    ASSERT_TRUE(run_with_fault(keys::Fault::kNone, seed).ok);  // the same run, without the fault
    const KeySimResult r = run_with_fault(keys::Fault::kLeaveRefreshUnderSetKey, seed);
    EXPECT_FALSE(r.ok) << "seed " << seed;
    EXPECT_EQ(r.invariant, "forward-secrecy") << describe(r);
    EXPECT_FALSE(r.detail.empty());
    EXPECT_GT(r.operation, 64u);  // caught at the first leave, after growth
  }
}

TEST(KeySimCatches, JoinBundleWithOldKeysBreaksBackwardSecrecy) {
  for (const std::uint64_t seed : {std::uint64_t{1}, std::uint64_t{2}}) {
    const KeySimResult r = run_with_fault(keys::Fault::kJoinBundleCarriesOldKeys, seed);
    EXPECT_FALSE(r.ok) << "seed " << seed;
    EXPECT_EQ(r.invariant, "backward-secrecy") << describe(r);
    EXPECT_FALSE(r.detail.empty());
    EXPECT_GT(r.operation, 0u);
  }
}

TEST(KeySimCatches, SkippedPairwiseSetRefreshIsCaught) {
  for (const std::uint64_t seed : {std::uint64_t{1}, std::uint64_t{2}}) {
    const KeySimResult r = run_with_fault(keys::Fault::kSkipPairwiseSetRefresh, seed);
    EXPECT_FALSE(r.ok) << "seed " << seed;
    EXPECT_FALSE(r.invariant.empty());
    EXPECT_FALSE(r.detail.empty()) << describe(r);
    EXPECT_GT(r.operation, 64u);  // only leaves are affected
  }
}

#endif

TEST(KeySimCatches, FaultsHaveNamesThatRoundTrip) {
  for (keys::Fault f :
       {keys::Fault::kNone, keys::Fault::kLeaveRefreshUnderSetKey,
        keys::Fault::kJoinBundleCarriesOldKeys, keys::Fault::kSkipPairwiseSetRefresh}) {
    EXPECT_EQ(keys::fault_from_string(keys::to_string(f)), f);
  }
  EXPECT_FALSE(keys::fault_from_string("no-such-fault").has_value());
}

}  // namespace
}  // namespace kmchain::sim
