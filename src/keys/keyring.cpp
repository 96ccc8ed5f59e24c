#include "keys/keyring.h"

#include <algorithm>

#include "base/limits.h"
#include "keys/derivation.h"

namespace kmchain::keys {

namespace {

template <class Id>
auto find_entry(std::vector<std::pair<Id, Key128>>& entries, Id id) {
  return std::lower_bound(entries.begin(), entries.end(), id,
                          [](const auto& e, Id v) { return e.first < v; });
}

template <class Id>
const Key128* lookup(const std::vector<std::pair<Id, Key128>>& entries, Id id) {
  auto it = std::lower_bound(entries.begin(), entries.end(), id,
                             [](const auto& e, Id v) { return e.first < v; });
  return it != entries.end() && it->first == id ? &it->second : nullptr;
}

const Keyring::NodeKeys kNoNodeKeys;
const Keyring::SetKeys kNoSetKeys;

}  // namespace

std::optional<SetId> Keyring::set() const {
  if (!placement_) return std::nullopt;
  return placement_->set;
}

const Keyring::NodeKeys& Keyring::pairwise_node_keys() const {
  return placement_ ? placement_->pairwise_node_keys : kNoNodeKeys;
}

const Keyring::SetKeys& Keyring::pairwise_set_keys() const {
  return placement_ ? placement_->pairwise_set_keys : kNoSetKeys;
}

std::size_t Keyring::key_count() const {
  if (!placement_) return 1;
  return 2 + placement_->pairwise_node_keys.size() + placement_->pairwise_set_keys.size();
}

std::size_t Keyring::memory_bytes() const {
  std::size_t bytes = sizeof(*this);
  if (placement_) {
    bytes += placement_->pairwise_node_keys.capacity() * sizeof(NodeKeys::value_type);
    bytes += placement_->pairwise_set_keys.capacity() * sizeof(SetKeys::value_type);
  }
  return bytes;
}

std::optional<Key128> Keyring::dek(NodeId peer, SetId peer_set) const {
  if (!placement_ || peer == self_) return std::nullopt;
  const Key128* key = peer_set == placement_->set ? lookup(placement_->pairwise_node_keys, peer)
                                                  : lookup(placement_->pairwise_set_keys, peer_set);
  if (key == nullptr) return std::nullopt;
  return *key;
}

Status<RekeyError> Keyring::apply(ByteView wire) {
  last_change_.reset();
  auto parsed = parse_header(wire);
  if (!parsed) return Err{parsed.error()};
  const Header& h = *parsed;

  // Addressed to me, under a KEK I hold?
  const Key128* kek = nullptr;
  if (h.audience == Audience::kDevice) {
    if (h.target != self_.value()) return Err{RekeyError::kNotForMe};
    kek = &node_key_;
  } else {
    // A bundle or a pairwise node key comes under the node key only: under the set key, which
    // every member holds, any member could forge one for the others.
    if (is_bundle(h.kind) || h.kind == MessageKind::kPairwiseNodeKey) {
      return Err{RekeyError::kUnknownKind};
    }
    if (!placement_ || h.target != placement_->set.value()) return Err{RekeyError::kNotForMe};
    kek = &placement_->set_key;
  }

  // Strict ledger order. A pairwise node key belongs to the refresh that placed its peer, so
  // it arrives at the position already applied; a bundle replaces everything and may skip.
  // A provisional keyring (an early bundle) is replaced by the next bundle, whatever its
  // position; what else comes is ahead of what it can apply.
  const std::uint64_t at = position_.value();
  const std::uint64_t p = h.position.value();
  switch (h.kind) {
    case MessageKind::kPairwiseNodeKey:
      if (provisional_) return Err{RekeyError::kGap};
      if (p < at) return Err{RekeyError::kReplayed};
      if (p > at) return Err{RekeyError::kGap};
      break;
    case MessageKind::kKeyBundle:
      if (p <= at && !provisional_) return Err{RekeyError::kReplayed};
      break;
    case MessageKind::kEarlyBundle:
      if (placement_ && !provisional_) return Err{RekeyError::kReplayed};
      break;
    default:
      if (provisional_) return Err{RekeyError::kGap};
      if (p <= at) return Err{RekeyError::kReplayed};
      if (p > at + 1 || awaited_peer_) return Err{RekeyError::kGap};
      break;
  }

  auto body = open_body(h, wire, *kek);
  if (!body) return Err{body.error()};

  if (!is_bundle(h.kind) && !placement_) return Err{RekeyError::kInconsistent};
  switch (h.kind) {
    case MessageKind::kRefresh:
      return apply_refresh(h, std::get<RefreshBody>(*body));
    case MessageKind::kSetAdded:
      return apply_set_added(h, std::get<SetAddedBody>(*body));
    case MessageKind::kSetRemoved:
      return apply_set_removed(h, std::get<SetRemovedBody>(*body));
    case MessageKind::kPairwiseNodeKey:
      return apply_pairwise_node_key(std::get<PairwiseNodeKeyBody>(*body));
    case MessageKind::kKeyBundle:
    case MessageKind::kEarlyBundle:
      return apply_bundle(h, std::get<KeyBundleBody>(*body));
  }
  return Err{RekeyError::kUnknownKind};
}

Status<RekeyError> Keyring::apply_refresh(const Header& h, const RefreshBody& b) {
  Placement& pl = *placement_;
  if (b.node == self_) return Err{RekeyError::kInconsistent};
  if (b.set != pl.set) {
    // Another set changed: only our pairwise set key with it moves.
    auto it = find_entry(pl.pairwise_set_keys, b.set);
    if (it == pl.pairwise_set_keys.end() || it->first != b.set) {
      return Err{RekeyError::kInconsistent};
    }
    it->second =
        refresh(it->second, b.refresh_key, KeyId::pairwise_set_key(pl.set, b.set), h.position);
    position_ = h.position;
    note_change(b.change, b.cause, b.node);
    return {};
  }

  // Our own set changed: stage every new key, then commit with no-throw moves.
  auto departed = find_entry(pl.pairwise_node_keys, b.node);
  const bool knows_node = departed != pl.pairwise_node_keys.end() && departed->first == b.node;
  if (b.change == StepKind::kRemove && !knows_node) return Err{RekeyError::kInconsistent};
  if (b.change == StepKind::kPlace && knows_node) return Err{RekeyError::kInconsistent};

  Key128 set_key = refresh(pl.set_key, b.refresh_key, KeyId::set_key(pl.set), h.position);
  SetKeys set_keys = pl.pairwise_set_keys;
  for (auto& [other, key] : set_keys) {
    key = refresh(key, b.refresh_key, KeyId::pairwise_set_key(pl.set, other), h.position);
  }
  if (b.change == StepKind::kRemove) pl.pairwise_node_keys.erase(departed);
  pl.set_key = set_key;
  pl.pairwise_set_keys = std::move(set_keys);
  position_ = h.position;
  if (b.change == StepKind::kPlace) awaited_peer_ = b.node;
  note_change(b.change, b.cause, b.node);
  return {};
}

void Keyring::note_change(StepKind change, Cause cause, NodeId node) {
  if (change == StepKind::kPlace) last_change_ = MembershipChange{node, false};
  if (change == StepKind::kRemove && departs(cause)) last_change_ = MembershipChange{node, true};
}

Status<RekeyError> Keyring::apply_set_added(const Header& h, const SetAddedBody& b) {
  Placement& pl = *placement_;
  if (b.set == pl.set) return Err{RekeyError::kInconsistent};
  auto it = find_entry(pl.pairwise_set_keys, b.set);
  if (it != pl.pairwise_set_keys.end() && it->first == b.set) {
    return Err{RekeyError::kInconsistent};
  }
  if (pl.pairwise_set_keys.size() >= limits::kSetsMax) return Err{RekeyError::kInconsistent};
  pl.pairwise_set_keys.emplace(it, b.set, b.pairwise_set_key);
  position_ = h.position;
  return {};
}

Status<RekeyError> Keyring::apply_set_removed(const Header& h, const SetRemovedBody& b) {
  Placement& pl = *placement_;
  auto it = find_entry(pl.pairwise_set_keys, b.set);
  if (b.set == pl.set || it == pl.pairwise_set_keys.end() || it->first != b.set) {
    return Err{RekeyError::kInconsistent};
  }
  pl.pairwise_set_keys.erase(it);
  position_ = h.position;
  if (b.node != NodeId{}) note_change(StepKind::kRemove, b.cause, b.node);
  return {};
}

Status<RekeyError> Keyring::apply_pairwise_node_key(const PairwiseNodeKeyBody& b) {
  Placement& pl = *placement_;
  if (b.peer == self_) return Err{RekeyError::kInconsistent};
  auto it = find_entry(pl.pairwise_node_keys, b.peer);
  if (it != pl.pairwise_node_keys.end() && it->first == b.peer) {
    return Err{RekeyError::kReplayed};
  }
  if (pl.pairwise_node_keys.size() >= limits::kSetMembersMax) {
    return Err{RekeyError::kInconsistent};
  }
  pl.pairwise_node_keys.emplace(it, b.peer, b.key);
  if (awaited_peer_ == b.peer) awaited_peer_.reset();
  return {};
}

Status<RekeyError> Keyring::apply_bundle(const Header& h, KeyBundleBody& b) {
  if (lookup(b.pairwise_node_keys, self_) != nullptr) return Err{RekeyError::kInconsistent};
  if (lookup(b.pairwise_set_keys, b.set) != nullptr) return Err{RekeyError::kInconsistent};
  placement_ =
      Placement{b.set, b.set_key, std::move(b.pairwise_node_keys), std::move(b.pairwise_set_keys)};
  position_ = h.position;
  provisional_ = h.kind == MessageKind::kEarlyBundle;
  awaited_peer_.reset();
  return {};
}

}  // namespace kmchain::keys
