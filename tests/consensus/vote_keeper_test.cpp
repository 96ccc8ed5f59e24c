// The vote keeper (consensus/vote_keeper.h): tallies per round, type and value; duplicates;
// equivocation counted once in power_any but for each value in power_for, with evidence; the
// future-round window; the per-validator bound with known values displacing unknown ones; the
// round-skip query; certificates; and tallies equal to a naive recount over random streams.
#include "consensus/vote_keeper.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
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

const ledger::Hash256 kA = counting_hash(0x10);
const ledger::Hash256 kB = counting_hash(0x20);

// Unsigned votes: the keeper stores what the engine verified and never checks a signature.
ledger::Vote vote(std::uint16_t validator, VoteType type, std::uint32_t round, Value value,
                  std::uint64_t height = 5) {
  return ledger::Vote{type, Height{height}, Round{round}, value, GatewayId{validator}, {}};
}

ledger::Hash256 value_number(std::uint8_t i) {
  return counting_hash(static_cast<std::uint8_t>(0x80 + i));
}

bool more_than_a_third(std::uint64_t power, std::uint64_t total) {
  return 3 * power > total;
}

struct VoteKeeperTest : ::testing::Test {
  ledger::Genesis genesis = make_genesis({1, 2, 3, 4});
  VoteKeeper keeper{genesis};
};

TEST_F(VoteKeeperTest, TalliesPerRoundTypeAndValue) {
  EXPECT_EQ(keeper.add(vote(0, VoteType::kPrevote, 0, kA), Round{0}), AddVote::kAdded);
  EXPECT_EQ(keeper.add(vote(1, VoteType::kPrevote, 0, kA), Round{0}), AddVote::kAdded);
  EXPECT_EQ(keeper.add(vote(2, VoteType::kPrevote, 0, std::nullopt), Round{0}), AddVote::kAdded);
  EXPECT_EQ(keeper.add(vote(3, VoteType::kPrevote, 0, kB), Round{0}), AddVote::kAdded);
  EXPECT_EQ(keeper.add(vote(3, VoteType::kPrecommit, 1, kB), Round{0}), AddVote::kAdded);

  EXPECT_EQ(keeper.power_for(Round{0}, VoteType::kPrevote, kA), 3u);
  EXPECT_EQ(keeper.power_for(Round{0}, VoteType::kPrevote, std::nullopt), 3u);
  EXPECT_EQ(keeper.power_for(Round{0}, VoteType::kPrevote, kB), 4u);
  EXPECT_EQ(keeper.power_any(Round{0}, VoteType::kPrevote), 10u);
  EXPECT_EQ(keeper.power_any(Round{0}, VoteType::kPrecommit), 0u);
  EXPECT_EQ(keeper.power_for(Round{1}, VoteType::kPrecommit, kB), 4u);
  EXPECT_EQ(keeper.power_for(Round{1}, VoteType::kPrevote, kB), 0u);
  EXPECT_EQ(keeper.power_any(Round{2}, VoteType::kPrevote), 0u);

  auto values = keeper.values(Round{0}, VoteType::kPrevote);
  std::sort(values.begin(), values.end());
  EXPECT_EQ(values, (std::vector<ledger::Hash256>{kA, kB}));  // nil is not a value
  EXPECT_EQ(keeper.rounds(), (std::vector<Round>{Round{0}, Round{1}}));

  const auto for_a = keeper.votes_for(Round{0}, VoteType::kPrevote, kA);
  ASSERT_EQ(for_a.size(), 2u);
  EXPECT_EQ(for_a[0].validator, GatewayId{0});
  EXPECT_EQ(for_a[1].validator, GatewayId{1});
  EXPECT_TRUE(keeper.contains(vote(2, VoteType::kPrevote, 0, std::nullopt)));
  EXPECT_FALSE(keeper.contains(vote(2, VoteType::kPrecommit, 0, std::nullopt)));
  EXPECT_TRUE(keeper.evidence().empty());
  EXPECT_EQ(keeper.equivocations(), 0u);
}

