#include "keys/key_manager.h"

#include <algorithm>
#include <string_view>

#include "base/check.h"
#include "base/limits.h"
#include "keys/derivation.h"

namespace kmchain::keys {

const char* to_string(Fault f) {
  switch (f) {
    case Fault::kNone:
      return "none";
    case Fault::kLeaveRefreshUnderSetKey:
      return "leave-refresh-under-set-key";
    case Fault::kJoinBundleCarriesOldKeys:
      return "join-bundle-carries-old-keys";
    case Fault::kSkipPairwiseSetRefresh:
      return "skip-pairwise-set-refresh";
  }
  return "unknown";
}

std::optional<Fault> fault_from_string(std::string_view name) {
  for (Fault f : {Fault::kNone, Fault::kLeaveRefreshUnderSetKey, Fault::kJoinBundleCarriesOldKeys,
                  Fault::kSkipPairwiseSetRefresh}) {
    if (name == to_string(f)) return f;
  }
  return std::nullopt;
}

KeyManager::KeyManager(std::size_t gateways, crypto::Rng& rng) : rng_(rng) {
  KMCHAIN_CHECK(gateways >= 1 && gateways <= limits::kGatewaysMax);
  gateways_.reserve(gateways);
  for (std::size_t g = 0; g < gateways; ++g) {
    gateways_.emplace_back(GatewayId{static_cast<std::uint16_t>(g)});
  }
}

GatewayKeys& KeyManager::owner_of(SetId set) {
  const SetRecord* rec = table_.find_set(set);
  KMCHAIN_CHECK(rec != nullptr);
  return gateways_.at(rec->owner.value());
}

const GatewayKeys& KeyManager::owner_of(SetId set) const {
  const SetRecord* rec = table_.find_set(set);
  KMCHAIN_CHECK(rec != nullptr);
  return gateways_.at(rec->owner.value());
}

// In Layer 1 a device's home gateway is the owner of its set.
const GatewayKeys& KeyManager::home_of(NodeId node) const {
  const MemberRecord* m = table_.find_member(node);
  KMCHAIN_CHECK(m != nullptr);
  return owner_of(m->set);
}

Result<RekeyPlan, TableError> KeyManager::join(NodeId node, GatewayId origin,
                                               const Key128& node_key, const Key128& refresh_key) {
  if (origin.value() >= gateways_.size()) return Err{TableError::kGatewayOutOfRange};
  RekeyPlan plan;
  std::uint32_t index = 0;
  auto step = table_.join(node, origin, next(position_), [&](const Step& s) {
    execute(s, step_refresh_key(refresh_key, index++), &node_key, plan);
  });
  if (!step) return Err{step.error()};
  position_ = step->position;
  return plan;
}

Result<RekeyPlan, TableError> KeyManager::remove(NodeId node, Cause cause,
                                                 const Key128& refresh_key) {
  KMCHAIN_CHECK(cause == Cause::kLeave || cause == Cause::kEvict);
  RekeyPlan plan;
  std::uint32_t index = 0;
  auto steps = table_.remove(node, cause, next(position_), [&](const Step& s) {
    execute(s, step_refresh_key(refresh_key, index++), nullptr, plan);
  });
  if (!steps) return Err{steps.error()};
  position_ = steps->back().position;
  return plan;
}

void KeyManager::execute(const Step& step, const Key128& refresh_key, const Key128* join_node_key,
                         RekeyPlan& plan) {
  plan.steps.push_back(step);
  plan.refresh_keys.push_back(refresh_key);
  switch (step.kind) {
    case StepKind::kPlace:
      if (step.cause == Cause::kJoin) {
        KMCHAIN_CHECK(join_node_key != nullptr);
        gateways_.at(step.owner.value()).put_node_key(step.node, *join_node_key);
      }
      place(step, refresh_key, plan);
      break;
    case StepKind::kRemove:
      remove_step(step, refresh_key, plan);
      if (step.cause != Cause::kReorder) {
        gateways_.at(step.owner.value()).erase_node_key(step.node);
      }
      break;
    case StepKind::kDissolve:
      forget_set(step, plan);
      break;
  }
}

void KeyManager::send(GatewayId sender, Audience audience, std::uint32_t target, Position position,
                      Body body, const Key128& kek, std::vector<NodeId> recipients,
                      RekeyPlan& plan) {
  if (recipients.empty()) return;
  Header header{kind_of(body), audience, target, position, {}};
  rng_.fill(header.nonce);  // random 104-bit nonces: no state to lose in a crash
  Bytes wire = seal_message(header, body, kek);
  plan.messages.push_back(Envelope{sender, header, std::move(recipients), std::move(wire)});
}

void KeyManager::refresh_pairwise_set_key(SetId x, SetId y, const Key128& refresh_key,
                                          Position position) {
  GatewayKeys& gx = owner_of(x);
  GatewayKeys& gy = owner_of(y);
  Key128* kx = gx.pairwise_set_key(x, y);
  Key128* ky = gy.pairwise_set_key(x, y);
  KMCHAIN_CHECK(kx != nullptr && ky != nullptr);
  const Key128 next_key = refresh(*kx, refresh_key, KeyId::pairwise_set_key(x, y), position);
  *kx = next_key;
  *ky = next_key;  // same store when one gateway owns both sets
}

void KeyManager::place(const Step& step, const Key128& refresh_key, RekeyPlan& plan) {
  const SetId set = step.set;
  const Position pos = step.position;
  GatewayKeys& owner = gateways_.at(step.owner.value());
  std::vector<NodeId> old_members = table_.find_set(set)->members;
  old_members.erase(std::find(old_members.begin(), old_members.end(), step.node));

  if (step.opens_set) {
    open_set_keys(set, owner, &step.node, &plan);
  } else {
    GatewayKeys::OwnedSet& owned = *owner.owned_set(set);
    const Key128 old_set_key = owned.set_key;
    // Backward secrecy: R travels under the old set key, which the newcomer never holds.
    send(owner.id(), Audience::kSet, set.value(), pos,
         RefreshBody{StepKind::kPlace, step.cause, step.node, set, refresh_key}, old_set_key,
         old_members, plan);
    if (fault_ != Fault::kJoinBundleCarriesOldKeys) {
      owned.set_key = refresh(old_set_key, refresh_key, KeyId::set_key(set), pos);
    }
    for (const auto& [other, rec] : table_.sets()) {
      if (other == set) continue;
      if (fault_ != Fault::kJoinBundleCarriesOldKeys) {
        refresh_pairwise_set_key(set, other, refresh_key, pos);
      }
      const GatewayKeys& other_owner = gateways_.at(rec.owner.value());
      send(other_owner.id(), Audience::kSet, other.value(), pos,
           RefreshBody{StepKind::kPlace, step.cause, step.node, set, refresh_key},
           other_owner.owned_set(other)->set_key, rec.members, plan);
    }
  }

  const GatewayKeys::OwnedSet& owned = *owner.owned_set(set);
  KeyBundleBody bundle{set, owned.set_key, {}, {}};
  bundle.pairwise_node_keys.reserve(old_members.size());
  for (NodeId member : old_members) {
    const Key128 key = pairwise_node_key(owned.pairwise_seed, set, step.node, member, pos);
    bundle.pairwise_node_keys.emplace_back(member, key);
    send(owner.id(), Audience::kDevice, member.value(), pos, PairwiseNodeKeyBody{step.node, key},
         *home_of(member).node_key(member), {member}, plan);
  }
  for (const auto& [other, rec] : table_.sets()) {
    if (other != set)
      bundle.pairwise_set_keys.emplace_back(other, *owner.pairwise_set_key(set, other));
  }
  const Key128* node_key = owner.node_key(step.node);
  KMCHAIN_CHECK(node_key != nullptr);
  send(owner.id(), Audience::kDevice, step.node.value(), pos, std::move(bundle), *node_key,
       {step.node}, plan);
  if (fault_ == Fault::kJoinBundleCarriesOldKeys && !step.opens_set) {
    // The faulty manager refreshes only after the joiner got the old keys.
    GatewayKeys::OwnedSet& mutable_owned = *owner.owned_set(set);
    mutable_owned.set_key = refresh(mutable_owned.set_key, refresh_key, KeyId::set_key(set), pos);
    for (const auto& [other, rec] : table_.sets()) {
      if (other != set) refresh_pairwise_set_key(set, other, refresh_key, pos);
    }
  }
}

// A new set's keys: its owner draws the set key, the pairwise seed and a pairwise set key
// with every other set, handing each of those to the other set's owner, which alone forwards
// it to its members (when a plan is given).
void KeyManager::open_set_keys(SetId set, GatewayKeys& owner, const NodeId* joiner,
                               RekeyPlan* plan) {
  owner.open_set(set, rng_.key128(), rng_.secret<32>());
  for (const auto& [other, rec] : table_.sets()) {
    if (other == set) continue;
    const Key128 key = rng_.key128();
    owner.put_pairwise_set_key(set, other, key);
    GatewayKeys& other_owner = gateways_.at(rec.owner.value());
    other_owner.put_pairwise_set_key(set, other, key);
    if (plan != nullptr) {
      send(other_owner.id(), Audience::kSet, other.value(), plan->steps.back().position,
           SetAddedBody{set, *joiner, key}, other_owner.owned_set(other)->set_key, rec.members,
           *plan);
    }
  }
}

Status<TableError> KeyManager::provision(GatewayId origin,
                                         const std::vector<std::pair<NodeId, Key128>>& nodes) {
  if (origin.value() >= gateways_.size()) return Err{TableError::kGatewayOutOfRange};
  if (table_.member_count() != 0) return Err{TableError::kNotEmpty};
  GatewayKeys& owner = gateways_.at(origin.value());
  for (const auto& [node, node_key] : nodes) {
    auto step = table_.join(node, origin, next(position_), [&](const Step& s) {
      owner.put_node_key(s.node, node_key);
      if (s.opens_set) open_set_keys(s.set, owner, nullptr, nullptr);
    });
    if (!step) return Err{step.error()};
    position_ = step->position;
  }
  return {};
}

Result<Envelope, TableError> KeyManager::bundle_for(NodeId node) {
  const MemberRecord* member = table_.find_member(node);
  if (member == nullptr) return Err{TableError::kNodeUnknown};
  const SetId set = member->set;
  GatewayKeys& owner = owner_of(set);
  const GatewayKeys::OwnedSet& owned = *owner.owned_set(set);
  KeyBundleBody bundle{set, owned.set_key, {}, {}};
  for (NodeId peer : table_.find_set(set)->members) {
    if (peer == node) continue;
    const Position placed = std::max(member->placed_at, table_.find_member(peer)->placed_at);
    bundle.pairwise_node_keys.emplace_back(
        peer, pairwise_node_key(owned.pairwise_seed, set, node, peer, placed));
  }
  for (const auto& [other, rec] : table_.sets()) {
    if (other != set) {
      bundle.pairwise_set_keys.emplace_back(other, *owner.pairwise_set_key(set, other));
    }
  }
  RekeyPlan scratch;
  send(owner.id(), Audience::kDevice, node.value(), position_, std::move(bundle),
       *owner.node_key(node), {node}, scratch);
  return std::move(scratch.messages.front());
}

void KeyManager::remove_step(const Step& step, const Key128& refresh_key, RekeyPlan& plan) {
  if (step.closes_set) {
    forget_set(step, plan);
    return;
  }
  const SetId set = step.set;
  const Position pos = step.position;
  GatewayKeys& owner = gateways_.at(step.owner.value());
  GatewayKeys::OwnedSet& owned = *owner.owned_set(set);
  const Key128 old_set_key = owned.set_key;
  owned.set_key = refresh(old_set_key, refresh_key, KeyId::set_key(set), pos);
  const RefreshBody body{StepKind::kRemove, step.cause, step.node, set, refresh_key};
  const std::vector<NodeId>& remaining = table_.find_set(set)->members;
  if (fault_ == Fault::kLeaveRefreshUnderSetKey) {
    send(owner.id(), Audience::kSet, set.value(), pos, body, old_set_key, remaining, plan);
  } else {
    // Forward secrecy: R goes to each remaining member under its own node key.
    for (NodeId member : remaining) {
      send(owner.id(), Audience::kDevice, member.value(), pos, body,
           *home_of(member).node_key(member), {member}, plan);
    }
  }
  for (const auto& [other, rec] : table_.sets()) {
    if (other == set) continue;
    if (fault_ != Fault::kSkipPairwiseSetRefresh) {
      refresh_pairwise_set_key(set, other, refresh_key, pos);
    }
    const GatewayKeys& other_owner = gateways_.at(rec.owner.value());
    send(other_owner.id(), Audience::kSet, other.value(), pos, body,
         other_owner.owned_set(other)->set_key, rec.members, plan);
  }
}

// The set is gone from the table (last member left, or dissolved): its owner drops its keys
// and every other set drops its pairwise set key with it.
void KeyManager::forget_set(const Step& step, RekeyPlan& plan) {
  GatewayKeys& owner = gateways_.at(step.owner.value());
  owner.close_set(step.set);
  const SetRemovedBody body{step.set, step.cause,
                            step.kind == StepKind::kRemove ? step.node : NodeId{}};
  for (const auto& [other, rec] : table_.sets()) {
    GatewayKeys& other_owner = gateways_.at(rec.owner.value());
    owner.erase_pairwise_set_key(step.set, other);
    other_owner.erase_pairwise_set_key(step.set, other);
    send(other_owner.id(), Audience::kSet, other.value(), step.position, body,
         other_owner.owned_set(other)->set_key, rec.members, plan);
  }
}

std::optional<Key128> KeyManager::current_key(const KeyId& id) const {
  switch (id.key_class) {
    case KeyClass::kNodeKey: {
      const NodeId node{id.a};
      if (table_.find_member(node) == nullptr) return std::nullopt;
      const Key128* key = home_of(node).node_key(node);
      return key ? std::optional<Key128>(*key) : std::nullopt;
    }
    case KeyClass::kSetKey: {
      const SetId set{id.a};
      if (table_.find_set(set) == nullptr) return std::nullopt;
      const auto* owned = owner_of(set).owned_set(set);
      return owned ? std::optional<Key128>(owned->set_key) : std::nullopt;
    }
    case KeyClass::kPairwiseNodeKey: {
      const MemberRecord* x = table_.find_member(NodeId{id.a});
      const MemberRecord* y = table_.find_member(NodeId{id.b});
      if (x == nullptr || y == nullptr || x->set != y->set || id.a == id.b) return std::nullopt;
      const auto* owned = owner_of(x->set).owned_set(x->set);
      return pairwise_node_key(owned->pairwise_seed, x->set, NodeId{id.a}, NodeId{id.b},
                               std::max(x->placed_at, y->placed_at));
    }
    case KeyClass::kPairwiseSetKey: {
      const SetId x{id.a};
      const SetId y{id.b};
      if (table_.find_set(x) == nullptr || table_.find_set(y) == nullptr || x == y) {
        return std::nullopt;
      }
      const Key128* key = owner_of(x).pairwise_set_key(x, y);
      return key ? std::optional<Key128>(*key) : std::nullopt;
    }
  }
  return std::nullopt;
}

}  // namespace kmchain::keys
