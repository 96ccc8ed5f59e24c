// The consensus simulator: P gateways running the real Replica (engine, contract, mempool,
// catch-up) over a simulated network, disk and clock, with faults swarmed per seed and up to
// F Byzantine gateways, and the safety and liveness checks run after every step.
//
// Per seed the fault mix is drawn at random (swarm testing: each run has its own mix rather
// than every fault at a low rate): message delay, loss, duplication and reordering;
// partitions (random halves, one isolated gateway, one-way); crashes at an arbitrary point of
// an action batch and restarts from the persisted WAL and block store; clock skew. Byzantine
// gateways run a real replica but tamper with what they send: equivocating proposals and
// votes, votes for invalid or unknown blocks, bad signatures, stale and future messages,
// silence, floods of signed votes across rounds, garbage bytes. A workload of joins, leaves
// and evictions is submitted to random gateways.
//
// Checks (violations) on the correct gateways:
//   agreement    no two different blocks final at one height
//   validity     every final transaction passes the contract on the state before it
//   state-hash   every gateway's state hash after height h is the reference one
//   double-sign  no correct gateway signs two different proposals or votes for one height,
//                round and step (checked on what actually leaves it)
//   restart      a restarted gateway rebuilds from its own disk
// and liveness: after the faults heal (partitions gone, crashed gateways restarted, no loss),
// every correct gateway commits new blocks within the liveness window.
//
// Everything is drawn from one seeded stream and events are ordered by (time, sequence), so a
// seed replays exactly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "consensus/engine.h"
#include "sim/consensus_checker.h"

namespace kmchain::sim {

struct ConsensusSimConfig {
  std::size_t gateways = 4;
  std::size_t byzantine = 1;
  // Each gateway's voting power; empty: power 1 each. Byzantine gateways are drawn so that
  // together they hold less than a third of the power.
  std::vector<std::uint64_t> powers;
  std::uint64_t seed = 1;
  // Simulated run length in ticks of kTickMs; faults are active for the first 40%, then heal.
  std::uint64_t ticks = 4000;
  // Broken rules on every correct gateway, to show the checks catch them.
  consensus::EngineFaults faults;
  // Force crashes into the fault mix (the WAL fault needs them to show).
  bool force_crashes = false;
  // Force equivocation onto every Byzantine gateway.
  bool force_equivocation = false;
  // Force the split-lock attack onto every Byzantine gateway (a broken lock rule forks on it).
  bool force_split_lock = false;
  // Force partitions into the fault mix (a gateway that decided must be cut off for a broken
  // lock rule to fork the others).
  bool force_partitions = false;
  // Behaviours (sim/byzantine.h) forced onto every Byzantine gateway.
  std::uint32_t force_behaviours = 0;
  // Crash and restart each split-lock locker right after it locks (its lock must survive).
  bool restart_lockers = false;
  // Stop at the first violation (the batch form does; a single run may go on to the end).
  bool stop_at_violation = true;
  // A line per event handled by a correct gateway on stderr: what it received or which timer
  // fired, what it signed, and its engine's height, round, step and lock afterwards.
  bool trace = false;
};

inline constexpr std::uint64_t kTickMs = 10;

struct ConsensusSimResult {
  std::uint64_t seed = 0;
  std::vector<Violation> violations;
  bool liveness_failure = false;
  std::string liveness_detail;
  std::string fault_mix;     // what this seed drew, for the log
  std::uint64_t blocks = 0;  // height reached by all correct gateways
  std::uint64_t transactions_committed = 0;
  std::uint64_t messages_sent = 0;
  std::uint64_t messages_delivered = 0;
  std::uint64_t messages_dropped = 0;
  std::uint64_t crashes = 0;
  std::uint64_t partitions = 0;
  std::uint64_t equivocations_detected = 0;
  std::uint64_t split_lock_attacks = 0;
  // Membership changes the Byzantine gateways had no right to make, sent (gossiped or in their
  // proposals); and eviction requests by gateways other than the home that became final (the
  // checker's authority invariant: none evicts without more than a third of the power).
  std::uint64_t forged_transactions = 0;
  std::uint64_t eviction_requests_final = 0;
  std::uint64_t byzantine_power = 0;  // of the gateways drawn to lie, out of total_power
  std::uint64_t total_power = 0;
  std::uint64_t decode_errors = 0;
  std::uint64_t signatures_verified = 0;
  std::uint64_t max_round = 0;
  std::uint64_t sim_ms = 0;
  // Commit latency: from a height's first proposal to its decision, in simulated ms, for
  // heights decided in round 0 while the network was healthy.
  std::vector<std::uint64_t> commit_latency_ms;

  bool ok() const { return violations.empty() && !liveness_failure; }
};

ConsensusSimResult run_consensus_sim(const ConsensusSimConfig& config);

// Breaks the rule named (consensus/broken_rules.h: kRules) on every correct gateway and forces
// into the mix what it takes to show it: the split-lock attack for the lock rules, equivocation
// for the quorum rules, crashes for the WAL, the liars' forged proposals, votes and sync
// answers for the signature, certificate and validity checks. "none" changes nothing. False
// for an unknown name, and for every name but "none" in a build without fault injection
// (base/fault_injection.h).
bool inject_fault(std::string_view name, ConsensusSimConfig& config);
// Every name inject_fault takes, but "none".
std::vector<std::string> injectable_faults();

}  // namespace kmchain::sim
