// The Tendermint engine (consensus/engine.h), rule by rule: one "step table" test per line of
// Algorithm 1 (named Lnn after it), driving validator 0 of a 4-validator genesis with proposals
// and votes signed by the others and checking the actions it returns and the state it is in.
// Then the safety plumbing: persist before broadcast, a restart that re-sends instead of
// signing anew, inputs that must be ignored, proposal equivocation, and the quorum boundary
// (exactly 2/3 is not a quorum, unless the two_thirds_quorum fault is switched on).
//
// With equal powers proposer(h, r) = validator (h - 1 + r) % 4: validator 0 proposes at (1, 0)
// and (2, 3); at height 2 rounds 0, 1, 2 are validators 1, 2, 3's.
#include "consensus/engine.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "ledger_fixture.h"

namespace kmchain::consensus {
namespace {

using ledger::VoteType;
using ledger::fixture::counting_hash;
using ledger::fixture::make_genesis;
using ledger::fixture::validator_key;
using Value = std::optional<ledger::Hash256>;

// getValue() and valid(v): blocks of the asked height with the asked proposer; valid unless
// switched off or listed as invalid.
class TestSource final : public ValueSource {
 public:
  ledger::Block make_block(Height height, GatewayId proposer, std::uint64_t now_ms) override {
    ++made;
    ledger::BlockHeader h;
    h.height = height;
    h.previous_hash = counting_hash(0x50);
    h.state_hash = counting_hash(0x60);
    h.proposer = proposer;
    h.timestamp_ms = now_ms;
    return ledger::make_block(h, {});
  }
  bool valid(const ledger::Block& block) override {
    ++checked;
    return all_valid && !invalid.contains(ledger::block_hash(block));
  }
  bool timely(const ledger::Block& block, std::uint64_t) override {
    return !untimely.contains(ledger::block_hash(block));
  }

  bool all_valid = true;
  std::set<ledger::Hash256> invalid;
  std::set<ledger::Hash256> untimely;
  int made = 0;
  int checked = 0;
};

constexpr std::uint64_t kNow = 1'700'000'001'000;

struct Harness {
  explicit Harness(std::vector<std::uint64_t> powers = {1, 1, 1, 1}, EngineFaults faults = {},
                   Timeouts t = {})
      : genesis(make_genesis(powers)),
        chain_id(genesis.chain_id()),
        timeouts(t),
        engine(std::make_unique<Engine>(genesis, chain_id, validator_key(0), GatewayId{0}, t,
                                        faults, source)) {}

  // A distinct block of `height` per tag, as proposer `proposer` made it.
  static ledger::Block block(std::uint64_t height, std::uint16_t proposer, std::uint8_t tag) {
    ledger::BlockHeader h;
    h.height = Height{height};
    h.previous_hash = counting_hash(tag);
    h.proposer = GatewayId{proposer};
    h.timestamp_ms = kNow + tag;
    return ledger::make_block(h, {});
  }

  ledger::Proposal proposal(std::uint16_t from, std::uint64_t height, std::uint32_t round,
                            std::optional<Round> valid_round, const ledger::Block& b) const {
    return ledger::sign_proposal(validator_key(from), chain_id, Height{height}, Round{round},
                                 valid_round, b, GatewayId{from});
  }

  ledger::Vote vote(std::uint16_t from, VoteType type, std::uint64_t height, std::uint32_t round,
                    const Value& value) const {
    return ledger::sign_vote(validator_key(from), chain_id, type, Height{height}, Round{round},
                             value, GatewayId{from});
  }

  std::vector<EngineAction> start(std::uint64_t height,
                                  const std::optional<SignerState>& restored = std::nullopt) {
    std::vector<EngineAction> out;
    engine->start(Height{height}, restored, kNow, out);
    record(out);
    return out;
  }

  std::vector<EngineAction> propose(const ledger::Proposal& p, Ignored expected = Ignored::kNone) {
    std::vector<EngineAction> out;
    EXPECT_EQ(engine->on_proposal(p, kNow, out), expected);
    record(out);
    return out;
  }

  std::vector<EngineAction> votes(std::initializer_list<std::uint16_t> from, VoteType type,
                                  std::uint64_t height, std::uint32_t round, const Value& value) {
    std::vector<EngineAction> out;
    for (std::uint16_t f : from) {
      EXPECT_EQ(engine->on_vote(vote(f, type, height, round, value), kNow, out), Ignored::kNone)
          << "vote of " << f;
    }
    record(out);
    return out;
  }

  std::vector<EngineAction> timeout(std::uint64_t height, std::uint32_t round, TimeoutKind kind,
                                    Ignored expected = Ignored::kNone) {
    std::vector<EngineAction> out;
    EXPECT_EQ(engine->on_timeout(TimeoutIn{Height{height}, Round{round}, kind}, kNow, out),
              expected);
    record(out);
    return out;
  }

  // Every own vote ever broadcast, for "never signs two votes of one step" checks.
  void record(const std::vector<EngineAction>& out) {
    for (const EngineAction& a : out) {
      if (const auto* b = std::get_if<Broadcast>(&a)) {
        if (const auto* v = std::get_if<ledger::Vote>(&b->message)) {
          if (v->validator == GatewayId{0}) own_votes.push_back(*v);
        }
      }
    }
  }
  void expect_no_conflicting_own_votes() const {
    std::map<std::tuple<std::uint64_t, std::uint32_t, VoteType>, ledger::Vote> seen;
    for (const ledger::Vote& v : own_votes) {
      auto [it, fresh] = seen.emplace(std::tuple(v.height.value(), v.round.value(), v.type), v);
      EXPECT_TRUE(fresh || it->second == v)
          << "two different own " << ledger::to_string(v.type) << "s at round " << v.round.value();
    }
  }

  // Height 2, round 0 without a proposal: every timeout of the round fires (validator 0
  // prevotes nil, precommits nil) and the engine moves to round 1.
  void round_0_times_out_at_height_2() {
    start(2);
    timeout(2, 0, TimeoutKind::kPropose);
    timeout(2, 0, TimeoutKind::kPrevote);
    timeout(2, 0, TimeoutKind::kPrecommit);
  }

  // Height 2, round 0: validator 1 proposes `b`, validator 0 prevotes it.
  ledger::Block prevoted_at_height_2(std::uint8_t tag = 1) {
    start(2);
    const ledger::Block b = block(2, 1, tag);
    propose(proposal(1, 2, 0, std::nullopt, b));
    EXPECT_EQ(engine->step(), Step::kPrevote);
    return b;
  }

  // Height 2: locked on a block of round 0 (prevotes of 1 and 2), then round 1 after the
  // precommit timeout (1 and 2 precommit nil). Returns the locked block.
  ledger::Block locked_in_round_0_now_round_1() {
    const ledger::Block a = prevoted_at_height_2(1);
    votes({1, 2}, VoteType::kPrevote, 2, 0, ledger::block_hash(a));
    EXPECT_EQ(engine->signer_state().locked_round, Round{0});
    votes({1, 2}, VoteType::kPrecommit, 2, 0, std::nullopt);
    timeout(2, 0, TimeoutKind::kPrecommit);
    EXPECT_EQ(engine->round(), Round{1});
    EXPECT_EQ(engine->step(), Step::kPropose);
    return a;
  }

