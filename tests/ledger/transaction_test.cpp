// Transactions (ledger/transaction.h): the documented 57-byte layout, round trips, every other
// length and every unknown operation refused with its typed error, and the domain-tagged hash
// against a value computed independently (known_values.py).
#include "ledger/transaction.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cstddef>
#include <cstdint>
#include <set>

#include "ledger_fixture.h"
#include "support/hex.h"

namespace kmchain::ledger {
namespace {

using fixture::sample_tx;
using kmchain::testing::unhex;

TEST(Transaction, LayoutIsTheDocumentedOne) {
  const EncodedTransaction encoded = encode(sample_tx());
  EXPECT_EQ(to_hex(encoded),
            "01"                                                                // join
            "01020304"                                                          // node
            "05060708"                                                          // set
            "101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f"  // commitment
            "303132333435363738393a3b3c3d3e3f");                                // refresh key
}

TEST(Transaction, RoundTripsEveryOperation) {
  for (std::size_t i = 0; i < 3; ++i) {
    const Transaction tx = sample_tx(i);
    const EncodedTransaction encoded = encode(tx);
    EXPECT_EQ(encoded[0], static_cast<std::uint8_t>(tx.op));
    auto decoded = decode_transaction(encoded);
    ASSERT_TRUE(decoded.ok()) << to_string(decoded.error());
    EXPECT_EQ(*decoded, tx);
    EXPECT_EQ(encode(*decoded), encoded);
  }
}

RC_GTEST_PROP(TransactionProperty, RoundTripsAnyFields, ()) {
  const auto op = *rc::gen::element(Operation::kJoin, Operation::kLeave, Operation::kEvict);
  const auto commitment = *rc::gen::arbitrary<std::array<std::uint8_t, 32>>();
  const auto key = *rc::gen::arbitrary<std::array<std::uint8_t, 16>>();
  const Transaction tx{op, NodeId{*rc::gen::arbitrary<std::uint32_t>()},
                       SetId{*rc::gen::arbitrary<std::uint32_t>()}, commitment,
                       crypto::Key128(std::span<const std::uint8_t, 16>(key))};
  auto decoded = decode_transaction(encode(tx));
  RC_ASSERT(decoded.ok());
  RC_ASSERT(*decoded == tx);
}

TEST(Transaction, EveryOtherLengthIsWrongLength) {
  const EncodedTransaction encoded = encode(sample_tx());
  Bytes longer(encoded.begin(), encoded.end());
  longer.resize(3 * kTransactionBytes, 0);
  for (std::size_t n = 0; n <= longer.size(); ++n) {
    if (n == kTransactionBytes) continue;
    auto decoded = decode_transaction(ByteView(longer).first(n));
    ASSERT_FALSE(decoded.ok()) << n;
    EXPECT_EQ(decoded.error(), TxCodecError::kWrongLength) << n;
  }
}

TEST(Transaction, EveryOperationByteIsKnownOrRefused) {
  EncodedTransaction encoded = encode(sample_tx());
  for (int op = 0; op < 256; ++op) {
    encoded[0] = static_cast<std::uint8_t>(op);
    auto decoded = decode_transaction(encoded);
    if (op >= 1 && op <= 4) {
      ASSERT_TRUE(decoded.ok()) << op;
      EXPECT_EQ(static_cast<int>(decoded->op), op);
    } else {
      ASSERT_FALSE(decoded.ok()) << op;
      EXPECT_EQ(decoded.error(), TxCodecError::kUnknownOperation) << op;
    }
  }
}

// Every field is a plain value: a change anywhere but the operation byte still decodes, to a
// transaction that encodes back to the changed bytes (the codec is a bijection on valid input).
TEST(Transaction, EverySingleByteChangeOutsideTheOperationStillRoundTrips) {
  const EncodedTransaction original = encode(sample_tx());
  for (std::size_t i = 1; i < kTransactionBytes; ++i) {
    for (int delta = 1; delta < 256; ++delta) {
      EncodedTransaction changed = original;
      changed[i] = static_cast<std::uint8_t>(changed[i] + delta);
      auto decoded = decode_transaction(changed);
      ASSERT_TRUE(decoded.ok()) << i;
      ASSERT_EQ(encode(*decoded), changed) << i;
      ASSERT_NE(*decoded, sample_tx()) << i;
    }
  }
}

// Python 3: hashlib.sha256(b"kmchain/v1/tx" + bytes.fromhex(<the layout above>)).hexdigest()
TEST(Transaction, HashIsTaggedSha256OfTheEncoding) {
  EXPECT_EQ(to_hex(transaction_hash(sample_tx())),
            "fd312b243e00f4e44d611c4911c16bcad90754d7979fe5a48b445d8e9b37e075");
  // Not the untagged hash of the same bytes.
  EXPECT_NE(transaction_hash(sample_tx()), crypto::sha256(encode(sample_tx())));
}

TEST(Transaction, HashSeparatesEveryField) {
  std::set<Hash256> hashes;
  const Transaction base = sample_tx();
  hashes.insert(transaction_hash(base));
  Transaction t = base;
  t.op = Operation::kLeave;
  hashes.insert(transaction_hash(t));
  t = base;
  t.node = NodeId{base.node.value() + 1};
  hashes.insert(transaction_hash(t));
  t = base;
  t.set = SetId{base.set.value() + 1};
  hashes.insert(transaction_hash(t));
  t = base;
  t.commitment[31] ^= 1;
  hashes.insert(transaction_hash(t));
  t = base;
  t.refresh_key = fixture::counting_key(0x31);
  hashes.insert(transaction_hash(t));
  EXPECT_EQ(hashes.size(), 6u);
}

TEST(Transaction, ErrorsAndOperationsHaveNames) {
  EXPECT_STREQ(to_string(TxCodecError::kWrongLength), "wrong length");
  EXPECT_STREQ(to_string(TxCodecError::kUnknownOperation), "unknown operation");
  EXPECT_STREQ(to_string(Operation::kJoin), "join");
  EXPECT_STREQ(to_string(Operation::kLeave), "leave");
  EXPECT_STREQ(to_string(Operation::kEvict), "evict");
}

}  // namespace
}  // namespace kmchain::ledger
