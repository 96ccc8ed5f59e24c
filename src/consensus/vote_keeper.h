// VoteKeeper: the votes of one height, tallied by round, type and value, with equivocation
// kept as evidence. It stores only votes whose signature the engine has verified.
//
// An equivocating validator's votes all count, each for its own value: it might as well have
// sent each to a different gateway, and Tendermint's safety argument already allows for it (two
// quorums for different values overlap in more than 1/3 of the power, so in a correct
// validator, who votes once). Keeping only the first vote would be worse: a correct proposer
// relays the polka it saw (L28), and if a receiver had kept the equivocator's other vote, that
// polka could never be completed there, and the height would never end.
//
// Bounds (a Byzantine peer may send any number of validly signed votes): at most
// kValuesPerValidatorMax distinct votes per validator, round and type - when full, a vote for
// a value the engine knows a block for displaces one for an unknown value - and votes are
// stored only for rounds up to the engine's round + kFutureRoundsWindow. For rounds above that
// only the highest round each validator has reached is kept (the round-skip rule needs no
// more). So memory is O(validators * rounds actually reached).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "base/ids.h"
#include "ledger/certificate.h"
#include "ledger/genesis.h"
#include "ledger/hashing.h"
#include "ledger/vote.h"

namespace kmchain::consensus {

// Rounds ahead of the current one whose votes are stored.
inline constexpr std::uint32_t kFutureRoundsWindow = 8;
// Distinct votes kept per validator, round and type (a correct validator has one).
inline constexpr std::size_t kValuesPerValidatorMax = 4;
// Equivocations kept per height; more are counted, not stored.
inline constexpr std::size_t kEvidenceMax = 64;

// Two signed votes of one validator for the same height, round and type, different values.
struct Equivocation {
  ledger::Vote first;
  ledger::Vote second;
};

enum class AddVote : std::uint8_t {
  kAdded = 1,
  kDuplicate = 2,     // the same vote again
  kEquivocation = 3,  // a different vote for a (round, type) the validator already voted in
  kBeyondWindow = 4,  // a round past the window: only the validator's highest round is noted
  kFull = 5,          // the validator's slots for this round and type hold other values
};

class VoteKeeper {
 public:
  explicit VoteKeeper(const ledger::Genesis& genesis);

  // Whether this exact vote is already stored (callers skip its signature check).
  bool contains(const ledger::Vote& vote) const;
  // Adds a verified vote, for current round `current`. `known` tells whether the engine holds
  // a block for a value (used only when the validator's slots are full).
  using KnownValue = bool (*)(const void* context, const ledger::Hash256& value);
  AddVote add(const ledger::Vote& vote, Round current, KnownValue known = nullptr,
              const void* context = nullptr);
  // A validator sent a verified message (vote or proposal) at `round`.
  void note_round(GatewayId validator, Round round);

  // Power of the validators that voted `type` at `round` for `value` (nullopt = nil).
  std::uint64_t power_for(Round round, ledger::VoteType type,
                          const std::optional<ledger::Hash256>& value) const;
  // Power of the validators that voted `type` at `round`, for anything.
  std::uint64_t power_any(Round round, ledger::VoteType type) const;
  // The values with any prevote or precommit at `round`, for rules that look for a quorum.
  std::vector<ledger::Hash256> values(Round round, ledger::VoteType type) const;
  // Rounds with stored votes.
  std::vector<Round> rounds() const;
  // The highest round r such that the validators that reached r or a later round hold enough
  // power together (`enough(power, total)`), for the round-skip rule (Tendermint L55).
  std::optional<Round> highest_round_with_power(bool (*enough)(std::uint64_t, std::uint64_t),
                                                std::uint64_t total) const;

  // The stored votes of `type` at `round` for `value`, by validator.
  std::vector<ledger::Vote> votes_for(Round round, ledger::VoteType type,
                                      const std::optional<ledger::Hash256>& value) const;
  // Every stored vote of `type` at `round`, whatever its value, by validator.
  std::vector<ledger::Vote> all_votes(Round round, ledger::VoteType type) const;
  // The highest round a verified message of `validator` showed at this height, if any.
  std::optional<Round> highest_round(GatewayId validator) const;

  // The precommits for (round, value), sorted by validator: a commit certificate's content.
  ledger::CommitCertificate certificate(Height height, Round round,
                                        const ledger::Hash256& value) const;

  const std::vector<Equivocation>& evidence() const { return evidence_; }
  std::uint64_t equivocations() const { return equivocations_; }

 private:
  struct Tally {
    std::map<GatewayId, std::vector<ledger::Vote>> by_validator;  // distinct values
    std::map<std::optional<ledger::Hash256>, std::uint64_t> power_by_value;
    std::uint64_t power = 0;
  };
  const Tally* tally(Round round, ledger::VoteType type) const;

  std::vector<std::uint64_t> powers_;
  std::map<std::pair<Round, ledger::VoteType>, Tally> tallies_;
  std::vector<std::optional<Round>> highest_round_;  // per validator
  std::vector<Equivocation> evidence_;
  std::uint64_t equivocations_ = 0;
};

}  // namespace kmchain::consensus
