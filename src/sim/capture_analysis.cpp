#include "sim/capture_analysis.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <set>
#include <unordered_set>
#include <vector>

#include "base/check.h"
#include "base/limits.h"
#include "crypto/random.h"
#include "keys/custody_record.h"
#include "keys/key_id.h"
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

double gateway_capture_formula(std::size_t devices, std::size_t gateways, std::size_t captured) {
  const auto n = static_cast<double>(devices);
  const auto p = static_cast<double>(gateways);
  const auto c = static_cast<double>(captured);
  return c * (2.0 * n * p - c * n - p) / ((n - 1.0) * p * p);
}

namespace {

// One history of membership changes, run twice: through the key manager (every gateway's store,
// exactly as the gateways' custody views hold them: tests/keys/custody_test.cpp) and through
// the naive design, where Assignment places every device in the smallest set of all and the
// gateway that places a device learns that set's keys for good.
class History {
 public:
  History(std::size_t gateways, crypto::Rng& rng)
      : gateways_(gateways), rng_(rng), km_(gateways, rng), known_(gateways) {}

  void join() {
    const auto g = static_cast<std::uint16_t>(rng_.uniform(gateways_));
    const NodeId node{(static_cast<std::uint32_t>(g) << 24) | ++counters_[g]};
    KMCHAIN_CHECK(km_.join(node, GatewayId{g}, rng_.key128(), rng_.key128()).ok());
    auto step = naive_.join(node, GatewayId{0}, next_naive());
    KMCHAIN_CHECK(step.ok());
    known_[g].insert(step->set);
    naive_home_[node] = g;
    live_.push_back(node);
    ++operations_;
  }

  void remove(keys::Cause cause) {
    const NodeId node = take_random();
    KMCHAIN_CHECK(km_.remove(node, cause, rng_.key128()).ok());
    // The gateway that removes it runs the Reorder that follows, and places whoever moves.
    const std::size_t home = naive_home_.at(node);
    auto steps = naive_.remove(node, cause, next_naive());
    KMCHAIN_CHECK(steps.ok());
    naive_position_ = steps->back().position.value();
    for (const keys::Step& s : *steps) {
      if (s.kind == keys::StepKind::kPlace) known_[home].insert(s.set);
    }
    naive_home_.erase(node);
    ++operations_;
  }

  // A member re-attached to another gateway, with the node key of that attachment. In the
  // naive design it stays in its set, which the new gateway now serves and so knows.
  void move() {
    const NodeId node = live_[rng_.uniform(live_.size())];
    const keys::SetTable& t = km_.table();
    const GatewayId home = t.find_set(t.find_member(node)->set)->owner;
    const auto to = GatewayId{
        static_cast<std::uint16_t>((home.value() + 1 + rng_.uniform(gateways_ - 1)) % gateways_)};
    KMCHAIN_CHECK(km_.move(node, to, rng_.key128(), rng_.key128()).ok());
    known_[to.value()].insert(naive_.find_member(node)->set);
    naive_home_[node] = to.value();
    ++operations_;
    ++moves_;
  }

  struct Exposure {
    std::uint64_t links = 0;
    std::uint64_t by_dropped_keys = 0;
  };

  // Links of current members whose DEK one of `group` holds, or held once under the same id.
  Exposure exposed(const std::vector<std::size_t>& group) const {
    std::vector<const keys::GatewayKeys*> stores;
    std::set<keys::KeyId> ever;
    for (std::size_t g : group) {
      stores.push_back(&km_.gateway(GatewayId{static_cast<std::uint16_t>(g)}));
      for (const keys::CustodySpan& span : stores.back()->custody().spans())
        ever.insert(span.key);
    }
    Exposure e;
    const auto& sets = km_.table().sets();
    for (auto x = sets.begin(); x != sets.end(); ++x) {
      for (auto y = x; y != sets.end(); ++y) {
        const std::uint64_t sx = x->second.members.size();
        const std::uint64_t sy = y->second.members.size();
        const bool same = x == y;
        const std::uint64_t links = same ? sx * (sx - 1) / 2 : sx * sy;
        // Same set: the pairwise node keys come from the set's seed, held with its set key.
        const keys::KeyId id = same ? keys::KeyId::set_key(x->first)
                                    : keys::KeyId::pairwise_set_key(x->first, y->first);
        bool held = false;
        for (const keys::GatewayKeys* store : stores) {
          held = held || (same ? store->owned_set(x->first) != nullptr
                               : store->pairwise_set_key(x->first, y->first) != nullptr);
        }
        if (held || ever.contains(id)) e.links += links;
        if (!held && ever.contains(id)) e.by_dropped_keys += links;
      }
    }
    return e;
  }

