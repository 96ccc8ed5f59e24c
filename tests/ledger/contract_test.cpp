// The contract's rules, one test per rule (who may make a change among them: the home gateway,
// the device's consent, the signature, the power that evicts), and the determinism of apply():
// gateways that apply the same transactions in the same order reach the same state hash.
#include "ledger/contract.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <optional>
#include <set>
#include <vector>

#include "base/limits.h"
#include "crypto/random.h"
#include "membership_fixture.h"

namespace kmchain::ledger {
namespace {

using fixture::from_home;
using fixture::join_tx;
using fixture::make_genesis;
using fixture::node_of;
using fixture::removal_tx;
using fixture::signed_as;
using fixture::state_of;

// `tx` from its home gateway (from gateway 0 when its range is no gateway's) is refused.
void expect_rejected(const LedgerState& state, const Transaction& tx, Rejection why) {
  const auto before = state.state_hash();
  const GatewayId home = origin_of(tx.node);
  auto verdict =
      check(state, signed_as(state, tx, state.consortium().find(home) ? home : GatewayId{0}));
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
    ASSERT_TRUE(check(state_, from_home(state_, tx)).ok());
    apply(state_, from_home(state_, tx));
  }
  LedgerState state_ = state_of(3);
};

TEST_F(Contract, JoinWithTheAssignedSetPasses) {
  const Transaction tx = join_tx(state_, node_of(1, 1), 100);
  EXPECT_TRUE(check(state_, from_home(state_, tx)).ok());
  const auto steps = apply(state_, from_home(state_, tx));
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
  apply(state_, from_home(state_, removal_tx(state_, gone, Operation::kLeave)));
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
    // A leave's consent is checked against the commitment it names: no device signs for it.
    expect_rejected(
        state_, wrong_commitment,
        op == Operation::kLeave ? Rejection::kNoConsent : Rejection::kCommitmentMismatch);
    EXPECT_EQ(check_rules(state_, wrong_commitment, GatewayId{0}).error(),
              Rejection::kCommitmentMismatch);
    EXPECT_TRUE(check(state_, from_home(state_, removal_tx(state_, member, op))).ok());
  }
  const auto steps =
      apply(state_, from_home(state_, removal_tx(state_, member, Operation::kEvict)));
  ASSERT_FALSE(steps.empty());
  EXPECT_EQ(steps[0].kind, keys::StepKind::kRemove);
  EXPECT_EQ(steps[0].cause, keys::Cause::kEvict);
  EXPECT_EQ(state_.table().find_member(member), nullptr);
  EXPECT_EQ(state_.commitment_of(member), nullptr);
  // Once gone, the node can be removed no more.
  expect_rejected(
      state_,
      Transaction{Operation::kEvict, member, SetId{0}, Commitment{}, fixture::refresh_key_of(3)},
      Rejection::kNotMember);
}

// Who may make a change. Three gateways of power 1: evicting another gateway's device takes two
// of them (more than a third of the power), its home alone evicts at once.
TEST_F(Contract, JoinsAndLeavesComeFromTheHomeGatewayOnly) {
  const Transaction join = join_tx(state_, node_of(1, 1), 100);
  EXPECT_EQ(check(state_, signed_as(state_, join, GatewayId{0})).error(), Rejection::kNotHome);
  EXPECT_EQ(check(state_, signed_as(state_, join, GatewayId{2})).error(), Rejection::kNotHome);
  EXPECT_TRUE(check(state_, signed_as(state_, join, GatewayId{1})).ok());
  const Transaction leave = removal_tx(state_, node_of(0, 2), Operation::kLeave);
  EXPECT_EQ(check(state_, signed_as(state_, leave, GatewayId{1})).error(), Rejection::kNotHome);
  EXPECT_TRUE(check(state_, signed_as(state_, leave, GatewayId{0})).ok());
}