TEST_F(VoteKeeperTest, DuplicateIsNotCountedTwice) {
  const ledger::Vote v = vote(2, VoteType::kPrevote, 0, kA);
  EXPECT_EQ(keeper.add(v, Round{0}), AddVote::kAdded);
  EXPECT_EQ(keeper.add(v, Round{0}), AddVote::kDuplicate);
  // The same vote with other signature bytes is the same vote.
  ledger::Vote other_bytes = v;
  other_bytes.signature[0] = 1;
  EXPECT_EQ(keeper.add(other_bytes, Round{0}), AddVote::kDuplicate);
  EXPECT_FALSE(keeper.contains(other_bytes));
  EXPECT_EQ(keeper.power_for(Round{0}, VoteType::kPrevote, kA), 3u);
  EXPECT_EQ(keeper.power_any(Round{0}, VoteType::kPrevote), 3u);
  EXPECT_EQ(keeper.equivocations(), 0u);
}

TEST_F(VoteKeeperTest, EquivocationCountsOnceInAnyButForEachValue) {
  const ledger::Vote first = vote(3, VoteType::kPrecommit, 2, kA);
  const ledger::Vote second = vote(3, VoteType::kPrecommit, 2, kB);
  EXPECT_EQ(keeper.add(first, Round{2}), AddVote::kAdded);
  EXPECT_EQ(keeper.add(second, Round{2}), AddVote::kEquivocation);
  EXPECT_EQ(keeper.power_any(Round{2}, VoteType::kPrecommit), 4u);
  EXPECT_EQ(keeper.power_for(Round{2}, VoteType::kPrecommit, kA), 4u);
  EXPECT_EQ(keeper.power_for(Round{2}, VoteType::kPrecommit, kB), 4u);
  ASSERT_EQ(keeper.evidence().size(), 1u);
  EXPECT_EQ(keeper.evidence()[0].first, first);
  EXPECT_EQ(keeper.evidence()[0].second, second);
  EXPECT_EQ(keeper.equivocations(), 1u);
  // A third value, and nil: more evidence, still one validator's power in power_any.
  EXPECT_EQ(keeper.add(vote(3, VoteType::kPrecommit, 2, std::nullopt), Round{2}),
            AddVote::kEquivocation);
  EXPECT_EQ(keeper.power_any(Round{2}, VoteType::kPrecommit), 4u);
  EXPECT_EQ(keeper.power_for(Round{2}, VoteType::kPrecommit, std::nullopt), 4u);
  EXPECT_EQ(keeper.equivocations(), 2u);
  EXPECT_EQ(keeper.evidence().size(), 2u);
  // Another type in the same round is no equivocation.
  EXPECT_EQ(keeper.add(vote(3, VoteType::kPrevote, 2, kA), Round{2}), AddVote::kAdded);
}

TEST_F(VoteKeeperTest, EvidenceIsBoundedButEquivocationsAreCounted) {
  // Validator 0 equivocates in many rounds: two values per round.
  const std::uint32_t rounds = kEvidenceMax + 10;
  for (std::uint32_t r = 0; r < rounds; ++r) {
    ASSERT_EQ(keeper.add(vote(0, VoteType::kPrevote, r, kA), Round{r}), AddVote::kAdded);
    ASSERT_EQ(keeper.add(vote(0, VoteType::kPrevote, r, kB), Round{r}), AddVote::kEquivocation);
  }
  EXPECT_EQ(keeper.evidence().size(), kEvidenceMax);
  EXPECT_EQ(keeper.equivocations(), rounds);
}