  ledger::Genesis genesis;
  ledger::Hash256 chain_id;
  Timeouts timeouts;
  TestSource source;
  std::unique_ptr<Engine> engine;
  std::vector<ledger::Vote> own_votes;
};

// --- Inspecting action lists -------------------------------------------------------------

std::vector<ledger::Vote> broadcast_votes(const std::vector<EngineAction>& out,
                                          std::optional<std::uint16_t> from = 0) {
  std::vector<ledger::Vote> votes;
  for (const EngineAction& a : out) {
    if (const auto* b = std::get_if<Broadcast>(&a)) {
      if (const auto* v = std::get_if<ledger::Vote>(&b->message)) {
        if (!from || v->validator == GatewayId{*from}) votes.push_back(*v);
      }
    }
  }
  return votes;
}

std::vector<ledger::Proposal> broadcast_proposals(const std::vector<EngineAction>& out) {
  std::vector<ledger::Proposal> proposals;
  for (const EngineAction& a : out) {
    if (const auto* b = std::get_if<Broadcast>(&a)) {
      if (const auto* p = std::get_if<ledger::Proposal>(&b->message)) proposals.push_back(*p);
    }
  }
  return proposals;
}

std::vector<ScheduleTimeout> scheduled(const std::vector<EngineAction>& out,
                                       std::optional<TimeoutKind> kind = std::nullopt) {
  std::vector<ScheduleTimeout> timeouts;
  for (const EngineAction& a : out) {
    if (const auto* s = std::get_if<ScheduleTimeout>(&a)) {
      if (!kind || s->timeout.kind == *kind) timeouts.push_back(*s);
    }
  }
  return timeouts;
}

std::optional<Decided> decision(const std::vector<EngineAction>& out) {
  for (const EngineAction& a : out) {
    if (const auto* d = std::get_if<Decided>(&a)) return *d;
  }
  return std::nullopt;
}

std::vector<SignerState> persisted(const std::vector<EngineAction>& out) {
  std::vector<SignerState> states;
  for (const EngineAction& a : out) {
    if (const auto* p = std::get_if<PersistSigner>(&a)) states.push_back(p->state);
  }
  return states;
}

// The one own vote the list broadcasts, checked for type, round and value.
void expect_own_vote(const std::vector<EngineAction>& out, VoteType type, std::uint32_t round,
                     const Value& value) {
  const auto votes = broadcast_votes(out);
  ASSERT_EQ(votes.size(), 1u) << "expected one own " << ledger::to_string(type);
  EXPECT_EQ(votes[0].type, type);
  EXPECT_EQ(votes[0].round, Round{round});
  EXPECT_EQ(votes[0].block, value);
  EXPECT_EQ(votes[0].validator, GatewayId{0});
}

// --- Start and propose (L10-21) ----------------------------------------------------------

TEST(Engine, L10_StartOfANonProposerSchedulesProposeAndRebroadcast) {
  Harness t;
  const auto out = t.start(2);
  EXPECT_EQ(t.engine->height(), Height{2});
  EXPECT_EQ(t.engine->round(), Round{0});
  EXPECT_EQ(t.engine->step(), Step::kPropose);
  EXPECT_FALSE(t.engine->decided());
  EXPECT_TRUE(broadcast_votes(out, std::nullopt).empty());
  EXPECT_TRUE(broadcast_proposals(out).empty());
  const auto propose = scheduled(out, TimeoutKind::kPropose);
  ASSERT_EQ(propose.size(), 1u);
  EXPECT_EQ(propose[0].timeout, (TimeoutIn{Height{2}, Round{0}, TimeoutKind::kPropose}));
  EXPECT_EQ(propose[0].after_ms, t.timeouts.propose_ms);
  ASSERT_EQ(scheduled(out, TimeoutKind::kRebroadcast).size(), 1u);
  EXPECT_EQ(scheduled(out, TimeoutKind::kRebroadcast)[0].after_ms, t.timeouts.rebroadcast_ms);
  EXPECT_EQ(t.source.made, 0);
}

TEST(Engine, L14_ProposerProposesANewValueAndPrevotesIt) {
  Harness t;
  const auto out = t.start(1);
  ASSERT_EQ(t.source.made, 1);
  const auto proposals = broadcast_proposals(out);
  ASSERT_EQ(proposals.size(), 1u);
  const ledger::Proposal& p = proposals[0];
  EXPECT_EQ(p.height, Height{1});
  EXPECT_EQ(p.round, Round{0});
  EXPECT_EQ(p.valid_round, std::nullopt);
  EXPECT_EQ(p.proposer, GatewayId{0});
  EXPECT_EQ(p.block.header.proposer, GatewayId{0});
  EXPECT_TRUE(ledger::verify_proposal(validator_key(0).public_key(), t.chain_id, p));
  // Its own proposal is the round's proposal: it prevotes it at once (L22).
  expect_own_vote(out, VoteType::kPrevote, 0, ledger::block_hash(p.block));
  EXPECT_EQ(t.engine->step(), Step::kPrevote);
  EXPECT_TRUE(scheduled(out, TimeoutKind::kPropose).empty());
  EXPECT_EQ(t.engine->signer_state().own_proposal, p);
}

TEST(Engine, L16_ProposerReproposesItsValidValueWithItsRoundAndRelaysThePolka) {
  Harness t;
  // Height 1 round 0: own proposal, polka with 1 and 2: locked and valid at round 0.
  const auto first = broadcast_proposals(t.start(1));
  ASSERT_EQ(first.size(), 1u);
  const ledger::Hash256 id = ledger::block_hash(first[0].block);
  t.votes({1, 2}, VoteType::kPrevote, 1, 0, id);
  ASSERT_EQ(t.engine->signer_state().valid_round, Round{0});
  // Validators 1 and 2 are at round 4, where validator 0 proposes again: it skips there (L55)
  // and re-proposes the valid value with valid round 0 instead of a new one.
  const auto out = t.votes({1, 2}, VoteType::kPrevote, 1, 4, std::nullopt);
  EXPECT_EQ(t.engine->round(), Round{4});
  EXPECT_EQ(t.source.made, 1);
  const auto proposals = broadcast_proposals(out);
  ASSERT_EQ(proposals.size(), 1u);
  EXPECT_EQ(proposals[0].round, Round{4});
  EXPECT_EQ(proposals[0].valid_round, Round{0});
  EXPECT_EQ(proposals[0].block, first[0].block);
  // The polka of round 0 goes with it, in its signers' own signatures.
  std::set<std::uint16_t> relayed;
  for (const ledger::Vote& v : broadcast_votes(out, std::nullopt)) {
    if (v.round == Round{0} && v.type == VoteType::kPrevote && v.block == id)
      relayed.insert(v.validator.value());
  }
  EXPECT_EQ(relayed, (std::set<std::uint16_t>{0, 1, 2}));
  // It prevotes its re-proposal: the polka at round 0 is known and it is locked on the value.
  const auto own = broadcast_votes(out);
  ASSERT_FALSE(own.empty());
  EXPECT_EQ(own.back().round, Round{4});
  EXPECT_EQ(own.back().type, VoteType::kPrevote);
  EXPECT_EQ(own.back().block, id);
}

// --- L22-27: a new value -----------------------------------------------------------------

TEST(Engine, L22_ProposerValuePrevotedWhenUnlocked) {
  Harness t;
  t.start(2);
  const ledger::Block b = Harness::block(2, 1, 1);
  const auto out = t.propose(t.proposal(1, 2, 0, std::nullopt, b));
  expect_own_vote(out, VoteType::kPrevote, 0, ledger::block_hash(b));
  EXPECT_EQ(t.engine->step(), Step::kPrevote);
  EXPECT_EQ(t.source.checked, 1);
  EXPECT_FALSE(t.engine->signer_state().locked_round.has_value());
}

TEST(Engine, L22_InvalidValuePrevotesNil) {
  Harness t;
  t.start(2);
  const ledger::Block b = Harness::block(2, 1, 1);
  t.source.invalid.insert(ledger::block_hash(b));
  const auto out = t.propose(t.proposal(1, 2, 0, std::nullopt, b));
  expect_own_vote(out, VoteType::kPrevote, 0, std::nullopt);
  EXPECT_EQ(t.engine->step(), Step::kPrevote);
}

// The block-time rule is asked of fresh proposals only: an untimely one is prevoted nil...
TEST(Engine, L22_UntimelyValuePrevotesNil) {
  Harness t;
  t.start(2);
  const ledger::Block b = Harness::block(2, 1, 1);
  t.source.untimely.insert(ledger::block_hash(b));
  const auto out = t.propose(t.proposal(1, 2, 0, std::nullopt, b));
  expect_own_vote(out, VoteType::kPrevote, 0, std::nullopt);
}

// ...but a quorum's decision on it is this validator's decision too, whatever its clock says.
TEST(Engine, L49_DecisionIgnoresTheLocalClock) {
  Harness t;
  t.start(2);
  const ledger::Block a = Harness::block(2, 1, 1);
  t.source.untimely.insert(ledger::block_hash(a));
  t.propose(t.proposal(1, 2, 0, std::nullopt, a));
  const auto out = t.votes({1, 2, 3}, VoteType::kPrecommit, 2, 0, ledger::block_hash(a));
  ASSERT_TRUE(decision(out).has_value());
  EXPECT_EQ(decision(out)->block, a);
}

// A re-proposed value has a polka, so at least one correct validator found it timely.
TEST(Engine, L28_ReproposalWithAPolkaIsPrevotedWhateverTheLocalClock) {
  Harness t;
  t.round_0_times_out_at_height_2();
  const ledger::Block a = Harness::block(2, 1, 1);
  const ledger::Hash256 id = ledger::block_hash(a);
  t.source.untimely.insert(id);
  t.votes({1, 2, 3}, VoteType::kPrevote, 2, 0, id);
  const auto out = t.propose(t.proposal(2, 2, 1, Round{0}, a));
  expect_own_vote(out, VoteType::kPrevote, 1, id);
}

TEST(Engine, L22_LockedOnOtherValuePrevotesNil) {
  Harness t;
  const ledger::Block a = t.locked_in_round_0_now_round_1();
  const ledger::Block b = Harness::block(2, 2, 2);
  const auto out = t.propose(t.proposal(2, 2, 1, std::nullopt, b));
  expect_own_vote(out, VoteType::kPrevote, 1, std::nullopt);
  EXPECT_EQ(t.engine->signer_state().locked_round, Round{0});
  EXPECT_EQ(t.engine->signer_state().locked_value, a);
}

TEST(Engine, L22_LockedOnTheSameValuePrevotesIt) {
  Harness t;
  const ledger::Block a = t.locked_in_round_0_now_round_1();
  // Validator 2 proposes the same block as new (vr = -1).
  const auto out = t.propose(t.proposal(2, 2, 1, std::nullopt, a));
  expect_own_vote(out, VoteType::kPrevote, 1, ledger::block_hash(a));
}

#if KMCHAIN_FAULTS_ENABLED
TEST(Engine, L22_IgnoreLockFaultPrevotesAnotherValueWhileLocked) {
  Harness t({1, 1, 1, 1}, EngineFaults{Rule::kIgnoreLock});
  t.locked_in_round_0_now_round_1();
  const ledger::Block b = Harness::block(2, 2, 2);
  const auto out = t.propose(t.proposal(2, 2, 1, std::nullopt, b));
  expect_own_vote(out, VoteType::kPrevote, 1, ledger::block_hash(b));
}
#endif

// --- L28-33: a re-proposed value ---------------------------------------------------------

TEST(Engine, L28_RepropasalNeedsPolkaAtValidRound) {
  Harness t;
  t.round_0_times_out_at_height_2();
  ASSERT_EQ(t.engine->round(), Round{1});
  // Validator 2 re-proposes A with valid round 0, but no polka for A at round 0 is known.
  const ledger::Block a = Harness::block(2, 1, 1);
  const ledger::Hash256 id = ledger::block_hash(a);
  const auto waiting = t.propose(t.proposal(2, 2, 1, Round{0}, a));
  EXPECT_TRUE(broadcast_votes(waiting).empty());
  EXPECT_EQ(t.engine->step(), Step::kPropose);
  // Two prevotes for A at round 0 (with its own nil, not a polka): still waiting.
  EXPECT_TRUE(broadcast_votes(t.votes({1, 2}, VoteType::kPrevote, 2, 0, id)).empty());
  EXPECT_EQ(t.engine->step(), Step::kPropose);
  // The third makes the polka: prevote A at round 1.
  const auto out = t.votes({3}, VoteType::kPrevote, 2, 0, id);
  expect_own_vote(out, VoteType::kPrevote, 1, id);
  EXPECT_EQ(t.engine->step(), Step::kPrevote);
}

TEST(Engine, L28_FutureRoundProposalWaitsForItsRound) {
  Harness t;
  // A round-2 proposal with valid round 1 received at round 0 is kept, not acted on.
  t.start(2);
  const ledger::Block a = Harness::block(2, 1, 1);
  const auto out = t.propose(t.proposal(3, 2, 2, Round{1}, a));
  EXPECT_TRUE(broadcast_votes(out).empty());
  EXPECT_EQ(t.engine->round(), Round{0});
  EXPECT_EQ(t.engine->step(), Step::kPropose);
}

TEST(Engine, L28_PolkaAboveTheLockAllowsAnotherValue) {
  Harness t;
  const ledger::Block a = t.locked_in_round_0_now_round_1();
  // Round 1: no proposal reaches validator 0, which prevotes nil; 1, 2, 3 prevote B.
  const ledger::Block b = Harness::block(2, 2, 2);
  const ledger::Hash256 id_b = ledger::block_hash(b);
  t.timeout(2, 1, TimeoutKind::kPropose);
  t.votes({1, 2, 3}, VoteType::kPrevote, 2, 1, id_b);
  // Without the proposal no lock on B; the prevote timeout precommits nil; next round.
  EXPECT_EQ(t.engine->signer_state().locked_value, a);
  t.timeout(2, 1, TimeoutKind::kPrevote);
  t.votes({1, 2}, VoteType::kPrecommit, 2, 1, std::nullopt);
  t.timeout(2, 1, TimeoutKind::kPrecommit);
  ASSERT_EQ(t.engine->round(), Round{2});
  // Validator 3 re-proposes B with valid round 1 >= the lock's round 0: prevote B.
  const auto out = t.propose(t.proposal(3, 2, 2, Round{1}, b));
  expect_own_vote(out, VoteType::kPrevote, 2, id_b);
  t.expect_no_conflicting_own_votes();
}

TEST(Engine, L28_LockedAboveValidRoundPrevotesNil) {
  Harness t;
  const ledger::Block a = t.locked_in_round_0_now_round_1();
  // Round 1: validator 2 proposes B; validator 0 prevotes nil (locked on A), then sees a polka
  // for B with the proposal and moves its lock to B at round 1 (L36).
  const ledger::Block b = Harness::block(2, 2, 2);
  const ledger::Hash256 id_b = ledger::block_hash(b);
  expect_own_vote(t.propose(t.proposal(2, 2, 1, std::nullopt, b)), VoteType::kPrevote, 1,
                  std::nullopt);
  const auto locked = t.votes({1, 2, 3}, VoteType::kPrevote, 2, 1, id_b);
  expect_own_vote(locked, VoteType::kPrecommit, 1, id_b);
  ASSERT_EQ(t.engine->signer_state().locked_round, Round{1});
  t.votes({1, 2}, VoteType::kPrecommit, 2, 1, std::nullopt);
  t.timeout(2, 1, TimeoutKind::kPrecommit);
  ASSERT_EQ(t.engine->round(), Round{2});
  // Round 2: validator 3 re-proposes A with valid round 0, whose polka is known (0, 1, 2). The
  // lock of round 1 is above it: prevote nil.
  const auto out = t.propose(t.proposal(3, 2, 2, Round{0}, a));
  expect_own_vote(out, VoteType::kPrevote, 2, std::nullopt);
  EXPECT_EQ(t.engine->signer_state().locked_value, b);
}

TEST(Engine, L28_InvalidReproposalPrevotesNil) {
  Harness t;
  t.round_0_times_out_at_height_2();
  const ledger::Block a = Harness::block(2, 1, 1);
  const ledger::Hash256 id = ledger::block_hash(a);
  t.source.invalid.insert(id);
  t.propose(t.proposal(2, 2, 1, Round{0}, a));
  // The polka at round 0 completes, but the value is not valid: prevote nil.
  const auto out = t.votes({1, 2, 3}, VoteType::kPrevote, 2, 0, id);
  expect_own_vote(out, VoteType::kPrevote, 1, std::nullopt);
}

// --- L34-46: prevotes of the round ---------------------------------------------------------

TEST(Engine, L34_PrevoteTimeoutOnAnyQuorum) {
  Harness t;
  const ledger::Block a = t.prevoted_at_height_2();
  // Own prevote for A, 1 for A, 2 for nil: 3 of 4 for anything, but no polka.
  const auto out = t.votes({1}, VoteType::kPrevote, 2, 0, ledger::block_hash(a));
  EXPECT_TRUE(scheduled(out, TimeoutKind::kPrevote).empty());
  const auto quorum = t.votes({2}, VoteType::kPrevote, 2, 0, std::nullopt);
  const auto prevote = scheduled(quorum, TimeoutKind::kPrevote);
  ASSERT_EQ(prevote.size(), 1u);
  EXPECT_EQ(prevote[0].timeout, (TimeoutIn{Height{2}, Round{0}, TimeoutKind::kPrevote}));
  EXPECT_EQ(prevote[0].after_ms, t.timeouts.prevote_ms);
  EXPECT_TRUE(broadcast_votes(quorum).empty());
  EXPECT_EQ(t.engine->step(), Step::kPrevote);
  // Only the first time.
  const auto more = t.votes({3}, VoteType::kPrevote, 2, 0, counting_hash(0x99));
  EXPECT_TRUE(scheduled(more, TimeoutKind::kPrevote).empty());
}

TEST(Engine, L34_PrevoteTimeoutGrowsWithTheRound) {
  Harness t;
  t.round_0_times_out_at_height_2();
  t.timeout(2, 1, TimeoutKind::kPropose);
  const auto out = t.votes({1, 2}, VoteType::kPrevote, 2, 1, std::nullopt);
  // 1 and 2 prevote nil with validator 0: that is a nil polka too (L44) - the timeout is
  // scheduled first.
  const auto prevote = scheduled(out, TimeoutKind::kPrevote);
  ASSERT_EQ(prevote.size(), 1u);
  EXPECT_EQ(prevote[0].after_ms, t.timeouts.prevote_ms + t.timeouts.prevote_delta_ms);
}

TEST(Engine, L36_LockAndPrecommitOnPolka) {
  Harness t;
  const ledger::Block a = t.prevoted_at_height_2();
  const ledger::Hash256 id = ledger::block_hash(a);
  const auto out = t.votes({1, 2}, VoteType::kPrevote, 2, 0, id);
  expect_own_vote(out, VoteType::kPrecommit, 0, id);
  EXPECT_EQ(t.engine->step(), Step::kPrecommit);
  const SignerState& s = t.engine->signer_state();
  EXPECT_EQ(s.locked_round, Round{0});
  EXPECT_EQ(s.locked_value, a);
  EXPECT_EQ(s.valid_round, Round{0});
  EXPECT_EQ(s.valid_value, a);
  // The persisted record holds the lock with the precommit.
  const auto states = persisted(out);
  ASSERT_EQ(states.size(), 1u);
  EXPECT_EQ(states[0].locked_value, a);
  EXPECT_EQ(states[0].valid_value, a);
  EXPECT_EQ(states[0].step, Step::kPrecommit);
  ASSERT_EQ(states[0].own_votes.size(), 2u);
  EXPECT_EQ(states[0].own_votes[1].type, VoteType::kPrecommit);
}

TEST(Engine, L36_PolkaBeforeTheProposalLocksWhenItArrives) {
  Harness t;
  t.start(2);
  const ledger::Block a = Harness::block(2, 1, 1);
  const ledger::Hash256 id = ledger::block_hash(a);
  // 1, 2, 3 prevote A before validator 0 has the proposal.
  EXPECT_TRUE(broadcast_votes(t.votes({1, 2, 3}, VoteType::kPrevote, 2, 0, id)).empty());
  // The proposal: prevote A (L22), then the polka is complete: lock and precommit A (L36).
  const auto out = t.propose(t.proposal(1, 2, 0, std::nullopt, a));
  const auto own = broadcast_votes(out);
  ASSERT_EQ(own.size(), 2u);
  EXPECT_EQ(own[0].type, VoteType::kPrevote);
  EXPECT_EQ(own[0].block, id);
  EXPECT_EQ(own[1].type, VoteType::kPrecommit);
  EXPECT_EQ(own[1].block, id);
  EXPECT_EQ(t.engine->signer_state().locked_value, a);
}

TEST(Engine, L36_PolkaAfterPrecommitUpdatesTheValidValueOnly) {
  Harness t;
  const ledger::Block a = t.prevoted_at_height_2();
  const ledger::Hash256 id = ledger::block_hash(a);
  // The prevote timeout first (L61): precommit nil.
  expect_own_vote(t.timeout(2, 0, TimeoutKind::kPrevote), VoteType::kPrecommit, 0, std::nullopt);
  ASSERT_EQ(t.engine->step(), Step::kPrecommit);
  // Then the polka for A, with the proposal, while in precommit (L36 with step > prevote): A
  // becomes the valid value (L42), but there is no lock and no second precommit.
  const auto out = t.votes({1, 2}, VoteType::kPrevote, 2, 0, id);
  EXPECT_TRUE(broadcast_votes(out).empty());
  EXPECT_TRUE(persisted(out).empty());
  const SignerState& s = t.engine->signer_state();
  EXPECT_FALSE(s.locked_round.has_value());
  EXPECT_EQ(s.valid_round, Round{0});
  EXPECT_EQ(s.valid_value, a);
  t.expect_no_conflicting_own_votes();
}

TEST(Engine, L36_PolkaForAnInvalidValueLocksNothing) {
  Harness t;
  t.start(2);
  const ledger::Block a = Harness::block(2, 1, 1);
  t.source.invalid.insert(ledger::block_hash(a));
  expect_own_vote(t.propose(t.proposal(1, 2, 0, std::nullopt, a)), VoteType::kPrevote, 0,
                  std::nullopt);
  const auto out = t.votes({1, 2, 3}, VoteType::kPrevote, 2, 0, ledger::block_hash(a));
  EXPECT_TRUE(broadcast_votes(out).empty());
  EXPECT_FALSE(t.engine->signer_state().locked_round.has_value());
  EXPECT_FALSE(t.engine->signer_state().valid_round.has_value());
}

TEST(Engine, L44_NilPolkaPrecommitsNil) {
  Harness t;
  t.prevoted_at_height_2();
  t.votes({1, 2}, VoteType::kPrevote, 2, 0, std::nullopt);
  EXPECT_EQ(t.engine->step(), Step::kPrevote);  // 2 of 4 for nil
  const auto out = t.votes({3}, VoteType::kPrevote, 2, 0, std::nullopt);
  expect_own_vote(out, VoteType::kPrecommit, 0, std::nullopt);
  EXPECT_EQ(t.engine->step(), Step::kPrecommit);
  EXPECT_FALSE(t.engine->signer_state().locked_round.has_value());
}

// --- L47-54: precommits ------------------------------------------------------------------

TEST(Engine, L47_PrecommitTimeout) {
  Harness t;
  const ledger::Block a = t.prevoted_at_height_2();
  EXPECT_TRUE(
      scheduled(t.votes({1, 2}, VoteType::kPrecommit, 2, 0, std::nullopt), TimeoutKind::kPrecommit)
          .empty());
  const auto out = t.votes({3}, VoteType::kPrecommit, 2, 0, ledger::block_hash(a));
  const auto precommit = scheduled(out, TimeoutKind::kPrecommit);
  ASSERT_EQ(precommit.size(), 1u);
  EXPECT_EQ(precommit[0].timeout, (TimeoutIn{Height{2}, Round{0}, TimeoutKind::kPrecommit}));
  EXPECT_EQ(precommit[0].after_ms, t.timeouts.precommit_ms);
  EXPECT_FALSE(t.engine->decided());
  // Once per round.
  std::vector<EngineAction> again;
  EXPECT_EQ(
      t.engine->on_vote(t.vote(1, VoteType::kPrecommit, 2, 0, ledger::block_hash(a)), kNow, again),
      Ignored::kEquivocation);
  EXPECT_TRUE(scheduled(again, TimeoutKind::kPrecommit).empty());
}

TEST(Engine, L49_DecideOnPrecommitQuorumAnyRound) {
  Harness t;
  t.round_0_times_out_at_height_2();
  t.timeout(2, 1, TimeoutKind::kPropose);
  ASSERT_EQ(t.engine->round(), Round{1});
  // Round 0's proposal and precommits arrive late, while validator 0 is at round 1.
  const ledger::Block a = Harness::block(2, 1, 1);
  const ledger::Hash256 id = ledger::block_hash(a);
  t.propose(t.proposal(1, 2, 0, std::nullopt, a));
  t.votes({1, 2}, VoteType::kPrecommit, 2, 0, id);
  EXPECT_FALSE(t.engine->decided());
  const auto out = t.votes({3}, VoteType::kPrecommit, 2, 0, id);
  const auto d = decision(out);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->block, a);
  EXPECT_EQ(d->certificate.height, Height{2});
  EXPECT_EQ(d->certificate.round, Round{0});
  EXPECT_EQ(d->certificate.block, id);
  ASSERT_EQ(d->certificate.precommits.size(), 3u);
  EXPECT_TRUE(ledger::verify_commit(t.genesis, d->block, d->certificate).ok());
  EXPECT_TRUE(t.engine->decided());
  EXPECT_TRUE(std::holds_alternative<Decided>(out.back()));
  // Decided: further input is ignored.
  std::vector<EngineAction> after;
  EXPECT_EQ(t.engine->on_vote(t.vote(1, VoteType::kPrevote, 2, 1, std::nullopt), kNow, after),
            Ignored::kDecided);
  EXPECT_EQ(t.engine->on_proposal(t.proposal(2, 2, 1, std::nullopt, a), kNow, after),
            Ignored::kDecided);
  EXPECT_EQ(
      t.engine->on_timeout(TimeoutIn{Height{2}, Round{1}, TimeoutKind::kPropose}, kNow, after),
      Ignored::kStale);
  EXPECT_TRUE(after.empty());
}

TEST(Engine, L49_DecisionWaitsForTheBlock) {
  Harness t;
  t.start(2);
  const ledger::Block a = Harness::block(2, 1, 1);
  const ledger::Hash256 id = ledger::block_hash(a);
  EXPECT_FALSE(decision(t.votes({1, 2, 3}, VoteType::kPrecommit, 2, 0, id)).has_value());
  EXPECT_FALSE(t.engine->decided());
  const auto out = t.propose(t.proposal(1, 2, 0, std::nullopt, a));
  ASSERT_TRUE(decision(out).has_value());
  EXPECT_EQ(decision(out)->block, a);
  // It decided before voting: no own vote for a height it has decided.
  EXPECT_TRUE(broadcast_votes(out).empty());
}

TEST(Engine, L49_NoDecisionOnAnInvalidBlock) {
  Harness t;
  t.start(2);
  const ledger::Block a = Harness::block(2, 1, 1);
  t.source.invalid.insert(ledger::block_hash(a));
  t.propose(t.proposal(1, 2, 0, std::nullopt, a));
  EXPECT_FALSE(
      decision(t.votes({1, 2, 3}, VoteType::kPrecommit, 2, 0, ledger::block_hash(a))).has_value());
  EXPECT_FALSE(t.engine->decided());
}

TEST(Engine, L49_DecideInALaterRoundOnTheReproposedBlock) {
  Harness t;
  const ledger::Block a = t.locked_in_round_0_now_round_1();
  const ledger::Hash256 id = ledger::block_hash(a);
  // Round 1: validator 2 re-proposes A with valid round 0; everyone precommits A at round 1.
  expect_own_vote(t.propose(t.proposal(2, 2, 1, Round{0}, a)), VoteType::kPrevote, 1, id);
  const auto out = t.votes({1, 2, 3}, VoteType::kPrevote, 2, 1, id);
  expect_own_vote(out, VoteType::kPrecommit, 1, id);
  const auto done = t.votes({1, 2}, VoteType::kPrecommit, 2, 1, id);
  ASSERT_TRUE(decision(done).has_value());
  EXPECT_EQ(decision(done)->certificate.round, Round{1});
  // Validator 0's own precommit is in the certificate.
  EXPECT_EQ(decision(done)->certificate.precommits[0].first, GatewayId{0});
  EXPECT_TRUE(ledger::verify_commit(t.genesis, a, decision(done)->certificate).ok());
}

// --- L55-67: round skip and timeouts -----------------------------------------------------

TEST(Engine, L55_RoundSkipOnOneThirdAhead) {
  Harness t;
  t.start(2);
  // One validator of four at round 6: not more than 1/3.
  EXPECT_TRUE(t.votes({1}, VoteType::kPrevote, 2, 6, std::nullopt).size() == 0u);
  EXPECT_EQ(t.engine->round(), Round{0});
  // A second at round 2: two validators have reached round 2 or later.
  const auto out = t.votes({2}, VoteType::kPrecommit, 2, 2, std::nullopt);
  EXPECT_EQ(t.engine->round(), Round{2});
  EXPECT_EQ(t.engine->step(), Step::kPropose);
  const auto propose = scheduled(out, TimeoutKind::kPropose);
  ASSERT_EQ(propose.size(), 1u);
  EXPECT_EQ(propose[0].timeout, (TimeoutIn{Height{2}, Round{2}, TimeoutKind::kPropose}));
  EXPECT_EQ(propose[0].after_ms, t.timeouts.propose_ms + 2 * t.timeouts.propose_delta_ms);
  // A proposal counts as a message of its round: validator 3 proposes at round 6 -> skip to 6.
  const auto six = t.propose(t.proposal(3, 2, 6, std::nullopt, Harness::block(2, 3, 6)));
  EXPECT_EQ(t.engine->round(), Round{6});
  // ... where that proposal is the round's, so validator 0 prevotes it at once.
  expect_own_vote(six, VoteType::kPrevote, 6, ledger::block_hash(Harness::block(2, 3, 6)));
}

TEST(Engine, L55_RoundSkipOnMoreThanTheByzantinePower) {
  // f+1, not a third: of three gateways (no Byzantine one tolerated) one ahead is enough.
  Harness three({1, 1, 1});
  three.start(2);
  three.votes({1}, VoteType::kPrevote, 2, 3, std::nullopt);
  EXPECT_EQ(three.engine->round(), Round{3});
  // Weighted: of power 9 at most 2 may lie, so power 2 ahead is not enough and 3 is.
  Harness weighted({3, 3, 2, 1});
  weighted.start(2);
  weighted.votes({2}, VoteType::kPrevote, 2, 4, std::nullopt);
  EXPECT_EQ(weighted.engine->round(), Round{0});
  weighted.votes({3}, VoteType::kPrevote, 2, 5, std::nullopt);
  EXPECT_EQ(weighted.engine->round(), Round{4});
}

TEST(Engine, L55_RoundSkipBeyondTheVoteWindow) {
  Harness t;
  t.start(2);
  const std::uint32_t far = kFutureRoundsWindow + 10;  // (2 - 1 + far) % 4 = 3: not validator 0
  t.votes({1, 2}, VoteType::kPrevote, 2, far, std::nullopt);
  EXPECT_EQ(t.engine->round(), Round{far});
}

TEST(Engine, L55_StaleRoundsDoNotSkip) {
  Harness t;
  const auto a = t.locked_in_round_0_now_round_1();
  (void)a;
  // Messages of round 0 from everyone: no skip backwards, round stays 1.
  t.votes({3}, VoteType::kPrecommit, 2, 0, std::nullopt);
  EXPECT_EQ(t.engine->round(), Round{1});
}

TEST(Engine, L57_TimeoutProposePrevotesNil) {
  Harness t;
  t.start(2);
  const auto out = t.timeout(2, 0, TimeoutKind::kPropose);
  expect_own_vote(out, VoteType::kPrevote, 0, std::nullopt);
  EXPECT_EQ(t.engine->step(), Step::kPrevote);
  // Again, or in a later step: stale.
  t.timeout(2, 0, TimeoutKind::kPropose, Ignored::kStale);
  // Of another round or height: stale.
  t.timeout(2, 1, TimeoutKind::kPropose, Ignored::kStale);
  t.timeout(3, 0, TimeoutKind::kPropose, Ignored::kStale);
  // A proposal after the timeout changes nothing in this round.
  const auto late = t.propose(t.proposal(1, 2, 0, std::nullopt, Harness::block(2, 1, 1)));
  EXPECT_TRUE(broadcast_votes(late).empty());
}

TEST(Engine, L61_PrevoteTimeoutPrecommitsNil) {
  Harness t;
  t.start(2);
  // In propose step the prevote timeout is stale.
  t.timeout(2, 0, TimeoutKind::kPrevote, Ignored::kStale);
  t.timeout(2, 0, TimeoutKind::kPropose);
  const auto out = t.timeout(2, 0, TimeoutKind::kPrevote);
  expect_own_vote(out, VoteType::kPrecommit, 0, std::nullopt);
  EXPECT_EQ(t.engine->step(), Step::kPrecommit);
  t.timeout(2, 0, TimeoutKind::kPrevote, Ignored::kStale);
}

TEST(Engine, L65_NextRound) {
  Harness t;
  t.start(2);
  t.timeout(2, 0, TimeoutKind::kPropose);
  t.timeout(2, 0, TimeoutKind::kPrevote);
  const auto out = t.timeout(2, 0, TimeoutKind::kPrecommit);
  EXPECT_EQ(t.engine->round(), Round{1});
  EXPECT_EQ(t.engine->step(), Step::kPropose);
  EXPECT_TRUE(t.engine->signer_state().own_votes.empty());
  const auto propose = scheduled(out, TimeoutKind::kPropose);
  ASSERT_EQ(propose.size(), 1u);
  EXPECT_EQ(propose[0].timeout, (TimeoutIn{Height{2}, Round{1}, TimeoutKind::kPropose}));
  EXPECT_EQ(propose[0].after_ms, t.timeouts.propose_ms + t.timeouts.propose_delta_ms);
  // The old round's timeouts are stale now.
  t.timeout(2, 0, TimeoutKind::kPrecommit, Ignored::kStale);
  EXPECT_EQ(t.engine->round(), Round{1});
  // Round 3 of height 2 is validator 0's: it proposes when it gets there.
  t.timeout(2, 1, TimeoutKind::kPrecommit);
  const auto third = t.timeout(2, 2, TimeoutKind::kPrecommit);
  EXPECT_EQ(t.engine->round(), Round{3});
  ASSERT_EQ(broadcast_proposals(third).size(), 1u);
  EXPECT_EQ(broadcast_proposals(third)[0].round, Round{3});
  t.expect_no_conflicting_own_votes();
}

TEST(Engine, CommitTimeoutIsNotTheEngines) {
  Harness t;
  t.start(2);
  t.timeout(2, 0, TimeoutKind::kCommit, Ignored::kStale);
  EXPECT_EQ(t.engine->step(), Step::kPropose);
}

TEST(Engine, RebroadcastResendsOwnMessagesWithoutPersisting) {
  Harness t;
  const ledger::Block a = t.prevoted_at_height_2();
  t.votes({1, 2}, VoteType::kPrevote, 2, 0, ledger::block_hash(a));
  const auto out = t.timeout(2, 0, TimeoutKind::kRebroadcast);
  const auto own = broadcast_votes(out);
  ASSERT_EQ(own.size(), 2u);
  EXPECT_EQ(own[0].type, VoteType::kPrevote);
  EXPECT_EQ(own[1].type, VoteType::kPrecommit);
  EXPECT_TRUE(persisted(out).empty());
  ASSERT_EQ(scheduled(out, TimeoutKind::kRebroadcast).size(), 1u);
  // Rebroadcast timeouts of any round are served (they are per height).
  EXPECT_EQ(broadcast_votes(t.timeout(2, 7, TimeoutKind::kRebroadcast)).size(), 2u);
  EXPECT_EQ(t.engine->stats().signed_messages, 2u);
}

// --- Persistence and restart -------------------------------------------------------------

// Every own proposal or vote, the first time it is broadcast, follows a PersistSigner in the
// same action list whose state holds it. Returns the number of violations.
std::size_t persist_violations(const std::vector<EngineAction>& out,
                               std::set<std::string>& sent_before) {
  std::size_t violations = 0;
  std::vector<SignerState> states;
  for (const EngineAction& a : out) {
    if (const auto* p = std::get_if<PersistSigner>(&a)) {
      states.push_back(p->state);
      continue;
    }
    const auto* b = std::get_if<Broadcast>(&a);
    if (b == nullptr) continue;
    bool own = false;
    bool persisted_before = false;
    if (const auto* v = std::get_if<ledger::Vote>(&b->message)) {
      own = v->validator == GatewayId{0};
      for (const SignerState& s : states) {
        for (const ledger::Vote& w : s.own_votes)
          persisted_before = persisted_before || w == *v;
      }
    } else if (const auto* p = std::get_if<ledger::Proposal>(&b->message)) {
      own = p->proposer == GatewayId{0};
      for (const SignerState& s : states)
        persisted_before = persisted_before || s.own_proposal == *p;
    }
    if (!own) continue;
    if (!sent_before.insert(to_hex(encode(b->message))).second) continue;  // a re-send
    if (!persisted_before) ++violations;
  }
  return violations;
}

// A run touching every signing path: own proposal, prevotes, precommits (value and nil),
// lock, round changes by timeout and by skip, re-proposal.
std::size_t run_signing_scenario(Harness& t) {
  std::set<std::string> sent;
  std::size_t violations = 0;
  auto check = [&](const std::vector<EngineAction>& out) {
    violations += persist_violations(out, sent);
  };
  check(t.start(1));
  const auto own = t.engine->signer_state().own_proposal;
  if (!own) return 1000;
  const ledger::Hash256 id = ledger::block_hash(own->block);
  check(t.votes({1, 2}, VoteType::kPrevote, 1, 0, id));
  check(t.timeout(1, 0, TimeoutKind::kRebroadcast));
  check(t.votes({1, 2}, VoteType::kPrecommit, 1, 0, std::nullopt));
  check(t.timeout(1, 0, TimeoutKind::kPrecommit));
  check(t.timeout(1, 1, TimeoutKind::kPropose));
  check(t.timeout(1, 1, TimeoutKind::kPrevote));
  // 2 and 3 at round 4, where validator 0 proposes: skip there, re-propose A (vr 0), prevote
  // it, and with 2 and 3 it is a polka: lock and precommit A.
  check(t.votes({2, 3}, VoteType::kPrevote, 1, 4, id));
  check(t.timeout(1, 4, TimeoutKind::kRebroadcast));
  check(t.votes({1, 2}, VoteType::kPrecommit, 1, 4, id));
  if (!t.engine->decided()) return 1000;
  return violations;
}

TEST(Engine, PersistBeforeBroadcast) {
  Harness t;
  EXPECT_EQ(run_signing_scenario(t), 0u);
  EXPECT_GE(t.engine->stats().signed_messages, 7u);
  t.expect_no_conflicting_own_votes();
}

#if KMCHAIN_FAULTS_ENABLED
TEST(Engine, SkipWalFaultIsCaughtByThePersistCheck) {
  Harness t({1, 1, 1, 1}, EngineFaults{Rule::kSkipWal});
  EXPECT_GT(run_signing_scenario(t), 0u);
}
#endif

TEST(Engine, RestartResendsSameVoteAndNeverSignsAnother) {
  // First life: prevote A at height 2 round 0, and crash right after the persist.
  Harness first;
  const ledger::Block a = first.prevoted_at_height_2();
  const SignerState record = first.engine->signer_state();
  ASSERT_EQ(record.own_votes.size(), 1u);
  const ledger::Vote prevote = record.own_votes[0];

  // Second life, from the record.
  Harness t;
  const auto out = t.start(2, record);
  EXPECT_EQ(t.engine->round(), Round{0});
  EXPECT_EQ(t.engine->step(), Step::kPrevote);
  const auto resent = broadcast_votes(out);
  ASSERT_EQ(resent.size(), 1u);
  EXPECT_EQ(resent[0], prevote);  // the same bytes, not a new signature
  EXPECT_TRUE(persisted(out).empty());
  EXPECT_EQ(t.engine->stats().signed_messages, 0u);
  // The step's timeout is armed again.
  ASSERT_EQ(scheduled(out, TimeoutKind::kPrevote).size(), 1u);
  // Another proposal for round 0 (it does not know the first one): no second prevote.
  const ledger::Block b = Harness::block(2, 1, 2);
  EXPECT_TRUE(broadcast_votes(t.propose(t.proposal(1, 2, 0, std::nullopt, b))).empty());
  t.timeout(2, 0, TimeoutKind::kPropose, Ignored::kStale);
  // Its old prevote counts towards a polka for A.
  const auto polka = t.votes({2, 3}, VoteType::kPrevote, 2, 0, ledger::block_hash(a));
  EXPECT_TRUE(broadcast_votes(polka).empty());  // no proposal for A known here: no lock
  expect_own_vote(t.timeout(2, 0, TimeoutKind::kPrevote), VoteType::kPrecommit, 0, std::nullopt);
  t.timeout(2, 0, TimeoutKind::kPrecommit);
  t.timeout(2, 1, TimeoutKind::kPropose);
  t.own_votes.push_back(prevote);
  t.expect_no_conflicting_own_votes();
}

TEST(Engine, TheOwnVotesOfTheRoundLeftSurviveARestartForAPeerStillInIt) {
  // Three gateways, a quorum is all three: gateway 0 leaves round 0 on its precommit timeout
  // while its own precommit may have been lost on the way; gateways 1 and 2 can end round 0
  // only with that very vote.
  Harness first({1, 1, 1});
  first.start(2);
  first.timeout(2, 0, TimeoutKind::kPropose);
  first.votes({1, 2}, VoteType::kPrevote, 2, 0, std::nullopt);
  first.votes({1, 2}, VoteType::kPrecommit, 2, 0, std::nullopt);
  const auto left = first.timeout(2, 0, TimeoutKind::kPrecommit);
  ASSERT_EQ(first.engine->round(), Round{1});
  const SignerState record = first.engine->signer_state();
  ASSERT_EQ(record.left_votes.size(), 2u);
  EXPECT_EQ(record.left_votes[1].type, VoteType::kPrecommit);
  EXPECT_EQ(record.left_votes[1].round, Round{0});
  // A vote of the new round persists them with it.
  const auto prevote = first.timeout(2, 1, TimeoutKind::kPropose);
  ASSERT_EQ(persisted(prevote).size(), 1u);
  EXPECT_EQ(persisted(prevote)[0].left_votes, record.left_votes);

  // After a restart from that record they are served to a peer of round 0, not re-sent to all.
  Harness t({1, 1, 1});
  const auto out = t.start(2, persisted(prevote)[0]);
  EXPECT_EQ(t.engine->round(), Round{1});
  for (const ledger::Vote& v : broadcast_votes(out))
    EXPECT_EQ(v.round, Round{1});
  const CatchUp answer = t.engine->catch_up(Round{0});
  EXPECT_NE(std::find(answer.votes.begin(), answer.votes.end(), record.left_votes[1]),
            answer.votes.end());
}

TEST(Engine, RestartInProposeStepWithASignedPrevoteResendsIt) {
  // A record whose step is still propose but which holds a prevote (an older writer, say): the
  // signer re-sends that prevote instead of signing the one L22 asks for.
  Harness t;
  SignerState record;
  record.height = Height{2};
  record.round = Round{0};
  record.step = Step::kPropose;
  const ledger::Vote nil = t.vote(0, VoteType::kPrevote, 2, 0, std::nullopt);
  record.own_votes = {nil};
  t.start(2, record);
  const ledger::Block a = Harness::block(2, 1, 1);
  const auto out = t.propose(t.proposal(1, 2, 0, std::nullopt, a));
  const auto own = broadcast_votes(out);
  ASSERT_EQ(own.size(), 1u);
  EXPECT_EQ(own[0], nil);
  EXPECT_EQ(t.engine->stats().signed_messages, 0u);
  t.own_votes.push_back(nil);
  t.expect_no_conflicting_own_votes();
}

TEST(Engine, RestartOfAProposerResendsItsProposal) {
  Harness first;
  first.start(1);
  const SignerState record = first.engine->signer_state();
  ASSERT_TRUE(record.own_proposal.has_value());
  Harness t;
  const auto out = t.start(1, record);
  const auto proposals = broadcast_proposals(out);
  ASSERT_EQ(proposals.size(), 1u);
  EXPECT_EQ(proposals[0], *record.own_proposal);
  EXPECT_EQ(t.source.made, 0);
  EXPECT_EQ(t.engine->stats().signed_messages, 0u);
}

TEST(Engine, RestartKeepsTheLock) {
  Harness first;
  const ledger::Block a = first.locked_in_round_0_now_round_1();
  // The record of the last persist: the precommit of round 0 with the lock; round 1 has not
  // signed anything yet, so the engine's state is the round-1 one.
  SignerState record = first.engine->signer_state();
  Harness t;
  t.start(2, record);
  EXPECT_EQ(t.engine->signer_state().locked_value, a);
  // Round 1: validator 2 proposes another value: nil, as before the restart.
  const auto out = t.propose(t.proposal(2, 2, 1, std::nullopt, Harness::block(2, 2, 2)));
  expect_own_vote(out, VoteType::kPrevote, 1, std::nullopt);
}

TEST(Engine, RestartedProposerStillRelaysThePolkaOfItsValidValue) {
  // Height 1 round 0: own proposal, polka with 1 and 2: locked, and the precommit's record
  // holds the valid value with its polka.
  Harness first;
  const auto proposals0 = broadcast_proposals(first.start(1));
  ASSERT_EQ(proposals0.size(), 1u);
  const ledger::Hash256 id = ledger::block_hash(proposals0[0].block);
  const auto locked = persisted(first.votes({1, 2}, VoteType::kPrevote, 1, 0, id));
  ASSERT_FALSE(locked.empty());
  const SignerState record = locked.back();
  ASSERT_EQ(record.locked_round, Round{0});
  ASSERT_EQ(record.valid_polka.size(), 3u);

  // A crash: the restarted engine knows no vote but its own and those of the record. Where it
  // proposes again (round 4) it re-proposes the value and must still show its polka, or a
  // validator that missed round 0 could never prevote it (L28) and the height would stall.
  Harness t;
  t.start(1, record);
  const auto out = t.votes({1, 2}, VoteType::kPrevote, 1, 4, std::nullopt);
  ASSERT_EQ(t.engine->round(), Round{4});
  const auto proposals = broadcast_proposals(out);
  ASSERT_EQ(proposals.size(), 1u);
  EXPECT_EQ(proposals[0].valid_round, Round{0});
  std::set<std::uint16_t> relayed;
  for (const ledger::Vote& v : broadcast_votes(out, std::nullopt)) {
    if (v.round == Round{0} && v.type == VoteType::kPrevote && v.block == id)
      relayed.insert(v.validator.value());
  }
  EXPECT_EQ(relayed, (std::set<std::uint16_t>{0, 1, 2}));
}

TEST(Engine, PolkaAfterPrecommitIsKeptWithTheNewValidValue) {
  // L36 with step = precommit: the valid value moves to the later round, its polka with it.
  Harness t;
  const ledger::Block a = t.locked_in_round_0_now_round_1();
  const ledger::Block b = Harness::block(2, 2, 2);
  t.propose(t.proposal(2, 2, 1, std::nullopt, b));  // locked on a: prevote nil
  t.timeout(2, 1, TimeoutKind::kPrevote);           // precommit nil
  ASSERT_EQ(t.engine->step(), Step::kPrecommit);
  t.votes({1, 2, 3}, VoteType::kPrevote, 2, 1, ledger::block_hash(b));
  const SignerState& s = t.engine->signer_state();
  EXPECT_EQ(s.locked_value, a);
  EXPECT_EQ(s.valid_round, Round{1});
  ASSERT_EQ(s.valid_polka.size(), 3u);
  for (const ledger::Vote& v : s.valid_polka) {
    EXPECT_EQ(v.round, Round{1});
    EXPECT_EQ(v.block, ledger::block_hash(b));
  }
}

TEST(Engine, RestoredRecordOfAnotherHeightIsIgnored) {
  Harness first;
  first.prevoted_at_height_2();
  Harness t;
  const auto out = t.start(3, first.engine->signer_state());
  EXPECT_EQ(t.engine->height(), Height{3});
  EXPECT_TRUE(broadcast_votes(out).empty());
  EXPECT_TRUE(t.engine->signer_state().own_votes.empty());
}

// --- Inputs to ignore --------------------------------------------------------------------

TEST(Engine, BadSignatureIgnored) {
  Harness t;
  t.start(2);
  ledger::Vote v = t.vote(1, VoteType::kPrevote, 2, 0, std::nullopt);
  v.signature[5] ^= 1;
  std::vector<EngineAction> out;
  EXPECT_EQ(t.engine->on_vote(v, kNow, out), Ignored::kBadSignature);
  // Signed by another validator's key, or for another chain.
  ledger::Vote other = ledger::sign_vote(validator_key(2), t.chain_id, VoteType::kPrevote,
                                         Height{2}, Round{0}, std::nullopt, GatewayId{1});
  EXPECT_EQ(t.engine->on_vote(other, kNow, out), Ignored::kBadSignature);
  ledger::Vote foreign = ledger::sign_vote(validator_key(1), counting_hash(0), VoteType::kPrevote,
                                           Height{2}, Round{0}, std::nullopt, GatewayId{1});
  EXPECT_EQ(t.engine->on_vote(foreign, kNow, out), Ignored::kBadSignature);
  EXPECT_EQ(t.engine->votes().power_any(Round{0}, VoteType::kPrevote), 0u);

  ledger::Proposal p = t.proposal(1, 2, 0, std::nullopt, Harness::block(2, 1, 1));
  p.signature[0] ^= 1;
  EXPECT_EQ(t.engine->on_proposal(p, kNow, out), Ignored::kBadSignature);
  ledger::Proposal swapped = t.proposal(1, 2, 0, std::nullopt, Harness::block(2, 1, 1));
  swapped.block = Harness::block(2, 1, 2);  // the signature covers the block's hash
  EXPECT_EQ(t.engine->on_proposal(swapped, kNow, out), Ignored::kBadSignature);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(t.engine->step(), Step::kPropose);
  // Forged messages from far rounds do not make it skip rounds either.
  ledger::Vote far1 = t.vote(1, VoteType::kPrevote, 2, 5, std::nullopt);
  ledger::Vote far2 = t.vote(2, VoteType::kPrevote, 2, 5, std::nullopt);
  far1.signature[1] ^= 1;
  far2.signature[1] ^= 1;
  EXPECT_EQ(t.engine->on_vote(far1, kNow, out), Ignored::kBadSignature);
  EXPECT_EQ(t.engine->on_vote(far2, kNow, out), Ignored::kBadSignature);
  EXPECT_EQ(t.engine->round(), Round{0});
  // The genuine proposal still works afterwards.
  expect_own_vote(t.propose(t.proposal(1, 2, 0, std::nullopt, Harness::block(2, 1, 1))),
                  VoteType::kPrevote, 0, ledger::block_hash(Harness::block(2, 1, 1)));
}

TEST(Engine, NotProposerIgnored) {
  Harness t;
  t.start(2);
  // Round 0 of height 2 is validator 1's.
  const auto out =
      t.propose(t.proposal(2, 2, 0, std::nullopt, Harness::block(2, 2, 1)), Ignored::kNotProposer);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(t.engine->step(), Step::kPropose);
  // Nor does it count as a message of its round for the round skip.
  t.propose(t.proposal(3, 2, 5, std::nullopt, Harness::block(2, 3, 1)), Ignored::kNotProposer);
  t.propose(t.proposal(1, 2, 5, std::nullopt, Harness::block(2, 1, 1)), Ignored::kNotProposer);
  EXPECT_EQ(t.engine->round(), Round{0});
}

TEST(Engine, UnknownValidatorIgnored) {
  Harness t;
  t.start(2);
  std::vector<EngineAction> out;
  const ledger::Vote v = ledger::sign_vote(validator_key(9), t.chain_id, VoteType::kPrevote,
                                           Height{2}, Round{0}, std::nullopt, GatewayId{9});
  EXPECT_EQ(t.engine->on_vote(v, kNow, out), Ignored::kUnknownValidator);
  EXPECT_TRUE(out.empty());
}

TEST(Engine, WrongHeightIgnored) {
  Harness t;
  t.start(2);
  std::vector<EngineAction> out;
  EXPECT_EQ(t.engine->on_vote(t.vote(1, VoteType::kPrevote, 3, 0, std::nullopt), kNow, out),
            Ignored::kWrongHeight);
  EXPECT_EQ(t.engine->on_vote(t.vote(1, VoteType::kPrevote, 1, 0, std::nullopt), kNow, out),
            Ignored::kWrongHeight);
  // Round 0 of height 3 is validator 2's.
  EXPECT_EQ(
      t.engine->on_proposal(t.proposal(2, 3, 0, std::nullopt, Harness::block(3, 2, 1)), kNow, out),
      Ignored::kWrongHeight);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(t.engine->votes().power_any(Round{0}, VoteType::kPrevote), 0u);
}

TEST(Engine, DuplicateVoteIsSkippedBeforeVerifying) {
  Harness t;
  t.start(2);
  const ledger::Vote v = t.vote(1, VoteType::kPrevote, 2, 0, std::nullopt);
  std::vector<EngineAction> out;
  EXPECT_EQ(t.engine->on_vote(v, kNow, out), Ignored::kNone);
  const std::uint64_t verified = t.engine->stats().signatures_verified;
  EXPECT_EQ(t.engine->on_vote(v, kNow, out), Ignored::kDuplicate);
  EXPECT_EQ(t.engine->stats().signatures_verified, verified);
  EXPECT_EQ(t.engine->stats().signatures_skipped, 1u);
  EXPECT_EQ(t.engine->votes().power_any(Round{0}, VoteType::kPrevote), 1u);
}

TEST(Engine, ProposalEquivocationKeptAsEvidence) {
  Harness t;
  t.start(2);
  const ledger::Block a = Harness::block(2, 1, 1);
  const ledger::Block b = Harness::block(2, 1, 2);
  const ledger::Proposal pa = t.proposal(1, 2, 0, std::nullopt, a);
  const ledger::Proposal pb = t.proposal(1, 2, 0, std::nullopt, b);
  expect_own_vote(t.propose(pa), VoteType::kPrevote, 0, ledger::block_hash(a));
  t.propose(pa, Ignored::kDuplicate);
  const auto out = t.propose(pb, Ignored::kEquivocation);
  EXPECT_TRUE(out.empty());
  ASSERT_EQ(t.engine->proposal_evidence().size(), 1u);
  EXPECT_EQ(t.engine->proposal_evidence()[0].first, pa);
  EXPECT_EQ(t.engine->proposal_evidence()[0].second, pb);
  EXPECT_EQ(t.engine->stats().proposal_equivocations, 1u);
  // The first proposal stays the round's: a polka for A locks A.
  t.votes({1, 2}, VoteType::kPrevote, 2, 0, ledger::block_hash(a));
  EXPECT_EQ(t.engine->signer_state().locked_value, a);
  // The next height forgets the evidence (the replica collects it before).
  t.start(3);
  EXPECT_TRUE(t.engine->proposal_evidence().empty());
}

TEST(Engine, VoteEquivocationIsReportedAndKept) {
  Harness t;
  t.start(2);
  std::vector<EngineAction> out;
  EXPECT_EQ(t.engine->on_vote(t.vote(3, VoteType::kPrevote, 2, 0, std::nullopt), kNow, out),
            Ignored::kNone);
  EXPECT_EQ(t.engine->on_vote(t.vote(3, VoteType::kPrevote, 2, 0, counting_hash(1)), kNow, out),
            Ignored::kEquivocation);
  EXPECT_EQ(t.engine->votes().evidence().size(), 1u);
}

// --- The quorum boundary -----------------------------------------------------------------

// Six validators of power 1: four is exactly 2/3, not a quorum; five is.
TEST(Engine, TwoThirdsIsNotAQuorum) {
  Harness t({1, 1, 1, 1, 1, 1});
  EXPECT_FALSE(t.engine->quorum(4));
  EXPECT_TRUE(t.engine->quorum(5));
  EXPECT_FALSE(t.engine->one_third(2));
  EXPECT_TRUE(t.engine->one_third(3));
  t.start(2);  // proposer (2, 0) = validator 1
  const ledger::Block a = Harness::block(2, 1, 1);
  const ledger::Hash256 id = ledger::block_hash(a);
  expect_own_vote(t.propose(t.proposal(1, 2, 0, std::nullopt, a)), VoteType::kPrevote, 0, id);
  const auto four = t.votes({1, 2, 3}, VoteType::kPrevote, 2, 0, id);
  EXPECT_TRUE(broadcast_votes(four).empty());
  EXPECT_TRUE(scheduled(four, TimeoutKind::kPrevote).empty());
  EXPECT_FALSE(t.engine->signer_state().locked_round.has_value());
  EXPECT_EQ(t.engine->step(), Step::kPrevote);
  // Four precommits are no decision either.
  t.votes({1, 2, 3, 4}, VoteType::kPrecommit, 2, 0, id);
  EXPECT_FALSE(t.engine->decided());
  // The fifth prevote is a polka.
  expect_own_vote(t.votes({4}, VoteType::kPrevote, 2, 0, id), VoteType::kPrecommit, 0, id);
  // ... and with its own precommit, five precommits decide.
  EXPECT_TRUE(t.engine->decided());
}

#if KMCHAIN_FAULTS_ENABLED
TEST(Engine, TwoThirdsQuorumFaultMakesExactlyTwoThirdsAQuorum) {
  Harness t({1, 1, 1, 1, 1, 1}, EngineFaults{Rule::kTwoThirdsQuorum});
  EXPECT_TRUE(t.engine->quorum(4));
  EXPECT_FALSE(t.engine->quorum(3));
  t.start(2);
  const ledger::Block a = Harness::block(2, 1, 1);
  const ledger::Hash256 id = ledger::block_hash(a);
  t.propose(t.proposal(1, 2, 0, std::nullopt, a));
  const auto four = t.votes({1, 2, 3}, VoteType::kPrevote, 2, 0, id);
  expect_own_vote(four, VoteType::kPrecommit, 0, id);
  EXPECT_EQ(t.engine->signer_state().locked_round, Round{0});
}
#endif

TEST(Engine, QuorumWeighsByPower) {
  // Powers 1, 1, 1, 3 (total 6, quorum above 4). Smooth round-robin: slot 0 is validator 3's,
  // slot 1 validator 0's, slot 2 validator 1's - so height 3, round 0.
  Harness t({1, 1, 1, 3});
  ASSERT_EQ(t.engine->proposer(Height{3}, Round{0}), GatewayId{1});
  t.start(3);
  const ledger::Block a = Harness::block(3, 1, 1);
  const ledger::Hash256 id = ledger::block_hash(a);
  expect_own_vote(t.propose(t.proposal(1, 3, 0, std::nullopt, a)), VoteType::kPrevote, 0, id);
  // 0, 1, 2: power 3 of 6.
  EXPECT_TRUE(broadcast_votes(t.votes({1, 2}, VoteType::kPrevote, 3, 0, id)).empty());
  // With validator 3: 6.
  expect_own_vote(t.votes({3}, VoteType::kPrevote, 3, 0, id), VoteType::kPrecommit, 0, id);
}

}  // namespace
}  // namespace kmchain::consensus