TEST_F(Contract, ALeaveCarriesItsDevicesConsentAndNothingElseCarriesOne) {
  const Transaction leave = removal_tx(state_, node_of(0, 2), Operation::kLeave);
  const Hash256 chain_id = state_.consortium().chain_id;
  const auto key = fixture::validator_key(0);
  EXPECT_EQ(check(state_, sign_transaction(key, chain_id, GatewayId{0}, leave)).error(),
            Rejection::kNoConsent);
  // Another device's consent, or this device's for another node, is no consent.
  const auto other =
      fixture::device_key_of_number(3).sign(leave_consent_bytes(chain_id, leave.node));
  EXPECT_EQ(check(state_, sign_transaction(key, chain_id, GatewayId{0}, leave, other)).error(),
            Rejection::kNoConsent);
  const auto elsewhere =
      fixture::device_key_of_number(2).sign(leave_consent_bytes(chain_id, node_of(0, 3)));
  EXPECT_EQ(check(state_, sign_transaction(key, chain_id, GatewayId{0}, leave, elsewhere)).error(),
            Rejection::kNoConsent);
  const auto consent =
      fixture::device_key_of_number(2).sign(leave_consent_bytes(chain_id, leave.node));
  EXPECT_TRUE(check(state_, sign_transaction(key, chain_id, GatewayId{0}, leave, consent)).ok());
  const Transaction evict = removal_tx(state_, node_of(0, 2), Operation::kEvict);
  EXPECT_EQ(check(state_, sign_transaction(key, chain_id, GatewayId{0}, evict, consent)).error(),
            Rejection::kUnexpectedConsent);
}

TEST_F(Contract, AnEnvelopeNotSignedByItsSubmitterForThisChainIsRefused) {
  const Transaction join = join_tx(state_, node_of(1, 1), 100);
  const Hash256 chain_id = state_.consortium().chain_id;
  // Gateway 2's key under gateway 1's name: forged.
  EXPECT_EQ(check(state_, sign_transaction(fixture::validator_key(2), chain_id, GatewayId{1}, join))
                .error(),
            Rejection::kBadSignature);
  // Gateway 1's own signature, for another consortium.
  const Hash256 other = make_genesis({1, 1, 1}, "another").chain_id();
  EXPECT_EQ(
      check(state_, sign_transaction(fixture::validator_key(1), other, GatewayId{1}, join)).error(),
      Rejection::kBadSignature);
  // A submitter that is no gateway.
  EXPECT_EQ(check(state_, sign_transaction(fixture::validator_key(7), chain_id, GatewayId{7}, join))
                .error(),
            Rejection::kUnknownSubmitter);
  // A changed body under the signature.
  SignedTransaction changed = signed_as(state_, join, GatewayId{1});
  changed.transaction.refresh_key = fixture::refresh_key_of(9);
  EXPECT_EQ(check(state_, changed).error(), Rejection::kBadSignature);
}

