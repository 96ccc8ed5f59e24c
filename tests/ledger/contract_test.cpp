// The contract's rules, one test per rule, and the determinism of apply(): gateways that apply
// the same transactions in the same order reach the same state hash.
#include "ledger/contract.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <vector>

#include "base/limits.h"
#include "crypto/random.h"
#include "membership_fixture.h"

namespace kmchain::ledger {
namespace {

using fixture::join_tx;
using fixture::node_of;
using fixture::removal_tx;

void expect_rejected(const LedgerState& state, const Transaction& tx, Rejection why) {
  const auto before = state.state_hash();
  auto verdict = check(state, tx);
  ASSERT_FALSE(verdict.ok());
  EXPECT_EQ(verdict.error(), why) << to_string(verdict.error());
  EXPECT_EQ(state.state_hash(), before);
}

class Contract : public ::testing::Test {
 protected:
  void SetUp() override {
    for (std::uint32_t i = 1; i <= 9; ++i)
      join(node_of(0, i), i);
  }
  void join(NodeId node, std::uint32_t c) {
    const Transaction tx = join_tx(state_, node, c);
    ASSERT_TRUE(check(state_, tx).ok());
    apply(state_, tx);
  }
  LedgerState state_{3};
};

TEST_F(Contract, JoinWithTheAssignedSetPasses) {
  const Transaction tx = join_tx(state_, node_of(1, 1), 100);
  EXPECT_TRUE(check(state_, tx).ok());
  const auto steps = apply(state_, tx);
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_EQ(steps[0].kind, keys::StepKind::kPlace);
  EXPECT_EQ(steps[0].set, tx.set);
  EXPECT_EQ(state_.table().find_member(tx.node)->set, tx.set);
  EXPECT_EQ(*state_.commitment_of(tx.node), tx.commitment);
}

TEST_F(Contract, JoinIntoAnotherSetIsWrongSet) {
  Transaction tx = join_tx(state_, node_of(0, 10), 100);
  tx.set = SetId{tx.set.value() + 1};
  expect_rejected(state_, tx, Rejection::kWrongSet);
  // Another gateway's set is never the assignment of a join through this one.
  tx.set = SetId{1u << 24};
  expect_rejected(state_, tx, Rejection::kWrongSet);
}

TEST_F(Contract, NodeIdZeroIsReserved) {
  expect_rejected(state_, join_tx(state_, NodeId{0}, 100), Rejection::kReservedNodeId);
}

TEST_F(Contract, NodeIdOfNoGatewayIsRefused) {
  Transaction tx = join_tx(state_, node_of(0, 50), 100);
  tx.node = node_of(3, 1);  // three gateways: 0, 1, 2
  expect_rejected(state_, tx, Rejection::kUnknownGateway);
}

TEST_F(Contract, NodeIdsAndCommitmentsAreNeverReused) {
  const NodeId gone = node_of(0, 4);
  const Commitment gone_commitment = *state_.commitment_of(gone);
  apply(state_, removal_tx(state_, gone, Operation::kLeave));
  expect_rejected(state_, join_tx(state_, gone, 200), Rejection::kNodeIdUsed);
  Transaction reuse = join_tx(state_, node_of(0, 20), 0);
  reuse.commitment = gone_commitment;
  expect_rejected(state_, reuse, Rejection::kCommitmentUsed);
  Transaction twice = join_tx(state_, node_of(0, 21), 0);
  twice.commitment = *state_.commitment_of(node_of(0, 1));  // a current member's
  expect_rejected(state_, twice, Rejection::kCommitmentUsed);
}

TEST_F(Contract, JoinOfACurrentMemberIsUsedNodeId) {
  expect_rejected(state_, join_tx(state_, node_of(0, 3), 300), Rejection::kNodeIdUsed);
}

TEST_F(Contract, RemovalsMustMatchTheMemberRecord) {
  const NodeId member = node_of(0, 5);
  for (Operation op : {Operation::kLeave, Operation::kEvict}) {
    Transaction unknown = removal_tx(state_, member, op);
    unknown.node = node_of(0, 77);
    expect_rejected(state_, unknown, Rejection::kNotMember);
    Transaction wrong_set = removal_tx(state_, member, op);
    wrong_set.set = SetId{wrong_set.set.value() + 1};
    expect_rejected(state_, wrong_set, Rejection::kSetMismatch);
    Transaction wrong_commitment = removal_tx(state_, member, op);
    wrong_commitment.commitment[5] ^= 1;
    expect_rejected(state_, wrong_commitment, Rejection::kCommitmentMismatch);
    EXPECT_TRUE(check(state_, removal_tx(state_, member, op)).ok());
  }
  const auto steps = apply(state_, removal_tx(state_, member, Operation::kEvict));
  ASSERT_FALSE(steps.empty());
  EXPECT_EQ(steps[0].kind, keys::StepKind::kRemove);
  EXPECT_EQ(steps[0].cause, keys::Cause::kEvict);
  EXPECT_EQ(state_.table().find_member(member), nullptr);
  EXPECT_EQ(state_.commitment_of(member), nullptr);
  // Once gone, the node can be removed no more.
  expect_rejected(
      state_,
      Transaction{Operation::kLeave, member, SetId{0}, Commitment{}, fixture::refresh_key_of(3)},
      Rejection::kNotMember);
}

TEST_F(Contract, HistoryRecordsEveryTransactionWithItsPositions) {
  ASSERT_EQ(state_.history().size(), 9u);
  Position expected{1};
  for (const HistoryEntry& e : state_.history()) {
    EXPECT_EQ(e.first, expected);
    EXPECT_GE(e.last, e.first);
    expected = next(e.last);
  }
  EXPECT_EQ(state_.position(), state_.history().back().last);
}

TEST_F(Contract, EveryApplyChangesTheStateHash) {
  auto before = state_.state_hash();
  apply(state_, join_tx(state_, node_of(2, 1), 500));
  auto after_join = state_.state_hash();
  EXPECT_NE(before, after_join);
  apply(state_, removal_tx(state_, node_of(2, 1), Operation::kLeave));
  EXPECT_NE(state_.state_hash(), after_join);
  EXPECT_NE(state_.state_hash(), before);  // history differs even if the table is back
}

// Random transactions, valid and invalid, applied by two replicas in the same order: the same
// verdicts and the same state hash after every transaction; a replica that also applies one
// more transaction diverges.
RC_GTEST_PROP(ContractProperty, ReplicasAgreeAndShapeHolds, (std::uint64_t seed)) {
  crypto::DeterministicRng rng(seed);
  const std::size_t gateways = 1 + rng.uniform(4);
  LedgerState a(gateways);
  LedgerState b(gateways);
  std::vector<std::uint32_t> counters(gateways, 0);
  std::vector<NodeId> members;
  std::uint32_t commitments = 0;
  const std::size_t ops = 50 + rng.uniform(250);
  for (std::size_t i = 0; i < ops; ++i) {
    Transaction tx;
    const std::uint64_t roll = rng.uniform(100);
    if (members.empty() || roll < 55) {
      const auto g = static_cast<std::uint16_t>(rng.uniform(gateways));
      tx = join_tx(a, node_of(g, ++counters[g]), ++commitments);
      if (roll < 5) tx.set = SetId{tx.set.value() ^ 1};  // sometimes wrong
      if (roll >= 5 && roll < 8)
        tx.commitment = fixture::commitment_of_number(1);  // sometimes reused
    } else {
      const NodeId node = members[rng.uniform(members.size())];
      tx = removal_tx(a, node, roll < 80 ? Operation::kLeave : Operation::kEvict);
      if (roll >= 95) tx.commitment[0] ^= 0xff;  // sometimes forged
    }
    const auto va = check(a, tx);
    const auto vb = check(b, tx);
    RC_ASSERT(va.ok() == vb.ok());
    if (!va.ok()) {
      RC_ASSERT(va.error() == vb.error());
      continue;
    }
    apply(a, tx);
    apply(b, tx);
    RC_ASSERT(a.state_hash() == b.state_hash());
    if (tx.op == Operation::kJoin) {
      members.push_back(tx.node);
    } else {
      members.erase(std::find(members.begin(), members.end(), tx.node));
    }
    const std::size_t n = a.table().member_count();
    RC_ASSERT(n == members.size());
    if (n > 0) {
      const std::size_t cap = keys::SetTable::capacity(n);
      RC_ASSERT(a.table().max_set_size() <= cap + limits::kSetSlack);
      RC_ASSERT(a.table().set_count() <= cap + gateways + 1);
    }
  }
  if (!members.empty()) {
    apply(b, removal_tx(b, members.front(), Operation::kLeave));
    RC_ASSERT(a.state_hash() != b.state_hash());
  }
}

}  // namespace
}  // namespace kmchain::ledger
