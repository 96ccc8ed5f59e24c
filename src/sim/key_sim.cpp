#include "sim/key_sim.h"

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <deque>
#include <numbers>
#include <unordered_map>
#include <unordered_set>

#include "base/check.h"
#include "base/limits.h"
#include "crypto/random.h"
#include "keys/keyring.h"
#include "sim/key_fingerprint.h"
#include "sim/key_reference.h"

namespace kmchain::sim {

namespace {

using keys::Cause;
using keys::KeyId;
using keys::Keyring;
using keys::RekeyPlan;
using keys::StepKind;

// A departed device that keeps every KEK it held and tries them on every later message.
struct Watcher {
  NodeId node;
  std::vector<std::pair<KeyId, Key128>> keks;
};

// Position, key count and key values of a keyring, to show a rejected message changed nothing.
std::pair<std::uint64_t, KeyFingerprint> digest(const Keyring& k) {
  KeyFingerprint f = KeyFingerprint::of(k.node_key());
  auto mix = [&](const Key128& key) {
    const KeyFingerprint g = KeyFingerprint::of(key);
    f.hi = f.hi * 0x100000001b3ULL ^ g.hi;
    f.lo = f.lo * 0x100000001b3ULL ^ g.lo;
  };
  if (k.set_key() != nullptr) mix(*k.set_key());
  for (const auto& [id, key] : k.pairwise_node_keys())
    mix(key);
  for (const auto& [id, key] : k.pairwise_set_keys())
    mix(key);
  return {k.position().value() * 1000003 + k.key_count(), f};
}

class KeySim {
 public:
  explicit KeySim(const KeySimConfig& config)
      : cfg_(config),
        choice_rng_(config.seed),
        key_rng_(config.seed ^ 0x6b6d636861696eULL),
        km_(config.gateways, key_rng_),
        next_node_(config.gateways, 0) {
#if KMCHAIN_FAULTS_ENABLED
    km_.inject_fault_for_testing(config.fault);
#else
    KMCHAIN_CHECK(config.fault == keys::Fault::kNone);  // the caller checks kFaultInjection
#endif
  }

  KeySimResult run(const std::function<void(const std::string&)>& progress) {
    const std::size_t total = cfg_.devices + cfg_.ops;
    for (std::size_t i = 0; i < total && result_.ok; ++i) {
      op_index_ = i + 1;
      const bool growing = i < cfg_.devices;
      if (growing || order_.empty()) {
        join();
      } else {
        // The population follows a wave: down to a quarter of the target halfway through the
        // churn and back, so Reorder's dissolutions and trims run at every size.
        const double phase = std::numbers::pi * static_cast<double>(i - cfg_.devices) /
                             static_cast<double>(cfg_.ops);
        const double target =
            static_cast<double>(cfg_.devices) * (1.0 - 0.75 * std::sin(phase) * std::sin(phase));
        const double join_share = static_cast<double>(order_.size()) < target ? 0.7 : 0.3;
        if (choice_rng_.unit() < join_share && order_.size() < limits::kDevicesMax) {
          join();
        } else {
          remove(choice_rng_.unit() < 0.7 ? Cause::kLeave : Cause::kEvict);
        }
      }
      if (!result_.ok) break;
      if (growing && cfg_.gateways == 1) check_square_shape();
      if (result_.ok && (op_index_ % cfg_.full_check_every == 0 || i + 1 == total)) {
        full_check();
      }
      if (progress && op_index_ % 1000 == 0) {
        progress(fmt::format("op {}/{}: {} devices in {} sets, position {}", op_index_, total,
                             order_.size(), km_.table().set_count(), km_.position().value()));
      }
    }
    if (result_.ok) check_all_pairs();
    finish_stats();
    return result_;
  }

 private:
  bool fail(const std::string& invariant, std::string detail) {
    if (result_.ok) {
      result_.ok = false;
      result_.invariant = invariant;
      result_.detail = std::move(detail);
      result_.operation = op_index_;
    }
    return false;
  }