TEST_F(VoteKeeperTest, BeyondWindowVotesAreNotStoredButTheRoundIsNoted) {
  const std::uint32_t edge = kFutureRoundsWindow;  // current 0: rounds 0..8 are stored
  EXPECT_EQ(keeper.add(vote(1, VoteType::kPrevote, edge, kA), Round{0}), AddVote::kAdded);
  EXPECT_EQ(keeper.add(vote(2, VoteType::kPrevote, edge + 1, kA), Round{0}),
            AddVote::kBeyondWindow);
  EXPECT_EQ(keeper.power_any(Round{edge + 1}, VoteType::kPrevote), 0u);
  EXPECT_FALSE(keeper.contains(vote(2, VoteType::kPrevote, edge + 1, kA)));
  EXPECT_EQ(keeper.rounds(), (std::vector<Round>{Round{edge}}));
  // Validators 1 (power 2) and 2 (power 3) reached round 8 or later: 5 of 10 is over 1/3.
  EXPECT_EQ(keeper.highest_round_with_power(more_than_a_third, 10), Round{edge});
  // With a later current round the same vote is inside the window.
  EXPECT_EQ(keeper.add(vote(2, VoteType::kPrevote, edge + 1, kA), Round{1}), AddVote::kAdded);
  EXPECT_EQ(keeper.power_any(Round{edge + 1}, VoteType::kPrevote), 3u);
}

TEST_F(VoteKeeperTest, FullSlotsRefuseUnknownValuesAndLetKnownOnesDisplaceThem) {
  // Validator 3 (power 4) prevotes kValuesPerValidatorMax unknown values in round 0.
  for (std::uint8_t i = 0; i < kValuesPerValidatorMax; ++i) {
    const AddVote added = keeper.add(vote(3, VoteType::kPrevote, 0, value_number(i)), Round{0});
    EXPECT_EQ(added, i == 0 ? AddVote::kAdded : AddVote::kEquivocation) << int{i};
  }
  const auto five = static_cast<std::uint8_t>(kValuesPerValidatorMax);
  EXPECT_EQ(keeper.add(vote(3, VoteType::kPrevote, 0, value_number(five)), Round{0}),
            AddVote::kFull);
  EXPECT_EQ(keeper.power_for(Round{0}, VoteType::kPrevote, value_number(five)), 0u);

  // The engine knows a block for kA: its vote displaces the first unknown one.
  static const ledger::Hash256 known_value = kA;
  auto known = +[](const void*, const ledger::Hash256& v) { return v == known_value; };
  EXPECT_EQ(keeper.add(vote(3, VoteType::kPrevote, 0, kA), Round{0}, known, nullptr),
            AddVote::kEquivocation);
  EXPECT_EQ(keeper.power_for(Round{0}, VoteType::kPrevote, kA), 4u);
  EXPECT_EQ(keeper.power_for(Round{0}, VoteType::kPrevote, value_number(0)), 0u);
  EXPECT_EQ(keeper.power_for(Round{0}, VoteType::kPrevote, value_number(1)), 4u);
  EXPECT_EQ(keeper.power_any(Round{0}, VoteType::kPrevote), 4u);
  EXPECT_TRUE(keeper.contains(vote(3, VoteType::kPrevote, 0, kA)));
  EXPECT_FALSE(keeper.contains(vote(3, VoteType::kPrevote, 0, value_number(0))));

  // Nil is always "known" (it needs no block): it displaces the next unknown value.
  EXPECT_EQ(keeper.add(vote(3, VoteType::kPrevote, 0, std::nullopt), Round{0}, known, nullptr),
            AddVote::kEquivocation);
  EXPECT_EQ(keeper.power_for(Round{0}, VoteType::kPrevote, std::nullopt), 4u);
  EXPECT_EQ(keeper.power_for(Round{0}, VoteType::kPrevote, value_number(1)), 0u);
  // Without a known function a known-to-the-engine value cannot get in.
  EXPECT_EQ(keeper.add(vote(3, VoteType::kPrevote, 0, kB), Round{0}), AddVote::kFull);
  // Another validator's slots are independent.
  EXPECT_EQ(keeper.add(vote(2, VoteType::kPrevote, 0, value_number(five)), Round{0}),
            AddVote::kAdded);
}

