// KeyReference: an independent model of what every Layer-1 key should be, for the simulator.
//
// It replays each rekey plan with the design rules of docs/protocol.md section 2 (refresh through
// the KDF on every place and remove step, deletion on close and dissolve) from its own copy of
// the previous values. Fresh keys it cannot predict (a new set's keys, pairwise node keys) it
// reads from the plan's own messages, decrypting them with the KEKs it tracks, and checks the
// copies sent to different devices agree. compare() then checks the gateways' stores hold
// exactly these values.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "keys/key_manager.h"
#include "sim/key_fingerprint.h"

namespace kmchain::sim {

using crypto::Key128;

class KeyReference {
 public:
  // A device enrolled with this node key (before its join plan is applied).
  void enroll(NodeId node, const Key128& node_key) { node_keys_.insert_or_assign(node, node_key); }

  // Replays one operation; an error message on the first deviation from the design.
  std::optional<std::string> apply(const keys::RekeyPlan& plan);
  // Checks the key manager's table and every gateway's stores against the model.
  std::optional<std::string> compare(const keys::KeyManager& km) const;

  const std::map<SetId, std::set<NodeId>>& sets() const { return members_; }
  std::optional<SetId> set_of(NodeId node) const;
  const Key128* node_key(NodeId node) const;
  const Key128* set_key(SetId set) const;
  const Key128* pairwise_set_key(SetId x, SetId y) const;
  const Key128* pairwise_node_key(NodeId x, NodeId y) const;
  // Every key value in use now, by class (for forward-secrecy sweeps).
  void for_each_current_key(const std::function<void(const keys::KeyId&, const Key128&)>& f) const;

 private:
  static std::uint64_t pair_index(std::uint32_t x, std::uint32_t y) {
    const auto lo = std::min(x, y);
    const auto hi = std::max(x, y);
    return (static_cast<std::uint64_t>(lo) << 32) | hi;
  }
  std::optional<std::string> place(const keys::Step& step, const Key128& refresh_key,
                                   const keys::RekeyPlan& plan);
  std::optional<std::string> remove(const keys::Step& step, const Key128& refresh_key);
  void forget_set(SetId set);
  void refresh_set(SetId set, const Key128& refresh_key, Position position);
  // Decrypts the message of `kind` at `position` addressed to `target`.
  std::optional<keys::Body> open(const keys::RekeyPlan& plan, keys::MessageKind kind,
                                 keys::Audience audience, std::uint32_t target,
                                 Position position) const;

  std::map<NodeId, Key128> node_keys_;
  std::map<SetId, std::set<NodeId>> members_;
  std::map<SetId, Key128> set_keys_;
  std::unordered_map<std::uint64_t, Key128> pairwise_set_keys_;
  std::unordered_map<std::uint64_t, Key128> pairwise_node_keys_;
};

}  // namespace kmchain::sim
