// The fixed parts of a simulated consortium: every gateway's Ed25519 key comes from the run's
// seed (so that a seed replays exactly and a Byzantine gateway can sign as itself), the genesis
// time, and short timeouts, so that a seed covers many heights and rounds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "crypto/random.h"
#include "crypto/sign.h"
#include "ledger/genesis.h"
#include "ledger/timeouts.h"

namespace kmchain::sim {

inline constexpr std::uint64_t kSimGenesisTimeMs = 1'700'000'000'000;

inline crypto::Ed25519KeyPair sim_gateway_key(std::uint64_t seed, std::size_t gateway) {
  crypto::DeterministicRng rng(seed * 1000 + gateway + 7);
  return crypto::Ed25519KeyPair::generate(rng);
}

// P gateways of power 1 with the seed's keys.
inline ledger::Genesis sim_genesis(std::string name, std::uint64_t seed, std::size_t gateways) {
  ledger::Genesis g;
  g.name = std::move(name);
  g.genesis_time_ms = kSimGenesisTimeMs;
  for (std::size_t i = 0; i < gateways; ++i) {
    g.validators.push_back(ledger::Validator{GatewayId{static_cast<std::uint16_t>(i)},
                                             sim_gateway_key(seed, i).public_key(), 1});
  }
  return g;
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
