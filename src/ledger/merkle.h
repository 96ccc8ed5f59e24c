// The Merkle Tree Hash of RFC 6962 section 2.1 (Certificate Transparency) over a list of byte
// strings: a block's transactions root, so a block's hash commits to its transactions and a
// later inclusion proof can show one transaction without the others.
//
//   MTH({})        = SHA-256()
//   MTH({d0})      = SHA-256(0x00 || d0)                        leaf hash
//   MTH(D[0..n))   = SHA-256(0x01 || MTH(D[0..k)) || MTH(D[k..n)))   node hash, n > 1,
//                    k the largest power of two smaller than n
//
// The 0x00/0x01 prefixes keep a leaf from being read as an inner node (second preimages).
#pragma once

#include <span>
#include <vector>

#include "base/bytes.h"
#include "ledger/hashing.h"

namespace kmchain::ledger {

Hash256 merkle_leaf_hash(ByteView data);
Hash256 merkle_node_hash(const Hash256& left, const Hash256& right);

// MTH of the list whose leaf hashes are given, in order. Consumes them.
Hash256 merkle_root_of_leaf_hashes(std::vector<Hash256> leaf_hashes);
// MTH of the list.
Hash256 merkle_root(std::span<const ByteView> leaves);

}  // namespace kmchain::ledger
