#include "sim/system_checker.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "base/check.h"
#include "ledger/contract.h"
#include "sim/sim_consortium.h"
#include "sim/system_cluster.h"

namespace kmchain::sim {

namespace {

std::uint64_t prefix_of(ByteView bytes) {
  std::uint64_t v = 0;
  std::memcpy(&v, bytes.data(), sizeof v);
  return v;
}

std::string key_name(const keys::KeyId& id) {
  switch (id.key_class) {
    case keys::KeyClass::kNodeKey:
      return fmt::format("NK({})", id.a);
    case keys::KeyClass::kSetKey:
      return fmt::format("SK({})", id.a);
    case keys::KeyClass::kPairwiseNodeKey:
      return fmt::format("PNK({},{})", id.a, id.b);
    case keys::KeyClass::kPairwiseSetKey:
      return fmt::format("PSK({},{})", id.a, id.b);
  }
  return "?";
}

}  // namespace

SystemChecker::SystemChecker(const ledger::Genesis& genesis,
                             std::map<GatewayId, keys::KeySource*> sources)
    : consensus_(genesis, ChainRules{kSimBlockTransactionsMax, kSimTimestampSlackMs}),
      source_(std::move(sources)),
      state_(genesis),
      keys_(genesis.validators.size(), source_, nonce_rng_),
      foreign_(genesis.validators.size()) {}

void SystemChecker::violation(std::string invariant, std::string detail, std::uint64_t at_ms) {
  violations_.push_back(Violation{std::move(invariant), std::move(detail), at_ms});
}

std::optional<Position> SystemChecker::removed_at(NodeId node) const {
  auto it = removals_.find(node);
  return it == removals_.end() ? std::nullopt : std::optional(it->second);
}

void SystemChecker::on_device_record(NodeId node, const crypto::Key128& node_key,
                                     std::uint64_t now_ms) {
  auto [it, inserted] = node_keys_.try_emplace(node, node_key);
  if (inserted || it->second == node_key) return;
  if (state_.node_id_used(node)) {
    violation("custody",
              fmt::format("the node key of node {} changed after its join was final", node.value()),
              now_ms);
    return;
  }
  it->second = node_key;
}

void SystemChecker::on_signed(std::size_t gateway, const consensus::Message& m,
                              std::uint64_t now_ms) {
  if (auto v = consensus_.on_signed(gateway, m, now_ms)) violations_.push_back(*v);
}

void SystemChecker::on_commit(std::size_t gateway, Height at, const consensus::StoredBlock& stored,
                              std::uint64_t now_ms) {
  if (auto v = consensus_.on_commit(gateway, at, stored, now_ms)) {
    violations_.push_back(*v);
    reference_broken_ = true;
  }
  while (!reference_broken_ && applied_height_ < consensus_.height()) {
    ++applied_height_;
    apply_reference(consensus_.block(Height{applied_height_}));
  }
}

// The reference model: the first block final at each height, through a composition of every
// gateway's key store. Its keys are the design's: what every view must hold and every keyring
// must reach.
void SystemChecker::apply_reference(const consensus::StoredBlock& stored) {
  ++stats_.reference_blocks;
  for (const ledger::SignedTransaction& stx : stored.block.transactions) {
    const ledger::Transaction& tx = stx.transaction;
    if (!ledger::check(state_, stx)) {  // the consensus checker has reported it
      reference_broken_ = true;
      return;
    }
    const std::vector<keys::Step> steps = ledger::apply(state_, stx);
    if (steps.empty()) continue;  // an eviction asked for, not yet in effect: no key changes
    std::optional<crypto::Key128> node_key;
    if (tx.op == ledger::Operation::kJoin) {
      ++stats_.joins;
      // A join whose home never stored a node key: its device can never hold the keys (the
      // keyring check will say so); the reference still needs one to go on.
      auto known = node_keys_.find(tx.node);
      node_key = known != node_keys_.end() ? known->second : crypto::Key128{};
    } else {
      ++stats_.removals;
      removals_[tx.node] = steps.back().position;
    }
    auto plan = keys_.apply_steps(steps, node_key, tx.refresh_key);
    KMCHAIN_CHECK(plan.ok());
  }
  if (!stored.block.transactions.empty()) refresh_custody_values();
}

void SystemChecker::refresh_custody_values() {
  const std::size_t p = foreign_.size();
  std::vector<std::vector<keys::KeyId>> held(p);
  for (std::size_t h = 0; h < p; ++h) {
    held[h] =
        keys_.gateway(GatewayId{static_cast<std::uint16_t>(h)}).custody().held_at(keys_.position());
  }
  for (std::size_t g = 0; g < p; ++g) {
    foreign_[g].clear();
    const std::set<keys::KeyId> own(held[g].begin(), held[g].end());
    for (std::size_t h = 0; h < p; ++h) {
      if (h == g) continue;
      for (const keys::KeyId& id : held[h]) {
        if (own.contains(id)) continue;
        auto value = keys_.current_key(id);
        if (value && *value == crypto::Key128{}) continue;  // a placeholder, not a secret
        if (value) foreign_[g].emplace(prefix_of(value->view()), std::make_pair(*value, id));
      }
    }
  }
}

void SystemChecker::on_sent(std::size_t gateway, ByteView bytes, std::uint64_t now_ms) {
  ++stats_.messages_scanned;
  const auto& foreign = foreign_.at(gateway);
  if (foreign.empty() || bytes.size() < 16) return;
  for (std::size_t i = 0; i + 16 <= bytes.size(); ++i) {
    auto [first, last] = foreign.equal_range(prefix_of(bytes.subspan(i, 8)));
    for (auto it = first; it != last; ++it) {
      const ByteView window = bytes.subspan(i, 16);
      if (std::equal(window.begin(), window.end(), it->second.first.view().begin())) {
        violation("custody",
                  fmt::format("gateway {} sent {}, a key of another gateway's custody, in a "
                              "message of {} bytes",
                              gateway, key_name(it->second.second), bytes.size()),
                  now_ms);
        return;
      }
    }
  }
}

void SystemChecker::final_checks(const SystemCluster& cluster, std::uint64_t now_ms) {
  if (reference_broken_) return;  // the consensus checks have said what broke
  check_joins(cluster, now_ms);
  check_members(cluster, now_ms);
  check_keyrings(cluster, now_ms);
  check_records(cluster, now_ms);
  check_custody(cluster, now_ms);
}

void SystemChecker::check_joins(const SystemCluster& cluster, std::uint64_t now_ms) {
  for (const auto& [d, nodes] : accepted_) {
    if (cluster.byzantine(cluster.device(d).home)) continue;
    for (NodeId node : nodes) {
      if (state_.node_id_used(node) || failed_[d].contains(node)) continue;
      violation("acknowledged-join",
                fmt::format("device {} was accepted as node {} at gateway {}, which is neither "
                            "final nor reported failed",
                            d, node.value(), cluster.device(d).home),
                now_ms);
    }
  }
}

void SystemChecker::check_members(const SystemCluster& cluster, std::uint64_t now_ms) {
  std::set<NodeId> held;
  for (std::size_t d = 0; d < cluster.device_count(); ++d) {
    const SystemCluster::Device& dev = cluster.device(d);
    if (dev.agent && dev.agent->node()) held.insert(*dev.agent->node());
  }
  for (const auto& [node, member] : state_.table().members()) {
    const std::size_t home = ledger::origin_of(node).value();
    if (!submitted_joins_.contains(node)) {
      // A Byzantine gateway may admit made-up nodes into its own range (it is their home);
      // into a correct gateway's range, no one may (docs/protocol.md section 3.3).
      ++stats_.foreign_members;
      if (home < cluster.gateway_count() && !cluster.byzantine(home)) {
        violation("foreign-member",
                  fmt::format("node {} is a member in correct gateway {}'s range, and that "
                              "gateway never submitted its join",
                              node.value(), home),
                  now_ms);
      }
      continue;
    }
    if (held.contains(node) || home >= cluster.gateway_count() || cluster.byzantine(home)) continue;
    violation("orphan-member",
              fmt::format("node {} (gateway {}) is a member of the ledger, and no device is it",
                          node.value(), home),
              now_ms);
  }
}

void SystemChecker::check_keyrings(const SystemCluster& cluster, std::uint64_t now_ms) {
  const keys::SetTable& table = state_.table();
  for (std::size_t d = 0; d < cluster.device_count(); ++d) {
    const SystemCluster::Device& dev = cluster.device(d);
    if (!dev.started || cluster.byzantine(dev.home)) continue;
    const auto fail = [&](const std::string& what) {
      std::string errors;
      for (const auto& [why, n] : dev.agent->stats().rekey_errors)
        errors += fmt::format(" {}={}", why, n);
      violation("keyring",
                fmt::format("device {} (gateway {}): {} (rekey errors:{})", d, dev.home, what,
                            errors.empty() ? " none" : errors),
                now_ms);
    };
    const auto node = dev.agent->node();
    const keys::MemberRecord* member = node ? table.find_member(*node) : nullptr;
    if (member != nullptr && dev.agent->leave_acknowledged()) {
      violation("acknowledged-leave",
                fmt::format("device {} (gateway {}): its leave was acknowledged, yet node {} is "
                            "still a member at the end of the run",
                            d, dev.home, node->value()),
                now_ms);
      continue;
    }
    if (member == nullptr) {
      // Every device that did not leave and was not evicted ends a member.
      if (!dev.leaving && !(node && removals_.contains(*node))) {
        violation("device-liveness",
                  fmt::format("device {} (gateway {}) is {} at the end of the run", d, dev.home,
                              node ? fmt::format("node {}, not a member,", node->value())
                                   : std::string("no node")),
                  now_ms);
      }
      continue;
    }
    ++stats_.keyrings_compared;
    const keys::Keyring* ring = dev.agent->keyring();
    if (ring == nullptr || !ring->placed()) {
      fail(fmt::format("node {} holds no keys", node->value()));
      continue;
    }
    if (ring->position() != state_.position()) {
      fail(fmt::format("node {} is at position {}, the ledger at {}", node->value(),
                       ring->position().value(), state_.position().value()));
      continue;
    }
    if (*ring->set() != member->set) {
      fail(fmt::format("node {} holds the keys of set {}, is in set {}", node->value(),
                       ring->set()->value(), member->set.value()));
      continue;
    }
    const auto expect = [&](const keys::KeyId& id, const crypto::Key128* held) {
      ++stats_.keys_compared;
      const auto want = keys_.current_key(id);
      if (!want || held == nullptr || !(*want == *held)) {
        fail(fmt::format("node {}: {} {}", node->value(), key_name(id),
                         held == nullptr ? "missing" : "differs from the reference"));
        return false;
      }
      return true;
    };
    if (!expect(keys::KeyId::set_key(member->set), ring->set_key())) continue;
    const auto& peers = table.find_set(member->set)->members;
    if (ring->pairwise_node_keys().size() + 1 != peers.size()) {
      fail(fmt::format("node {} holds {} pairwise node keys in a set of {}", node->value(),
                       ring->pairwise_node_keys().size(), peers.size()));
      continue;
    }
    bool ok = true;
    for (const auto& [peer, key] : ring->pairwise_node_keys())
      ok = ok && expect(keys::KeyId::pairwise_node_key(*node, peer), &key);
    if (!ok) continue;
    if (ring->pairwise_set_keys().size() + 1 != table.set_count()) {
      fail(fmt::format("node {} holds {} pairwise set keys with {} sets", node->value(),
                       ring->pairwise_set_keys().size(), table.set_count()));
      continue;
    }
    for (const auto& [set, key] : ring->pairwise_set_keys())
      ok = ok && expect(keys::KeyId::pairwise_set_key(member->set, set), &key);
  }
}

void SystemChecker::check_records(const SystemCluster& cluster, std::uint64_t now_ms) {
  // Which device each node id was.
  std::map<NodeId, std::size_t> device_of;
  for (const auto& [d, nodes] : accepted_)
    for (NodeId n : nodes)
      device_of[n] = d;
  for (const RecordSent& r : cluster.records()) {
    ++stats_.records_checked;
    if (r.probe && r.opened != true) {
      violation("d2d",
                fmt::format("a record from node {} (device {}) to node {} (device {}) did not "
                            "open: {}",
                            r.from_node.value(), r.from, r.to_node.value(), r.to,
                            r.opened ? r.refused : std::string("never arrived")),
                now_ms);
    }
    for (const auto& [node, position] : removals_) {
      if (r.sender_position < position) continue;  // sealed before the sender knew
      if (r.from_node == node) continue;           // its own record
      auto d = device_of.find(node);
      if (d == device_of.end()) continue;
      const SystemCluster::Device& spy = cluster.device(d->second);
      if (!spy.eavesdropper) continue;
      ++stats_.eavesdropper_trials;
      const bool opens =
          r.probe ? spy.eavesdropper->opens(r.wire, now_ms) : spy.eavesdropper->holds(r.key);
      if (opens) {
        violation("forward-secrecy",
                  fmt::format("departed node {} (device {}) opens a record from node {} to node "
                              "{} sealed at position {} (removed at {})",
                              node.value(), d->second, r.from_node.value(), r.to_node.value(),
                              r.sender_position.value(), position.value()),
                  now_ms);
      }
    }
  }
}

void SystemChecker::check_custody(const SystemCluster& cluster, std::uint64_t now_ms) {
  const keys::SetTable& table = state_.table();
  for (std::size_t g = 0; g < cluster.gateway_count(); ++g) {
    const SystemCluster::Gateway& gw = cluster.gateway(g);
    if (cluster.byzantine(g) || !gw.up) continue;
    const GatewayId self{static_cast<std::uint16_t>(g)};
    const keys::KeyManager& view = gw.node->keys().view();
    // Held against the reference at the same position: a gateway still catching up is the
    // liveness check's.
    if (view.position() != state_.position()) continue;
    const auto owns = [&](std::uint32_t set) {
      const keys::SetRecord* rec = table.find_set(SetId{set});
      return rec != nullptr && rec->owner == self;
    };
    for (const keys::KeyId& id : view.gateway(self).custody().held_at(view.position())) {
      bool in_custody = false;
      switch (id.key_class) {
        case keys::KeyClass::kNodeKey:
          in_custody = ledger::origin_of(NodeId{id.a}) == self;
          break;
        case keys::KeyClass::kSetKey:
          in_custody = owns(id.a);
          break;
        case keys::KeyClass::kPairwiseSetKey:
          in_custody = owns(id.a) || owns(id.b);
          break;
        case keys::KeyClass::kPairwiseNodeKey:
          in_custody = false;  // derived on demand, never held
          break;
      }
      if (!in_custody) {
        violation("custody", fmt::format("gateway {} holds {}", g, key_name(id)), now_ms);
        continue;
      }
      const auto held = view.current_key(id);
      const auto want = keys_.current_key(id);
      if (!held || !want || !(*held == *want)) {
        violation("custody",
                  fmt::format("gateway {} holds {} with another value than the reference", g,
                              key_name(id)),
                  now_ms);
      }
    }
  }
}

}  // namespace kmchain::sim
