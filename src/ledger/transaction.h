// Transactions: one membership change each (docs/protocol.md section 3). Exactly 57 bytes,
// big-endian, in this order:
//
//   offset size field
//   0      1    operation     1 join, 2 leave, 3 evict, 4 move
//   1      4    node id
//   5      4    set id
//   9      32   commitment    the credential commitment ([paper] hash of the node's secret code)
//   41     16   refresh key
//
// The protocol fixes the length, so there is no version byte: any other length is rejected, as
// is an unknown operation. Every 57-byte string with a known operation is a transaction, and it
// encodes back to the same bytes. Whether a transaction is acceptable (the set Assignment gives,
// an unused node id, a matching member record) is the contract's question, not the codec's.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "base/bytes.h"
#include "base/ids.h"
#include "base/result.h"
#include "codec/byte_writer.h"
#include "crypto/secret.h"
#include "ledger/hashing.h"

namespace kmchain::ledger {

// A move re-attaches a member to another gateway (docs/protocol.md section 4.7): its set is the
// one it enters there.
enum class Operation : std::uint8_t { kJoin = 1, kLeave = 2, kEvict = 3, kMove = 4 };
// "join", "leave", "evict", "move".
const char* to_string(Operation op);
// Whether `byte` names an Operation.
bool is_operation(std::uint8_t byte);

using Commitment = std::array<std::uint8_t, 32>;

struct Transaction {
  Operation op;
  NodeId node;
  SetId set;
  Commitment commitment;
  crypto::Key128 refresh_key;

  friend bool operator==(const Transaction&, const Transaction&) = default;
};

inline constexpr std::size_t kTransactionBytes = 1 + 4 + 4 + 32 + 16;
static_assert(kTransactionBytes == 57, "docs/protocol.md section 3");
using EncodedTransaction = std::array<std::uint8_t, kTransactionBytes>;

enum class TxCodecError : std::uint8_t {
  kWrongLength = 1,       // not exactly 57 bytes
  kUnknownOperation = 2,  // operation byte is not 1..4
};
const char* to_string(TxCodecError e);

// `tx.op` must be a known operation (a local invariant: decoded transactions always are).
EncodedTransaction encode(const Transaction& tx);
// Appends the 57 bytes to a larger message (blocks).
void write_transaction(codec::ByteWriter& w, const Transaction& tx);

Result<Transaction, TxCodecError> decode_transaction(ByteView bytes);

// SHA-256("kmchain/v1/tx" || the 57 bytes): the transaction's identity (mempool, duplicates).
Hash256 transaction_hash(const Transaction& tx);

}  // namespace kmchain::ledger
