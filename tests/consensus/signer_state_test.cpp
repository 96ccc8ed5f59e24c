// The signer state (consensus/signer_state.h), what the WAL holds: round trips with and
// without a lock, a valid value, an own proposal and own votes; every truncation refused as
// truncated; a bad version, step, block, proposal or vote; too many votes; inconsistent records
// (own messages of another height or round, a lock or valid value from a later round or of
// another height, a lock without a valid value at its round or later); the valid value's polka
// (round trip, bound, and every way a polka can fail to justify the valid value); the own votes
// of the round left (round trip, bound, consistency) and version 2 records without them;
// trailing bytes.
#include "consensus/signer_state.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "ledger_fixture.h"

namespace kmchain::consensus {
namespace {

using ledger::fixture::counting_hash;
using ledger::fixture::sample_block;
using ledger::fixture::validator_key;
using ledger::fixture::with_byte;

constexpr std::size_t kStepAt = 13;
constexpr std::size_t kLockedAt = 14;

const ledger::Hash256& chain_id() {
  static const ledger::Hash256 id = counting_hash(0x42);
  return id;
}

// sample_block() is at height 7.
ledger::Vote own_vote(ledger::VoteType type, Height h, Round r, bool nil = false) {
  const std::optional<ledger::Hash256> value =
      nil ? std::nullopt : std::optional(ledger::block_hash(sample_block()));
  return ledger::sign_vote(validator_key(0), chain_id(), type, h, r, value, GatewayId{0});
}

SignerState bare() {
  SignerState s;
  s.height = Height{7};
  s.round = Round{3};
  s.step = Step::kPrevote;
  return s;
}

SignerState locked() {
  SignerState s = bare();
  s.step = Step::kPrecommit;
  s.locked_round = Round{2};
  s.locked_value = sample_block(2);
  s.valid_round = Round{3};
  s.valid_value = sample_block(5);
  s.own_votes = {own_vote(ledger::VoteType::kPrevote, Height{7}, Round{3}, true),
                 own_vote(ledger::VoteType::kPrecommit, Height{7}, Round{3})};
  return s;
}

// Validator i's prevote at (7, round) for `block`.
ledger::Vote prevote_of(std::uint16_t i, Round round, const ledger::Block& block) {
  return ledger::sign_vote(validator_key(i), chain_id(), ledger::VoteType::kPrevote, Height{7},
                           round, ledger::block_hash(block), GatewayId{i});
}

// A lock with its valid value's polka: three prevotes for it at the valid round.
SignerState with_polka() {
  SignerState s = locked();
  for (std::uint16_t i = 0; i < 3; ++i)
    s.valid_polka.push_back(prevote_of(i, Round{3}, sample_block(5)));
  return s;
}

SignerState valid_only() {
  SignerState s = bare();
  s.valid_round = Round{1};
  s.valid_value = sample_block(0);
  s.own_votes = {own_vote(ledger::VoteType::kPrevote, Height{7}, Round{3})};
  return s;
}

SignerState proposer() {
  SignerState s = locked();
  s.step = Step::kPropose;
  s.own_votes.clear();
  s.own_proposal = ledger::sign_proposal(validator_key(0), chain_id(), Height{7}, Round{3},
                                         Round{2}, sample_block(2), GatewayId{0});
  return s;
}

// Left round 2 for round 3 after a nil prevote and a precommit.
SignerState with_left_votes() {
  SignerState s = locked();
  s.left_votes = {own_vote(ledger::VoteType::kPrevote, Height{7}, Round{2}, true),
                  own_vote(ledger::VoteType::kPrecommit, Height{7}, Round{2}, true)};
  return s;
}

struct Sample {
  std::string name;
  SignerState state;
};

std::vector<Sample> samples() {
  SignerState fresh;  // height 1, round 0, propose: what a new height starts with
  return {{"fresh", fresh},
          {"bare", bare()},
          {"locked", locked()},
          {"valid only", valid_only()},
          {"own proposal", proposer()},
          {"polka", with_polka()},
          {"left votes", with_left_votes()}};
}

TEST(SignerState, RoundTrips) {
  for (const Sample& s : samples()) {
    SCOPED_TRACE(s.name);
    const Bytes bytes = encode(s.state);
    auto decoded = decode_signer_state(bytes);
    ASSERT_TRUE(decoded.ok()) << to_string(decoded.error());
    EXPECT_EQ(*decoded, s.state);
    EXPECT_EQ(encode(*decoded), bytes);
  }
}

TEST(SignerState, LayoutIsTheDocumentedOne) {
  const SignerState s = bare();
  const Bytes bytes = encode(s);
  // version, height, round, step, no lock, no valid value, no proposal, no votes, no polka,
  // no votes of a round left.
  ASSERT_EQ(bytes.size(), 1u + 8 + 4 + 1 + 4 + 4 + 4 + 1 + 2 + 1);
  EXPECT_EQ(bytes[0], kSignerStateVersion);
  EXPECT_EQ(ledger::fixture::be_at(bytes, 1, 8), 7u);
  EXPECT_EQ(ledger::fixture::be_at(bytes, 9, 4), 3u);
  EXPECT_EQ(bytes[kStepAt], 2u);
  EXPECT_EQ(ledger::fixture::be_at(bytes, kLockedAt, 4), 0xffffffffu);
  EXPECT_EQ(ledger::fixture::be_at(bytes, 18, 4), 0xffffffffu);
  EXPECT_EQ(ledger::fixture::be_at(bytes, 22, 4), 0u);
  EXPECT_EQ(bytes[26], 0u);
  EXPECT_EQ(ledger::fixture::be_at(bytes, 27, 2), 0u);
  EXPECT_EQ(bytes[29], 0u);

  const Bytes with_lock = encode(locked());
  EXPECT_EQ(ledger::fixture::be_at(with_lock, kLockedAt, 4), 2u);
  EXPECT_EQ(ledger::fixture::be_at(with_lock, kLockedAt + 4, 4),
            ledger::encode(sample_block(2)).size());

  // The polka comes before the last byte: a u16 count, then each prevote with a u8 length.
  const SignerState p = with_polka();
  const Bytes with_votes = encode(p);
  const std::size_t vote_bytes = ledger::encode(p.valid_polka[0]).size();
  const std::size_t polka_at = with_votes.size() - 1 - 2 - 3 * (1 + vote_bytes);
  EXPECT_EQ(ledger::fixture::be_at(with_votes, polka_at, 2), 3u);
  EXPECT_EQ(with_votes[polka_at + 2], vote_bytes);
  EXPECT_EQ(with_votes.back(), 0u);

  // The left round's votes are the tail: a u8 count, then each vote with a u8 length.
  const SignerState l = with_left_votes();
  const Bytes with_left = encode(l);
  const std::size_t left_bytes = ledger::encode(l.left_votes[0]).size();
  const std::size_t left_at = with_left.size() - 2 * (1 + left_bytes) - 1;
  EXPECT_EQ(with_left[left_at], 2u);
  EXPECT_EQ(with_left[left_at + 1], left_bytes);
}

TEST(SignerState, VersionTwoRecordsDecodeWithoutLeftVotes) {
  // A version 2 record is a version 3 one without its last byte (no left votes).
  for (const Sample& s : samples()) {
    if (!s.state.left_votes.empty()) continue;
    SCOPED_TRACE(s.name);
    Bytes bytes = encode(s.state);
    bytes.pop_back();
    bytes[0] = kSignerStateVersionNoLeftVotes;
    auto decoded = decode_signer_state(bytes);
    ASSERT_TRUE(decoded.ok()) << to_string(decoded.error());
    EXPECT_EQ(*decoded, s.state);
  }
  // ... and a version 2 record with the version 3 tail has a byte too many.
  Bytes v3 = encode(bare());
  v3[0] = kSignerStateVersionNoLeftVotes;
  auto trailing = decode_signer_state(v3);
  ASSERT_FALSE(trailing.ok());
  EXPECT_EQ(trailing.error(), SignerStateError::kTrailingBytes);
}

TEST(SignerState, EveryTruncationFails) {
  for (const Sample& s : samples()) {
    SCOPED_TRACE(s.name);
    const Bytes bytes = encode(s.state);
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      auto decoded = decode_signer_state(ByteView(bytes).first(n));
      ASSERT_FALSE(decoded.ok()) << n;
      EXPECT_EQ(decoded.error(), SignerStateError::kTruncated) << n;
    }
  }
}

TEST(SignerState, BadVersionIsRefused) {
  const Bytes bytes = encode(locked());
  for (std::uint8_t v : {std::uint8_t{0}, std::uint8_t{1}, std::uint8_t{4}, std::uint8_t{0xff}}) {
    auto decoded = decode_signer_state(with_byte(bytes, 0, v));
    ASSERT_FALSE(decoded.ok());
    EXPECT_EQ(decoded.error(), SignerStateError::kBadVersion);
  }
}

TEST(SignerState, BadStepIsRefused) {
  const Bytes bytes = encode(locked());
  for (std::uint8_t step : {std::uint8_t{0}, std::uint8_t{4}, std::uint8_t{0xff}}) {
    auto decoded = decode_signer_state(with_byte(bytes, kStepAt, step));
    ASSERT_FALSE(decoded.ok());
    EXPECT_EQ(decoded.error(), SignerStateError::kBadStep);
  }
  for (std::uint8_t step : {std::uint8_t{1}, std::uint8_t{2}, std::uint8_t{3}}) {
    auto decoded = decode_signer_state(with_byte(bytes, kStepAt, step));
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(decoded->step, static_cast<Step>(step));
  }
}

TEST(SignerState, BadLockedBlockIsRefused) {
  // The locked block's version byte follows its round and length.
  const Bytes bytes = encode(locked());
  auto decoded = decode_signer_state(with_byte(bytes, kLockedAt + 8, 9));
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error(), SignerStateError::kBadBlock);
}