TEST_F(VoteKeeperTest, FullOfKnownValuesRefusesEvenKnownOnes) {
  auto all_known = +[](const void*, const ledger::Hash256&) { return true; };
  for (std::uint8_t i = 0; i < kValuesPerValidatorMax; ++i)
    (void)keeper.add(vote(1, VoteType::kPrecommit, 0, value_number(i)), Round{0}, all_known,
                     nullptr);
  EXPECT_EQ(keeper.add(vote(1, VoteType::kPrecommit, 0, kA), Round{0}, all_known, nullptr),
            AddVote::kFull);
  EXPECT_EQ(keeper.power_for(Round{0}, VoteType::kPrecommit, kA), 0u);
  EXPECT_EQ(keeper.votes_for(Round{0}, VoteType::kPrecommit, value_number(0)).size(), 1u);
}

TEST_F(VoteKeeperTest, KnownValueFunctionReceivesItsContext) {
  struct Context {
    std::set<ledger::Hash256> known;
  } context{{kB}};
  auto known = +[](const void* c, const ledger::Hash256& v) {
    return static_cast<const Context*>(c)->known.contains(v);
  };
  for (std::uint8_t i = 0; i < kValuesPerValidatorMax; ++i)
    (void)keeper.add(vote(0, VoteType::kPrevote, 1, value_number(i)), Round{0});
  EXPECT_EQ(keeper.add(vote(0, VoteType::kPrevote, 1, kA), Round{0}, known, &context),
            AddVote::kFull);
  EXPECT_EQ(keeper.add(vote(0, VoteType::kPrevote, 1, kB), Round{0}, known, &context),
            AddVote::kEquivocation);
  EXPECT_EQ(keeper.power_for(Round{0}, VoteType::kPrevote, kB), 0u);  // round 0 untouched
  EXPECT_EQ(keeper.power_for(Round{1}, VoteType::kPrevote, kB), 1u);
}

TEST(VoteKeeper, HighestRoundWithPower) {
  const ledger::Genesis genesis = make_genesis({1, 1, 1, 1});
  VoteKeeper keeper(genesis);
  EXPECT_EQ(keeper.highest_round_with_power(more_than_a_third, 4), std::nullopt);
  keeper.note_round(GatewayId{0}, Round{5});
  EXPECT_EQ(keeper.highest_round_with_power(more_than_a_third, 4), std::nullopt);  // 1 of 4
  keeper.note_round(GatewayId{1}, Round{3});
  EXPECT_EQ(keeper.highest_round_with_power(more_than_a_third, 4), Round{3});
  keeper.note_round(GatewayId{2}, Round{7});
  EXPECT_EQ(keeper.highest_round_with_power(more_than_a_third, 4), Round{5});
  // Only the highest round per validator counts: an earlier one changes nothing.
  keeper.note_round(GatewayId{2}, Round{1});
  EXPECT_EQ(keeper.highest_round_with_power(more_than_a_third, 4), Round{5});
  // A vote notes its round too, even beyond the window.
  EXPECT_EQ(keeper.add(vote(0, VoteType::kPrevote, 100, std::nullopt), Round{0}),
            AddVote::kBeyondWindow);
  EXPECT_EQ(keeper.highest_round_with_power(more_than_a_third, 4), Round{7});
  auto everyone = +[](std::uint64_t power, std::uint64_t total) { return power == total; };
  EXPECT_EQ(keeper.highest_round_with_power(everyone, 4), std::nullopt);
  keeper.note_round(GatewayId{3}, Round{2});
  EXPECT_EQ(keeper.highest_round_with_power(everyone, 4), Round{2});
}

TEST(VoteKeeper, HighestRoundWeighsByPower) {
  const ledger::Genesis genesis = make_genesis({5, 1, 1, 1});
  VoteKeeper keeper(genesis);
  keeper.note_round(GatewayId{1}, Round{9});
  keeper.note_round(GatewayId{2}, Round{8});
  keeper.note_round(GatewayId{3}, Round{7});
  EXPECT_EQ(keeper.highest_round_with_power(more_than_a_third, 8), Round{7});  // 3 of 8
  keeper.note_round(GatewayId{0}, Round{4});
  EXPECT_EQ(keeper.highest_round_with_power(more_than_a_third, 8), Round{7});
  VoteKeeper heavy(genesis);
  heavy.note_round(GatewayId{0}, Round{6});
  EXPECT_EQ(heavy.highest_round_with_power(more_than_a_third, 8), Round{6});
}

