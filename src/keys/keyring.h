// Keyring: the keys one device holds, and the only way they change: apply(wire message).
//
// Sync mode: an early bundle (before the device's join is final) makes the keyring provisional.
// Only a bundle changes a provisional keyring (the bundle of the committed join replaces it,
// whatever its position); any other message is a gap, to be caught up from scratch. A keyring
// that holds final keys takes no early bundle.
//
// The pairwise node key with a newcomer to our set travels in its own message at the position of
// the refresh that placed it; until it has come, a message of a later position is a gap.
//
// A device holds its node key and, once placed in a set, that set's key, one pairwise node key
// per other member and one pairwise set key per other set: |S| + #sets keys, 2*sqrt(n) at
// n = k*k. apply() is atomic: a forged, truncated, replayed, out-of-order or contradictory
// message is rejected with a typed error and leaves the keyring exactly as it was.
#pragma once

#include <cstddef>
#include <optional>
#include <utility>
#include <vector>

#include "base/bytes.h"
#include "base/ids.h"
#include "base/result.h"
#include "crypto/secret.h"
#include "keys/rekey_message.h"

namespace kmchain::keys {

// A member that entered or left the network with the last message applied: `departed` for a
// leave or an eviction (not a Reorder move between sets).
struct MembershipChange {
  NodeId node;
  bool departed = false;
};

class Keyring {
 public:
  using NodeKeys = std::vector<std::pair<NodeId, Key128>>;  // sorted by node
  using SetKeys = std::vector<std::pair<SetId, Key128>>;    // sorted by set

  // A device starts with the node key it agreed with its home gateway at enrollment.
  Keyring(NodeId self, const Key128& node_key) : self_(self), node_key_(node_key) {}

  Status<RekeyError> apply(ByteView wire);
  // What the last successful apply() said about a member joining or leaving, if anything.
  const std::optional<MembershipChange>& last_change() const { return last_change_; }

  // The DEK protecting traffic with `peer`, a member of `peer_set`, if this device holds it.
  std::optional<Key128> dek(NodeId peer, SetId peer_set) const;

  NodeId self() const { return self_; }
  Position position() const { return position_; }
  bool placed() const { return placement_.has_value(); }
  // Holding an early bundle (sync mode), until the bundle of the committed join replaces it.
  bool provisional() const { return provisional_; }
  // The newcomer whose pairwise node key is due at the current position, if any.
  std::optional<NodeId> awaited_peer() const { return awaited_peer_; }
  std::optional<SetId> set() const;
  const Key128& node_key() const { return node_key_; }
  const Key128* set_key() const { return placement_ ? &placement_->set_key : nullptr; }
  const NodeKeys& pairwise_node_keys() const;
  const SetKeys& pairwise_set_keys() const;
  // Node key, set key and every pairwise key.
  std::size_t key_count() const;
  // Heap and object bytes this keyring occupies.
  std::size_t memory_bytes() const;

 private:
  struct Placement {
    SetId set;
    Key128 set_key;
    NodeKeys pairwise_node_keys;
    SetKeys pairwise_set_keys;
  };

  Status<RekeyError> apply_refresh(const Header& h, const RefreshBody& b);
  Status<RekeyError> apply_set_added(const Header& h, const SetAddedBody& b);
  Status<RekeyError> apply_set_removed(const Header& h, const SetRemovedBody& b);
  Status<RekeyError> apply_pairwise_node_key(const PairwiseNodeKeyBody& b);
  Status<RekeyError> apply_bundle(const Header& h, KeyBundleBody& b);
  void note_change(StepKind change, Cause cause, NodeId node);

  NodeId self_;
  Key128 node_key_;
  Position position_{0};
  std::optional<MembershipChange> last_change_;
  std::optional<Placement> placement_;
  bool provisional_ = false;
  // A newcomer placed into our set at the current position: its pairwise node key comes at the
  // same position, after the refresh, and nothing later applies before it (the device asks for
  // what it lacks instead of moving past it).
  std::optional<NodeId> awaited_peer_;
};

}  // namespace kmchain::keys
