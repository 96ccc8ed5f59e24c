// Shared by the channel tests and fuzz_d2d_record: fixed keys and ids, an in-memory
// CounterStore, and a tiny two-device setup whose receiver looks its DEKs up in a DekHistory.
// No gtest here: the fuzz target uses it too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>

#include "base/bytes.h"
#include "base/ids.h"
#include "channel/dek_history.h"
#include "channel/receiver.h"
#include "channel/record.h"
#include "channel/sender.h"
#include "crypto/secret.h"
#include "keys/key_id.h"
#include "support/counting.h"
#include "support/memory_counter_store.h"

namespace kmchain::channel::fixture {

using crypto::Key128;
using keys::KeyClass;
using keys::KeyId;
using kmchain::testing::counting_key;
using kmchain::testing::MemoryCounterStore;

inline ContextId context(std::uint8_t first = 0xc0) {
  return kmchain::testing::counting<32>(first);
}

inline Bytes text(std::size_t size, std::uint8_t first = 0x20) {
  Bytes out(size);
  for (std::size_t i = 0; i < size; ++i)
    out[i] = static_cast<std::uint8_t>(first + i);
  return out;
}

// Devices 0x01000001 and 0x01000002 in set 0x01000000, device 0x02000007 in set 0x02000000.
inline constexpr NodeId kAlice{0x01000001};
inline constexpr NodeId kBob{0x01000002};
inline constexpr NodeId kCarol{0x02000007};
inline constexpr SetId kSetA{0x01000000};
inline constexpr SetId kSetC{0x02000000};

inline SetId set_of(NodeId n) {
  return SetId{n.value() & 0xff000000u};
}

// The DEK two devices share under `key_class`.
inline KeyId dek_id(NodeId a, NodeId b, KeyClass key_class) {
  return key_class == KeyClass::kPairwiseNodeKey ? KeyId::pairwise_node_key(a, b)
                                                 : KeyId::pairwise_set_key(set_of(a), set_of(b));
}

// A receiver's key lookup over its DekHistory: the pairwise node key with a member of its own
// set, the pairwise set key with a member of another set; nothing otherwise.
inline KeyLookup lookup_in(const DekHistory& history, NodeId self) {
  return [&history, self](NodeId sender, KeyClass key_class, std::uint64_t now_ms) {
    const bool same_set = set_of(sender) == set_of(self);
    if (sender == self) return DekCandidates{};
    if ((key_class == KeyClass::kPairwiseNodeKey) != same_set) return DekCandidates{};
    return history.candidates(dek_id(self, sender, key_class), now_ms);
  };
}

inline const Key128 kNodeDek = counting_key(0x10);  // Alice and Bob's pairwise node key
inline const Key128 kSetDek = counting_key(0x60);   // sets A and C's pairwise set key
inline constexpr std::uint64_t kEpoch = 7;
inline constexpr std::uint64_t kGraceMs = 30'000;

// Alice sends; Bob (same set) and Carol (other set) receive.
struct Pair {
  explicit Pair(std::uint64_t grace_ms = kGraceMs)
      : sender(kAlice, context(), store),
        bob(kBob, context()),
        carol(kCarol, context()),
        bob_keys(grace_ms),
        carol_keys(grace_ms) {
    bob_keys.update(KeyId::pairwise_node_key(kAlice, kBob), kNodeDek, kEpoch, 0);
    carol_keys.update(KeyId::pairwise_set_key(kSetA, kSetC), kSetDek, kEpoch, 0);
  }

  Bytes seal_to_bob(ByteView plaintext, const Key128& key = kNodeDek,
                    std::uint64_t epoch = kEpoch) {
    auto r = sender.seal(kBob, KeyClass::kPairwiseNodeKey, epoch, key, plaintext);
    return r.ok() ? std::move(*r) : Bytes{};
  }
  Bytes seal_to_carol(ByteView plaintext, const Key128& key = kSetDek,
                      std::uint64_t epoch = kEpoch) {
    auto r = sender.seal(kCarol, KeyClass::kPairwiseSetKey, epoch, key, plaintext);
    return r.ok() ? std::move(*r) : Bytes{};
  }
  Result<Opened, ChannelError> bob_opens(ByteView record, std::uint64_t now_ms = 0) {
    return bob.open(record, lookup_in(bob_keys, kBob), now_ms);
  }
  Result<Opened, ChannelError> carol_opens(ByteView record, std::uint64_t now_ms = 0) {
    return carol.open(record, lookup_in(carol_keys, kCarol), now_ms);
  }

  MemoryCounterStore store;
  ChannelSender sender;
  ChannelReceiver bob;
  ChannelReceiver carol;
  DekHistory bob_keys;
  DekHistory carol_keys;
};

}  // namespace kmchain::channel::fixture