TEST(VoteKeeper, CertificateHoldsThePrecommitsSortedAndVerifies) {
  const ledger::Genesis genesis = make_genesis({1, 1, 1, 1});
  const ledger::Hash256 chain_id = genesis.chain_id();
  VoteKeeper keeper(genesis);
  auto signed_vote = [&](std::uint16_t i, VoteType type, Value value) {
    return ledger::sign_vote(validator_key(i), chain_id, type, Height{5}, Round{1}, value,
                             GatewayId{i});
  };
  // Arrival order 3, 1, 2; validator 0 precommits nil, and prevotes for kA do not count.
  for (std::uint16_t i : {std::uint16_t{3}, std::uint16_t{1}, std::uint16_t{2}})
    ASSERT_EQ(keeper.add(signed_vote(i, VoteType::kPrecommit, kA), Round{1}), AddVote::kAdded);
  ASSERT_EQ(keeper.add(signed_vote(0, VoteType::kPrecommit, std::nullopt), Round{1}),
            AddVote::kAdded);
  ASSERT_EQ(keeper.add(signed_vote(0, VoteType::kPrevote, kA), Round{1}), AddVote::kAdded);
  // An equivocating validator's other precommit is not part of kA's certificate.
  ASSERT_EQ(keeper.add(signed_vote(2, VoteType::kPrecommit, kB), Round{1}), AddVote::kEquivocation);

  const ledger::CommitCertificate c = keeper.certificate(Height{5}, Round{1}, kA);
  EXPECT_EQ(c.height, Height{5});
  EXPECT_EQ(c.round, Round{1});
  EXPECT_EQ(c.block, kA);
  ASSERT_EQ(c.precommits.size(), 3u);
  EXPECT_EQ(c.precommits[0].first, GatewayId{1});
  EXPECT_EQ(c.precommits[1].first, GatewayId{2});
  EXPECT_EQ(c.precommits[2].first, GatewayId{3});
  EXPECT_EQ(c.precommits[0].second, signed_vote(1, VoteType::kPrecommit, kA).signature);
  auto verified = ledger::verify_certificate(genesis, chain_id, c);
  EXPECT_TRUE(verified.ok()) << (verified.ok() ? "" : ledger::to_string(verified.error()));
  EXPECT_EQ(c, ledger::fixture::certify(chain_id, Height{5}, Round{1}, kA, {1, 2, 3}));

  // kB has one precommit: a certificate that does not verify for lack of power.
  const ledger::CommitCertificate weak = keeper.certificate(Height{5}, Round{1}, kB);
  ASSERT_EQ(weak.precommits.size(), 1u);
  auto refused = ledger::verify_certificate(genesis, chain_id, weak);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ledger::CertificateErrorCode::kInsufficientPower);
  EXPECT_TRUE(keeper.certificate(Height{5}, Round{0}, kA).precommits.empty());
}

