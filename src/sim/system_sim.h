// The system simulator (`kmchain sim system`): P real gateway nodes and N real device agents
// (system_cluster.h) through a random workload and a random mix of faults drawn from one seed,
// checked throughout and once everything has healed and settled (system_checker.h).
//
// A run's timeline, for a length of T:
//   [0, 0.4 T)    faults active: the consensus simulator's (delay, loss, duplication,
//                 partitions, gateway crashes at any action, clock skew, Byzantine gateways)
//                 and the system's: lost and reordered pushes, devices that sleep and restart,
//                 partitions between a gateway and its devices, a gateway that crashes in the
//                 middle of a join
//   0.4 T         everything heals: links, crashed gateways, sleeping devices
//   [0, 0.6 T)    the workload: joins through every gateway up to N devices and churn after
//                 (joins, leaves, the operator's evictions), D2D records between random members
//   0.8 T         probes: a record from a random member to every other current member
//   T             the final checks, and liveness: every correct gateway decided blocks after
//                 the heal
// The submission mode is drawn per seed unless given. A seed replays exactly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/submission_mode.h"
#include "sim/consensus_checker.h"
#include "sim/system_cluster.h"

namespace kmchain::sim {

struct SystemSimConfig {
  std::size_t gateways = 4;
  std::size_t devices = 60;  // population the workload keeps
  std::size_t byzantine = 1;
  std::uint64_t seed = 1;
  std::uint64_t ticks = 4000;  // run length in 10 ms ticks
  std::optional<ledger::SubmissionMode> mode;
  bool stop_at_violation = true;
  bool trace = false;
  SystemFaults faults;
};

struct SystemSimResult {
  std::uint64_t seed = 0;
  std::string fault_mix;
  ledger::SubmissionMode mode = ledger::SubmissionMode::kCommit;
  std::vector<Violation> violations;
  bool liveness_failure = false;
  std::string liveness_detail;
  std::uint64_t blocks = 0;  // height every correct gateway reached
  std::uint64_t joins = 0;   // final
  std::uint64_t removals = 0;
  std::uint64_t devices = 0;  // started
  std::uint64_t joins_failed = 0;
  std::uint64_t records = 0;
  std::uint64_t records_opened = 0;
  std::uint64_t probes = 0;
  std::uint64_t keyrings_compared = 0;
  std::uint64_t gateway_crashes = 0;
  std::uint64_t device_restarts = 0;
  std::uint64_t device_sleeps = 0;
  std::uint64_t posts_lost = 0;
  std::uint64_t resubmissions = 0;
  std::uint64_t sync_repairs = 0;
  std::uint64_t foreign_members = 0;  // joins a Byzantine proposer made up (system_checker.h)
  std::uint64_t sim_ms = 0;

  bool ok() const { return violations.empty() && !liveness_failure; }
};

SystemSimResult run_system_sim(const SystemSimConfig& config);

// Rules of the system broken on purpose, by name (only in builds with fault injection):
//   lose-push             the gateway neither pushes nor keeps some key messages
//   record-after-gossip   the join transaction leaves before the device record is durable
//   forget-pending-joins  a restarted gateway has lost the joins that were not final
//   cached-peer-set-only  a device tries a record only under the set its sender was last in
// "none" changes nothing. False for an unknown name, and for every other name in a build
// without fault injection.
bool inject_system_fault(std::string_view name, SystemSimConfig& config);
inline constexpr const char* kSystemFaults[] = {"lose-push", "record-after-gossip",
                                                "forget-pending-joins", "cached-peer-set-only"};

}  // namespace kmchain::sim
