// decode_block on arbitrary bytes: never crashes, and what it accepts encodes back to the same
// bytes, within the block bounds, with the header's root equal to the transactions' root and the
// hash taken over the first 115 bytes.
//
// Random bytes almost never carry the right Merkle root, so every input is decoded a second time
// with the root field overwritten by the root of its 57-byte chunks: then it must decode unless
// the layout itself is wrong (version, count, length) or a transaction is. This lets the fuzzer
// reach the accepting path and the transaction decoder from any mutation of a seed.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "base/limits.h"
#include "ledger/block.h"
#include "ledger/hashing.h"
#include "ledger/merkle.h"
#include "ledger_fuzz_fixture.h"

using namespace kmchain;

namespace {

constexpr std::size_t kRootAt = 41;
constexpr std::size_t kCountAt = 115;

void check_accepted(const ledger::Block& block, ByteView input) {
  KMCHAIN_FUZZ_ASSERT(fuzz::same_bytes(ledger::encode(block), input));
  KMCHAIN_FUZZ_ASSERT(input.size() <= limits::kBlockBytesMax);
  KMCHAIN_FUZZ_ASSERT(block.transactions.size() <= limits::kBlockTransactionsMax);
  KMCHAIN_FUZZ_ASSERT(ledger::transactions_root(block.transactions) ==
                      block.header.transactions_root);
  KMCHAIN_FUZZ_ASSERT(
      ledger::block_hash(block) ==
      ledger::tagged_hash(ledger::domain::kBlock, input.first(ledger::kBlockHeaderBytes)));
}

void check_refused(const ledger::BlockError& e, ByteView input) {
  using Code = ledger::BlockErrorCode;
  if (input.size() < ledger::kBlockBytesMin) KMCHAIN_FUZZ_ASSERT(e.code == Code::kTruncated);
  if (e.code == Code::kBadTransaction) {
    const std::size_t count = (std::size_t{input[kCountAt]} << 8) | input[kCountAt + 1];
    KMCHAIN_FUZZ_ASSERT(e.transaction < count);
    KMCHAIN_FUZZ_ASSERT(e.transaction_error != ledger::SignedTxError::kWrongLength);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteView input(data, size);
  auto block = ledger::decode_block(input);
  if (block) {
    check_accepted(*block, input);
  } else {
    check_refused(block.error(), input);
  }

  // Second pass with the root the chunks would need.
  if (size < ledger::kBlockBytesMin || size > limits::kBlockBytesMax) return 0;
  // The envelopes as their consent flags size them (offset 60 of each).
  std::vector<ByteView> chunks;
  for (std::size_t at = ledger::kBlockBytesMin; at + ledger::kSignedTransactionBytes <= size;) {
    const std::size_t n = input[at + 60] == 1 ? ledger::kSignedTransactionWithConsentBytes
                                              : ledger::kSignedTransactionBytes;
    if (at + n > size) break;
    chunks.push_back(input.subspan(at, n));
    at += n;
  }
  const ledger::Hash256 root = ledger::merkle_root(chunks);
  Bytes patched(data, data + size);
  for (std::size_t i = 0; i < root.size(); ++i)
    patched[kRootAt + i] = root[i];
  auto fixed = ledger::decode_block(patched);
  if (fixed) {
    check_accepted(*fixed, patched);
    return 0;
  }
  check_refused(fixed.error(), patched);
  // The root is right if the layout is, so only a layout or transaction error remains.
  KMCHAIN_FUZZ_ASSERT(fixed.error().code != ledger::BlockErrorCode::kRootMismatch);
  return 0;
}
