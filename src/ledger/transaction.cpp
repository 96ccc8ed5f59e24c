#include "ledger/transaction.h"

#include <algorithm>

#include "base/check.h"
#include "codec/byte_reader.h"

namespace kmchain::ledger {

const char* to_string(Operation op) {
  switch (op) {
    case Operation::kJoin:
      return "join";
    case Operation::kLeave:
      return "leave";
    case Operation::kEvict:
      return "evict";
    case Operation::kMove:
      return "move";
  }
  return "unknown";
}

bool is_operation(std::uint8_t byte) {
  return byte >= static_cast<std::uint8_t>(Operation::kJoin) &&
         byte <= static_cast<std::uint8_t>(Operation::kMove);
}

const char* to_string(TxCodecError e) {
  switch (e) {
    case TxCodecError::kWrongLength:
      return "wrong length";
    case TxCodecError::kUnknownOperation:
      return "unknown operation";
  }
  return "unknown transaction error";
}

void write_transaction(codec::ByteWriter& w, const Transaction& tx) {
  const auto op = static_cast<std::uint8_t>(tx.op);
  KMCHAIN_CHECK(is_operation(op));
  w.u8(op);
  w.u32(tx.node.value());
  w.u32(tx.set.value());
  w.raw(tx.commitment);
  w.raw(tx.refresh_key.view());
}

EncodedTransaction encode(const Transaction& tx) {
  Bytes out;
  out.reserve(kTransactionBytes);
  codec::ByteWriter w(out);
  write_transaction(w, tx);
  KMCHAIN_CHECK(out.size() == kTransactionBytes);
  EncodedTransaction encoded{};
  std::copy(out.begin(), out.end(), encoded.begin());
  return encoded;
}

Result<Transaction, TxCodecError> decode_transaction(ByteView bytes) {
  if (bytes.size() != kTransactionBytes) return Err{TxCodecError::kWrongLength};
  codec::ByteReader r(bytes);
  const std::uint8_t op = r.u8();
  if (!is_operation(op)) return Err{TxCodecError::kUnknownOperation};
  Transaction tx{static_cast<Operation>(op), NodeId{r.u32()}, SetId{r.u32()}, {}, {}};
  r.raw(tx.commitment);
  r.raw(tx.refresh_key.mutable_view());
  KMCHAIN_CHECK(r.at_end());
  return tx;
}

Hash256 transaction_hash(const Transaction& tx) {
  return tagged_hash(domain::kTransaction, encode(tx));
}

}  // namespace kmchain::ledger
