#include "sim/capture_analysis.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <unordered_set>

#include "base/check.h"
#include "crypto/random.h"
#include "keys/key_manager.h"
#include "keys/keyring.h"
#include "sim/key_fingerprint.h"

namespace kmchain::sim {

double capture_formula(std::size_t devices) {
  const auto n = static_cast<double>(devices);
  return 2.0 * (n + 1.0) / ((std::sqrt(n) + 1.0) * n);
}

namespace {

struct Network {
  std::vector<keys::Keyring> rings;
  std::map<SetId, std::size_t> set_sizes;
};

// Genesis enrollment through one gateway; each device loads the bundle sealed for it.
Network build(std::size_t devices, crypto::Rng& rng) {
  keys::KeyManager km(1, rng);
  std::vector<std::pair<NodeId, crypto::Key128>> nodes;
  nodes.reserve(devices);
  for (std::size_t i = 0; i < devices; ++i) {
    nodes.emplace_back(NodeId{static_cast<std::uint32_t>(i + 1)}, rng.key128());
  }
  KMCHAIN_CHECK(km.provision(GatewayId{0}, nodes).ok());
  Network net;
  net.rings.reserve(devices);
  for (const auto& [node, node_key] : nodes) {
    net.rings.emplace_back(node, node_key);
    auto bundle = km.bundle_for(node);
    KMCHAIN_CHECK(bundle.ok());
    KMCHAIN_CHECK(net.rings.back().apply(bundle->wire).ok());
  }
  for (const auto& [set, rec] : km.table().sets())
    net.set_sizes[set] = rec.members.size();
  return net;
}

// Links whose DEK the attacker holds, counted from each device's side: a pairwise node key
// covers one link, a pairwise set key every link between the device and that set.
std::uint64_t compromised_links(
    const Network& net, const std::unordered_set<KeyFingerprint, KeyFingerprintHash>& leaked) {
  std::uint64_t ends = 0;
  for (const keys::Keyring& ring : net.rings) {
    for (const auto& [peer, key] : ring.pairwise_node_keys()) {
      if (leaked.contains(KeyFingerprint::of(key))) ends += 1;
    }
    for (const auto& [set, key] : ring.pairwise_set_keys()) {
      if (leaked.contains(KeyFingerprint::of(key))) ends += net.set_sizes.at(set);
    }
  }
  return ends / 2;  // each link was counted from both of its ends
}

}  // namespace

CaptureResult analyze_capture(const CaptureConfig& config) {
  KMCHAIN_CHECK(config.devices >= 2 && config.trials >= 1);
  KMCHAIN_CHECK(config.captured >= 1 && config.captured <= config.devices);
  crypto::DeterministicRng rng(config.seed);
  const Network net = build(config.devices, rng);

  CaptureResult r;
  const std::uint64_t n = config.devices;
  r.devices = config.devices;
  r.links = n * (n - 1) / 2;
  r.sets = net.set_sizes.size();
  r.set_size_min = SIZE_MAX;
  for (const auto& [set, size] : net.set_sizes) {
    r.set_size_min = std::min(r.set_size_min, size);
    r.set_size_max = std::max(r.set_size_max, size);
  }
  r.formula = capture_formula(config.devices);

  // Structural expectation for one captured device, averaged over devices: (s-1) links in
  // its own set of size s, plus s * (n - s) links between its set and the others.
  double structural = 0;
  for (const auto& [set, size] : net.set_sizes) {
    const auto s = static_cast<double>(size);
    structural += s * ((s - 1) + s * (static_cast<double>(n) - s));
  }
  r.structural = structural / static_cast<double>(n) / static_cast<double>(r.links);

  double sum = 0;
  r.measured_min = 1.0;
  for (std::size_t t = 0; t < config.trials; ++t) {
    std::unordered_set<KeyFingerprint, KeyFingerprintHash> leaked;
    for (std::size_t c = 0; c < config.captured; ++c) {
      const keys::Keyring& victim = net.rings[rng.uniform(net.rings.size())];
      leaked.insert(KeyFingerprint::of(victim.node_key()));
      if (victim.set_key() != nullptr) leaked.insert(KeyFingerprint::of(*victim.set_key()));
      for (const auto& [peer, key] : victim.pairwise_node_keys()) {
        leaked.insert(KeyFingerprint::of(key));
      }
      for (const auto& [set, key] : victim.pairwise_set_keys()) {
        leaked.insert(KeyFingerprint::of(key));
      }
    }
    const double fraction =
        static_cast<double>(compromised_links(net, leaked)) / static_cast<double>(r.links);
    sum += fraction;
    r.measured_min = std::min(r.measured_min, fraction);
    r.measured_max = std::max(r.measured_max, fraction);
  }
  r.measured = sum / static_cast<double>(config.trials);
  return r;
}

}  // namespace kmchain::sim