TEST(SignerState, BadProposalAndBadVoteAreRefused) {
  // The own proposal is the last field before the (empty) vote list and (empty) polka.
  const SignerState p = proposer();
  const Bytes bytes = encode(p);
  const std::size_t proposal_bytes = ledger::encode(*p.own_proposal).size();
  const std::size_t proposal_at = bytes.size() - 1 - 2 - proposal_bytes;
  auto bad_proposal = decode_signer_state(with_byte(bytes, proposal_at, 9));
  ASSERT_FALSE(bad_proposal.ok());
  EXPECT_EQ(bad_proposal.error(), SignerStateError::kBadProposal);

  // The last own vote comes just before the (empty) polka.
  const SignerState l = locked();
  const Bytes votes = encode(l);
  const std::size_t vote_at = votes.size() - 2 - ledger::encode(l.own_votes.back()).size();
  auto bad_vote = decode_signer_state(with_byte(votes, vote_at, 9));
  ASSERT_FALSE(bad_vote.ok());
  EXPECT_EQ(bad_vote.error(), SignerStateError::kBadVote);

  // The last polka vote is the record's tail.
  const SignerState w = with_polka();
  const Bytes polka = encode(w);
  const std::size_t polka_vote_at = polka.size() - ledger::encode(w.valid_polka.back()).size();
  auto bad_polka_vote = decode_signer_state(with_byte(polka, polka_vote_at, 9));
  ASSERT_FALSE(bad_polka_vote.ok());
  EXPECT_EQ(bad_polka_vote.error(), SignerStateError::kBadVote);
}