// Random streams of votes over few values (never more than kValuesPerValidatorMax per
// validator, so nothing is displaced): each tally equals a naive recount of the distinct
// (validator, round, type, value) votes inside the window.
RC_GTEST_PROP(VoteKeeperProperty, PowerForEqualsANaiveRecount, ()) {
  const std::vector<std::uint64_t> powers{1, 2, 3, 5, 8};
  const ledger::Genesis genesis = make_genesis(powers);
  VoteKeeper keeper(genesis);
  const std::vector<Value> values{std::nullopt, kA, kB, counting_hash(0x30)};
  const auto current = *rc::gen::inRange<std::uint32_t>(0, 4);
  const auto count = *rc::gen::inRange<std::size_t>(0, 120);
  using Key = std::tuple<std::uint32_t, VoteType, Value>;
  std::map<Key, std::set<std::uint16_t>> naive;
  std::map<std::pair<std::uint32_t, VoteType>, std::set<std::uint16_t>> naive_any;
  for (std::size_t k = 0; k < count; ++k) {
    const auto validator = *rc::gen::inRange<std::uint16_t>(0, 5);
    const auto round = *rc::gen::inRange<std::uint32_t>(0, 14);
    const VoteType type = *rc::gen::element(VoteType::kPrevote, VoteType::kPrecommit);
    const Value value = values[*rc::gen::inRange<std::size_t>(0, values.size())];
    const AddVote added = keeper.add(vote(validator, type, round, value), Round{current});
    const bool inside = round <= current + kFutureRoundsWindow;
    RC_ASSERT(added != AddVote::kFull);
    RC_ASSERT((added == AddVote::kBeyondWindow) == !inside);
    if (!inside) continue;
    const bool fresh = naive[Key{round, type, value}].insert(validator).second;
    RC_ASSERT((added == AddVote::kDuplicate) == !fresh);
    naive_any[{round, type}].insert(validator);
  }
  for (std::uint32_t round = 0; round < 14; ++round) {
    for (VoteType type : {VoteType::kPrevote, VoteType::kPrecommit}) {
      std::uint64_t any = 0;
      for (std::uint16_t v : naive_any[{round, type}])
        any += powers[v];
      RC_ASSERT(keeper.power_any(Round{round}, type) == any);
      for (const Value& value : values) {
        std::uint64_t power = 0;
        for (std::uint16_t v : naive[Key{round, type, value}])
          power += powers[v];
        RC_ASSERT(keeper.power_for(Round{round}, type, value) == power);
        const std::size_t stored = keeper.votes_for(Round{round}, type, value).size();
        const std::size_t expected = naive[Key{round, type, value}].size();
        RC_ASSERT(stored == expected);
      }
    }
  }
}

// With many values (so slots fill and known values displace unknown ones), the tallies still
// equal a recount of what the keeper holds, and power_any of the validators holding any vote.
RC_GTEST_PROP(VoteKeeperProperty, TalliesMatchTheStoredVotesUnderDisplacement, ()) {
  const std::vector<std::uint64_t> powers{3, 1, 4, 1};
  const ledger::Genesis genesis = make_genesis(powers);
  VoteKeeper keeper(genesis);
  std::vector<Value> values{std::nullopt};
  for (std::uint8_t i = 0; i < 8; ++i)
    values.emplace_back(value_number(i));
  const auto known_mask = *rc::gen::inRange<unsigned>(0, 256);
  struct Context {
    unsigned mask;
  } context{known_mask};
  auto known = +[](const void* c, const ledger::Hash256& v) {
    const unsigned i = static_cast<unsigned>(v[0] - 0x80);
    return ((static_cast<const Context*>(c)->mask >> i) & 1u) != 0;
  };
  const auto count = *rc::gen::inRange<std::size_t>(0, 150);
  for (std::size_t k = 0; k < count; ++k) {
    const auto validator = *rc::gen::inRange<std::uint16_t>(0, 4);
    const auto round = *rc::gen::inRange<std::uint32_t>(0, 3);
    const VoteType type = *rc::gen::element(VoteType::kPrevote, VoteType::kPrecommit);
    const Value value = values[*rc::gen::inRange<std::size_t>(0, values.size())];
    (void)keeper.add(vote(validator, type, round, value), Round{0}, known, &context);
  }
  for (std::uint32_t round = 0; round < 3; ++round) {
    for (VoteType type : {VoteType::kPrevote, VoteType::kPrecommit}) {
      std::set<std::uint16_t> holders;
      for (const Value& value : values) {
        const auto stored = keeper.votes_for(Round{round}, type, value);
        std::uint64_t power = 0;
        for (const ledger::Vote& v : stored) {
          power += powers[v.validator.value()];
          holders.insert(v.validator.value());
        }
        RC_ASSERT(keeper.power_for(Round{round}, type, value) == power);
      }
      std::uint64_t any = 0;
      for (std::uint16_t v : holders)
        any += powers[v];
      RC_ASSERT(keeper.power_any(Round{round}, type) == any);
    }
  }
}

}  // namespace
}  // namespace kmchain::consensus
