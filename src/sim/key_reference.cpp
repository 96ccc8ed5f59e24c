#include "sim/key_reference.h"

#include <fmt/format.h>

#include <tuple>

#include "keys/derivation.h"

namespace kmchain::sim {

using keys::Audience;
using keys::KeyId;
using keys::MessageKind;

namespace {
using MessageIndex =
    std::map<std::tuple<std::uint64_t, MessageKind, std::uint32_t>, const keys::Envelope*>;
}

std::optional<SetId> KeyReference::set_of(NodeId node) const {
  for (const auto& [set, members] : members_) {
    if (members.contains(node)) return set;
  }
  return std::nullopt;
}

const Key128* KeyReference::node_key(NodeId node) const {
  auto it = node_keys_.find(node);
  return it == node_keys_.end() ? nullptr : &it->second;
}

const Key128* KeyReference::set_key(SetId set) const {
  auto it = set_keys_.find(set);
  return it == set_keys_.end() ? nullptr : &it->second;
}

const Key128* KeyReference::pairwise_set_key(SetId x, SetId y) const {
  auto it = pairwise_set_keys_.find(pair_index(x.value(), y.value()));
  return it == pairwise_set_keys_.end() ? nullptr : &it->second;
}

const Key128* KeyReference::pairwise_node_key(NodeId x, NodeId y) const {
  auto it = pairwise_node_keys_.find(pair_index(x.value(), y.value()));
  return it == pairwise_node_keys_.end() ? nullptr : &it->second;
}

void KeyReference::for_each_current_key(
    const std::function<void(const KeyId&, const Key128&)>& f) const {
  for (const auto& [node, key] : node_keys_)
    f(KeyId::node_key(node), key);
  for (const auto& [set, key] : set_keys_)
    f(KeyId::set_key(set), key);
  for (const auto& [index, key] : pairwise_set_keys_) {
    f(KeyId{keys::KeyClass::kPairwiseSetKey, static_cast<std::uint32_t>(index >> 32),
            static_cast<std::uint32_t>(index)},
      key);
  }
  for (const auto& [index, key] : pairwise_node_keys_) {
    f(KeyId{keys::KeyClass::kPairwiseNodeKey, static_cast<std::uint32_t>(index >> 32),
            static_cast<std::uint32_t>(index)},
      key);
  }
}

std::optional<keys::Body> KeyReference::open(const keys::RekeyPlan& plan, MessageKind kind,
                                             Audience audience, std::uint32_t target,
                                             Position position) const {
  for (const auto& e : plan.messages) {
    const keys::Header& h = e.header;
    if (h.kind != kind || h.audience != audience || h.target != target || h.position != position) {
      continue;
    }
    const Key128* kek =
        audience == Audience::kDevice ? node_key(NodeId{target}) : set_key(SetId{target});
    if (kek == nullptr) return std::nullopt;
    auto header = keys::parse_header(e.wire);
    if (!header) return std::nullopt;
    auto body = keys::open_body(*header, e.wire, *kek);
    if (!body) return std::nullopt;
    return std::move(*body);
  }
  return std::nullopt;
}

void KeyReference::refresh_set(SetId set, const Key128& refresh_key, Position position) {
  Key128& sk = set_keys_.at(set);
  sk = keys::refresh(sk, refresh_key, KeyId::set_key(set), position);
  for (const auto& [other, members] : members_) {
    if (other == set) continue;
    Key128& k = pairwise_set_keys_.at(pair_index(set.value(), other.value()));
    k = keys::refresh(k, refresh_key, KeyId::pairwise_set_key(set, other), position);
  }
}

void KeyReference::forget_set(SetId set) {
  for (const auto& [other, members] : members_) {
    if (other != set) pairwise_set_keys_.erase(pair_index(set.value(), other.value()));
  }
  set_keys_.erase(set);
  members_.erase(set);
}

std::optional<std::string> KeyReference::apply(const keys::RekeyPlan& plan) {
  for (std::size_t i = 0; i < plan.steps.size(); ++i) {
    const keys::Step& step = plan.steps[i];
    std::optional<std::string> error;
    switch (step.kind) {
      case keys::StepKind::kPlace:
        error = place(step, plan.refresh_keys[i], plan);
        break;
      case keys::StepKind::kRemove:
        error = remove(step, plan.refresh_keys[i]);
        break;
      case keys::StepKind::kDissolve: {
        auto it = members_.find(step.set);
        if (it == members_.end())
          return fmt::format("dissolve of unknown set {}", step.set.value());
        const std::vector<NodeId> moving(it->second.begin(), it->second.end());
        for (NodeId a : moving) {
          for (NodeId b : moving) {
            if (a < b) pairwise_node_keys_.erase(pair_index(a.value(), b.value()));
          }
        }
        forget_set(step.set);
        break;
      }
    }
    if (error) return error;
  }
  return std::nullopt;
}

std::optional<std::string> KeyReference::place(const keys::Step& step, const Key128& refresh_key,
                                               const keys::RekeyPlan& plan) {
  const SetId set = step.set;
  const NodeId node = step.node;
  const Position pos = step.position;
  if (node_key(node) == nullptr) return fmt::format("placed node {} has no node key", node.value());

  if (step.opens_set) {
    if (members_.contains(set)) return fmt::format("set {} opened twice", set.value());
  } else {
    if (!members_.contains(set)) return fmt::format("place into unknown set {}", set.value());
    refresh_set(set, refresh_key, pos);
  }

  auto body = open(plan, MessageKind::kKeyBundle, Audience::kDevice, node.value(), pos);
  if (!body)
    return fmt::format("no readable key bundle for node {} at {}", node.value(), pos.value());
  const auto& bundle = std::get<keys::KeyBundleBody>(*body);
  if (bundle.set != set) return fmt::format("bundle for node {} names the wrong set", node.value());

  if (step.opens_set) {
    set_keys_.insert_or_assign(set, bundle.set_key);
    if (!bundle.pairwise_node_keys.empty()) return std::string("new set bundle has node keys");
    if (bundle.pairwise_set_keys.size() != members_.size()) {
      return fmt::format("new set {} bundle has {} set keys, expected {}", set.value(),
                         bundle.pairwise_set_keys.size(), members_.size());
    }
    for (const auto& [other, key] : bundle.pairwise_set_keys) {
      if (!members_.contains(other))
        return fmt::format("bundle names unknown set {}", other.value());
      auto added = open(plan, MessageKind::kSetAdded, Audience::kSet, other.value(), pos);
      if (!added) return fmt::format("set {} got no readable set-added message", other.value());
      const auto& a = std::get<keys::SetAddedBody>(*added);
      if (a.set != set || !(a.pairwise_set_key == key)) {
        return fmt::format("set {} and new set {} were given different keys", other.value(),
                           set.value());
      }
      pairwise_set_keys_.insert_or_assign(pair_index(set.value(), other.value()), key);
    }
    members_[set].insert(node);
    return std::nullopt;
  }

  // An existing set: the bundle must carry exactly the refreshed keys.
  if (!(bundle.set_key == set_keys_.at(set))) {
    return fmt::format("node {} received a set key that is not the refreshed one", node.value());
  }
  if (bundle.pairwise_set_keys.size() + 1 != members_.size()) {
    return fmt::format("node {} received {} pairwise set keys, expected {}", node.value(),
                       bundle.pairwise_set_keys.size(), members_.size() - 1);
  }
  for (const auto& [other, key] : bundle.pairwise_set_keys) {
    const Key128* expected = pairwise_set_key(set, other);
    if (expected == nullptr || !(*expected == key)) {
      return fmt::format("node {} received a stale pairwise set key for {}", node.value(),
                         other.value());
    }
  }
  const std::set<NodeId>& old_members = members_.at(set);
  if (bundle.pairwise_node_keys.size() != old_members.size()) {
    return fmt::format("node {} received {} pairwise node keys, set has {} other members",
                       node.value(), bundle.pairwise_node_keys.size(), old_members.size());
  }
  for (const auto& [peer, key] : bundle.pairwise_node_keys) {
    if (!old_members.contains(peer)) {
      return fmt::format("node {} received a key with non-member {}", node.value(), peer.value());
    }
    auto delivered =
        open(plan, MessageKind::kPairwiseNodeKey, Audience::kDevice, peer.value(), pos);
    if (!delivered) return fmt::format("member {} got no readable pairwise key", peer.value());
    const auto& d = std::get<keys::PairwiseNodeKeyBody>(*delivered);
    if (d.peer != node || !(d.key == key)) {
      return fmt::format("nodes {} and {} were given different pairwise keys", node.value(),
                         peer.value());
    }
    pairwise_node_keys_.insert_or_assign(pair_index(node.value(), peer.value()), key);
  }
  members_[set].insert(node);
  return std::nullopt;
}

std::optional<std::string> KeyReference::remove(const keys::Step& step, const Key128& refresh_key) {
  auto it = members_.find(step.set);
  if (it == members_.end() || !it->second.contains(step.node)) {
    return fmt::format("remove of node {} not in set {}", step.node.value(), step.set.value());
  }
  it->second.erase(step.node);
  for (NodeId other : it->second) {
    pairwise_node_keys_.erase(pair_index(step.node.value(), other.value()));
  }
  if (step.cause != keys::Cause::kReorder) node_keys_.erase(step.node);
  if (step.closes_set) {
    if (!it->second.empty()) return fmt::format("set {} closed while not empty", step.set.value());
    forget_set(step.set);
  } else {
    refresh_set(step.set, refresh_key, step.position);
  }
  return std::nullopt;
}

std::optional<std::string> KeyReference::compare(const keys::KeyManager& km) const {
  const auto& table = km.table();
  if (table.set_count() != members_.size()) {
    return fmt::format("table has {} sets, the design {}", table.set_count(), members_.size());
  }
  std::vector<std::size_t> owned(km.gateway_count(), 0);
  std::vector<std::size_t> homed(km.gateway_count(), 0);
  std::vector<std::size_t> pair_keys(km.gateway_count(), 0);
  for (const auto& [set, rec] : table.sets()) {
    auto it = members_.find(set);
    if (it == members_.end() || it->second.size() != rec.members.size() ||
        !std::equal(rec.members.begin(), rec.members.end(), it->second.begin())) {
      return fmt::format("membership of set {} differs from the design", set.value());
    }
    const auto& owner = km.gateway(rec.owner);
    ++owned[rec.owner.value()];
    homed[rec.owner.value()] += rec.members.size();
    const auto* os = owner.owned_set(set);
    if (os == nullptr || !(os->set_key == set_keys_.at(set))) {
      return fmt::format("gateway {} holds a wrong set key for set {}", rec.owner.value(),
                         set.value());
    }
    for (NodeId m : rec.members) {
      const Key128* nk = owner.node_key(m);
      if (nk == nullptr || !(*nk == node_keys_.at(m))) {
        return fmt::format("gateway {} holds a wrong node key for node {}", rec.owner.value(),
                           m.value());
      }
    }
    for (const auto& [other, other_rec] : table.sets()) {
      if (!(set < other)) continue;
      const Key128& expected = pairwise_set_keys_.at(pair_index(set.value(), other.value()));
      for (GatewayId holder : {rec.owner, other_rec.owner}) {
        const Key128* k = km.gateway(holder).pairwise_set_key(set, other);
        if (k == nullptr || !(*k == expected)) {
          return fmt::format("gateway {} holds a wrong pairwise set key for sets {} and {}",
                             holder.value(), set.value(), other.value());
        }
      }
      ++pair_keys[rec.owner.value()];
      if (other_rec.owner != rec.owner) ++pair_keys[other_rec.owner.value()];
    }
  }
  // Custody: a gateway holds the keys of its own sets, devices and pairs, and nothing more.
  for (std::size_t g = 0; g < km.gateway_count(); ++g) {
    const auto& gw = km.gateway(GatewayId{static_cast<std::uint16_t>(g)});
    if (gw.owned_set_count() != owned[g] || gw.node_key_count() != homed[g] ||
        gw.pairwise_set_key_count() != pair_keys[g]) {
      return fmt::format(
          "gateway {} holds keys it should not (sets {}/{}, node keys {}/{}, "
          "pairwise set keys {}/{})",
          g, gw.owned_set_count(), owned[g], gw.node_key_count(), homed[g],
          gw.pairwise_set_key_count(), pair_keys[g]);
    }
  }
  return std::nullopt;
}

}  // namespace kmchain::sim