TEST_F(Contract, AnotherGatewaysEvictionTakesEffectOnlyWithMoreThanAThirdOfThePower) {
  const NodeId node = node_of(0, 4);
  const Transaction evict = removal_tx(state_, node, Operation::kEvict);
  // Gateway 1 asks: recorded, not in effect (1 of 3 is not more than a third).
  const auto first = signed_as(state_, evict, GatewayId{1});
  ASSERT_TRUE(check(state_, first).ok());
  const auto before = state_.state_hash();
  EXPECT_TRUE(apply(state_, first).empty());
  EXPECT_NE(state_.state_hash(), before);  // the request is part of the state
  EXPECT_NE(state_.table().find_member(node), nullptr);
  EXPECT_EQ(state_.eviction_requested_by(node), std::set<GatewayId>{GatewayId{1}});
  EXPECT_EQ(state_.eviction_power(node), 1u);
  // Asking twice, even with another refresh key, is refused.
  Transaction again = evict;
  again.refresh_key = fixture::refresh_key_of(7);
  EXPECT_EQ(check(state_, signed_as(state_, again, GatewayId{1})).error(),
            Rejection::kAlreadyAsked);
  EXPECT_EQ(check(state_, first).error(), Rejection::kAlreadyAsked);  // a replay
  // Gateway 2 asks too: 2 of 3, in effect.
  const auto steps = apply(state_, signed_as(state_, evict, GatewayId{2}));
  ASSERT_FALSE(steps.empty());
  EXPECT_EQ(steps[0].cause, keys::Cause::kEvict);
  EXPECT_EQ(state_.table().find_member(node), nullptr);
  EXPECT_TRUE(state_.eviction_requests().empty());
  const HistoryEntry& last = state_.history().back();
  EXPECT_EQ(last.transaction.node, node);
  EXPECT_EQ(last.requested_by, (std::vector<GatewayId>{GatewayId{1}, GatewayId{2}}));
  // The home gateway needs nobody.
  const NodeId other = node_of(0, 5);
  EXPECT_FALSE(
      apply(state_, signed_as(state_, removal_tx(state_, other, Operation::kEvict), GatewayId{0}))
          .empty());
  EXPECT_EQ(state_.table().find_member(other), nullptr);
}

TEST_F(Contract, AMoveTakesTheMemberToTheGatewayItConsentedToWhichBecomesItsHome) {
  const NodeId node = node_of(0, 4);
  const Transaction move = fixture::move_tx(state_, node, GatewayId{2});
  const auto stx = signed_as(state_, move, GatewayId{2});
  ASSERT_TRUE(check(state_, stx).ok()) << to_string(check(state_, stx).error());
  const Commitment commitment = *state_.commitment_of(node);
  const auto steps = apply(state_, stx);
  ASSERT_GE(steps.size(), 2u);
  EXPECT_EQ(steps.front().kind, keys::StepKind::kRemove);
  EXPECT_EQ(steps.front().cause, keys::Cause::kMove);
  EXPECT_EQ(steps.front().owner, GatewayId{0});
  EXPECT_EQ(steps.back().kind, keys::StepKind::kPlace);
  EXPECT_EQ(steps.back().cause, keys::Cause::kMove);
  EXPECT_EQ(steps.back().set, move.set);
  EXPECT_EQ(state_.home_of(node), GatewayId{2});
  EXPECT_EQ(*state_.commitment_of(node), commitment);  // the same device, the same code
  EXPECT_EQ(state_.history().back().transaction, move);
  // The same envelope again: gateway 2 is its home now.
  EXPECT_EQ(check(state_, stx).error(), Rejection::kAlreadyHome);
  // The new home leaves and evicts it alone; the old one only asks.
  const Transaction leave = removal_tx(state_, node, Operation::kLeave);
  EXPECT_EQ(check(state_, signed_as(state_, leave, GatewayId{0})).error(), Rejection::kNotHome);
  EXPECT_TRUE(check(state_, signed_as(state_, leave, GatewayId{2})).ok());
  const auto request = signed_as(state_, removal_tx(state_, node, Operation::kEvict), GatewayId{0});
  EXPECT_TRUE(apply(state_, request).empty());
  EXPECT_EQ(state_.eviction_requested_by(node), std::set<GatewayId>{GatewayId{0}});
  // Moving back home: a new consent, from the new placement.
  const Transaction back = fixture::move_tx(state_, node, GatewayId{0});
  ASSERT_TRUE(check(state_, signed_as(state_, back, GatewayId{0})).ok());
  apply(state_, signed_as(state_, back, GatewayId{0}));
  EXPECT_EQ(state_.home_of(node), GatewayId{0});
  // The first consent (to gateway 2, from the first placement) is worthless now.
  Transaction replay = fixture::move_tx(state_, node, GatewayId{2});
  EXPECT_EQ(check(state_, sign_transaction(fixture::validator_key(2), state_.consortium().chain_id,
                                           GatewayId{2}, replay, stx.device_signature))
                .error(),
            Rejection::kNoConsent);
}