  NodeId new_node_id(GatewayId origin) {
    const std::uint32_t n = ++next_node_[origin.value()];
    return NodeId{(static_cast<std::uint32_t>(origin.value()) << 24) | n};
  }

  NodeId random_member() {
    return order_[choice_rng_.uniform(order_.size())];
  }

  void add_member(NodeId node, const Key128& node_key) {
    devices_.emplace(node, Keyring(node, node_key));
    index_[node] = order_.size();
    order_.push_back(node);
  }

  void drop_member(NodeId node) {
    const std::size_t i = index_.at(node);
    order_[i] = order_.back();
    index_[order_[i]] = i;
    order_.pop_back();
    index_.erase(node);
    devices_.erase(node);
  }

  void join() {
    ++result_.stats.joins;
    const GatewayId origin{static_cast<std::uint16_t>(choice_rng_.uniform(cfg_.gateways))};
    const NodeId node = new_node_id(origin);
    const Key128 node_key = key_rng_.key128();
    const Key128 refresh_key = key_rng_.key128();
    ref_.enroll(node, node_key);
    add_member(node, node_key);
    seen_.insert(KeyFingerprint::of(node_key));
    auto plan = km_.join(node, origin, node_key, refresh_key);
    if (!plan) {
      fail("agreement",
           fmt::format("join of node {} refused: {}", node.value(), keys::to_string(plan.error())));
      return;
    }
    process(*plan, "join");
  }

  void remove(Cause cause) {
    const NodeId node = random_member();
    if (cause == Cause::kLeave) {
      ++result_.stats.leaves;
    } else {
      ++result_.stats.evictions;
    }
    // The departing device's knowledge, frozen: every key it holds now.
    const Keyring& ring = devices_.at(node);
    auto remember = [&](const Key128& k) { departed_known_.emplace(KeyFingerprint::of(k), node); };
    remember(ring.node_key());
    Watcher watcher{node, {{KeyId::node_key(node), ring.node_key()}}};
    if (ring.set_key() != nullptr) {
      remember(*ring.set_key());
      watcher.keks.emplace_back(KeyId::set_key(*ring.set()), *ring.set_key());
    }
    for (const auto& [peer, key] : ring.pairwise_node_keys())
      remember(key);
    for (const auto& [set, key] : ring.pairwise_set_keys())
      remember(key);
    watchers_.push_back(std::move(watcher));
    while (watchers_.size() > cfg_.watchers)
      watchers_.pop_front();
    drop_member(node);

    auto plan = km_.remove(node, cause, key_rng_.key128());
    if (!plan) {
      fail("agreement", fmt::format("removal of node {} refused: {}", node.value(),
                                    keys::to_string(plan.error())));
      return;
    }
    process(*plan, cause == Cause::kLeave ? "leave" : "evict");
  }

  void process(const RekeyPlan& plan, const char* operation) {
    auto& per_op = result_.stats.messages_per_operation[operation];
    per_op.first += plan.messages.size();
    per_op.second += 1;
    result_.stats.steps += plan.steps.size();
    for (const auto& step : plan.steps) {
      if (step.kind == StepKind::kDissolve) ++result_.stats.dissolved_sets;
      if (step.kind == StepKind::kPlace && step.cause == Cause::kReorder) {
        ++result_.stats.reorder_moves;
      }
    }
    if (!deliver(plan)) return;
    if (auto error = ref_.apply(plan)) {
      fail("agreement", "rekey plan deviates from the design: " + *error);
      return;
    }
    if (auto error = ref_.compare(km_)) {
      fail("agreement", "gateway key stores deviate from the design: " + *error);
      return;
    }
    if (!check_touched(plan)) return;
    if (!check_shape()) return;
    try_forgeries(plan);
  }

