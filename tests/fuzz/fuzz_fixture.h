// Shared by the fuzz targets and make_corpus: a tiny deterministic network whose plans are
// delivered to real keyrings, and a snapshot of a keyring's whole state for the atomicity checks.
//
// The network is a pure function of kSeed, so make_corpus (run once, its output committed under
// corpus/) and every fuzz target rebuild exactly the same keys: the seed messages authenticate.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "base/bytes.h"
#include "base/ids.h"
#include "crypto/random.h"
#include "fuzz_assert.h"
#include "keys/key_manager.h"
#include "keys/keyring.h"

namespace kmchain::fuzz {

using crypto::Key128;

inline constexpr std::uint64_t kSeed = 0x6b6d636861696eULL;  // "kmchain"
inline constexpr std::uint16_t kGateways = 2;
inline constexpr std::uint32_t kInitialJoins = 12;

class Network {
 public:
  Network() : rng_(kSeed), km_(kGateways, rng_) {}
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  // Joins through `origin`, delivers the plan; returns its messages.
  std::vector<keys::Envelope> join(GatewayId origin) {
    const NodeId node{(static_cast<std::uint32_t>(origin.value()) << 24) |
                      ++next_node_[origin.value()]};
    const Key128 node_key = rng_.key128();
    devices_.emplace(node, keys::Keyring(node, node_key));
    auto plan = km_.join(node, origin, node_key, rng_.key128());
    KMCHAIN_FUZZ_ASSERT(plan.ok());
    deliver(*plan);
    return std::move(plan->messages);
  }

  std::vector<keys::Envelope> remove(NodeId node) {
    devices_.erase(node);
    auto plan = km_.remove(node, keys::Cause::kLeave, rng_.key128());
    KMCHAIN_FUZZ_ASSERT(plan.ok());
    deliver(*plan);
    return std::move(plan->messages);
  }

  // Twelve joins alternating between the two gateways, then one leave, so the keyrings have
  // applied place and remove refreshes of their own and of other sets.
  void build() {
    for (std::uint32_t i = 0; i < kInitialJoins; ++i) {
      (void)join(GatewayId{static_cast<std::uint16_t>(i % kGateways)});
    }
    (void)remove(NodeId{2});  // gateway 0's second device
  }

  // The placed device holding the most keys (ties: lowest id).
  NodeId richest() const {
    std::optional<NodeId> best;
    std::size_t most = 0;
    for (const auto& [node, ring] : devices_) {
      if (ring.placed() && ring.key_count() > most) {
        most = ring.key_count();
        best = node;
      }
    }
    KMCHAIN_FUZZ_ASSERT(best.has_value());
    return *best;
  }

  const keys::Keyring& device(NodeId node) const { return devices_.at(node); }
  const std::map<NodeId, keys::Keyring>& devices() const { return devices_; }
  keys::KeyManager& manager() { return km_; }

 private:
  void deliver(const keys::RekeyPlan& plan) {
    for (const auto& e : plan.messages) {
      for (NodeId r : e.recipients) {
        auto applied = devices_.at(r).apply(e.wire);
        KMCHAIN_FUZZ_ASSERT(applied.ok());
      }
    }
  }

  crypto::DeterministicRng rng_;
  keys::KeyManager km_;
  std::map<NodeId, keys::Keyring> devices_;
  std::map<std::uint16_t, std::uint32_t> next_node_;
};

// What the fuzz targets start from: a placed keyring (in a set with other members, with pairwise
// set keys) and the same device before placement (its node key only).
struct Fixture {
  keys::Keyring placed;
  keys::Keyring unplaced;
};

inline const Fixture& fixture() {
  static const Fixture f = [] {
    Network net;
    net.build();
    const keys::Keyring& ring = net.device(net.richest());
    KMCHAIN_FUZZ_ASSERT(!ring.pairwise_node_keys().empty());
    KMCHAIN_FUZZ_ASSERT(!ring.pairwise_set_keys().empty());
    return Fixture{ring, keys::Keyring(ring.self(), ring.node_key())};
  }();
  return f;
}

// fuzz_rekey_body's input: four selector bytes, then the body plaintext it seals.
//   [0] kind: 1 + b % 5
//   [1] flags: bit 0 set audience (else device); bit 1 start from the unplaced keyring
//   [2] position: b % 8 indexes body_position() below, relative to the keyring's position
//   [3] fills the 13-byte nonce
inline constexpr std::size_t kBodySelectorBytes = 4;
inline constexpr std::uint8_t kFlagSetAudience = 1;
inline constexpr std::uint8_t kFlagUnplaced = 2;
enum PositionCode : std::uint8_t {
  kAt = 0,        // a pairwise node key's position
  kNext = 1,      // a refresh's (and the smallest a bundle may take)
  kSkipOne = 2,   // a gap
  kPrevious = 3,  // a replay
  kFarAhead = 4,  // a bundle that catches up
  kMax = 5,       // the largest position
  kZero = 6,      // position 0
  kNextAlso = 7,  // kNext again, so half the codes are in order
};
inline std::uint64_t body_position(std::uint8_t code, std::uint64_t at) {
  switch (code % 8) {
    case kAt:
      return at;
    case kSkipOne:
      return at + 2;
    case kPrevious:
      return at - 1;
    case kFarAhead:
      return at + 1000;
    case kMax:
      return UINT64_MAX;
    case kZero:
      return 0;
    default:
      return at + 1;
  }
}

// Every observable piece of a keyring's state, serialized, so "unchanged" is one comparison.
inline Bytes snapshot(const keys::Keyring& k) {
  Bytes out;
  auto put_u64 = [&](std::uint64_t v) {
    for (int shift = 56; shift >= 0; shift -= 8)
      out.push_back(static_cast<std::uint8_t>(v >> shift));
  };
  auto put_key = [&](const Key128& key) { out.insert(out.end(), key.data(), key.data() + 16); };
  put_u64(k.self().value());
  put_u64(k.position().value());
  put_u64(k.key_count());
  put_key(k.node_key());
  put_u64(k.placed() ? 1 : 0);
  if (k.placed()) {
    put_u64(k.set()->value());
    put_key(*k.set_key());
  }
  put_u64(k.pairwise_node_keys().size());
  for (const auto& [node, key] : k.pairwise_node_keys()) {
    put_u64(node.value());
    put_key(key);
  }
  put_u64(k.pairwise_set_keys().size());
  for (const auto& [set, key] : k.pairwise_set_keys()) {
    put_u64(set.value());
    put_key(key);
  }
  return out;
}

// The keyring's structural invariants (keyring.h): sorted unique pairwise vectors, no pairwise
// node key with itself, no pairwise set key with its own set, and the key count they imply.
inline bool well_formed(const keys::Keyring& k) {
  const auto& nodes = k.pairwise_node_keys();
  const auto& sets = k.pairwise_set_keys();
  if (!k.placed()) return k.key_count() == 1 && nodes.empty() && sets.empty();
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i].first == k.self()) return false;
    if (i > 0 && !(nodes[i - 1].first < nodes[i].first)) return false;
  }
  for (std::size_t i = 0; i < sets.size(); ++i) {
    if (sets[i].first == *k.set()) return false;
    if (i > 0 && !(sets[i - 1].first < sets[i].first)) return false;
  }
  return k.key_count() == 2 + nodes.size() + sets.size();
}

}  // namespace kmchain::fuzz
