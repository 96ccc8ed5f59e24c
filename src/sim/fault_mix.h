// The fault mix of one simulated run, drawn from its seed (swarm testing: each run has its own
// mix rather than every fault at a low rate): message delay, loss, duplication; partitions;
// crashes at an arbitrary point of an action batch; clock skew.
#pragma once

#include <cstdint>
#include <string>

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

  std::string describe() const;
};

// Draws a mix; `force_partitions` and `force_crashes` put those faults in whatever is drawn.
FaultMix draw_fault_mix(crypto::Rng& rng, bool force_partitions, bool force_crashes);

}  // namespace kmchain::sim