  // Delivers every message in order, checking forward secrecy per message and backward secrecy
  // per bundle, and records each step's new key values as "in use".
  bool deliver(const RekeyPlan& plan) {
    std::size_t m = 0;
    for (const auto& step : plan.steps) {
      for (; m < plan.messages.size() && plan.messages[m].header.position == step.position; ++m) {
        const keys::Envelope& e = plan.messages[m];
        ++result_.stats.messages_by_kind[keys::to_string(e.header.kind)];
        result_.stats.wire_bytes += e.wire.size();
        if (!departed_cannot_read(e)) return false;
        for (NodeId r : e.recipients) {
          auto it = devices_.find(r);
          if (it == devices_.end()) {
            return fail("delivery", fmt::format("message for non-member {}", r.value()));
          }
          if (e.header.kind == keys::MessageKind::kKeyBundle && !fresh_bundle(e, it->second)) {
            return false;
          }
          ++result_.stats.deliveries;
          auto applied = it->second.apply(e.wire);
          if (!applied) {
            return fail("delivery",
                        fmt::format("node {} rejected a {} message at position {}: {}", r.value(),
                                    keys::to_string(e.header.kind), e.header.position.value(),
                                    keys::to_string(applied.error())));
          }
        }
      }
      record_in_use(step);
    }
    return true;
  }

  // Forward secrecy, two ways: no departed device knows the KEK this message is sealed under
  // (checked by value, for every device that ever departed), and the most recent departed
  // devices fail to decrypt it with every KEK they held (checked by decryption).
  bool departed_cannot_read(const keys::Envelope& e) {
    const Keyring& recipient = devices_.at(e.recipients.front());
    const Key128* kek =
        e.header.audience == keys::Audience::kDevice ? &recipient.node_key() : recipient.set_key();
    if (kek != nullptr) {
      auto known = departed_known_.find(KeyFingerprint::of(*kek));
      if (known != departed_known_.end()) {
        return fail("forward-secrecy",
                    fmt::format("departed node {} knows the key sealing a {} message to {} {} at "
                                "position {}",
                                known->second.value(), keys::to_string(e.header.kind),
                                e.header.audience == keys::Audience::kSet ? "set" : "node",
                                e.header.target, e.header.position.value()));
      }
    }
    const KeyId id = e.header.kek();
    for (const Watcher& w : watchers_) {
      for (const auto& [kek_id, key] : w.keks) {
        if (!(kek_id == id)) continue;
        ++result_.stats.decrypt_attempts_by_departed;
        auto header = keys::parse_header(e.wire);
        if (header && keys::open_body(*header, e.wire, key)) {
          return fail(
              "forward-secrecy",
              fmt::format("departed node {} decrypted a {} message at position {}", w.node.value(),
                          keys::to_string(e.header.kind), e.header.position.value()));
        }
      }
    }
    return true;
  }

  // Backward secrecy: a device placed into a set receives only key values never in use before.
  bool fresh_bundle(const keys::Envelope& e, const Keyring& ring) {
    auto header = keys::parse_header(e.wire);
    if (!header) return fail("delivery", "unparseable bundle");
    auto body = keys::open_body(*header, e.wire, ring.node_key());
    if (!body) return fail("delivery", "bundle does not open under the node key");
    const auto& b = std::get<keys::KeyBundleBody>(*body);
    auto old = [&](const Key128& k) { return seen_.contains(KeyFingerprint::of(k)); };
    const NodeId node{e.header.target};
    if (old(b.set_key)) {
      return fail("backward-secrecy",
                  fmt::format("node {} placed into set {} received its set key as it was in use "
                              "before",
                              node.value(), b.set.value()));
    }
    for (const auto& [peer, key] : b.pairwise_node_keys) {
      if (old(key)) {
        return fail("backward-secrecy",
                    fmt::format("node {} received an old pairwise node key with {}", node.value(),
                                peer.value()));
      }
    }
    for (const auto& [set, key] : b.pairwise_set_keys) {
      if (old(key)) {
        return fail("backward-secrecy",
                    fmt::format("node {} received an old pairwise set key of sets {} and {}",
                                node.value(), b.set.value(), set.value()));
      }
    }
    return true;
  }