  // The same in the naive design: every link that touches a set one of `group` ever placed a
  // device in.
  std::uint64_t naive_exposed(const std::vector<std::size_t>& group) const {
    std::set<SetId> known;
    for (std::size_t g : group)
      known.insert(known_[g].begin(), known_[g].end());
    std::uint64_t links = 0;
    const auto& sets = naive_.sets();
    for (auto x = sets.begin(); x != sets.end(); ++x) {
      for (auto y = x; y != sets.end(); ++y) {
        if (!known.contains(x->first) && !known.contains(y->first)) continue;
        const std::uint64_t sx = x->second.members.size();
        const std::uint64_t sy = y->second.members.size();
        links += x == y ? sx * (sx - 1) / 2 : sx * sy;
      }
    }
    return links;
  }

  // Links whose current DEK is among the keys a captured device holds: its pairwise node keys
  // and its set's pairwise set keys, with their current values, compared by value with every
  // link's DEK.
  std::uint64_t node_exposed(NodeId u) const {
    const keys::SetTable& t = km_.table();
    const SetId own = t.find_member(u)->set;
    std::set<std::array<std::uint8_t, 16>> held;
    auto value = [&](const keys::KeyId& id) {
      const auto key = km_.current_key(id);
      KMCHAIN_CHECK(key.has_value());  // a composition holds every key
      std::array<std::uint8_t, 16> v{};
      std::copy(key->view().begin(), key->view().end(), v.begin());
      return v;
    };
    for (NodeId v : t.find_set(own)->members) {
      if (v != u) held.insert(value(keys::KeyId::pairwise_node_key(u, v)));
    }
    for (const auto& [other, rec] : t.sets()) {
      if (other != own) held.insert(value(keys::KeyId::pairwise_set_key(own, other)));
    }
    std::uint64_t links = 0;
    const auto& sets = t.sets();
    for (auto x = sets.begin(); x != sets.end(); ++x) {
      const auto& members = x->second.members;
      for (std::size_t i = 0; i < members.size(); ++i) {
        for (std::size_t j = i + 1; j < members.size(); ++j) {
          if (held.contains(value(keys::KeyId::pairwise_node_key(members[i], members[j])))) ++links;
        }
      }
      for (auto y = std::next(x); y != sets.end(); ++y) {
        if (held.contains(value(keys::KeyId::pairwise_set_key(x->first, y->first))))
          links += members.size() * y->second.members.size();
      }
    }
    return links;
  }

  NodeId random_member() const { return live_[rng_.uniform(live_.size())]; }
  std::size_t members() const { return live_.size(); }
  std::uint64_t operations() const { return operations_; }
  std::uint64_t moves() const { return moves_; }

 private:
  Position next_naive() { return Position{++naive_position_}; }

  NodeId take_random() {
    const std::size_t i = rng_.uniform(live_.size());
    const NodeId node = live_[i];
    live_[i] = live_.back();
    live_.pop_back();
    return node;
  }

  std::size_t gateways_;
  crypto::Rng& rng_;
  keys::KeyManager km_;
  keys::SetTable naive_;
  std::uint64_t naive_position_ = 0;
  std::vector<std::set<SetId>> known_;  // naive: per gateway, the sets it placed devices in
  std::map<NodeId, std::size_t> naive_home_;
  std::map<std::uint16_t, std::uint32_t> counters_;
  std::vector<NodeId> live_;
  std::uint64_t operations_ = 0;
  std::uint64_t moves_ = 0;
};

// The groups of config.captured_gateways gateways to capture in one history: all of them when
// there are at most kGroupsMax, else kGroupsMax drawn at random.
std::vector<std::vector<std::size_t>> groups(const GatewayCaptureConfig& config, crypto::Rng& rng) {
  const std::size_t p = config.gateways;
  const std::size_t c = config.captured_gateways;
  // C(p, c), stopping once it passes the bound.
  std::uint64_t count = 1;
  for (std::size_t i = 0; i < c && count <= kGroupsMax; ++i)
    count = count * (p - i) / (i + 1);
  std::vector<std::vector<std::size_t>> out;
  if (count <= kGroupsMax) {
    std::vector<bool> pick(p, false);
    std::fill(pick.begin(), pick.begin() + static_cast<std::ptrdiff_t>(c), true);
    do {
      std::vector<std::size_t> group;
      for (std::size_t g = 0; g < p; ++g) {
        if (pick[g]) group.push_back(g);
      }
      out.push_back(std::move(group));
    } while (std::prev_permutation(pick.begin(), pick.end()));
    return out;
  }
  for (std::size_t k = 0; k < kGroupsMax; ++k) {
    std::vector<std::size_t> all(p);
    for (std::size_t g = 0; g < p; ++g)
      all[g] = g;
    for (std::size_t i = 0; i < c; ++i)
      std::swap(all[i], all[i + rng.uniform(p - i)]);
    all.resize(c);
    std::sort(all.begin(), all.end());
    out.push_back(std::move(all));
  }
  return out;
}

}  // namespace

