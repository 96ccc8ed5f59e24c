// Proposer selection weighted by voting power (Tendermint, Algorithm 1: proposer(h, r)).
//
// Every gateway computes the same schedule from the genesis alone. A validator with power w
// of a total W proposes w of every W consecutive (height + round) slots, spread evenly by the
// smooth weighted round-robin (each slot: every validator gains its power in priority, the
// highest priority proposes, ties to the lowest index, and pays W). That sequence repeats with
// period W, so for W up to kScheduleSlotsMax it is computed once; above that, slot s goes to
// the validator whose cumulative power interval holds s mod W (still w of every W, in runs).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "base/ids.h"
#include "ledger/genesis.h"

namespace kmchain::consensus {

inline constexpr std::uint64_t kScheduleSlotsMax = 1u << 16;

class ProposerSchedule {
 public:
  explicit ProposerSchedule(const ledger::Genesis& genesis);
  GatewayId proposer(Height height, Round round) const;

 private:
  std::vector<std::uint64_t> cumulative_;  // cumulative_[i] = power of validators 0..i
  std::vector<GatewayId> slots_;           // the smooth sequence, when total <= the bound
};

}  // namespace kmchain::consensus