  // After a step, the keys of the set it touched hold new values: remember them as in use, and
  // make sure no departed device knows any of them.
  void record_in_use(const keys::Step& step) {
    const keys::SetRecord* rec = km_.table().find_set(step.set);
    if (rec == nullptr || !result_.ok) return;
    // Any current member that has applied this step holds the set's new keys.
    const Keyring* holder = nullptr;
    for (NodeId m : rec->members) {
      auto it = devices_.find(m);
      if (it != devices_.end() && it->second.placed() && *it->second.set() == step.set) {
        holder = &it->second;
        break;
      }
    }
    if (holder == nullptr) return;
    auto add = [&](const Key128& k) {
      const KeyFingerprint f = KeyFingerprint::of(k);
      seen_.insert(f);
      if (auto known = departed_known_.find(f); known != departed_known_.end()) {
        fail("forward-secrecy",
             fmt::format("departed node {} still holds a key of set {} in use "
                         "after position {}",
                         known->second.value(), step.set.value(), step.position.value()));
      }
    };
    add(*holder->set_key());
    for (const auto& [set, key] : holder->pairwise_set_keys())
      add(key);
    if (step.kind == StepKind::kPlace) {
      const Keyring& placed = devices_.at(step.node);
      for (const auto& [peer, key] : placed.pairwise_node_keys())
        add(key);
    }
  }

  // Full comparison of one device's keyring with the design.
  bool compare_device(NodeId node, const Keyring& ring, SetId set) {
    const auto& sets = ref_.sets();
    const auto& members = sets.at(set);
    auto bad = [&](const std::string& what) {
      return fail("agreement",
                  fmt::format("node {} in set {}: {}", node.value(), set.value(), what));
    };
    if (!ring.placed() || *ring.set() != set) return bad("keyring is not placed in its set");
    if (ring.position() != km_.position()) {
      return bad(fmt::format("at position {}, the ledger is at {}", ring.position().value(),
                             km_.position().value()));
    }
    if (!(*ring.set_key() == *ref_.set_key(set))) return bad("wrong set key");
    const std::size_t expected_keys = members.size() + sets.size();
    if (ring.key_count() != expected_keys) {
      return bad(
          fmt::format("holds {} keys, the design gives {}", ring.key_count(), expected_keys));
    }
    if (ring.pairwise_set_keys().size() != sets.size() - 1) return bad("wrong pairwise set keys");
    for (const auto& [other, key] : ring.pairwise_set_keys()) {
      const Key128* expected = ref_.pairwise_set_key(set, other);
      if (expected == nullptr || !(*expected == key)) {
        return bad(fmt::format("wrong pairwise set key with set {}", other.value()));
      }
    }
    if (ring.pairwise_node_keys().size() != members.size() - 1)
      return bad("wrong pairwise node keys");
    for (const auto& [peer, key] : ring.pairwise_node_keys()) {
      const Key128* expected = ref_.pairwise_node_key(node, peer);
      if (expected == nullptr || !(*expected == key)) {
        return bad(fmt::format("wrong pairwise node key with node {}", peer.value()));
      }
    }
    return true;
  }