GatewayCaptureResult analyze_gateway_capture(const GatewayCaptureConfig& config) {
  KMCHAIN_CHECK(config.devices >= 2 && config.gateways >= 1 && config.trials >= 1);
  KMCHAIN_CHECK(config.gateways <= limits::kGatewaysMax);
  crypto::DeterministicRng rng(config.seed);
  const std::uint64_t n = config.devices;
  const auto links = static_cast<double>(n * (n - 1) / 2);
  KMCHAIN_CHECK(config.captured_gateways >= 1 && config.captured_gateways <= config.gateways);
  GatewayCaptureResult r;
  r.formula = gateway_capture_formula(config.devices, config.gateways, config.captured_gateways);
  r.measured_min = 1.0;
  double measured = 0;
  double naive = 0;
  double node_measured = 0;
  std::size_t captures = 0;
  std::size_t node_captures = 0;
  for (std::size_t t = 0; t < config.trials; ++t) {
    History h(config.gateways, rng);
    // Growth to n through random gateways, then churn of n/2 changes at constant size:
    // leaves and evictions each replaced by a join, and moves between gateways.
    for (std::size_t i = 0; i < config.devices; ++i)
      h.join();
    for (std::size_t i = 0; i < config.devices / 2; ++i) {
      const std::uint64_t roll = rng.uniform(10);
      if (roll < 3 && config.gateways > 1) {
        h.move();
      } else {
        h.remove(roll < 8 ? keys::Cause::kLeave : keys::Cause::kEvict);
        h.join();
      }
    }
    KMCHAIN_CHECK(h.members() == config.devices);
    // Every group when few (each gateway alone for c = 1): their mean is what capturing a group
    // at random exposes, without the sampling error of picking one.
    for (const std::vector<std::size_t>& group : groups(config, rng)) {
      const History::Exposure e = h.exposed(group);
      const double fraction = static_cast<double>(e.links) / links;
      measured += fraction;
      r.measured_min = std::min(r.measured_min, fraction);
      r.measured_max = std::max(r.measured_max, fraction);
      r.exposed_by_dropped_keys += e.by_dropped_keys;
      naive += static_cast<double>(h.naive_exposed(group)) / links;
      ++captures;
    }
    for (std::size_t d = 0; d < config.captured_devices_per_trial; ++d) {
      node_measured += static_cast<double>(h.node_exposed(h.random_member())) / links;
      ++node_captures;
    }
    r.operations = h.operations();
    r.moves += h.moves();
  }
  r.measured = measured / static_cast<double>(captures);
  r.naive = naive / static_cast<double>(captures);
  r.node_measured = node_captures > 0 ? node_measured / static_cast<double>(node_captures) : 0;
  r.node_formula = capture_formula(config.devices);
  return r;
}

std::vector<Figure4Row> figure4(std::size_t devices, std::size_t max_gateways, std::size_t trials,
                                std::uint64_t seed) {
  std::vector<Figure4Row> rows;
  for (std::size_t p = 1; p <= max_gateways; ++p) {
    GatewayCaptureConfig c;
    c.devices = devices;
    c.gateways = p;
    c.trials = trials;
    c.seed = seed + p;
    const GatewayCaptureResult r = analyze_gateway_capture(c);
    rows.push_back(Figure4Row{p, r.node_measured, r.node_formula, r.measured, r.formula, r.naive});
  }
  return rows;
}

}  // namespace kmchain::sim
