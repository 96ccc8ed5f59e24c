#include "consensus/proposer.h"

#include <algorithm>

#include "base/check.h"

namespace kmchain::consensus {

ProposerSchedule::ProposerSchedule(const ledger::Genesis& genesis) {
  KMCHAIN_CHECK(!genesis.validators.empty());
  std::uint64_t total = 0;
  for (const ledger::Validator& v : genesis.validators) {
    total += v.power;
    cumulative_.push_back(total);
  }
  if (total > kScheduleSlotsMax) return;
  // Smooth weighted round-robin. Priorities stay within [-W, W], so int64 never overflows.
  std::vector<std::int64_t> priority(genesis.validators.size(), 0);
  const auto total_signed = static_cast<std::int64_t>(total);
  slots_.reserve(total);
  for (std::uint64_t slot = 0; slot < total; ++slot) {
    std::size_t best = 0;
    for (std::size_t i = 0; i < priority.size(); ++i) {
      priority[i] += static_cast<std::int64_t>(genesis.validators[i].power);
      if (priority[i] > priority[best]) best = i;
    }
    priority[best] -= total_signed;
    slots_.push_back(genesis.validators[best].index);
  }
}

GatewayId ProposerSchedule::proposer(Height height, Round round) const {
  const std::uint64_t total = cumulative_.back();
  // Heights start at 1; slot arithmetic wraps harmlessly modulo 2^64 for absurd inputs.
  const std::uint64_t slot = (height.value() - 1 + round.value()) % total;
  if (!slots_.empty()) return slots_[slot];
  const auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), slot);
  return GatewayId{static_cast<std::uint16_t>(it - cumulative_.begin())};
}

}  // namespace kmchain::consensus
