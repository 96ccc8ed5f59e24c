#include "keys/gateway_keys.h"

#include "base/check.h"

namespace kmchain::keys {

void GatewayKeys::put_node_key(NodeId node, const Key128& key, Position position) {
  node_keys_.insert_or_assign(node, key);
  custody_.hold(KeyId::node_key(node), position);
}

void GatewayKeys::erase_node_key(NodeId node, Position position) {
  if (node_keys_.erase(node) != 0) custody_.drop(KeyId::node_key(node), position);
}

const Key128* GatewayKeys::node_key(NodeId node) const {
  auto it = node_keys_.find(node);
  return it == node_keys_.end() ? nullptr : &it->second;
}

void GatewayKeys::open_set(SetId set, const Key128& set_key, const Secret256& seed,
                           Position position) {
  const bool fresh = owned_sets_.try_emplace(set, OwnedSet{set_key, seed}).second;
  KMCHAIN_CHECK(fresh);
  custody_.hold(KeyId::set_key(set), position);
}

void GatewayKeys::close_set(SetId set, Position position) {
  if (owned_sets_.erase(set) != 0) custody_.drop(KeyId::set_key(set), position);
}

GatewayKeys::OwnedSet* GatewayKeys::owned_set(SetId set) {
  auto it = owned_sets_.find(set);
  return it == owned_sets_.end() ? nullptr : &it->second;
}

const GatewayKeys::OwnedSet* GatewayKeys::owned_set(SetId set) const {
  auto it = owned_sets_.find(set);
  return it == owned_sets_.end() ? nullptr : &it->second;
}

void GatewayKeys::put_pairwise_set_key(SetId x, SetId y, const Key128& key, Position position) {
  KMCHAIN_CHECK(x != y);
  pairwise_set_keys_.insert_or_assign(pair_index(x, y), key);
  custody_.hold(KeyId::pairwise_set_key(x, y), position);
}

void GatewayKeys::erase_pairwise_set_key(SetId x, SetId y, Position position) {
  if (pairwise_set_keys_.erase(pair_index(x, y)) != 0) {
    custody_.drop(KeyId::pairwise_set_key(x, y), position);
  }
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
