// decode_transaction on arbitrary bytes: never crashes; refuses exactly the inputs that are not
// 57 bytes (wrong length) or whose first byte is not an operation (unknown operation); anything
// it accepts encodes back to the same bytes and hashes as the tagged hash of those bytes. The
// signed envelope's decoder on the same bytes: never crashes, and what it accepts encodes back
// to them.
#include <cstddef>
#include <cstdint>

#include "ledger/hashing.h"
#include "ledger/signed_transaction.h"
#include "ledger/transaction.h"
#include "ledger_fuzz_fixture.h"

using namespace kmchain;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteView input(data, size);
  if (auto stx = ledger::decode_signed_transaction(input)) {
    KMCHAIN_FUZZ_ASSERT(size == ledger::encoded_size(*stx));
    KMCHAIN_FUZZ_ASSERT(fuzz::same_bytes(ledger::encode(*stx), input));
  }
  auto tx = ledger::decode_transaction(input);
  if (!tx) {
    if (size != ledger::kTransactionBytes) {
      KMCHAIN_FUZZ_ASSERT(tx.error() == ledger::TxCodecError::kWrongLength);
    } else {
      KMCHAIN_FUZZ_ASSERT(tx.error() == ledger::TxCodecError::kUnknownOperation);
      KMCHAIN_FUZZ_ASSERT(!ledger::is_operation(data[0]));
    }
    return 0;
  }
  KMCHAIN_FUZZ_ASSERT(size == ledger::kTransactionBytes);
  KMCHAIN_FUZZ_ASSERT(fuzz::same_bytes(ledger::encode(*tx), input));
  KMCHAIN_FUZZ_ASSERT(ledger::transaction_hash(*tx) ==
                      ledger::tagged_hash(ledger::domain::kTransaction, input));
  return 0;
}