TEST_F(Contract, AMoveNeedsTheDevicesConsentToThatGatewayAndTheSetAssignmentGives) {
  const NodeId node = node_of(0, 4);
  const Hash256 chain_id = state_.consortium().chain_id;
  const Transaction move = fixture::move_tx(state_, node, GatewayId{1});
  const auto key = fixture::validator_key(1);
  // No consent: the envelope alone says so.
  EXPECT_EQ(check_signatures(state_, sign_transaction(key, chain_id, GatewayId{1}, move)).error(),
            Rejection::kNoConsent);
  // The device's consent to move to gateway 2, submitted by gateway 1.
  const auto to_two = fixture::move_consent_for(state_, move, GatewayId{2});
  EXPECT_EQ(check(state_, sign_transaction(key, chain_id, GatewayId{1}, move, to_two)).error(),
            Rejection::kNoConsent);
  // A leave consent is no move consent.
  const auto leave_consent = fixture::consent_for(state_, move);
  EXPECT_EQ(
      check(state_, sign_transaction(key, chain_id, GatewayId{1}, move, leave_consent)).error(),
      Rejection::kNoConsent);
  // Another device's consent.
  const auto* member = state_.table().find_member(node);
  const auto other = fixture::device_key_of_number(5).sign(
      move_consent_bytes(chain_id, node, GatewayId{1}, member->placed_at));
  EXPECT_EQ(check(state_, sign_transaction(key, chain_id, GatewayId{1}, move, other)).error(),
            Rejection::kNoConsent);
  // The home gateway cannot move its own device to itself.
  const Transaction home = fixture::move_tx(state_, node, GatewayId{0});
  EXPECT_EQ(check(state_, signed_as(state_, home, GatewayId{0})).error(), Rejection::kAlreadyHome);
  // Another set than Assignment's, another commitment, no member.
  Transaction wrong_set = move;
  wrong_set.set = SetId{wrong_set.set.value() + 1};
  EXPECT_EQ(check(state_, signed_as(state_, wrong_set, GatewayId{1})).error(),
            Rejection::kWrongSet);
  Transaction wrong_commitment = move;
  wrong_commitment.commitment = fixture::commitment_of_number(5);
  EXPECT_EQ(check(state_, signed_as(state_, wrong_commitment, GatewayId{1})).error(),
            Rejection::kCommitmentMismatch);
  Transaction nobody = move;
  nobody.node = node_of(0, 99);
  const auto to_one = fixture::move_consent_for(state_, move, GatewayId{1});
  EXPECT_EQ(check(state_, sign_transaction(key, chain_id, GatewayId{1}, nobody, to_one)).error(),
            Rejection::kNotMember);
  EXPECT_TRUE(check(state_, signed_as(state_, move, GatewayId{1})).ok());
}

TEST(ContractPowers, EvictionPowerIsWeighedNotCounted) {
  // Powers 5, 1, 1, 1 (total 8): gateway 0 alone is more than a third; gateways 1-3 together
  // (3 of 8) are too, any two of them (2 of 8) are not.
  LedgerState state(make_genesis({5, 1, 1, 1}));
  const NodeId node = node_of(1, 1);
  apply(state, from_home(state, join_tx(state, node, 1)));
  const NodeId node3 = node_of(3, 1);
  apply(state, from_home(state, join_tx(state, node3, 2)));
  // Node of gateway 3, asked by gateways 1 and 2: 2 of 8, pending.
  const Transaction evict3 = removal_tx(state, node3, Operation::kEvict);
  EXPECT_TRUE(apply(state, signed_as(state, evict3, GatewayId{1})).empty());
  EXPECT_TRUE(apply(state, signed_as(state, evict3, GatewayId{2})).empty());
  EXPECT_NE(state.table().find_member(node3), nullptr);
  // Gateway 0 alone (5 of 8) evicts gateway 1's device.
  EXPECT_FALSE(
      apply(state, signed_as(state, removal_tx(state, node, Operation::kEvict), GatewayId{0}))
          .empty());
  EXPECT_EQ(state.table().find_member(node), nullptr);
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
  apply(state_, from_home(state_, join_tx(state_, node_of(2, 1), 500)));
  auto after_join = state_.state_hash();
  EXPECT_NE(before, after_join);
  apply(state_, from_home(state_, removal_tx(state_, node_of(2, 1), Operation::kLeave)));
  EXPECT_NE(state_.state_hash(), after_join);
  EXPECT_NE(state_.state_hash(), before);  // history differs even if the table is back
}