  // After an operation: every device of a touched set in full; every other device's key with
  // each touched set; and the gateways' pairwise node keys for every new pair.
  bool check_touched(const RekeyPlan& plan) {
    std::set<SetId> touched;
    for (const auto& step : plan.steps)
      touched.insert(step.set);
    const auto& sets = ref_.sets();
    for (SetId s : touched) {
      auto it = sets.find(s);
      if (it == sets.end()) continue;
      for (NodeId m : it->second) {
        if (!compare_device(m, devices_.at(m), s)) return false;
      }
    }
    for (const auto& [set, members] : sets) {
      if (touched.contains(set)) continue;
      for (NodeId m : members) {
        const Keyring& ring = devices_.at(m);
        if (ring.position() != km_.position()) {
          return fail("agreement",
                      fmt::format("node {} at position {}, the ledger at {}", m.value(),
                                  ring.position().value(), km_.position().value()));
        }
        for (SetId s : touched) {
          const Key128* expected = ref_.pairwise_set_key(set, s);
          auto got = ring.dek(NodeId{0}, s);
          const bool match =
              expected == nullptr ? !got.has_value() : got.has_value() && *got == *expected;
          if (!match) {
            return fail("agreement",
                        fmt::format("node {} in set {} holds a wrong key with touched set {}",
                                    m.value(), set.value(), s.value()));
          }
        }
      }
    }
    for (const auto& step : plan.steps) {
      if (step.kind != StepKind::kPlace) continue;
      auto it = sets.find(step.set);
      if (it == sets.end() || !it->second.contains(step.node)) continue;
      for (NodeId m : it->second) {
        if (m == step.node) continue;
        auto km_key = km_.current_key(KeyId::pairwise_node_key(step.node, m));
        const Key128* expected = ref_.pairwise_node_key(step.node, m);
        if (!km_key || expected == nullptr || !(*km_key == *expected)) {
          return fail("agreement", fmt::format("gateway cannot re-derive the pairwise node key "
                                               "of nodes {} and {}",
                                               step.node.value(), m.value()));
        }
      }
    }
    return true;
  }

  bool check_shape() {
    const auto& table = km_.table();
    const std::size_t n = table.member_count();
    if (n == 0) return true;
    const std::size_t cap = keys::SetTable::capacity(n);
    const std::size_t max_size = table.max_set_size();
    const std::size_t sets = table.set_count();
    result_.stats.max_set_size = std::max(result_.stats.max_set_size, max_size);
    result_.stats.max_sets = std::max(result_.stats.max_sets, sets);
    if (max_size > cap + limits::kSetSlack) {
      return fail("shape", fmt::format("a set holds {} devices; n = {} allows {}", max_size, n,
                                       cap + limits::kSetSlack));
    }
    const std::size_t sets_bound = cap + cfg_.gateways + 1;
    if (sets > sets_bound) {
      return fail("shape", fmt::format("{} sets for n = {} and {} gateways; the bound is {}", sets,
                                       n, cfg_.gateways, sets_bound));
    }
    return true;
  }

  // With one gateway, growth by joins reaches exactly k sets of k at n = k*k, where every
  // device holds 2k keys.
  void check_square_shape() {
    if (!result_.ok) return;
    const std::size_t n = km_.table().member_count();
    const auto k = static_cast<std::size_t>(std::llround(std::sqrt(static_cast<double>(n))));
    if (k * k != n) return;
    if (km_.table().set_count() != k) {
      fail("shape", fmt::format("n = {} = {}^2 but {} sets", n, k, km_.table().set_count()));
      return;
    }
    for (const auto& [node, ring] : devices_) {
      if (ring.key_count() != 2 * k) {
        fail("shape", fmt::format("n = {}: node {} holds {} keys, not 2*sqrt(n) = {}", n,
                                  node.value(), ring.key_count(), 2 * k));
        return;
      }
    }
  }

  void full_check() {
    for (const auto& [set, members] : ref_.sets()) {
      for (NodeId m : members) {
        if (!compare_device(m, devices_.at(m), set)) return;
      }
    }
    // Forward secrecy sweep: no key in use anywhere is known to any departed device.
    ref_.for_each_current_key([&](const KeyId& id, const Key128& key) {
      if (!result_.ok) return;
      if (auto it = departed_known_.find(KeyFingerprint::of(key)); it != departed_known_.end()) {
        fail("forward-secrecy", fmt::format("departed node {} knows a key in use (class {})",
                                            it->second.value(), static_cast<int>(id.key_class)));
      }
    });
  }

