// Helpers shared by the Layer-1 test suites: a small network of one KeyManager and one
// Keyring per device that delivers every plan's envelopes to their recipients, a comparable
// snapshot of a keyring (to show a rejected message changed nothing), and the all-pairs
// agreement check against the design's key values.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <map>
#include <optional>
#include <ostream>
#include <utility>

#include "base/bytes.h"
#include "base/ids.h"
#include "crypto/random.h"
#include "crypto/secret.h"
#include "keys/key_id.h"
#include "keys/key_manager.h"
#include "keys/keyring.h"
#include "support/counting.h"

namespace kmchain::keys::fixture {

using kmchain::testing::counting_key;

// Flips bit `bit` (0..7) of byte `index` of a copy of `wire`.
inline Bytes flipped(const Bytes& wire, std::size_t index, unsigned bit = 0) {
  Bytes out = wire;
  out[index] = static_cast<std::uint8_t>(out[index] ^ (1u << bit));
  return out;
}

// Everything a keyring holds, comparable as a whole.
struct KeyringState {
  Position position;
  std::size_t key_count = 0;
  Key128 node_key;
  std::optional<SetId> set;
  std::optional<Key128> set_key;
  Keyring::NodeKeys pairwise_node_keys;
  Keyring::SetKeys pairwise_set_keys;

  bool operator==(const KeyringState&) const = default;
};

// Never prints key bytes, only the shape.
inline void PrintTo(const KeyringState& s, std::ostream* os) {
  *os << "{position " << s.position.value() << ", " << s.key_count << " keys, set "
      << (s.set ? static_cast<std::int64_t>(s.set->value()) : -1) << "}";
}

inline KeyringState state_of(const Keyring& k) {
  KeyringState s;
  s.position = k.position();
  s.key_count = k.key_count();
  s.node_key = k.node_key();
  s.set = k.set();
  if (k.set_key() != nullptr) s.set_key = *k.set_key();
  s.pairwise_node_keys = k.pairwise_node_keys();
  s.pairwise_set_keys = k.pairwise_set_keys();
  return s;
}

// Called before each delivery of an envelope to a recipient; returning false skips it (the
// device misses the message).
using Interceptor = std::function<bool(const Envelope&, NodeId recipient)>;

// One KeyManager and the keyrings of its current devices. Node keys and refresh keys come from
// one seeded stream, the manager's own keys and nonces from another.
class Network {
 public:
  explicit Network(std::size_t gateways, std::uint64_t seed = 1)
      : km_rng_(seed), key_rng_(seed ^ 0x6e6574776f726bULL), km_(gateways, km_rng_) {}
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  KeyManager& km() { return km_; }
  const KeyManager& km() const { return km_; }
  std::map<NodeId, Keyring>& devices() { return devices_; }
  const std::map<NodeId, Keyring>& devices() const { return devices_; }
  Keyring& device(NodeId node) { return devices_.at(node); }
  crypto::Rng& key_rng() { return key_rng_; }

  // Enrolls `node` (a fresh node key, a fresh keyring) and returns its join plan, undelivered.
  RekeyPlan plan_join(NodeId node, GatewayId origin = GatewayId{0}) {
    const Key128 node_key = key_rng_.key128();
    devices_.insert_or_assign(node, Keyring(node, node_key));
    auto plan = km_.join(node, origin, node_key, key_rng_.key128());
    if (!plan) {
      ADD_FAILURE() << "join of node " << node.value() << " refused: " << to_string(plan.error());
      return {};
    }
    return std::move(*plan);
  }

  // Removes `node` (its keyring is dropped) and returns the plan, undelivered.
  RekeyPlan plan_remove(NodeId node, Cause cause = Cause::kLeave) {
    devices_.erase(node);
    auto plan = km_.remove(node, cause, key_rng_.key128());
    if (!plan) {
      ADD_FAILURE() << "removal of node " << node.value()
                    << " refused: " << to_string(plan.error());
      return {};
    }
    return std::move(*plan);
  }

