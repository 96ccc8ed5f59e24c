// Blocks: an ordered batch of transactions and the header that chains it to its predecessor
// (docs/protocol.md section 3). A block is final once a commit certificate (certificate.h) holds
// precommits for its hash from more than 2/3 of the voting power.
//
// Wire format, big-endian. The header (115 bytes):
//
//   offset size field
//   0      1    version            2 (1 carried bare 57-byte transactions)
//   1      8    height             1 for the first block after the genesis
//   9      32   previous hash      block_hash of block height - 1 (zeros at height 1)
//   41     32   transactions root  Merkle root (merkle.h) over the encoded transactions
//   73     32   state hash         the replicated state after block height - 1
//   105    2    proposer           GatewayId
//   107    8    timestamp ms       the proposer's clock, milliseconds since the Unix epoch
//
// then the body:
//
//   115    2    count              at most limits::kBlockTransactionsMax
//   117    ...  transactions       signed_transaction.h (125 or 189 bytes each), in execution
//                                  order
//
// block_hash = SHA-256("kmchain/v1/block" || the 115 header bytes). The header commits to the
// transactions through their root, which decode_block recomputes: a decoded block's hash binds
// every byte of it. The decoder checks only the encoding; the chain (height, previous hash,
// proposer, time, state) is checked by whoever applies the block.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/ids.h"
#include "base/limits.h"
#include "base/result.h"
#include "ledger/hashing.h"
#include "ledger/signed_transaction.h"
#include "ledger/transaction.h"

namespace kmchain::ledger {

inline constexpr std::uint8_t kBlockVersion = 2;
inline constexpr std::size_t kBlockHeaderBytes = 1 + 8 + 32 + 32 + 32 + 2 + 8;
inline constexpr std::size_t kBlockCountBytes = 2;
inline constexpr std::size_t kBlockBytesMin = kBlockHeaderBytes + kBlockCountBytes;
static_assert(kBlockHeaderBytes == 115);
static_assert(limits::kBlockTransactionsMax <= UINT16_MAX, "the count is a u16");
static_assert(kBlockBytesMin + limits::kBlockTransactionsMax * kSignedTransactionWithConsentBytes <=
                  limits::kBlockBytesMax,
              "a full block must fit the block byte bound");

struct BlockHeader {
  Height height;
  Hash256 previous_hash{};
  Hash256 transactions_root{};
  Hash256 state_hash{};  // the state after the previous block: all correct gateways agree on it
  GatewayId proposer;
  std::uint64_t timestamp_ms = 0;

  friend bool operator==(const BlockHeader&, const BlockHeader&) = default;
};

struct Block {
  BlockHeader header;
  std::vector<SignedTransaction> transactions;

  friend bool operator==(const Block&, const Block&) = default;
};

enum class BlockErrorCode : std::uint8_t {
  kTruncated = 1,            // shorter than the header and count, or than the count announces
  kBadVersion = 2,           // unknown version byte
  kTooManyTransactions = 3,  // count above limits::kBlockTransactionsMax
  kTrailingBytes = 4,        // bytes after the last transaction
  kBadTransaction = 5,       // a transaction does not decode (BlockError::transaction says which)
  kRootMismatch = 6,         // the header's transactions root is not the transactions' root
};
const char* to_string(BlockErrorCode code);

struct BlockError {
  BlockErrorCode code{};
  // For kBadTransaction: the index of the first bad transaction and why it is bad.
  std::uint16_t transaction = 0;
  SignedTxError transaction_error{};

  friend bool operator==(const BlockError&, const BlockError&) = default;
};
// "bad transaction 3: unknown operation", or the code's name.
std::string to_string(const BlockError& e);

// Merkle root over the envelopes' encodings, in order.
Hash256 transactions_root(std::span<const SignedTransaction> transactions);

// A block of `transactions` whose header's root is set to theirs.
Block make_block(BlockHeader header, std::vector<SignedTransaction> transactions);

std::array<std::uint8_t, kBlockHeaderBytes> encode(const BlockHeader& header);
// Writes the header as given: a block whose root does not match its transactions encodes, and
// is refused by decode_block. At most limits::kBlockTransactionsMax transactions (checked).
Bytes encode(const Block& block);

Result<Block, BlockError> decode_block(ByteView bytes);

Hash256 block_hash(const BlockHeader& header);
inline Hash256 block_hash(const Block& block) {
  return block_hash(block.header);
}

}  // namespace kmchain::ledger
