// The identity of a Layer-1 key: its class and the ids it belongs to. It names keys in KDF
// labels, so that two different keys can never be refreshed into the same value.
#pragma once

#include <algorithm>
#include <compare>
#include <cstdint>

#include "base/bytes.h"
#include "base/ids.h"

namespace kmchain::keys {

enum class KeyClass : std::uint8_t {
  kNodeKey = 1,          // KEK shared by a device and its home gateway
  kSetKey = 2,           // KEK shared by the members of a set
  kPairwiseNodeKey = 3,  // DEK of two members of one set
  kPairwiseSetKey = 4,   // DEK of any member of one set with any member of another
};

struct KeyId {
  KeyClass key_class;
  std::uint32_t a = 0;  // node or set; for pairwise keys the smaller id
  std::uint32_t b = 0;  // for pairwise keys the larger id, else 0

  static KeyId node_key(NodeId n) { return {KeyClass::kNodeKey, n.value(), 0}; }
  static KeyId set_key(SetId s) { return {KeyClass::kSetKey, s.value(), 0}; }
  static KeyId pairwise_node_key(NodeId x, NodeId y) {
    return {KeyClass::kPairwiseNodeKey, std::min(x, y).value(), std::max(x, y).value()};
  }
  static KeyId pairwise_set_key(SetId x, SetId y) {
    return {KeyClass::kPairwiseSetKey, std::min(x, y).value(), std::max(x, y).value()};
  }

  auto operator<=>(const KeyId&) const = default;

  // 9 bytes: class, a, b (big-endian).
  void encode(Bytes& out) const;
};

}  // namespace kmchain::keys
