// Blocks (ledger/block.h): the documented layout and hash (known_values.py), round trips from
// empty to full (signed envelopes, with and without a device's consent), every truncation and
// extension, and every single-byte change of an encoded
// block either refused with the error its field predicts or decoded to a block with another
// hash.
#include "ledger/block.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <vector>

#include "ledger/merkle.h"
#include "ledger_fixture.h"
#include "support/hex.h"

namespace kmchain::ledger {
namespace {

using fixture::sample_block;
using kmchain::testing::unhex;

// Offsets of the documented layout.
constexpr std::size_t kVersionAt = 0;
constexpr std::size_t kRootAt = 41;
constexpr std::size_t kStateAt = 73;
constexpr std::size_t kCountAt = 115;
constexpr std::size_t kTransactionsAt = 117;

BlockError error(BlockErrorCode code) {
  return BlockError{code, 0, {}};
}

TEST(Block, HeaderLayoutAndHashAreTheDocumentedOnes) {
  const Block block = sample_block();
  // known_values.py: the header of a block at height 7 over the three sample transactions.
  EXPECT_EQ(to_hex(encode(block.header)),
            "02"                                                                // version
            "0000000000000007"                                                  // height
            "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"  // previous
            "3bc42e347c16f36df6416f0d11a4a21347bba1f99d6b4067c41813e994aaa2e0"  // root
            "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"  // state
            "0003"                                                              // proposer
            "0000018bcfe56800");                                                // time
  // Python 3: hashlib.sha256(b"kmchain/v1/block" + header).hexdigest()
  EXPECT_EQ(to_hex(block_hash(block)),
            "1e70c450f7c851d70fa0d042080601393dc03f974473acd01f96166d956c11ed");

  const Bytes wire = encode(block);
  // The samples are signed envelopes: the leave (the second) carries a device's consent.
  ASSERT_EQ(wire.size(),
            kBlockBytesMin + 2 * kSignedTransactionBytes + kSignedTransactionWithConsentBytes);
  const auto header = encode(block.header);
  EXPECT_EQ(Bytes(wire.begin(), wire.begin() + kBlockHeaderBytes),
            Bytes(header.begin(), header.end()));
  EXPECT_EQ(fixture::be_at(wire, kCountAt, 2), 3u);
  std::size_t at = kTransactionsAt;
  for (std::size_t i = 0; i < 3; ++i) {
    const Bytes tx = encode(block.transactions[i]);
    EXPECT_EQ(Bytes(wire.begin() + static_cast<std::ptrdiff_t>(at),
                    wire.begin() + static_cast<std::ptrdiff_t>(at + tx.size())),
              tx);
    at += tx.size();
  }
}

std::size_t transactions_bytes(const Block& block) {
  std::size_t n = 0;
  for (const SignedTransaction& tx : block.transactions)
    n += encoded_size(tx);
  return n;
}

// Where transaction i starts in an encoded block.
std::size_t offset_of(const Block& block, std::size_t i) {
  std::size_t at = kTransactionsAt;
  for (std::size_t k = 0; k < i; ++k)
    at += encoded_size(block.transactions[k]);
  return at;
}

TEST(Block, RoundTripsFromEmptyToFull) {
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{2}, std::size_t{3},
                        std::size_t{17}, limits::kBlockTransactionsMax}) {
    const Block block = sample_block(n);
    const Bytes wire = encode(block);
    EXPECT_EQ(wire.size(), kBlockBytesMin + transactions_bytes(block));
    EXPECT_LE(wire.size(), limits::kBlockBytesMax);
    auto decoded = decode_block(wire);
    ASSERT_TRUE(decoded.ok()) << n << ": " << to_string(decoded.error());
    EXPECT_EQ(*decoded, block);
    EXPECT_EQ(encode(*decoded), wire);
  }
}

