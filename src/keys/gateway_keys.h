// GatewayKeys: the key material one gateway holds (docs/protocol.md section 4, key custody).
//
// A gateway generates and holds the keys of the sets it owns (set key, and the seed its
// pairwise node keys derive from), the node keys of the devices it is home to, and the
// pairwise set keys of pairs that involve one of its sets. It never holds a key of a pair of
// sets it owns neither of. The key manager is a composition of these stores (or, as a custody
// view, holds just one), so splitting it across gateways moves no key.
//
// Every change of what the store holds names the refresh position of the step that made it,
// and the store's custody record (custody_record.h) keeps them: what this gateway held, and
// when. Refreshing a held key in place changes its value, not what is held.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <unordered_map>

#include "base/ids.h"
#include "crypto/secret.h"
#include "keys/custody_record.h"
#include "keys/key_id.h"

namespace kmchain::keys {

using crypto::Key128;
using crypto::Secret256;

class GatewayKeys {
 public:
  struct OwnedSet {
    Key128 set_key;
    Secret256 pairwise_seed;  // pairwise node keys of the set derive from it
  };

  explicit GatewayKeys(GatewayId id) : id_(id) {}
  GatewayId id() const { return id_; }

  void put_node_key(NodeId node, const Key128& key, Position position);
  void erase_node_key(NodeId node, Position position);
  const Key128* node_key(NodeId node) const;

  void open_set(SetId set, const Key128& set_key, const Secret256& seed, Position position);
  void close_set(SetId set, Position position);
  OwnedSet* owned_set(SetId set);
  const OwnedSet* owned_set(SetId set) const;

  void put_pairwise_set_key(SetId x, SetId y, const Key128& key, Position position);
  void erase_pairwise_set_key(SetId x, SetId y, Position position);
  Key128* pairwise_set_key(SetId x, SetId y);
  const Key128* pairwise_set_key(SetId x, SetId y) const;

  std::size_t node_key_count() const { return node_keys_.size(); }
  std::size_t owned_set_count() const { return owned_sets_.size(); }
  std::size_t pairwise_set_key_count() const { return pairwise_set_keys_.size(); }

  // Every key this store ever held, with the positions it came to hold and dropped it.
  const CustodyRecord& custody() const { return custody_; }

 private:
  static std::uint64_t pair_index(SetId x, SetId y) {
    const auto lo = std::min(x, y).value();
    const auto hi = std::max(x, y).value();
    return (static_cast<std::uint64_t>(lo) << 32) | hi;
  }

  GatewayId id_;
  std::map<NodeId, Key128> node_keys_;
  std::map<SetId, OwnedSet> owned_sets_;
  std::unordered_map<std::uint64_t, Key128> pairwise_set_keys_;
  CustodyRecord custody_;
};

}  // namespace kmchain::keys
