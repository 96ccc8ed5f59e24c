// The mempool: bounded, duplicates dropped, contract-checked on entry against the committed
// state plus what is pending, and re-checked after each block.
#include "ledger/mempool.h"

#include <gtest/gtest.h>

#include "membership_fixture.h"

namespace kmchain::ledger {
namespace {

using fixture::from_home;
using fixture::join_tx;
using fixture::node_of;
using fixture::removal_tx;
using fixture::signed_as;
using fixture::state_of;

TEST(Mempool, QueuedJoinsOfOneGatewayAreAssignedAsIfTheEarlierOnesHadExecuted) {
  LedgerState committed = state_of(2);
  Mempool pool(committed, 16);
  // Each join is computed on the mempool's check state, as the submitting gateway does.
  for (std::uint32_t i = 1; i <= 5; ++i) {
    const Transaction tx = join_tx(pool.check_state(), node_of(0, i), i);
    ASSERT_TRUE(pool.add(from_home(committed, tx)).ok()) << i;
  }
  EXPECT_EQ(pool.size(), 5u);
  // Computed against the committed state instead, the third join names a set that the two
  // pending joins ahead of it have filled.
  const Transaction stale = join_tx(committed, node_of(0, 9), 9);
  auto verdict = pool.add(from_home(committed, stale));
  ASSERT_FALSE(verdict.ok());
  EXPECT_EQ(verdict.error().error, MempoolError::kRejected);
  EXPECT_EQ(verdict.error().rejection, Rejection::kWrongSet);
}

TEST(Mempool, DuplicatesAndOverflowAreRefused) {
  LedgerState committed = state_of(1);
  Mempool pool(committed, 2);
  const SignedTransaction a = from_home(committed, join_tx(pool.check_state(), node_of(0, 1), 1));
  ASSERT_TRUE(pool.add(a).ok());
  auto dup = pool.add(a);
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().error, MempoolError::kDuplicate);
  ASSERT_TRUE(pool.add(from_home(committed, join_tx(pool.check_state(), node_of(0, 2), 2))).ok());
  auto full = pool.add(from_home(committed, join_tx(pool.check_state(), node_of(0, 3), 3)));
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.error().error, MempoolError::kFull);
  EXPECT_EQ(pool.size(), 2u);
}

TEST(Mempool, ReapKeepsArrivalOrderAndUpdateDropsWhatTheBlockIncluded) {
  LedgerState committed = state_of(1);
  Mempool pool(committed, 16);
  std::vector<SignedTransaction> txs;
  for (std::uint32_t i = 1; i <= 4; ++i) {
    txs.push_back(from_home(committed, join_tx(pool.check_state(), node_of(0, i), i)));
    ASSERT_TRUE(pool.add(txs.back()).ok());
  }
  const auto block = pool.reap(2);
  ASSERT_EQ(block.size(), 2u);
  EXPECT_EQ(transaction_hash(block[0]), transaction_hash(txs[0]));
  EXPECT_EQ(transaction_hash(block[1]), transaction_hash(txs[1]));
  for (const auto& tx : block)
    apply(committed, tx);
  EXPECT_TRUE(pool.update(committed, block).empty());
  ASSERT_EQ(pool.size(), 2u);
  EXPECT_EQ(transaction_hash(pool.reap(10)[0]), transaction_hash(txs[2]));
  EXPECT_EQ(pool.check_state().table().member_count(), 4u);
}

TEST(Mempool, UpdateDropsPendingTransactionsTheBlockInvalidated) {
  LedgerState committed = state_of(2);
  for (std::uint32_t i = 1; i <= 4; ++i)
    apply(committed, from_home(committed, join_tx(committed, node_of(0, i), i)));
  Mempool pool(committed, 16);
  // Pending: a leave of node 2, and a join at gateway 1.
  const SignedTransaction leave =
      from_home(committed, removal_tx(committed, node_of(0, 2), Operation::kLeave));
  ASSERT_TRUE(pool.add(leave).ok());
  const SignedTransaction join =
      from_home(committed, join_tx(pool.check_state(), node_of(1, 1), 50));
  ASSERT_TRUE(pool.add(join).ok());
  // Another gateway's block evicts node 2 first (its home's eviction).
  const SignedTransaction evict =
      from_home(committed, removal_tx(committed, node_of(0, 2), Operation::kEvict));
  apply(committed, evict);
  const auto dropped = pool.update(committed, {evict});
  ASSERT_EQ(dropped.size(), 1u);
  EXPECT_EQ(transaction_hash(dropped[0].first), transaction_hash(leave));
  EXPECT_EQ(dropped[0].second, Rejection::kNotMember);
  ASSERT_EQ(pool.size(), 1u);
  EXPECT_EQ(transaction_hash(pool.reap(1)[0]), transaction_hash(join));
}

// What the contract's signature checks refuse never enters: a forged envelope, another
// gateway's join.
TEST(Mempool, ForgedAndForeignTransactionsAreRefusedOnEntry) {
  LedgerState committed = state_of(2);
  Mempool pool(committed, 16);
  const Transaction join = join_tx(pool.check_state(), node_of(1, 1), 1);
  auto foreign = pool.add(signed_as(committed, join, GatewayId{0}));
  ASSERT_FALSE(foreign.ok());
  EXPECT_EQ(foreign.error().rejection, Rejection::kNotHome);
  SignedTransaction forged = from_home(committed, join);
  forged.gateway_signature[0] ^= 1;
  auto bad = pool.add(forged);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().rejection, Rejection::kBadSignature);
  EXPECT_EQ(pool.size(), 0u);
}

}  // namespace
}  // namespace kmchain::ledger
