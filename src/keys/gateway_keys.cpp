#include "keys/gateway_keys.h"

#include "base/check.h"

namespace kmchain::keys {

const Key128* GatewayKeys::node_key(NodeId node) const {
  auto it = node_keys_.find(node);
  return it == node_keys_.end() ? nullptr : &it->second;
}

void GatewayKeys::open_set(SetId set, const Key128& set_key, const Secret256& seed) {
  const bool fresh = owned_sets_.try_emplace(set, OwnedSet{set_key, seed}).second;
  KMCHAIN_CHECK(fresh);
}

GatewayKeys::OwnedSet* GatewayKeys::owned_set(SetId set) {
  auto it = owned_sets_.find(set);
  return it == owned_sets_.end() ? nullptr : &it->second;
}

const GatewayKeys::OwnedSet* GatewayKeys::owned_set(SetId set) const {
  auto it = owned_sets_.find(set);
  return it == owned_sets_.end() ? nullptr : &it->second;
}

void GatewayKeys::put_pairwise_set_key(SetId x, SetId y, const Key128& key) {
  KMCHAIN_CHECK(x != y);
  pairwise_set_keys_.insert_or_assign(pair_index(x, y), key);
}

Key128* GatewayKeys::pairwise_set_key(SetId x, SetId y) {
  auto it = pairwise_set_keys_.find(pair_index(x, y));
  return it == pairwise_set_keys_.end() ? nullptr : &it->second;
}

const Key128* GatewayKeys::pairwise_set_key(SetId x, SetId y) const {
  auto it = pairwise_set_keys_.find(pair_index(x, y));
  return it == pairwise_set_keys_.end() ? nullptr : &it->second;
}

}  // namespace kmchain::keys