  // Delivers every envelope, in order, to each of its recipients; every delivery must apply.
  void deliver(const RekeyPlan& plan, const Interceptor& intercept = {}) {
    for (const Envelope& e : plan.messages) {
      for (NodeId r : e.recipients) {
        auto it = devices_.find(r);
        if (it == devices_.end()) {
          ADD_FAILURE() << "message for non-member " << r.value();
          continue;
        }
        if (intercept && !intercept(e, r)) continue;
        auto applied = it->second.apply(e.wire);
        EXPECT_TRUE(applied.ok()) << "node " << r.value() << " rejected a kind "
                                  << static_cast<int>(e.header.kind) << " message at position "
                                  << e.header.position.value() << ": "
                                  << to_string(applied.error());
      }
    }
  }

  RekeyPlan join(NodeId node, GatewayId origin = GatewayId{0}) {
    RekeyPlan plan = plan_join(node, origin);
    deliver(plan);
    return plan;
  }

  RekeyPlan remove(NodeId node, Cause cause = Cause::kLeave) {
    RekeyPlan plan = plan_remove(node, cause);
    deliver(plan);
    return plan;
  }

  // Joins nodes first, first+1, ... through `origin`, delivering each plan.
  void grow(std::uint32_t first, std::size_t count, GatewayId origin = GatewayId{0}) {
    for (std::size_t i = 0; i < count; ++i)
      join(NodeId{first + static_cast<std::uint32_t>(i)}, origin);
  }

  // Loads km().bundle_for(node) into a fresh keyring for `node` with `node_key` (provisioning).
  void load_bundle(NodeId node, const Key128& node_key) {
    devices_.insert_or_assign(node, Keyring(node, node_key));
    auto bundle = km_.bundle_for(node);
    ASSERT_TRUE(bundle.ok()) << to_string(bundle.error());
    auto applied = devices_.at(node).apply(bundle->wire);
    EXPECT_TRUE(applied.ok()) << to_string(applied.error());
  }

 private:
  crypto::DeterministicRng km_rng_;
  crypto::DeterministicRng key_rng_;
  KeyManager km_;
  std::map<NodeId, Keyring> devices_;
};

// Every current device is at the ledger position, holds |S| + #sets keys, and every pair of
// devices derives the same DEK, the one the key manager's design gives them.
inline ::testing::AssertionResult all_pairs_agree(const Network& net) {
  const KeyManager& km = net.km();
  const SetTable& table = km.table();
  if (net.devices().size() != table.member_count()) {
    return ::testing::AssertionFailure()
           << net.devices().size() << " keyrings for " << table.member_count() << " members";
  }
  for (const auto& [node, member] : table.members()) {
    const Keyring& ring = net.devices().at(node);
    if (ring.position() != km.position()) {
      return ::testing::AssertionFailure()
             << "node " << node.value() << " at position " << ring.position().value()
             << ", ledger at " << km.position().value();
    }
    if (ring.set() != member.set) {
      return ::testing::AssertionFailure() << "node " << node.value() << " in the wrong set";
    }
    const std::size_t expected = table.find_set(member.set)->members.size() + table.set_count();
    if (ring.key_count() != expected) {
      return ::testing::AssertionFailure() << "node " << node.value() << " holds "
                                           << ring.key_count() << " keys, expected " << expected;
    }
    const auto set_key = km.current_key(KeyId::set_key(member.set));
    if (!set_key || ring.set_key() == nullptr || !(*set_key == *ring.set_key())) {
      return ::testing::AssertionFailure() << "node " << node.value() << " has a wrong set key";
    }
  }
  for (auto a = table.members().begin(); a != table.members().end(); ++a) {
    for (auto b = std::next(a); b != table.members().end(); ++b) {
      const SetId sa = a->second.set;
      const SetId sb = b->second.set;
      const auto ka = net.devices().at(a->first).dek(b->first, sb);
      const auto kb = net.devices().at(b->first).dek(a->first, sa);
      const auto design = km.current_key(sa == sb ? KeyId::pairwise_node_key(a->first, b->first)
                                                  : KeyId::pairwise_set_key(sa, sb));
      if (!ka || !kb || !design || !(*ka == *kb) || !(*ka == *design)) {
        return ::testing::AssertionFailure()
               << "nodes " << a->first.value() << " and " << b->first.value()
               << " do not derive the same, designed DEK";
      }
    }
  }
  return ::testing::AssertionSuccess();
}

}  // namespace kmchain::keys::fixture
