// Node-capture resilience, measured: build a network with real keyrings, capture random
// devices (every key they hold leaks), and count the links (device pairs) whose D2D traffic
// the attacker can then decrypt, because the DEK of the pair is among the leaked keys.
//
// The paper's Proposition 1 gives the fraction for one captured device in k sets of k
// (n = k*k): the device's own k-1 pairwise node keys, plus its set's (k-1) pairwise set keys,
// each covering k*k links, over n(n-1)/2 links: 2(n+1)/((sqrt(n)+1)n).
//
// Gateway capture: a history of membership changes runs through the key manager as the
// gateways run it (joins through random gateways, leaves, evictions, moves to other gateways),
// then one gateway is captured: every key it holds, and every key it ever held (the ledger's
// public refresh keys carry an old key forward, so a key id it once held counts for as long as
// that key exists). A link is exposed when its current DEK is among them. The paper's
// Proposition 3 gives (2np - n - p)/((n-1)p^2) for n devices spread evenly over p gateways,
// each knowing the keys of its own devices' sets only. `naive` runs the same history where any
// gateway admits into any set (Assignment over all sets, no owner): a gateway then knows every
// set it ever placed a device in, and every link that touches one. With c gateways captured
// together, Proposition 4 (as we derive it: the links of cn/p devices) gives
// c(2np - cn - p)/((n-1)p^2). The same histories also measure node capture with p gateways:
// a captured device's keys, taken from the key manager's current values, against every link's
// current DEK, beside Proposition 1.
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

struct GatewayCaptureConfig {
  std::size_t devices = 100;
  std::size_t gateways = 4;
  std::size_t trials = 20;  // a history per trial
  std::uint64_t seed = 1;
  // Gateways captured together. Per history: each gateway alone when 1; otherwise every group
  // of that many when there are at most kGroupsMax, else kGroupsMax random groups.
  std::size_t captured_gateways = 1;
  std::size_t captured_devices_per_trial = 4;  // node capture: devices captured one at a time
};
inline constexpr std::size_t kGroupsMax = 64;

struct GatewayCaptureResult {
  double measured = 0;  // mean exposed fraction over the captures (trials x gateways)
  double measured_min = 0;
  double measured_max = 0;
  double formula = 0;            // Proposition 3
  double naive = 0;              // the same histories where any gateway admits into any set
  std::uint64_t operations = 0;  // membership changes per history
  std::uint64_t moves = 0;       // moves (re-attachments to another gateway), all histories
  // Links exposed through a key the captured gateway no longer holds (ever-held key ids that
  // still name a current DEK), summed over the trials: 0 when custody drops only dead keys.
  std::uint64_t exposed_by_dropped_keys = 0;
  // Node capture in the same histories: the mean fraction one captured device exposes, and
  // Proposition 1 for n.
  double node_measured = 0;
  double node_formula = 0;
};

// Proposition 3: (2np - n - p) / ((n - 1) p^2); with `captured` gateways together,
// captured(2np - captured n - p) / ((n - 1) p^2).
double gateway_capture_formula(std::size_t devices, std::size_t gateways, std::size_t captured = 1);

GatewayCaptureResult analyze_gateway_capture(const GatewayCaptureConfig& config);

// The paper's Fig. 4: for p = 1..max_gateways, node and gateway capture, measured and formula.
struct Figure4Row {
  std::size_t gateways = 0;
  double node_measured = 0;
  double node_formula = 0;
  double gateway_measured = 0;
  double gateway_formula = 0;
  double gateway_naive = 0;
};
std::vector<Figure4Row> figure4(std::size_t devices, std::size_t max_gateways, std::size_t trials,
                                std::uint64_t seed);

}  // namespace kmchain::sim
