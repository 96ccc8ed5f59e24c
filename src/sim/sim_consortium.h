// The fixed parts of a simulated consortium: every gateway's Ed25519 key comes from the run's
// seed (so that a seed replays exactly and a Byzantine gateway can sign as itself), the genesis
// time, and short timeouts, so that a seed covers many heights and rounds.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "crypto/random.h"
#include "crypto/sign.h"
#include "ledger/genesis.h"
#include "ledger/timeouts.h"

namespace kmchain::sim {

inline constexpr std::uint64_t kSimGenesisTimeMs = 1'700'000'000'000;
// Transactions per block in the simulated consortia (a small limit, so that it is reached).
inline constexpr std::size_t kSimBlockTransactionsMax = 64;
// How far ahead of the simulated clock a final block's timestamp may be: the replicas' allowed
// drift (ReplicaConfig::clock_drift_max_ms) and more than the largest clock skew of a fault mix.
inline constexpr std::uint64_t kSimTimestampSlackMs = 10'000 + 1'000;

inline crypto::Ed25519KeyPair sim_gateway_key(std::uint64_t seed, std::size_t gateway) {
  crypto::DeterministicRng rng(seed * 1000 + gateway + 7);
  return crypto::Ed25519KeyPair::generate(rng);
}

// A simulated device's secret-code key (enroll/secret_code.h): its public key is the commitment
// its join records, and it signs the device's consent to leave.
inline crypto::Ed25519KeyPair sim_device_key(std::uint64_t seed, NodeId node) {
  crypto::DeterministicRng rng(seed * 0x9e3779b97f4a7c15ULL ^ (0xd0000000ULL + node.value()));
  return crypto::Ed25519KeyPair::generate(rng);
}

// P gateways with the seed's keys, of power 1 unless `powers` gives each its own.
inline ledger::Genesis sim_genesis(std::string name, std::uint64_t seed, std::size_t gateways,
                                   const std::vector<std::uint64_t>& powers = {}) {
  ledger::Genesis g;
  g.name = std::move(name);
  g.genesis_time_ms = kSimGenesisTimeMs;
  for (std::size_t i = 0; i < gateways; ++i) {
    g.validators.push_back(ledger::Validator{GatewayId{static_cast<std::uint16_t>(i)},
                                             sim_gateway_key(seed, i).public_key(),
                                             i < powers.size() ? powers[i] : 1});
  }
  return g;
}

// Whether `byzantine` gateways can be chosen among these powers and hold less than a third of
// the total together (the most the protocol tolerates): the lightest ones are the test.
inline bool byzantine_power_tolerated(std::vector<std::uint64_t> powers, std::size_t byzantine) {
  if (byzantine == 0) return true;
  if (byzantine >= powers.size()) return false;
  std::sort(powers.begin(), powers.end());
  std::uint64_t total = 0, lightest = 0;
  for (std::size_t i = 0; i < powers.size(); ++i) {
    total += powers[i];
    if (i < byzantine) lightest += powers[i];
  }
  return 3 * lightest < total;
}

inline ledger::Timeouts sim_timeouts() {
  ledger::Timeouts t;
  t.propose_ms = 300;
  t.propose_delta_ms = 100;
  t.prevote_ms = 200;
  t.prevote_delta_ms = 100;
  t.precommit_ms = 200;
  t.precommit_delta_ms = 100;
  t.rebroadcast_ms = 400;
  t.commit_ms = 300;
  t.growth_rounds_max = 8;
  return t;
}

}  // namespace kmchain::sim
