// The fault mix of one simulated run, drawn from its seed (swarm testing: each run has its own
// mix rather than every fault at a low rate): message delay, loss, duplication; partitions;
// crashes at an arbitrary point of an action batch; clock skew, and one gateway whose clock is
// hours off.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "crypto/random.h"

namespace kmchain::sim {

struct FaultMix {
  double loss = 0;
  double duplicate = 0;
  std::uint64_t delay_min_ms = 1;
  std::uint64_t delay_max_ms = 20;
  bool partitions = false;
  bool crashes = false;
  double crash_probability = 0;  // per event handled by a correct gateway
  std::uint64_t skew_max_ms = 0;
  // One correct gateway's clock runs this far ahead (> 0) or behind (< 0) on top of its skew:
  // the block-time rule must let it follow the chain, and the others go on without its
  // proposals when it is ahead (docs/consensus.md, "Block time").
  std::int64_t clock_offset_ms = 0;

  std::string describe() const;
};

// The clock offset of a run, one run in three, one to three hours either way. A stream of its
// own, so that the rest of a seed's mix is what it was before clocks hours off were drawn.
std::int64_t draw_clock_offset(std::uint64_t seed);

// Which gateway runs the mix's clock offset: a correct one of the least power, so that it and the
// Byzantine gateways together never hold a quorum; none in a consortium of one.
std::optional<std::size_t> clock_offset_gateway(const std::vector<std::uint64_t>& powers,
                                                const std::function<bool(std::size_t)>& byzantine);

// Draws a mix; `force_partitions` and `force_crashes` put those faults in whatever is drawn.
FaultMix draw_fault_mix(crypto::Rng& rng, bool force_partitions, bool force_crashes);

}  // namespace kmchain::sim
