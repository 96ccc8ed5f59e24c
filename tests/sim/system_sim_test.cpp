// The system simulator's own guarantees: a seed replays exactly, a run drives every flow (joins
// through every gateway, leaves, evictions, records, probes, crashes), and every rule of the
// system broken on purpose is caught by a check within a small batch of seeds (the checks can
// fail). The fixed seed batches run through the command line (tests/sim/CMakeLists.txt).
#include "sim/system_sim.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "support/sim_faults.h"

namespace kmchain::sim {
namespace {

SystemSimConfig small(std::uint64_t seed) {
  SystemSimConfig c;
  c.gateways = 4;
  c.devices = 24;
  c.byzantine = 1;
  c.seed = seed;
  c.ticks = 2500;
  return c;
}

std::string describe_failure(const SystemSimResult& r) {
  return r.violations.empty() ? r.liveness_detail
                              : r.violations[0].invariant + ": " + r.violations[0].detail;
}

TEST(SystemSim, ASeedReplaysExactly) {
  for (std::uint64_t seed : {2u, 7u}) {
    const SystemSimResult a = run_system_sim(small(seed));
    const SystemSimResult b = run_system_sim(small(seed));
    EXPECT_TRUE(a.ok()) << describe_failure(a);
    EXPECT_EQ(a.fault_mix, b.fault_mix);
    EXPECT_EQ(a.mode, b.mode);
    EXPECT_EQ(a.blocks, b.blocks);
    EXPECT_EQ(a.joins, b.joins);
    EXPECT_EQ(a.removals, b.removals);
    EXPECT_EQ(a.records, b.records);
    EXPECT_EQ(a.records_opened, b.records_opened);
    EXPECT_EQ(a.gateway_crashes, b.gateway_crashes);
    EXPECT_EQ(a.posts_lost, b.posts_lost);
    EXPECT_EQ(a.sim_ms, b.sim_ms);
  }
  EXPECT_NE(run_system_sim(small(3)).records, run_system_sim(small(4)).records);
}

TEST(SystemSim, ARunDrivesEveryFlowAndChecksEveryMember) {
  std::uint64_t joins = 0, removals = 0, probes = 0, keyrings = 0, crashes = 0;
  for (std::uint64_t seed = 1; seed <= 4; ++seed) {
    const SystemSimResult r = run_system_sim(small(seed));
    EXPECT_TRUE(r.ok()) << "seed " << seed << ": " << describe_failure(r);
    joins += r.joins;
    removals += r.removals;
    probes += r.probes;
    keyrings += r.keyrings_compared;
    crashes += r.gateway_crashes;
  }
  EXPECT_GT(joins, 60u);
  EXPECT_GT(removals, 20u);
  EXPECT_GT(probes, 40u);
  EXPECT_GT(keyrings, 40u);
  EXPECT_GT(crashes, 0u);
}

TEST(SystemSim, BothSubmissionModesRun) {
  for (ledger::SubmissionMode mode :
       {ledger::SubmissionMode::kCommit, ledger::SubmissionMode::kSync}) {
    SystemSimConfig c = small(5);
    c.mode = mode;
    const SystemSimResult r = run_system_sim(c);
    EXPECT_EQ(r.mode, mode);
    EXPECT_TRUE(r.ok()) << ledger::to_string(mode) << ": " << describe_failure(r);
  }
}

#if KMCHAIN_FAULTS_ENABLED
std::uint64_t first_seed_breaking(const std::string& fault, const std::string& invariant,
                                  std::uint64_t max_seeds) {
  return testing::first_seed_breaking(max_seeds, invariant, [&](std::uint64_t seed) {
    SystemSimConfig c = small(seed);
    EXPECT_TRUE(inject_system_fault(fault, c));
    return run_system_sim(c);
  });
}

// Members without the keys a lost push carried: the probes find no shared key (the run stops
// there, before the keyrings are compared at the end).
TEST(SystemSimChecksCanFail, ALostPushLeavesMembersWithoutSharedKeys) {
  EXPECT_NE(first_seed_breaking("lose-push", "d2d", 10), 0u);
}

TEST(SystemSimChecksCanFail, ForgottenPendingJoinsLoseAcknowledgedJoins) {
  EXPECT_NE(first_seed_breaking("forget-pending-joins", "acknowledged-join", 20), 0u);
}

// A crash between the gossip and the record: the join becomes final for a node no device is.
TEST(SystemSimChecksCanFail, ARecordStoredAfterTheGossipLeavesAnOrphanMember) {
  EXPECT_NE(first_seed_breaking("record-after-gossip", "orphan-member", 20), 0u);
}

TEST(SystemSimChecksCanFail, ReceiversThatTryOnlyTheCachedSenderSetRefuseRecordsAfterAReorder) {
  EXPECT_NE(first_seed_breaking("cached-peer-set-only", "d2d", 20), 0u);
}

#endif

TEST(SystemSim, FaultNamesAreTakenOnlyWhereFaultsAreBuiltIn) {
  testing::expect_fault_names<SystemSimConfig>(kSystemFaults, inject_system_fault);
}

}  // namespace
}  // namespace kmchain::sim