  // Replays and tampered copies of a delivered message must be refused, changing nothing.
  void try_forgeries(const RekeyPlan& plan) {
    if (plan.messages.empty()) return;
    const keys::Envelope& e = plan.messages[choice_rng_.uniform(plan.messages.size())];
    const NodeId r = e.recipients[choice_rng_.uniform(e.recipients.size())];
    auto it = devices_.find(r);
    if (it == devices_.end()) return;
    Keyring& ring = it->second;
    const auto before = digest(ring);
    Bytes tampered = e.wire;
    const std::size_t bit = choice_rng_.uniform(tampered.size() * 8);
    tampered[bit / 8] = static_cast<std::uint8_t>(tampered[bit / 8] ^ (1u << (bit % 8)));
    Bytes truncated(e.wire.begin(), e.wire.end() - 1);
    const std::array<const Bytes*, 3> attempts{&e.wire, &tampered, &truncated};
    for (const Bytes* attempt : attempts) {
      if (ring.apply(*attempt)) {
        fail("rejection", fmt::format("node {} accepted a {} copy of a {} message", r.value(),
                                      attempt == &e.wire ? "replayed" : "tampered",
                                      keys::to_string(e.header.kind)));
        return;
      }
      ++result_.stats.rejected_forgeries;
      if (digest(ring) != before) {
        fail("rejection", fmt::format("node {} changed state on a rejected message", r.value()));
        return;
      }
    }
  }

  // Every pair of current devices derives the same DEK, the one the design gives them.
  void check_all_pairs() {
    std::vector<std::pair<NodeId, SetId>> nodes;
    for (const auto& [set, members] : ref_.sets()) {
      for (NodeId m : members)
        nodes.emplace_back(m, set);
    }
    const std::size_t n = nodes.size();
    auto check_pair = [&](std::size_t i, std::size_t j) {
      const auto& [a, sa] = nodes[i];
      const auto& [b, sb] = nodes[j];
      ++result_.stats.pairs_checked;
      auto ka = devices_.at(a).dek(b, sb);
      auto kb = devices_.at(b).dek(a, sa);
      const Key128* design =
          sa == sb ? ref_.pairwise_node_key(a, b) : ref_.pairwise_set_key(sa, sb);
      if (!ka || !kb || design == nullptr || !(*ka == *kb) || !(*ka == *design)) {
        fail("agreement", fmt::format("nodes {} and {} do not derive the same, designed DEK",
                                      a.value(), b.value()));
        return false;
      }
      return true;
    };
    constexpr std::size_t kAllPairsMax = 2500;
    if (n <= kAllPairsMax) {
      for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t j = i + 1; j < n; ++j) {
          if (!check_pair(i, j)) return;
        }
      }
    } else {
      for (std::size_t t = 0; t < 1'000'000; ++t) {
        const std::size_t i = choice_rng_.uniform(n);
        const std::size_t j = choice_rng_.uniform(n);
        if (i != j && !check_pair(i, j)) return;
      }
    }
  }

  void finish_stats() {
    auto& s = result_.stats;
    s.final_devices = km_.table().member_count();
    s.final_sets = km_.table().set_count();
    s.min_keys_per_device = SIZE_MAX;
    for (const auto& [node, ring] : devices_) {
      s.min_keys_per_device = std::min(s.min_keys_per_device, ring.key_count());
      s.max_keys_per_device = std::max(s.max_keys_per_device, ring.key_count());
    }
    if (devices_.empty()) s.min_keys_per_device = 0;
  }

  KeySimConfig cfg_;
  crypto::DeterministicRng choice_rng_;
  crypto::DeterministicRng key_rng_;
  keys::KeyManager km_;
  KeyReference ref_;
  std::map<NodeId, Keyring> devices_;
  std::vector<NodeId> order_;  // current members, for uniform picks
  std::unordered_map<NodeId, std::size_t> index_;
  std::vector<std::uint32_t> next_node_;
  std::unordered_set<KeyFingerprint, KeyFingerprintHash> seen_;
  std::unordered_map<KeyFingerprint, NodeId, KeyFingerprintHash> departed_known_;
  std::deque<Watcher> watchers_;
  std::size_t op_index_ = 0;
  KeySimResult result_;
};

}  // namespace

KeySimResult run_key_sim(const KeySimConfig& config,
                         const std::function<void(const std::string&)>& progress) {
  KeySim sim(config);
  return sim.run(progress);
}

}  // namespace kmchain::sim
