#include "consensus/vote_keeper.h"

#include <algorithm>

#include "base/check.h"

namespace kmchain::consensus {

VoteKeeper::VoteKeeper(const ledger::Genesis& genesis) : highest_round_(genesis.validators.size()) {
  for (const ledger::Validator& v : genesis.validators)
    powers_.push_back(v.power);
}

const VoteKeeper::Tally* VoteKeeper::tally(Round round, ledger::VoteType type) const {
  auto it = tallies_.find({round, type});
  return it == tallies_.end() ? nullptr : &it->second;
}

bool VoteKeeper::contains(const ledger::Vote& vote) const {
  const Tally* t = tally(vote.round, vote.type);
  if (t == nullptr) return false;
  auto it = t->by_validator.find(vote.validator);
  if (it == t->by_validator.end()) return false;
  return std::find(it->second.begin(), it->second.end(), vote) != it->second.end();
}

void VoteKeeper::note_round(GatewayId validator, Round round) {
  KMCHAIN_CHECK(validator.value() < highest_round_.size());
  auto& highest = highest_round_[validator.value()];
  if (!highest || *highest < round) highest = round;
}

AddVote VoteKeeper::add(const ledger::Vote& vote, Round current, KnownValue known,
                        const void* context) {
  KMCHAIN_CHECK(vote.validator.value() < powers_.size());
  note_round(vote.validator, vote.round);
  if (vote.round.value() > current.value() &&
      vote.round.value() - current.value() > kFutureRoundsWindow) {
    return AddVote::kBeyondWindow;
  }
  Tally& t = tallies_[{vote.round, vote.type}];
  std::vector<ledger::Vote>& mine = t.by_validator[vote.validator];
  for (const ledger::Vote& v : mine) {
    if (v.block == vote.block) return AddVote::kDuplicate;  // the same vote, maybe other bytes
  }
  const std::uint64_t power = powers_[vote.validator.value()];
  const bool equivocation = !mine.empty();
  if (equivocation) {
    ++equivocations_;
    if (evidence_.size() < kEvidenceMax) evidence_.push_back(Equivocation{mine.front(), vote});
  }
  if (mine.size() == kValuesPerValidatorMax) {
    // Full: a vote for a value with a known block displaces one for a value without.
    auto is_known = [&](const std::optional<ledger::Hash256>& value) {
      return !value || (known != nullptr && known(context, *value));
    };
    if (!is_known(vote.block)) return AddVote::kFull;
    auto victim = std::find_if(mine.begin(), mine.end(),
                               [&](const ledger::Vote& v) { return !is_known(v.block); });
    if (victim == mine.end()) return AddVote::kFull;
    t.power_by_value[victim->block] -= power;
    mine.erase(victim);
  }
  mine.push_back(vote);
  t.power_by_value[vote.block] += power;
  if (!equivocation) t.power += power;
  return equivocation ? AddVote::kEquivocation : AddVote::kAdded;
}

std::uint64_t VoteKeeper::power_for(Round round, ledger::VoteType type,
                                    const std::optional<ledger::Hash256>& value) const {
  const Tally* t = tally(round, type);
  if (t == nullptr) return 0;
  auto it = t->power_by_value.find(value);
  return it == t->power_by_value.end() ? 0 : it->second;
}

std::uint64_t VoteKeeper::power_any(Round round, ledger::VoteType type) const {
  const Tally* t = tally(round, type);
  return t == nullptr ? 0 : t->power;
}

std::vector<ledger::Hash256> VoteKeeper::values(Round round, ledger::VoteType type) const {
  std::vector<ledger::Hash256> out;
  if (const Tally* t = tally(round, type)) {
    for (const auto& [value, power] : t->power_by_value) {
      if (value) out.push_back(*value);
    }
  }
  return out;
}

std::vector<Round> VoteKeeper::rounds() const {
  std::vector<Round> out;
  for (const auto& [key, t] : tallies_) {
    if (out.empty() || out.back() != key.first) out.push_back(key.first);
  }
  return out;
}

std::optional<Round> VoteKeeper::highest_round_with_power(bool (*enough)(std::uint64_t,
                                                                         std::uint64_t),
                                                          std::uint64_t total) const {
  // Validators by highest round reached, descending; accumulate power until it is enough.
  std::vector<std::pair<Round, std::uint64_t>> reached;
  for (std::size_t i = 0; i < highest_round_.size(); ++i) {
    if (highest_round_[i]) reached.emplace_back(*highest_round_[i], powers_[i]);
  }
  std::sort(reached.begin(), reached.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  std::uint64_t power = 0;
  for (const auto& [round, p] : reached) {
    power += p;
    if (enough(power, total)) return round;
  }
  return std::nullopt;
}

std::vector<ledger::Vote> VoteKeeper::votes_for(Round round, ledger::VoteType type,
                                                const std::optional<ledger::Hash256>& value) const {
  std::vector<ledger::Vote> out;
  if (const Tally* t = tally(round, type)) {
    for (const auto& [validator, votes] : t->by_validator) {
      for (const ledger::Vote& vote : votes) {
        if (vote.block == value) out.push_back(vote);
      }
    }
  }
  return out;
}

std::vector<ledger::Vote> VoteKeeper::all_votes(Round round, ledger::VoteType type) const {
  std::vector<ledger::Vote> out;
  if (const Tally* t = tally(round, type)) {
    for (const auto& [validator, votes] : t->by_validator)
      out.insert(out.end(), votes.begin(), votes.end());
  }
  return out;
}

std::optional<Round> VoteKeeper::highest_round(GatewayId validator) const {
  if (validator.value() >= highest_round_.size()) return std::nullopt;
  return highest_round_[validator.value()];
}

ledger::CommitCertificate VoteKeeper::certificate(Height height, Round round,
                                                  const ledger::Hash256& value) const {
  ledger::CommitCertificate c{height, round, value, {}};
  if (const Tally* t = tally(round, ledger::VoteType::kPrecommit)) {
    for (const auto& [validator, votes] : t->by_validator) {  // std::map: sorted by validator
      for (const ledger::Vote& vote : votes) {
        if (vote.block == value) c.precommits.emplace_back(validator, vote.signature);
      }
    }
  }
  return c;
}

}  // namespace kmchain::consensus
