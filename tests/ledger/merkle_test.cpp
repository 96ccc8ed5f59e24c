// The Merkle tree hash (ledger/merkle.h) against RFC 6962 section 2.1: the Certificate
// Transparency reference vectors, values computed independently in Python (known_values.py),
// and a literal transcription of the RFC's recursive definition for every size up to 300 and
// for random lists.
#include "ledger/merkle.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "ledger/block.h"
#include "ledger_fixture.h"
#include "support/hex.h"

namespace kmchain::ledger {
namespace {

using kmchain::testing::unhex;

// RFC 6962 section 2.1, word for word: MTH({}) = SHA-256(); MTH({d0}) = SHA-256(0x00 || d0);
// for n > 1 and k the largest power of two smaller than n,
// MTH(D[n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n])).
Hash256 naive_mth(const std::vector<Bytes>& d, std::size_t begin, std::size_t end) {
  const std::size_t n = end - begin;
  if (n == 0) return crypto::sha256({});
  if (n == 1) {
    Bytes leaf{0x00};
    leaf.insert(leaf.end(), d[begin].begin(), d[begin].end());
    return crypto::sha256(leaf);
  }
  std::size_t k = 1;
  while (2 * k < n)
    k *= 2;
  const Hash256 left = naive_mth(d, begin, begin + k);
  const Hash256 right = naive_mth(d, begin + k, end);
  Bytes node{0x01};
  node.insert(node.end(), left.begin(), left.end());
  node.insert(node.end(), right.begin(), right.end());
  return crypto::sha256(node);
}

Hash256 naive_mth(const std::vector<Bytes>& d) {
  return naive_mth(d, 0, d.size());
}

Hash256 root_of(const std::vector<Bytes>& d) {
  std::vector<ByteView> views(d.begin(), d.end());
  return merkle_root(views);
}

// The Certificate Transparency reference inputs and tree heads for sizes 0..8, as published
// with the RFC 6962 implementations (certificate-transparency, trillian's merkle tests) and
// recomputed by known_values.py.
const char* const kCtLeaves[] = {"",
                                 "00",
                                 "10",
                                 "2021",
                                 "3031",
                                 "40414243",
                                 "5051525354555657",
                                 "606162636465666768696a6b6c6d6e6f"};
const char* const kCtRoots[] = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

TEST(Merkle, CertificateTransparencyReferenceRoots) {
  std::vector<Bytes> leaves;
  for (std::size_t n = 0; n <= 8; ++n) {
    EXPECT_EQ(to_hex(root_of(leaves)), kCtRoots[n]) << n << " leaves";
    EXPECT_EQ(to_hex(naive_mth(leaves)), kCtRoots[n]) << n << " leaves";
    if (n < 8) leaves.push_back(unhex(kCtLeaves[n]));
  }
}

// Leaf i is the single byte i. Python 3 (known_values.py):
//   mth([bytes([i]) for i in range(n)]).hex()
TEST(Merkle, RootsComputedIndependently) {
  const std::pair<std::size_t, const char*> expected[] = {
      {9, "162a21c2230e0284ea38cb8739ee4bb75947a1acd5d529c638ec068969fb3c4a"},
      {13, "df5ee130e5a247600d190c31074458de3c0dc58f0b0d8a6a2b3dd4fd7e569501"},
      {16, "93f2bd0cd60b2e597cf53fb12ae63ed157e0c10efbfe097d23caf8a5f59c6e27"},
      {17, "8e31c4ca74a9e3449f253ee8cbe60e07149e3a1398e6e3f0f4a3c312a9fe14f3"},
      {31, "18d47208b4a4140068c701c4bc8d831e19dd0f1f1124fd793c65ba08fbb61b2e"},
      {33, "1ef78c0bde9f58143b0600eb015b6b7c76e89b6af0ca70d80be3c56e3289de97"},
      {64, "4433a69f32158463382405ec957c31b8bc89a1f08964b920f6cf53dc13098cb3"},
  };
  for (const auto& [n, root] : expected) {
    std::vector<Bytes> leaves;
    for (std::size_t i = 0; i < n; ++i)
      leaves.push_back(Bytes{static_cast<std::uint8_t>(i)});
    EXPECT_EQ(to_hex(root_of(leaves)), root) << n << " leaves";
  }
}

TEST(Merkle, EverySizeUpTo300MatchesTheRecursiveDefinition) {
  std::vector<Bytes> leaves;
  for (std::size_t n = 0; n <= 300; ++n) {
    ASSERT_EQ(root_of(leaves), naive_mth(leaves)) << n << " leaves";
    leaves.push_back(Bytes(n % 7, static_cast<std::uint8_t>(n)));
  }
}

RC_GTEST_PROP(MerkleProperty, MatchesTheRecursiveDefinition, ()) {
  const auto leaves = *rc::gen::container<std::vector<Bytes>>(rc::gen::arbitrary<Bytes>());
  RC_ASSERT(root_of(leaves) == naive_mth(leaves));
}

TEST(Merkle, LeafAndNodeHashesAreDomainSeparated) {
  // A leaf whose data is an inner node's preimage does not hash like that node.
  const Hash256 a = merkle_leaf_hash(unhex("00"));
  const Hash256 b = merkle_leaf_hash(unhex("10"));
  Bytes node_preimage(a.begin(), a.end());
  node_preimage.insert(node_preimage.end(), b.begin(), b.end());
  EXPECT_NE(merkle_leaf_hash(node_preimage), merkle_node_hash(a, b));
  // And the two primitives are RFC 6962's: the reference tree of leaves "" and "00".
  EXPECT_EQ(to_hex(merkle_node_hash(merkle_leaf_hash({}), a)), kCtRoots[2]);
  EXPECT_EQ(to_hex(merkle_leaf_hash({})), kCtRoots[1]);
}

TEST(Merkle, OrderMatters) {
  const std::vector<Bytes> ab{unhex("00"), unhex("10")};
  const std::vector<Bytes> ba{unhex("10"), unhex("00")};
  EXPECT_NE(root_of(ab), root_of(ba));
}

// The transactions root is the tree over the signed envelopes' encodings (known_values.py).
TEST(Merkle, TransactionsRootOfTheSampleBlock) {
  const std::vector<SignedTransaction> txs{
      fixture::sample_signed_tx(0), fixture::sample_signed_tx(1), fixture::sample_signed_tx(2)};
  EXPECT_EQ(to_hex(transactions_root(txs)),
            "3bc42e347c16f36df6416f0d11a4a21347bba1f99d6b4067c41813e994aaa2e0");
  std::vector<Bytes> encoded;
  for (const SignedTransaction& tx : txs)
    encoded.push_back(encode(tx));
  EXPECT_EQ(transactions_root(txs), naive_mth(encoded));
  EXPECT_EQ(to_hex(transactions_root({})), kCtRoots[0]);
}

}  // namespace
}  // namespace kmchain::ledger
