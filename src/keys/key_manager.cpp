#include "keys/key_manager.h"

#include <algorithm>
#include <string_view>
#include <utility>

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

KeyManager::KeyManager(std::size_t gateways, crypto::Rng& rng)
    : KeyManager(gateways, std::nullopt, nullptr, rng) {}

KeyManager::KeyManager(std::size_t gateways, KeySource& source, crypto::Rng& nonce_rng)
    : KeyManager(gateways, std::nullopt, &source, nonce_rng) {}

KeyManager KeyManager::custody_view(std::size_t gateways, GatewayId self, KeySource& source,
                                    crypto::Rng& nonce_rng) {
  return KeyManager(gateways, self, &source, nonce_rng);
}

KeyManager::KeyManager(std::size_t gateways, std::optional<GatewayId> self, KeySource* source,
                       crypto::Rng& rng)
    : rng_(rng), source_(source), gateway_count_(gateways), self_(self) {
  KMCHAIN_CHECK(gateways >= 1 && gateways <= limits::kGatewaysMax);
  if (source_ == nullptr) own_source_.emplace(rng_);
  if (self_) {
    KMCHAIN_CHECK(self_->value() < gateways);
    stores_.emplace_back(*self_);
    return;
  }
  stores_.reserve(gateways);
  for (std::size_t g = 0; g < gateways; ++g) {
    stores_.emplace_back(GatewayId{static_cast<std::uint16_t>(g)});
  }
}

bool KeyManager::holds(GatewayId id) const {
  return held(id) != nullptr;
}

const GatewayKeys& KeyManager::gateway(GatewayId id) const {
  const GatewayKeys* store = held(id);
  KMCHAIN_CHECK(store != nullptr);
  return *store;
}

// Custody: the one place that decides whether a store is here. Every key operation goes
// through it, so a view cannot touch another gateway's keys.
GatewayKeys* KeyManager::held(GatewayId id) {
  if (id.value() >= gateway_count_) return nullptr;
  if (self_) return id == *self_ ? &stores_.front() : nullptr;
  return &stores_.at(id.value());
}

const GatewayKeys* KeyManager::held(GatewayId id) const {
  if (id.value() >= gateway_count_) return nullptr;
  if (self_) return id == *self_ ? &stores_.front() : nullptr;
  return &stores_.at(id.value());
}

GatewayId KeyManager::owner_of(SetId set) const {
  const SetRecord* rec = table_.find_set(set);
  KMCHAIN_CHECK(rec != nullptr);
  return rec->owner;
}

