#include "ledger/block.h"

#include <algorithm>
#include <utility>

#include "base/check.h"
#include "codec/byte_reader.h"
#include "codec/byte_writer.h"
#include "ledger/merkle.h"

namespace kmchain::ledger {

const char* to_string(BlockErrorCode code) {
  switch (code) {
    case BlockErrorCode::kTruncated:
      return "truncated";
    case BlockErrorCode::kBadVersion:
      return "bad version";
    case BlockErrorCode::kTooManyTransactions:
      return "too many transactions";
    case BlockErrorCode::kTrailingBytes:
      return "trailing bytes";
    case BlockErrorCode::kBadTransaction:
      return "bad transaction";
    case BlockErrorCode::kRootMismatch:
      return "transactions root mismatch";
  }
  return "unknown block error";
}

std::string to_string(const BlockError& e) {
  if (e.code != BlockErrorCode::kBadTransaction) return to_string(e.code);
  return std::string("bad transaction ") + std::to_string(e.transaction) + ": " +
         to_string(e.transaction_error);
}

Hash256 transactions_root(std::span<const SignedTransaction> transactions) {
  std::vector<Hash256> leaves;
  leaves.reserve(transactions.size());
  for (const SignedTransaction& tx : transactions)
    leaves.push_back(merkle_leaf_hash(encode(tx)));
  return merkle_root_of_leaf_hashes(std::move(leaves));
}

Block make_block(BlockHeader header, std::vector<SignedTransaction> transactions) {
  header.transactions_root = transactions_root(transactions);
  return Block{header, std::move(transactions)};
}

namespace {

void write_header(codec::ByteWriter& w, const BlockHeader& h) {
  w.u8(kBlockVersion);
  w.u64(h.height.value());
  w.raw(h.previous_hash);
  w.raw(h.transactions_root);
  w.raw(h.state_hash);
  w.u16(h.proposer.value());
  w.u64(h.timestamp_ms);
}

}  // namespace

std::array<std::uint8_t, kBlockHeaderBytes> encode(const BlockHeader& header) {
  Bytes out;
  out.reserve(kBlockHeaderBytes);
  codec::ByteWriter w(out);
  write_header(w, header);
  KMCHAIN_CHECK(out.size() == kBlockHeaderBytes);
  std::array<std::uint8_t, kBlockHeaderBytes> encoded{};
  std::copy(out.begin(), out.end(), encoded.begin());
  return encoded;
}

Bytes encode(const Block& block) {
  KMCHAIN_CHECK(block.transactions.size() <= limits::kBlockTransactionsMax);
  Bytes out;
  std::size_t size = kBlockBytesMin;
  for (const SignedTransaction& tx : block.transactions)
    size += encoded_size(tx);
  out.reserve(size);
  codec::ByteWriter w(out);
  write_header(w, block.header);
  w.u16(static_cast<std::uint16_t>(block.transactions.size()));
  for (const SignedTransaction& tx : block.transactions)
    w.raw(encode(tx));
  return out;
}

Result<Block, BlockError> decode_block(ByteView bytes) {
  if (bytes.size() < kBlockBytesMin) return Err{BlockError{BlockErrorCode::kTruncated}};
  codec::ByteReader r(bytes);
  if (r.u8() != kBlockVersion) return Err{BlockError{BlockErrorCode::kBadVersion}};
  Block block;
  BlockHeader& h = block.header;
  h.height = Height{r.u64()};
  r.raw(h.previous_hash);
  r.raw(h.transactions_root);
  r.raw(h.state_hash);
  h.proposer = GatewayId{r.u16()};
  h.timestamp_ms = r.u64();
  const std::size_t count = r.u16();
  KMCHAIN_CHECK(r.ok());
  // Lengths before contents: nothing is allocated or hashed for a block of the wrong size.
  if (count > limits::kBlockTransactionsMax) {
    return Err{BlockError{BlockErrorCode::kTooManyTransactions}};
  }
  if (r.remaining() < count * kSignedTransactionBytes)
    return Err{BlockError{BlockErrorCode::kTruncated}};
  if (r.remaining() > count * kSignedTransactionWithConsentBytes)
    return Err{BlockError{BlockErrorCode::kTrailingBytes}};
  block.transactions.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    auto tx = read_signed_transaction(r);
    if (!tx) {
      if (tx.error() == SignedTxError::kWrongLength)
        return Err{BlockError{BlockErrorCode::kTruncated}};
      return Err{
          BlockError{BlockErrorCode::kBadTransaction, static_cast<std::uint16_t>(i), tx.error()}};
    }
    block.transactions.push_back(std::move(*tx));
  }
  if (!r.at_end()) return Err{BlockError{BlockErrorCode::kTrailingBytes}};
  if (transactions_root(block.transactions) != h.transactions_root) {
    return Err{BlockError{BlockErrorCode::kRootMismatch}};
  }
  return block;
}

Hash256 block_hash(const BlockHeader& header) {
  return tagged_hash(domain::kBlock, encode(header));
}

}  // namespace kmchain::ledger