RC_GTEST_PROP(BlockProperty, RoundTripsAnyHeaderAndTransactions, ()) {
  BlockHeader h;
  h.height = Height{*rc::gen::arbitrary<std::uint64_t>()};
  h.previous_hash = *rc::gen::arbitrary<Hash256>();
  h.state_hash = *rc::gen::arbitrary<Hash256>();
  h.proposer = GatewayId{*rc::gen::arbitrary<std::uint16_t>()};
  h.timestamp_ms = *rc::gen::arbitrary<std::uint64_t>();
  const auto count = *rc::gen::inRange<std::uint32_t>(0, 40);
  const auto first = *rc::gen::arbitrary<std::uint32_t>();
  std::vector<SignedTransaction> txs;
  for (std::uint32_t i = 0; i < count; ++i)
    txs.push_back(i % 5 == 1 ? fixture::sample_signed_tx(1)
                             : fixture::numbered_signed_tx(first + i));
  const Block block = make_block(h, txs);
  auto decoded = decode_block(encode(block));
  RC_ASSERT(decoded.ok());
  RC_ASSERT(*decoded == block);
  RC_ASSERT(block_hash(*decoded) == block_hash(block));
}

TEST(Block, EveryTruncationIsTruncated) {
  const Bytes wire = encode(sample_block());
  for (std::size_t n = 0; n < wire.size(); ++n) {
    auto decoded = decode_block(ByteView(wire).first(n));
    ASSERT_FALSE(decoded.ok()) << n;
    EXPECT_EQ(decoded.error(), error(BlockErrorCode::kTruncated)) << n;
  }
}

TEST(Block, EveryExtensionIsTrailingBytes) {
  for (std::size_t n : {std::size_t{0}, std::size_t{3}}) {
    Bytes wire = encode(sample_block(n));
    for (std::size_t extra = 1; extra <= 2 * kSignedTransactionWithConsentBytes; ++extra) {
      wire.push_back(static_cast<std::uint8_t>(extra));
      auto decoded = decode_block(wire);
      ASSERT_FALSE(decoded.ok()) << extra;
      EXPECT_EQ(decoded.error(), error(BlockErrorCode::kTrailingBytes)) << extra;
    }
  }
}

TEST(Block, CountAboveTheBoundIsRefusedBeforeTheLength) {
  Bytes wire = encode(sample_block(0));
  for (std::size_t count : {limits::kBlockTransactionsMax + 1, std::size_t{0xffff}}) {
    wire[kCountAt] = static_cast<std::uint8_t>(count >> 8);
    wire[kCountAt + 1] = static_cast<std::uint8_t>(count);
    auto decoded = decode_block(wire);
    ASSERT_FALSE(decoded.ok());
    EXPECT_EQ(decoded.error(), error(BlockErrorCode::kTooManyTransactions));
  }
}

TEST(Block, BadTransactionSaysWhichAndWhy) {
  const Block block = sample_block(5);
  for (std::size_t bad = 0; bad < 5; ++bad) {
    Bytes wire = encode(block);
    wire[offset_of(block, bad) + 3] = 0;  // the inner transaction's operation 0
    // A later bad one as well: the first is reported.
    if (bad + 1 < 5) wire[offset_of(block, bad + 1)] = 9;  // version 9
    auto decoded = decode_block(wire);
    ASSERT_FALSE(decoded.ok());
    const BlockError expected{BlockErrorCode::kBadTransaction, static_cast<std::uint16_t>(bad),
                              SignedTxError::kBadTransaction};
    EXPECT_EQ(decoded.error(), expected);
    EXPECT_EQ(to_string(decoded.error()),
              "bad transaction " + std::to_string(bad) + ": bad transaction");
  }
}

TEST(Block, ARootThatIsNotTheTransactionsRootIsRefused) {
  Block block = sample_block();
  block.header.transactions_root = transactions_root({});  // the empty list's root
  auto decoded = decode_block(encode(block));
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error(), error(BlockErrorCode::kRootMismatch));
  // Reordered transactions under the original root.
  block = sample_block();
  std::swap(block.transactions[0], block.transactions[2]);
  decoded = decode_block(encode(block));
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error(), error(BlockErrorCode::kRootMismatch));
}