Result<RekeyPlan, TableError> KeyManager::join(NodeId node, GatewayId origin,
                                               const std::optional<Key128>& node_key,
                                               const Key128& refresh_key) {
  if (origin.value() >= gateway_count_) return Err{TableError::kGatewayOutOfRange};
  // Assignment places the device into a set of `origin`, which becomes its home.
  if (holds(origin) && !node_key) return Err{TableError::kNodeKeyMissing};
  if (!holds(origin) && node_key) return Err{TableError::kNodeKeyNotHome};
  RekeyPlan plan;
  std::uint32_t index = 0;
  auto step = table_.join(node, origin, next(position_), [&](const Step& s) {
    execute(s, step_refresh_key(refresh_key, index++), node_key ? &*node_key : nullptr, plan);
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

Result<RekeyPlan, TableError> KeyManager::move(NodeId node, GatewayId to,
                                               const std::optional<Key128>& node_key,
                                               const Key128& refresh_key) {
  if (to.value() >= gateway_count_) return Err{TableError::kGatewayOutOfRange};
  if (holds(to) && !node_key) return Err{TableError::kNodeKeyMissing};
  if (!holds(to) && node_key) return Err{TableError::kNodeKeyNotHome};
  // Checked before anything changes: the table refuses the same cases.
  if (auto placement = table_.assign_move(node, to); !placement) return Err{placement.error()};
  RekeyPlan plan;
  std::uint32_t index = 0;
  auto steps = table_.move(node, to, next(position_), [&](const Step& s) {
    execute(s, step_refresh_key(refresh_key, index++), node_key ? &*node_key : nullptr, plan);
  });
  KMCHAIN_CHECK(steps.ok());
  position_ = steps->back().position;
  return plan;
}

Result<RekeyPlan, TableError> KeyManager::apply_steps(const std::vector<Step>& steps,
                                                      const std::optional<Key128>& node_key,
                                                      const Key128& refresh_key) {
  if (steps.empty()) return Err{TableError::kStepMismatch};
  // The step that brings the device to a new home: a join's placement, or a move's (its last).
  const Step* arrival = nullptr;
  for (const Step& step : steps) {
    if (arrives(step)) arrival = &step;
  }
  if (arrival != nullptr) {
    if (arrival->owner.value() >= gateway_count_) return Err{TableError::kGatewayOutOfRange};
    if (holds(arrival->owner) && !node_key) return Err{TableError::kNodeKeyMissing};
    if (!holds(arrival->owner) && node_key) return Err{TableError::kNodeKeyNotHome};
  } else if (node_key) {
    return Err{TableError::kNodeKeyNotHome};
  }
  // The steps came from a table equal to this one (the ledger's, checked after every block):
  // one that does not follow is a local bug, not bad input.
  RekeyPlan plan;
  std::uint32_t index = 0;
  Position expected = next(position_);
  for (const Step& step : steps) {
    KMCHAIN_CHECK(step.position == expected);
    KMCHAIN_CHECK(table_.apply_step(step).ok());
    execute(step, step_refresh_key(refresh_key, index++), node_key ? &*node_key : nullptr, plan);
    expected = next(expected);
  }
  position_ = steps.back().position;
  return plan;
}

void KeyManager::execute(const Step& step, const Key128& refresh_key, const Key128* join_node_key,
                         RekeyPlan& plan) {
  plan.steps.push_back(step);
  plan.refresh_keys.push_back(refresh_key);
  GatewayKeys* owner = held(step.owner);
  switch (step.kind) {
    case StepKind::kPlace:
      if (arrives(step) && owner != nullptr) {
        KMCHAIN_CHECK(join_node_key != nullptr);
        owner->put_node_key(step.node, *join_node_key, step.position);
      }
      place(step, refresh_key, plan);
      break;
    case StepKind::kRemove:
      remove_step(step, refresh_key, plan);
      // A Reorder move keeps the device with the same owner, so its home keeps its node key;
      // a move to another gateway leaves the old home without it.
      if (step.cause != Cause::kReorder && owner != nullptr) {
        owner->erase_node_key(step.node, step.position);
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
  // A view speaks only for itself.
  KMCHAIN_CHECK(holds(sender));
  if (recipients.empty()) return;
  Header header{kind_of(body), audience, target, position, {}};
  rng_.fill(header.nonce);  // random 104-bit nonces: no state to lose in a crash
  Bytes wire = seal_message(header, body, kek);
  plan.messages.push_back(Envelope{sender, header, std::move(recipients), std::move(wire)});
}

// Updates the copies of PSK(x, y) held here: both owners' in a composition (one store when one
// gateway owns both sets), the one of self in a view, none when self owns neither set.
void KeyManager::refresh_pairwise_set_key(SetId x, SetId y, const Key128& refresh_key,
                                          Position position) {
  GatewayKeys* gx = held(owner_of(x));
  GatewayKeys* gy = held(owner_of(y));
  Key128* kx = gx != nullptr ? gx->pairwise_set_key(x, y) : nullptr;
  Key128* ky = gy != nullptr ? gy->pairwise_set_key(x, y) : nullptr;
  KMCHAIN_CHECK((gx == nullptr || kx != nullptr) && (gy == nullptr || ky != nullptr));
  if (kx == nullptr && ky == nullptr) return;
  const Key128 next_key =
      refresh(kx != nullptr ? *kx : *ky, refresh_key, KeyId::pairwise_set_key(x, y), position);
  if (kx != nullptr) *kx = next_key;
  if (ky != nullptr) *ky = next_key;
}

void KeyManager::place(const Step& step, const Key128& refresh_key, RekeyPlan& plan) {
  const SetId set = step.set;
  const Position pos = step.position;
  GatewayKeys* owner = held(step.owner);
  std::vector<NodeId> old_members = table_.find_set(set)->members;
  old_members.erase(std::find(old_members.begin(), old_members.end(), step.node));
  const RefreshBody body{StepKind::kPlace, step.cause, step.node, set, refresh_key};

  if (step.opens_set) {
    open_set_keys(step, &plan);
  } else {
    if (owner != nullptr) {
      GatewayKeys::OwnedSet& owned = *owner->owned_set(set);
      const Key128 old_set_key = owned.set_key;
      // Backward secrecy: R travels under the old set key, which the newcomer never holds.
      send(owner->id(), Audience::kSet, set.value(), pos, body, old_set_key, old_members, plan);
      if (!KMCHAIN_FAULT(fault_ == Fault::kJoinBundleCarriesOldKeys)) {
        owned.set_key = refresh(old_set_key, refresh_key, KeyId::set_key(set), pos);
      }
    }
    for (const auto& [other, rec] : table_.sets()) {
      if (other == set) continue;
      if (!KMCHAIN_FAULT(fault_ == Fault::kJoinBundleCarriesOldKeys)) {
        refresh_pairwise_set_key(set, other, refresh_key, pos);
      }
      // Each owner forwards R to its own sets.
      if (const GatewayKeys* other_owner = held(rec.owner)) {
        send(other_owner->id(), Audience::kSet, other.value(), pos, body,
             other_owner->owned_set(other)->set_key, rec.members, plan);
      }
    }
  }

  if (owner != nullptr) send_placement_keys(step, *owner, old_members, plan);
  if (KMCHAIN_FAULT(fault_ == Fault::kJoinBundleCarriesOldKeys) && !step.opens_set) {
    // The faulty manager refreshes only after the joiner got the old keys.
    if (owner != nullptr) {
      GatewayKeys::OwnedSet& owned = *owner->owned_set(set);
      owned.set_key = refresh(owned.set_key, refresh_key, KeyId::set_key(set), pos);
    }
    for (const auto& [other, rec] : table_.sets()) {
      if (other != set) refresh_pairwise_set_key(set, other, refresh_key, pos);
    }
  }
}

// The owner of the set a device is placed into gives each old member its pairwise node key
// with the newcomer, and the newcomer its bundle.
void KeyManager::send_placement_keys(const Step& step, GatewayKeys& owner,
                                     const std::vector<NodeId>& old_members, RekeyPlan& plan) {
  const SetId set = step.set;
  const Position pos = step.position;
  const GatewayKeys::OwnedSet& owned = *owner.owned_set(set);
  KeyBundleBody bundle{set, owned.set_key, {}, {}};
  bundle.pairwise_node_keys.reserve(old_members.size());
  for (NodeId member : old_members) {
    const Key128 key = pairwise_node_key(owned.pairwise_seed, set, step.node, member, pos);
    bundle.pairwise_node_keys.emplace_back(member, key);
    // In Layer 1 a device's home gateway is the owner of its set.
    const Key128* member_key = owner.node_key(member);
    KMCHAIN_CHECK(member_key != nullptr);
    send(owner.id(), Audience::kDevice, member.value(), pos, PairwiseNodeKeyBody{step.node, key},
         *member_key, {member}, plan);
  }
  for (const auto& [other, rec] : table_.sets()) {
    if (other != set)
      bundle.pairwise_set_keys.emplace_back(other, *owner.pairwise_set_key(set, other));
  }
  const Key128* node_key = owner.node_key(step.node);
  KMCHAIN_CHECK(node_key != nullptr);
  send(owner.id(), Audience::kDevice, step.node.value(), pos, std::move(bundle), *node_key,
       {step.node}, plan);
}

// A new set's keys (section 4): its owner obtains the set key, the pairwise seed and a pairwise
// set key with every other set; the other set's owner obtains the same pairwise set key and
// alone forwards it to its members (when a plan is given). A view obtains only the keys self
// holds.
void KeyManager::open_set_keys(const Step& step, RekeyPlan* plan) {
  const SetId set = step.set;
  const NewSet fresh{set, step.owner, step.position};
  GatewayKeys* owner = held(step.owner);
  if (owner != nullptr) {
    // Seed before set key: the order in which seeded runs have always drawn them.
    const Secret256 seed = source().pairwise_seed(fresh);
    const Key128 set_key = source().set_key(fresh);
    owner->open_set(set, set_key, seed, step.position);
  }
  for (const auto& [other, rec] : table_.sets()) {
    if (other == set) continue;
    GatewayKeys* other_owner = held(rec.owner);
    if (owner == nullptr && other_owner == nullptr) continue;  // a pair self owns neither of
    const Key128 key = source().pairwise_set_key(fresh, other, rec.owner);
    if (owner != nullptr) owner->put_pairwise_set_key(set, other, key, step.position);
    if (other_owner == nullptr) continue;
    other_owner->put_pairwise_set_key(set, other, key, step.position);
    if (plan != nullptr) {
      send(other_owner->id(), Audience::kSet, other.value(), step.position,
           SetAddedBody{set, step.node, key}, other_owner->owned_set(other)->set_key, rec.members,
           *plan);
    }
  }
}

Status<TableError> KeyManager::provision(GatewayId origin,
                                         const std::vector<std::pair<NodeId, Key128>>& nodes) {
  if (origin.value() >= gateway_count_) return Err{TableError::kGatewayOutOfRange};
  if (!holds(origin)) return Err{TableError::kNodeKeyNotHome};
  std::vector<NodeId> ids;
  ids.reserve(nodes.size());
  for (const auto& [node, node_key] : nodes)
    ids.push_back(node);
  return provision_steps(origin, ids, &nodes);
}

Status<TableError> KeyManager::provision(GatewayId origin, const std::vector<NodeId>& nodes) {
  if (origin.value() >= gateway_count_) return Err{TableError::kGatewayOutOfRange};
  if (holds(origin)) return Err{TableError::kNodeKeyMissing};
  return provision_steps(origin, nodes, nullptr);
}

Status<TableError> KeyManager::provision_steps(
    GatewayId origin, const std::vector<NodeId>& nodes,
    const std::vector<std::pair<NodeId, Key128>>* node_keys) {
  if (table_.member_count() != 0) return Err{TableError::kNotEmpty};
  GatewayKeys* owner = held(origin);
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    auto step = table_.join(nodes[i], origin, next(position_), [&](const Step& s) {
      if (owner != nullptr) owner->put_node_key(s.node, node_keys->at(i).second, s.position);
      if (s.opens_set) open_set_keys(s, nullptr);
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
  GatewayKeys* owner = held(owner_of(set));
  if (owner == nullptr) return Err{TableError::kNotInCustody};
  const GatewayKeys::OwnedSet& owned = *owner->owned_set(set);
  KeyBundleBody bundle{set, owned.set_key, {}, {}};
  for (NodeId peer : table_.find_set(set)->members) {
    if (peer == node) continue;
    const Position placed = std::max(member->placed_at, table_.find_member(peer)->placed_at);
    bundle.pairwise_node_keys.emplace_back(
        peer, pairwise_node_key(owned.pairwise_seed, set, node, peer, placed));
  }
  for (const auto& [other, rec] : table_.sets()) {
    if (other != set) {
      bundle.pairwise_set_keys.emplace_back(other, *owner->pairwise_set_key(set, other));
    }
  }
  RekeyPlan scratch;
  send(owner->id(), Audience::kDevice, node.value(), position_, std::move(bundle),
       *owner->node_key(node), {node}, scratch);
  return std::move(scratch.messages.front());
}

void KeyManager::remove_step(const Step& step, const Key128& refresh_key, RekeyPlan& plan) {
  if (step.closes_set) {
    forget_set(step, plan);
    return;
  }
  const SetId set = step.set;
  const Position pos = step.position;
  const RefreshBody body{StepKind::kRemove, step.cause, step.node, set, refresh_key};
  if (GatewayKeys* owner = held(step.owner)) {
    GatewayKeys::OwnedSet& owned = *owner->owned_set(set);
    const Key128 old_set_key = owned.set_key;
    owned.set_key = refresh(old_set_key, refresh_key, KeyId::set_key(set), pos);
    const std::vector<NodeId>& remaining = table_.find_set(set)->members;
    if (KMCHAIN_FAULT(fault_ == Fault::kLeaveRefreshUnderSetKey)) {
      send(owner->id(), Audience::kSet, set.value(), pos, body, old_set_key, remaining, plan);
    } else {
      // Forward secrecy: R goes to each remaining member under its own node key.
      for (NodeId member : remaining) {
        const Key128* member_key = owner->node_key(member);
        KMCHAIN_CHECK(member_key != nullptr);
        send(owner->id(), Audience::kDevice, member.value(), pos, body, *member_key, {member},
             plan);
      }
    }
  }
  for (const auto& [other, rec] : table_.sets()) {
    if (other == set) continue;
    if (!KMCHAIN_FAULT(fault_ == Fault::kSkipPairwiseSetRefresh)) {
      refresh_pairwise_set_key(set, other, refresh_key, pos);
    }
    if (const GatewayKeys* other_owner = held(rec.owner)) {
      send(other_owner->id(), Audience::kSet, other.value(), pos, body,
           other_owner->owned_set(other)->set_key, rec.members, plan);
    }
  }
}

// The set is gone from the table (last member left, or dissolved): its owner drops its keys
// and every other set drops its pairwise set key with it.
void KeyManager::forget_set(const Step& step, RekeyPlan& plan) {
  GatewayKeys* owner = held(step.owner);
  if (owner != nullptr) owner->close_set(step.set, step.position);
  const SetRemovedBody body{step.set, step.cause,
                            step.kind == StepKind::kRemove ? step.node : NodeId{}};
  for (const auto& [other, rec] : table_.sets()) {
    if (owner != nullptr) owner->erase_pairwise_set_key(step.set, other, step.position);
    GatewayKeys* other_owner = held(rec.owner);
    if (other_owner == nullptr) continue;
    other_owner->erase_pairwise_set_key(step.set, other, step.position);
    send(other_owner->id(), Audience::kSet, other.value(), step.position, body,
         other_owner->owned_set(other)->set_key, rec.members, plan);
  }
}

std::optional<Key128> KeyManager::current_key(const KeyId& id) const {
  switch (id.key_class) {
    case KeyClass::kNodeKey: {
      const NodeId node{id.a};
      const MemberRecord* m = table_.find_member(node);
      if (m == nullptr) return std::nullopt;
      const GatewayKeys* home = held(owner_of(m->set));
      const Key128* key = home != nullptr ? home->node_key(node) : nullptr;
      return key ? std::optional<Key128>(*key) : std::nullopt;
    }
    case KeyClass::kSetKey: {
      const SetId set{id.a};
      if (table_.find_set(set) == nullptr) return std::nullopt;
      const GatewayKeys* owner = held(owner_of(set));
      const auto* owned = owner != nullptr ? owner->owned_set(set) : nullptr;
      return owned ? std::optional<Key128>(owned->set_key) : std::nullopt;
    }
    case KeyClass::kPairwiseNodeKey: {
      const MemberRecord* x = table_.find_member(NodeId{id.a});
      const MemberRecord* y = table_.find_member(NodeId{id.b});
      if (x == nullptr || y == nullptr || x->set != y->set || id.a == id.b) return std::nullopt;
      const GatewayKeys* owner = held(owner_of(x->set));
      if (owner == nullptr) return std::nullopt;
      const auto* owned = owner->owned_set(x->set);
      return pairwise_node_key(owned->pairwise_seed, x->set, NodeId{id.a}, NodeId{id.b},
                               std::max(x->placed_at, y->placed_at));
    }
    case KeyClass::kPairwiseSetKey: {
      const SetId x{id.a};
      const SetId y{id.b};
      if (table_.find_set(x) == nullptr || table_.find_set(y) == nullptr || x == y) {
        return std::nullopt;
      }
      const GatewayKeys* holder = held(owner_of(x));
      if (holder == nullptr) holder = held(owner_of(y));
      const Key128* key = holder != nullptr ? holder->pairwise_set_key(x, y) : nullptr;
      return key ? std::optional<Key128>(*key) : std::nullopt;
    }
  }
  return std::nullopt;
}

}  // namespace kmchain::keys
