#include "ledger/merkle.h"

#include <array>
#include <cstdint>
#include <utility>

namespace kmchain::ledger {

Hash256 merkle_leaf_hash(ByteView data) {
  static constexpr std::array<std::uint8_t, 1> kLeafPrefix{0x00};
  crypto::Sha256 h;
  h.update(kLeafPrefix);
  h.update(data);
  return h.finish();
}

Hash256 merkle_node_hash(const Hash256& left, const Hash256& right) {
  static constexpr std::array<std::uint8_t, 1> kNodePrefix{0x01};
  crypto::Sha256 h;
  h.update(kNodePrefix);
  h.update(left);
  h.update(right);
  return h.finish();
}

// Bottom-up, one level at a time: pair neighbours, and carry an odd last node up unchanged.
// This is RFC 6962's split at the largest power of two k < n: the left k leaves form a perfect
// subtree, which pairing reduces exactly as the recursion does, while the leftover node of a
// level is the root of the ragged right subtree waiting for its sibling higher up. Iterative,
// so the depth (at most 12 for a block) never touches the stack; tests/ledger compare it with a
// literal transcription of the recursion.
Hash256 merkle_root_of_leaf_hashes(std::vector<Hash256> level) {
  if (level.empty()) return crypto::sha256({});
  while (level.size() > 1) {
    const std::size_t pairs = level.size() / 2;
    for (std::size_t i = 0; i < pairs; ++i) {
      level[i] = merkle_node_hash(level[2 * i], level[2 * i + 1]);
    }
    if (level.size() % 2 == 1) {
      level[pairs] = level.back();
      level.resize(pairs + 1);
    } else {
      level.resize(pairs);
    }
  }
  return level.front();
}

Hash256 merkle_root(std::span<const ByteView> leaves) {
  std::vector<Hash256> hashes;
  hashes.reserve(leaves.size());
  for (ByteView leaf : leaves)
    hashes.push_back(merkle_leaf_hash(leaf));
  return merkle_root_of_leaf_hashes(std::move(hashes));
}

}  // namespace kmchain::ledger