// What decoding `block`'s encoding with byte `at` set to `value` must give, from the documented
// layout: nullopt if it must decode. A changed consent flag (0 <-> 1) moves every later byte of
// the envelope; that change is only known to be refused (kAnyRefusal).
const BlockError kAnyRefusal{static_cast<BlockErrorCode>(0xff), 0, {}};
std::optional<BlockError> expected_error(const Block& block, const Bytes& wire, std::size_t at,
                                         std::uint8_t value) {
  if (at == kVersionAt) return error(BlockErrorCode::kBadVersion);
  if (at >= kRootAt && at < kStateAt) return error(BlockErrorCode::kRootMismatch);
  if (at == kCountAt || at == kCountAt + 1) {
    const std::size_t count = fixture::be_at(fixture::with_byte(wire, at, value), kCountAt, 2);
    if (count > limits::kBlockTransactionsMax) return error(BlockErrorCode::kTooManyTransactions);
    return kAnyRefusal;  // truncated, or trailing bytes, as the envelopes' lengths fall
  }
  if (at >= kTransactionsAt) {
    std::size_t index = 0;
    while (index + 1 < block.transactions.size() && offset_of(block, index + 1) <= at)
      ++index;
    const std::size_t in = at - offset_of(block, index);
    const auto bad = [&](SignedTxError e) {
      return BlockError{BlockErrorCode::kBadTransaction, static_cast<std::uint16_t>(index), e};
    };
    if (in == 0) return bad(SignedTxError::kBadVersion);
    if (in == 3 && (value < 1 || value > 4)) return bad(SignedTxError::kBadTransaction);
    if (in == 60) return value > 1 ? bad(SignedTxError::kBadConsentFlag) : kAnyRefusal;
    return error(BlockErrorCode::kRootMismatch);  // another transaction under the same root
  }
  return std::nullopt;  // height, previous hash, state hash, proposer, timestamp
}

TEST(Block, EverySingleByteChangeIsRefusedOrChangesTheHash) {
  const Block block = sample_block(2);
  const Bytes wire = encode(block);
  const Hash256 original = block_hash(block);
  std::size_t refused = 0;
  std::size_t decoded_ok = 0;
  fixture::for_each_byte_change(wire, [&](std::size_t at, int, const Bytes& changed) {
    auto decoded = decode_block(changed);
    const auto expected = expected_error(block, wire, at, changed[at]);
    if (expected == kAnyRefusal) {
      ASSERT_FALSE(decoded.ok()) << "byte " << at << " = " << int{changed[at]};
    } else {
      ASSERT_TRUE(fixture::as_expected(decoded, expected))
          << "byte " << at << " = " << int{changed[at]};
    }
    if (!decoded) {
      ++refused;
      return;
    }
    ASSERT_EQ(encode(*decoded), changed);
    ASSERT_NE(block_hash(*decoded), original) << "byte " << at;
    ++decoded_ok;
  });
  // The header's plain fields: 8 + 32 + 32 + 2 + 8 bytes, 255 values each.
  EXPECT_EQ(decoded_ok, (8u + 32 + 32 + 2 + 8) * 255);
  EXPECT_EQ(refused + decoded_ok, wire.size() * 255);
}

TEST(Block, HashCoversEveryHeaderField) {
  const BlockHeader base = sample_block().header;
  std::set<Hash256> hashes{block_hash(base)};
  BlockHeader h = base;
  h.height = Height{8};
  hashes.insert(block_hash(h));
  h = base;
  h.previous_hash[0] ^= 1;
  hashes.insert(block_hash(h));
  h = base;
  h.transactions_root[31] ^= 1;
  hashes.insert(block_hash(h));
  h = base;
  h.state_hash[5] ^= 1;
  hashes.insert(block_hash(h));
  h = base;
  h.proposer = GatewayId{4};
  hashes.insert(block_hash(h));
  h = base;
  h.timestamp_ms += 1;
  hashes.insert(block_hash(h));
  EXPECT_EQ(hashes.size(), 7u);
  // Domain-separated from a plain hash of the header.
  EXPECT_NE(block_hash(base), crypto::sha256(encode(base)));
}

TEST(Block, ErrorsHaveNames) {
  EXPECT_EQ(to_string(error(BlockErrorCode::kTruncated)), "truncated");
  EXPECT_EQ(to_string(error(BlockErrorCode::kBadVersion)), "bad version");
  EXPECT_EQ(to_string(error(BlockErrorCode::kTooManyTransactions)), "too many transactions");
  EXPECT_EQ(to_string(error(BlockErrorCode::kTrailingBytes)), "trailing bytes");
  EXPECT_EQ(to_string(error(BlockErrorCode::kRootMismatch)), "transactions root mismatch");
}

}  // namespace
}  // namespace kmchain::ledger