// Random transactions (joins, leaves, evictions, moves), valid and invalid, applied by two
// replicas in the same order: the same verdicts and the same state hash after every
// transaction; a replica that also applies one more transaction diverges.
RC_GTEST_PROP(ContractProperty, ReplicasAgreeAndShapeHolds, (std::uint64_t seed)) {
  crypto::DeterministicRng rng(seed);
  const std::size_t gateways = 1 + rng.uniform(4);
  LedgerState a = state_of(gateways);
  LedgerState b = state_of(gateways);
  std::vector<std::uint32_t> counters(gateways, 0);
  std::vector<NodeId> members;
  std::uint32_t commitments = 0;
  const std::size_t ops = 50 + rng.uniform(250);
  for (std::size_t i = 0; i < ops; ++i) {
    Transaction tx;
    std::optional<GatewayId> moved_to;  // a move is submitted by the gateway it moves to
    const std::uint64_t roll = rng.uniform(100);
    if (members.empty() || roll < 55) {
      const auto g = static_cast<std::uint16_t>(rng.uniform(gateways));
      tx = join_tx(a, node_of(g, ++counters[g]), ++commitments);
      if (roll < 5) tx.set = SetId{tx.set.value() ^ 1};  // sometimes wrong
      if (roll >= 5 && roll < 8)
        tx.commitment = fixture::commitment_of_number(1);  // sometimes reused
    } else if (roll < 65 && gateways > 1) {
      // A move to another gateway than its home, with the device's consent.
      const NodeId node = members[rng.uniform(members.size())];
      moved_to = GatewayId{static_cast<std::uint16_t>(
          (a.home_of(node)->value() + 1 + rng.uniform(gateways - 1)) % gateways)};
      tx = fixture::move_tx(a, node, *moved_to);
      if (roll >= 63) tx.set = SetId{tx.set.value() ^ 1};  // sometimes wrong
    } else {
      const NodeId node = members[rng.uniform(members.size())];
      tx = removal_tx(a, node, roll < 80 ? Operation::kLeave : Operation::kEvict);
      if (roll >= 95) tx.commitment[0] ^= 0xff;  // sometimes forged
    }
    // One envelope for both replicas: they are in the same state.
    const SignedTransaction stx = moved_to ? signed_as(a, tx, *moved_to) : from_home(a, tx);
    const auto va = check(a, stx);
    const auto vb = check(b, stx);
    RC_ASSERT(va.ok() == vb.ok());
    if (!va.ok()) {
      RC_ASSERT(va.error() == vb.error());
      continue;
    }
    apply(a, stx);
    apply(b, stx);
    RC_ASSERT(a.state_hash() == b.state_hash());
    if (tx.op == Operation::kJoin) {
      members.push_back(tx.node);
    } else if (tx.op == Operation::kMove) {
      RC_ASSERT(a.home_of(tx.node) == moved_to);
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
    apply(b, from_home(b, removal_tx(b, members.front(), Operation::kLeave)));
    RC_ASSERT(a.state_hash() != b.state_hash());
  }
}

}  // namespace
}  // namespace kmchain::ledger