TEST(SignerState, TooManyVotesIsRefused) {
  // ends with the vote count, 0, the polka count, 0, and the left vote count, 0
  const Bytes bytes = encode(bare());
  const std::size_t count_at = bytes.size() - 4;
  for (std::uint8_t count : {std::uint8_t{3}, std::uint8_t{0xff}}) {
    auto decoded = decode_signer_state(with_byte(bytes, count_at, count));
    ASSERT_FALSE(decoded.ok());
    EXPECT_EQ(decoded.error(), SignerStateError::kTooManyVotes);
  }
  // Two is the bound; announcing them without the bytes is a truncation.
  const Bytes announced = with_byte(bytes, count_at, 2);
  auto two = decode_signer_state(ByteView(announced).first(count_at + 1));
  ASSERT_FALSE(two.ok());
  EXPECT_EQ(two.error(), SignerStateError::kTruncated);

  // A polka holds at most one prevote per validator.
  Bytes polka = bytes;
  const std::uint16_t above = static_cast<std::uint16_t>(limits::kValidatorsMax + 1);
  polka[polka.size() - 3] = static_cast<std::uint8_t>(above >> 8);
  polka[polka.size() - 2] = static_cast<std::uint8_t>(above & 0xff);
  auto too_many = decode_signer_state(polka);
  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(too_many.error(), SignerStateError::kTooManyVotes);

  // A prevote and a precommit of the round left, no more.
  for (std::uint8_t count : {std::uint8_t{3}, std::uint8_t{0xff}}) {
    auto left = decode_signer_state(with_byte(bytes, bytes.size() - 1, count));
    ASSERT_FALSE(left.ok());
    EXPECT_EQ(left.error(), SignerStateError::kTooManyVotes);
  }
}

