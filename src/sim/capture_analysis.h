// Node-capture resilience, measured: build a network with real keyrings, capture random
// devices (every key they hold leaks), and count the links (device pairs) whose D2D traffic
// the attacker can then decrypt, because the DEK of the pair is among the leaked keys.
//
// The paper's Proposition 1 gives the fraction for one captured device in k sets of k
// (n = k*k): the device's own k-1 pairwise node keys, plus its set's (k-1) pairwise set keys,
// each covering k*k links, over n(n-1)/2 links: 2(n+1)/((sqrt(n)+1)n).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace kmchain::sim {

struct CaptureConfig {
  std::size_t devices = 100;
  std::size_t trials = 100;
  std::uint64_t seed = 1;
  std::size_t captured = 1;  // devices captured per trial
};

struct CaptureResult {
  std::size_t devices = 0;
  std::size_t sets = 0;
  std::size_t set_size_min = 0;
  std::size_t set_size_max = 0;
  std::uint64_t links = 0;  // n(n-1)/2
  double measured = 0;      // mean compromised fraction over the trials
  double measured_min = 0;
  double measured_max = 0;
  double formula = 0;  // Proposition 1 (one captured device)
  // The same count computed from the set sizes alone, for a device of each set: what the
  // measurement must equal when the keyrings hold what the design gives them.
  double structural = 0;
};

// Fraction of links a single captured device exposes, per the paper.
double capture_formula(std::size_t devices);

CaptureResult analyze_capture(const CaptureConfig& config);

}  // namespace kmchain::sim