TEST(SignerState, InconsistentRecordsAreRefused) {
  std::vector<std::pair<std::string, SignerState>> cases;
  {
    SignerState s = bare();
    s.own_votes = {own_vote(ledger::VoteType::kPrevote, Height{7}, Round{2})};
    cases.emplace_back("own vote of another round", s);
  }
  {
    SignerState s = bare();
    s.own_votes = {own_vote(ledger::VoteType::kPrevote, Height{8}, Round{3})};
    cases.emplace_back("own vote of another height", s);
  }
  {
    SignerState s = bare();
    s.own_votes = {own_vote(ledger::VoteType::kPrevote, Height{7}, Round{3}),
                   own_vote(ledger::VoteType::kPrecommit, Height{7}, Round{4})};
    cases.emplace_back("second own vote of another round", s);
  }
  {
    SignerState s = locked();
    s.locked_round = Round{4};
    cases.emplace_back("locked round above round", s);
  }
  {
    SignerState s = locked();
    s.valid_round = Round{4};
    cases.emplace_back("valid round above round", s);
  }
  {
    SignerState s = locked();
    s.locked_value->header.height = Height{6};
    cases.emplace_back("locked value of another height", s);
  }
  {
    SignerState s = locked();
    s.valid_value->header.height = Height{8};
    cases.emplace_back("valid value of another height", s);
  }
  {
    SignerState s = bare();
    s.own_proposal = ledger::sign_proposal(validator_key(0), chain_id(), Height{7}, Round{2},
                                           std::nullopt, sample_block(), GatewayId{0});
    cases.emplace_back("own proposal of another round", s);
  }
  {
    SignerState s = locked();
    s.valid_round.reset();
    s.valid_value.reset();
    cases.emplace_back("lock without a valid value", s);
  }
  {
    SignerState s = locked();
    s.locked_round = Round{3};
    s.valid_round = Round{2};
    cases.emplace_back("valid value older than the lock", s);
  }
  {
    SignerState s = with_left_votes();
    s.left_votes[1] = own_vote(ledger::VoteType::kPrecommit, Height{7}, Round{3});
    cases.emplace_back("left vote of the current round", s);
  }
  {
    SignerState s = with_left_votes();
    s.left_votes[0] = own_vote(ledger::VoteType::kPrevote, Height{6}, Round{2});
    cases.emplace_back("left vote of another height", s);
  }
  {
    SignerState s = with_left_votes();
    s.left_votes[1] = own_vote(ledger::VoteType::kPrecommit, Height{7}, Round{1});
    cases.emplace_back("left votes of two rounds", s);
  }
  {
    SignerState s = with_left_votes();
    s.left_votes[1] = own_vote(ledger::VoteType::kPrevote, Height{7}, Round{2});
    cases.emplace_back("two left prevotes", s);
  }
  for (const auto& [name, state] : cases) {
    SCOPED_TRACE(name);
    auto decoded = decode_signer_state(encode(state));
    ASSERT_FALSE(decoded.ok());
    EXPECT_EQ(decoded.error(), SignerStateError::kInconsistent);
  }
}

TEST(SignerState, PolkaThatDoesNotJustifyTheValidValueIsRefused) {
  std::vector<std::pair<std::string, SignerState>> cases;
  {
    SignerState s = bare();
    s.valid_polka = {prevote_of(0, Round{3}, sample_block(5))};
    cases.emplace_back("polka without a valid value", s);
  }
  {
    SignerState s = with_polka();
    s.valid_polka[1] = prevote_of(1, Round{2}, sample_block(5));
    cases.emplace_back("prevote of another round", s);
  }
  {
    SignerState s = with_polka();
    s.valid_polka[1] = prevote_of(1, Round{3}, sample_block(2));
    cases.emplace_back("prevote for another block", s);
  }
  {
    SignerState s = with_polka();
    s.valid_polka[1] =
        ledger::sign_vote(validator_key(1), chain_id(), ledger::VoteType::kPrecommit, Height{7},
                          Round{3}, ledger::block_hash(sample_block(5)), GatewayId{1});
    cases.emplace_back("precommit", s);
  }
  {
    SignerState s = with_polka();
    s.valid_polka[1] = ledger::sign_vote(validator_key(1), chain_id(), ledger::VoteType::kPrevote,
                                         Height{7}, Round{3}, std::nullopt, GatewayId{1});
    cases.emplace_back("nil prevote", s);
  }
  {
    SignerState s = with_polka();
    s.valid_polka[2] = s.valid_polka[1];
    cases.emplace_back("repeated validator", s);
  }
  {
    SignerState s = with_polka();
    std::swap(s.valid_polka[0], s.valid_polka[2]);
    cases.emplace_back("validators out of order", s);
  }
  for (const auto& [name, state] : cases) {
    SCOPED_TRACE(name);
    auto decoded = decode_signer_state(encode(state));
    ASSERT_FALSE(decoded.ok());
    EXPECT_EQ(decoded.error(), SignerStateError::kBadPolka);
  }
}

TEST(SignerState, TrailingBytesAreRefused) {
  for (const Sample& s : samples()) {
    Bytes bytes = encode(s.state);
    bytes.push_back(0);
    auto decoded = decode_signer_state(bytes);
    ASSERT_FALSE(decoded.ok()) << s.name;
    EXPECT_EQ(decoded.error(), SignerStateError::kTrailingBytes) << s.name;
  }
}

TEST(SignerState, NamesOfStepsAndErrors) {
  EXPECT_STREQ(to_string(Step::kPropose), "propose");
  EXPECT_STREQ(to_string(Step::kPrevote), "prevote");
  EXPECT_STREQ(to_string(Step::kPrecommit), "precommit");
  for (std::uint8_t e = 1; e <= 10; ++e)
    EXPECT_STRNE(to_string(static_cast<SignerStateError>(e)), "unknown signer state error");
}

}  // namespace
}  // namespace kmchain::consensus
