#include "consensus/engine.h"

#include <algorithm>
#include <utility>

#include "base/check.h"
#include "ledger/proposal.h"

namespace kmchain::consensus {

using ledger::VoteType;

const char* to_string(Ignored why) {
  switch (why) {
    case Ignored::kNone:
      return "none";
    case Ignored::kWrongHeight:
      return "wrong height";
    case Ignored::kUnknownValidator:
      return "unknown validator";
    case Ignored::kNotProposer:
      return "not the round's proposer";
    case Ignored::kBadSignature:
      return "bad signature";
    case Ignored::kDuplicate:
      return "duplicate";
    case Ignored::kEquivocation:
      return "equivocation";
    case Ignored::kDecided:
      return "height already decided";
    case Ignored::kStale:
      return "stale timeout";
  }
  return "unknown";
}

Engine::Engine(const ledger::Genesis& genesis, const ledger::Hash256& chain_id,
               crypto::Ed25519KeyPair key, GatewayId self, Timeouts timeouts, EngineFaults faults,
               ValueSource& source)
    : genesis_(genesis),
      chain_id_(chain_id),
      key_(std::move(key)),
      self_(self),
      timeouts_(timeouts),
      faults_(faults),
      source_(source),
      schedule_(genesis),
      total_power_(genesis.total_power()),
      votes_(genesis) {
  KMCHAIN_CHECK(genesis.find(self) != nullptr);
  KMCHAIN_CHECK(genesis.find(self)->public_key == key_.public_key());
}

bool Engine::quorum(std::uint64_t power) const {
  // The broken rule counts 2/3 rounded down as enough: 2f of 3f+1 validators.
  if (KMCHAIN_FAULT(faults_(Rule::kTwoThirdsQuorum)))
    return power * 3 >= (total_power_ * 2) - (total_power_ * 2) % 3;
  return ledger::has_quorum(power, total_power_);
}

bool Engine::one_third(std::uint64_t power) const {
  // f+1: more than 1/3, so at least one correct validator among them.
  return 3 * power > total_power_;
}

void Engine::start(Height height, const std::optional<SignerState>& restored, std::uint64_t now_ms,
                   std::vector<EngineAction>& out) {
  decided_ = false;
  votes_ = VoteKeeper(genesis_);
  proposals_.clear();
  valid_cache_.clear();
  prevote_timeout_scheduled_.clear();
  locked_in_round_.clear();
  precommit_timeout_scheduled_.clear();
  proposal_evidence_.clear();
  if (restored && restored->height == height) {
    // Resume: the same round, step, lock and own messages; re-send what was signed (its WAL
    // record is already durable) and re-arm the timeout of the step.
    signer_ = *restored;
    if (KMCHAIN_FAULT(faults_(Rule::kRestoreForgetsLock))) {
      signer_.locked_value.reset();
      signer_.locked_round.reset();
    }
    if (KMCHAIN_FAULT(faults_(Rule::kRestoreForgetsVotes))) {
      signer_.own_votes.clear();
      signer_.left_votes.clear();
      signer_.own_proposal.reset();
      signer_.step = Step::kPropose;
      // A valid value of this very round cannot be re-proposed in it (vr < round).
      if (signer_.valid_round && !(*signer_.valid_round < signer_.round)) {
        signer_.valid_value.reset();
        signer_.valid_round.reset();
        signer_.valid_polka.clear();
      }
    }
    // The valid value's polka, so that it can be relayed with a re-proposal (L16, L28).
    for (const ledger::Vote& v : signer_.valid_polka)
      (void)votes_.add(v, signer_.round);
    for (const ledger::Vote& v : signer_.own_votes) {
      (void)votes_.add(v, signer_.round);
      out.push_back(Broadcast{v});
    }
    // Kept for peers still in the round left (catch_up), not re-sent to everyone.
    for (const ledger::Vote& v : signer_.left_votes)
      (void)votes_.add(v, signer_.round);
    if (signer_.own_proposal) {
      proposals_.emplace(signer_.round, *signer_.own_proposal);
      out.push_back(Broadcast{*signer_.own_proposal});
    }
    switch (signer_.step) {
      case Step::kPropose:
        if (proposer(height, signer_.round) == self_ && !signer_.own_proposal) {
          start_round(signer_.round, now_ms, out);
        } else {
          schedule(TimeoutKind::kPropose, timeouts_.propose(signer_.round), out);
        }
        break;
      case Step::kPrevote:
        schedule(TimeoutKind::kPrevote, timeouts_.prevote(signer_.round), out);
        break;
      case Step::kPrecommit:
        schedule(TimeoutKind::kPrecommit, timeouts_.precommit(signer_.round), out);
        break;
    }
    schedule(TimeoutKind::kRebroadcast, timeouts_.rebroadcast_ms, out);
    evaluate(now_ms, out);
    return;
  }
  // L10-11: a new height starts at round 0 with no lock and no valid value.
  signer_ = SignerState{};
  signer_.height = height;
  schedule(TimeoutKind::kRebroadcast, timeouts_.rebroadcast_ms, out);
  start_round(Round{0}, now_ms, out);
}

// L11-21 StartRound(round).
void Engine::start_round(Round round, std::uint64_t now_ms, std::vector<EngineAction>& out) {
  if (round != signer_.round && !KMCHAIN_FAULT(faults_(Rule::kStartRoundKeepsVotes))) {
    // A round skipped without a vote leaves the votes of the round before it in place.
    if (!signer_.own_votes.empty()) signer_.left_votes = std::move(signer_.own_votes);
    signer_.own_votes.clear();
    signer_.own_proposal.reset();
  }
  signer_.round = round;
  signer_.step = Step::kPropose;
  const Height h = signer_.height;
  if (proposer(h, round) == self_ && !signer_.own_proposal) {
    // L14-19: re-propose the valid value with its round, or a new value with -1.
    const bool repropose =
        signer_.valid_value && !KMCHAIN_FAULT(faults_(Rule::kProposeIgnoresValidValue));
    ledger::Block block = repropose ? *signer_.valid_value : source_.make_block(h, self_, now_ms);
    KMCHAIN_CHECK(block.header.height == h);
    const std::optional<Round> valid_round = repropose ? signer_.valid_round : std::nullopt;
    ledger::Proposal p =
        ledger::sign_proposal(key_, chain_id_, h, round, valid_round, std::move(block), self_);
    ++stats_.signed_messages;
    signer_.own_proposal = p;
    proposals_.emplace(round, p);
    votes_.note_round(self_, round);
    persist(out);
    out.push_back(Broadcast{std::move(p)});  // L19
    relay_polka(out);
  } else if (!KMCHAIN_FAULT(faults_(Rule::kNoProposeTimeout))) {
    // L21: schedule OnTimeoutPropose(h, round).
    schedule(TimeoutKind::kPropose, timeouts_.propose(round), out);
  }
  evaluate(now_ms, out);
}

Ignored Engine::on_proposal(const ledger::Proposal& p, std::uint64_t now_ms,
                            std::vector<EngineAction>& out) {
  if (p.height != signer_.height) return Ignored::kWrongHeight;
  if (decided_) return Ignored::kDecided;
  const ledger::Validator* v = genesis_.find(p.proposer);
  if (v == nullptr) return Ignored::kUnknownValidator;
  if (p.proposer != proposer(p.height, p.round) &&
      !KMCHAIN_FAULT(faults_(Rule::kSkipProposerCheck)))
    return Ignored::kNotProposer;
  auto existing = proposals_.find(p.round);
  if (existing != proposals_.end() && existing->second == p) {
    ++stats_.signatures_skipped;
    return Ignored::kDuplicate;
  }
  ++stats_.signatures_verified;
  if (!KMCHAIN_FAULT(faults_(Rule::kSkipProposalSignature)) &&
      !ledger::verify_proposal(v->public_key, chain_id_, p))
    return Ignored::kBadSignature;
  votes_.note_round(p.proposer, p.round);
  if (existing != proposals_.end()) {
    // A second, different signed proposal for one round: the proposer equivocates.
    ++stats_.proposal_equivocations;
    if (proposal_evidence_.size() < kEvidenceMax)
      proposal_evidence_.push_back({existing->second, p});
    return Ignored::kEquivocation;
  }
  const bool beyond_window = p.round.value() > signer_.round.value() &&
                             p.round.value() - signer_.round.value() > kFutureRoundsWindow;
  if (!beyond_window) proposals_.emplace(p.round, p);
  evaluate(now_ms, out);
  return Ignored::kNone;
}

Ignored Engine::on_vote(const ledger::Vote& vote, std::uint64_t now_ms,
                        std::vector<EngineAction>& out) {
  if (vote.height != signer_.height) return Ignored::kWrongHeight;
  if (decided_) return Ignored::kDecided;
  const ledger::Validator* v = genesis_.find(vote.validator);
  if (v == nullptr) return Ignored::kUnknownValidator;
  if (votes_.contains(vote)) {
    ++stats_.signatures_skipped;
    return Ignored::kDuplicate;
  }
  ++stats_.signatures_verified;
  if (!KMCHAIN_FAULT(faults_(Rule::kSkipVoteSignature)) &&
      !ledger::verify_vote(v->public_key, chain_id_, vote))
    return Ignored::kBadSignature;
  auto known = +[](const void* self, const ledger::Hash256& value) {
    return static_cast<const Engine*>(self)->known_block(value) != nullptr;
  };
  const AddVote added = votes_.add(vote, signer_.round, known, this);
  if (added == AddVote::kDuplicate) return Ignored::kDuplicate;
  if (added == AddVote::kFull) return Ignored::kEquivocation;
  evaluate(now_ms, out);
  return added == AddVote::kEquivocation ? Ignored::kEquivocation : Ignored::kNone;
}

Ignored Engine::on_timeout(const TimeoutIn& t, std::uint64_t now_ms,
                           std::vector<EngineAction>& out) {
  if (t.height != signer_.height || decided_) return Ignored::kStale;
  if (t.kind == TimeoutKind::kRebroadcast) {
    // Own messages of the current round again: they are already durable, so no Persist.
    if (signer_.own_proposal) {
      out.push_back(Broadcast{*signer_.own_proposal});
      relay_polka(out);
    }
    for (const ledger::Vote& v : signer_.own_votes)
      out.push_back(Broadcast{v});
    schedule(TimeoutKind::kRebroadcast, timeouts_.rebroadcast_ms, out);
    return Ignored::kNone;
  }
  if (t.round != signer_.round) return Ignored::kStale;
  switch (t.kind) {
    case TimeoutKind::kPropose:
      // L57-60 OnTimeoutPropose: prevote nil.
      if (signer_.step != Step::kPropose) return Ignored::kStale;
      if (KMCHAIN_FAULT(faults_(Rule::kProposeTimeoutIgnored))) return Ignored::kNone;
      sign_vote(VoteType::kPrevote, std::nullopt, out);
      signer_.step = Step::kPrevote;
      break;
    case TimeoutKind::kPrevote:
      // L61-64 OnTimeoutPrevote: precommit nil.
      if (signer_.step != Step::kPrevote) return Ignored::kStale;
      if (KMCHAIN_FAULT(faults_(Rule::kPrevoteTimeoutIgnored))) return Ignored::kNone;
      sign_vote(VoteType::kPrecommit, std::nullopt, out);
      signer_.step = Step::kPrecommit;
      break;
    case TimeoutKind::kPrecommit:
      // L65-67 OnTimeoutPrecommit: next round.
      if (KMCHAIN_FAULT(faults_(Rule::kPrecommitTimeoutIgnored))) return Ignored::kNone;
      start_round(Round{signer_.round.value() + 1}, now_ms, out);
      return Ignored::kNone;
    case TimeoutKind::kRebroadcast:
      break;
    case TimeoutKind::kCommit:  // the replica's, never the engine's
      return Ignored::kStale;
  }
  evaluate(now_ms, out);
  return Ignored::kNone;
}

void Engine::evaluate(std::uint64_t now_ms, std::vector<EngineAction>& out) {
  // Fire rules until none applies: each firing changes the step or sets a "first time" flag,
  // so this terminates; the bound only guards against a bug.
  for (int guard = 0; guard < 64; ++guard) {
    if (decided_) return;
    if (try_decide(out)) return;
    if (try_round_skip(now_ms, out)) continue;
    bool fired = on_current_proposal(now_ms, out);
    fired = on_prevote_quorum(out) || fired;
    fired = on_precommit_quorum(out) || fired;
    if (!fired) return;
  }
  KMCHAIN_CHECK(false && "consensus rules did not settle");
}

const ledger::Block* Engine::known_block(const ledger::Hash256& hash) const {
  for (const auto& [round, p] : proposals_) {
    if (ledger::block_hash(p.block) == hash) return &p.block;
  }
  if (signer_.valid_value && ledger::block_hash(*signer_.valid_value) == hash)
    return &*signer_.valid_value;
  if (signer_.locked_value && ledger::block_hash(*signer_.locked_value) == hash)
    return &*signer_.locked_value;
  return nullptr;
}

bool Engine::valid(const ledger::Block& block) {
  const ledger::Hash256 hash = ledger::block_hash(block);
  auto it = valid_cache_.find(hash);
  if (it != valid_cache_.end()) return it->second;
  const bool height_ok =
      block.header.height == signer_.height || KMCHAIN_FAULT(faults_(Rule::kSkipHeightCheck));
  const bool ok = height_ok && source_.valid(block);
  valid_cache_.emplace(hash, ok);
  return ok;
}

const ledger::Proposal* Engine::proposal(Round round) const {
  auto it = proposals_.find(round);
  return it == proposals_.end() ? nullptr : &it->second;
}

bool Engine::is_locked_on(const SignerState& s, const ledger::Hash256& hash) {
  return s.locked_value && ledger::block_hash(*s.locked_value) == hash;
}

// L49-54: upon PROPOSAL(h, r, v, *) and 2f+1 PRECOMMIT(h, r, id(v)), any round r, while
// decision is nil: if valid(v), decide v. The block may be known from any proposal of this
// height: the precommits name it by hash.
bool Engine::try_decide(std::vector<EngineAction>& out) {
  auto enough = [this](std::uint64_t power) {
    return KMCHAIN_FAULT(faults_(Rule::kDecideOnOneThird)) ? one_third(power) : quorum(power);
  };
  for (Round r : votes_.rounds()) {
    if (!enough(votes_.power_any(r, VoteType::kPrecommit))) continue;
    for (const ledger::Hash256& value : votes_.values(r, VoteType::kPrecommit)) {
      if (!enough(votes_.power_for(r, VoteType::kPrecommit, value))) continue;
      const ledger::Block* block = known_block(value);
      if (block == nullptr || !valid(*block)) continue;
      decided_ = true;
      out.push_back(Decided{*block, votes_.certificate(signer_.height, r, value)});
      return true;
    }
  }
  return false;
}

// L55-56: upon f+1 messages of a round above round_p, StartRound(that round). Generalised to
// the highest round that validators holding f+1 power have all reached or passed: at least one
// of them is correct, so that round is legitimately under way.
bool Engine::try_round_skip(std::uint64_t now_ms, std::vector<EngineAction>& out) {
  if (KMCHAIN_FAULT(faults_(Rule::kNoRoundSkip))) return false;
  const std::uint64_t total = total_power_;
  // L55: f+1, more power than the Byzantine gateways may hold (3f < total), so at least one
  // correct gateway has reached the round. A third of the power is not needed: at P = 3 one
  // gateway ahead must be enough, or a round the others cannot end alone stalls them.
  auto enough = +[](std::uint64_t power, std::uint64_t t) { return power > (t - 1) / 3; };
  if (KMCHAIN_FAULT(faults_(Rule::kRoundSkipOnOne)))
    enough = +[](std::uint64_t power, std::uint64_t) { return power > 0; };
  const std::optional<Round> target = votes_.highest_round_with_power(enough, total);
  if (!target || *target <= signer_.round) return false;
  start_round(*target, now_ms, out);
  return true;
}

// L22-33: the current round's proposal, while step = propose.
bool Engine::on_current_proposal(std::uint64_t now_ms, std::vector<EngineAction>& out) {
  if (signer_.step != Step::kPropose) return false;
  auto it = proposals_.find(signer_.round);
  if (it == proposals_.end()) return false;
  const ledger::Proposal& p = it->second;
  const ledger::Hash256 id = ledger::block_hash(p.block);
  std::optional<ledger::Hash256> prevote;
  if (!p.valid_round) {
    // L22-27: a new value; prevote it if valid and not locked on something else.
    const bool lock_allows = !signer_.locked_round || is_locked_on(signer_, id) ||
                             KMCHAIN_FAULT(faults_(Rule::kIgnoreLock));
    const bool checked = (valid(p.block) && source_.timely(p.block, now_ms)) ||
                         KMCHAIN_FAULT(faults_(Rule::kPrevoteInvalidBlock));
    if (checked && lock_allows) prevote = id;
  } else {
    // L28-33: a re-proposed value with a polka at vr < round; only once that polka is seen.
    const Round vr = *p.valid_round;
    if (!(vr < signer_.round)) return false;
    if (!quorum(votes_.power_for(vr, VoteType::kPrevote, id)) &&
        !KMCHAIN_FAULT(faults_(Rule::kReproposalWithoutPolka)))
      return false;
    const bool lock_allows = !signer_.locked_round || *signer_.locked_round <= vr ||
                             is_locked_on(signer_, id) || KMCHAIN_FAULT(faults_(Rule::kIgnoreLock));
    if (valid(p.block) && lock_allows) prevote = id;
  }
  sign_vote(VoteType::kPrevote, prevote, out);
  signer_.step = Step::kPrevote;
  return true;
}

// L34-35, L36-43, L44-46: rules on the current round's prevotes.
bool Engine::on_prevote_quorum(std::vector<EngineAction>& out) {
  const Round r = signer_.round;
  bool fired = false;
  // L34: 2f+1 prevotes for anything while step = prevote, the first time: OnTimeoutPrevote.
  if (signer_.step == Step::kPrevote && !prevote_timeout_scheduled_.contains(r) &&
      quorum(votes_.power_any(r, VoteType::kPrevote)) &&
      !KMCHAIN_FAULT(faults_(Rule::kNoPrevoteTimeout))) {
    prevote_timeout_scheduled_.insert(r);
    schedule(TimeoutKind::kPrevote, timeouts_.prevote(r), out);
    fired = true;
  }
  // L36: PROPOSAL(h, r, v, *) and 2f+1 PREVOTE(h, r, id(v)), valid(v), step >= prevote, first
  // time: if step = prevote, lock v and precommit it; in any case v becomes the valid value.
  auto it = proposals_.find(r);
  if (signer_.step != Step::kPropose && it != proposals_.end() && !locked_in_round_.contains(r)) {
    const ledger::Block& block = it->second.block;
    const ledger::Hash256 id = ledger::block_hash(block);
    const std::uint64_t for_it = votes_.power_for(r, VoteType::kPrevote, id);
    const bool polka =
        KMCHAIN_FAULT(faults_(Rule::kLockOnOneThird)) ? one_third(for_it) : quorum(for_it);
    if (polka && valid(block)) {
      locked_in_round_.insert(r);
      // L42-43 first, so that the record the precommit persists holds the valid value with
      // the lock: a proposer restarted with a lock but no valid value would propose a value it
      // cannot prevote itself.
      signer_.valid_value = block;
      signer_.valid_round = r;
      signer_.valid_polka = votes_.votes_for(r, VoteType::kPrevote, id);
      if (signer_.step == Step::kPrevote) {
        signer_.locked_value = block;
        signer_.locked_round = r;
        sign_vote(VoteType::kPrecommit, id, out);  // L40: persists the lock with the vote
        signer_.step = Step::kPrecommit;
      }
      fired = true;
    }
  }
  // L44-46: 2f+1 PREVOTE(h, r, nil) while step = prevote: precommit nil.
  if (signer_.step == Step::kPrevote &&
      quorum(votes_.power_for(r, VoteType::kPrevote, std::nullopt)) &&
      !KMCHAIN_FAULT(faults_(Rule::kNoNilPrecommit))) {
    sign_vote(VoteType::kPrecommit, std::nullopt, out);
    signer_.step = Step::kPrecommit;
    fired = true;
  }
  return fired;
}

// L47-48: 2f+1 precommits for anything at the current round, the first time:
// OnTimeoutPrecommit.
bool Engine::on_precommit_quorum(std::vector<EngineAction>& out) {
  const Round r = signer_.round;
  if (precommit_timeout_scheduled_.contains(r) ||
      !quorum(votes_.power_any(r, VoteType::kPrecommit)) ||
      KMCHAIN_FAULT(faults_(Rule::kNoPrecommitTimeout))) {
    return false;
  }
  precommit_timeout_scheduled_.insert(r);
  schedule(TimeoutKind::kPrecommit, timeouts_.precommit(r), out);
  return true;
}

void Engine::sign_vote(VoteType type, const std::optional<ledger::Hash256>& value,
                       std::vector<EngineAction>& out) {
  // The signer never signs two votes of one type in one round: if it already did (before a
  // restart, say), it sends that vote again instead.
  for (const ledger::Vote& own : signer_.own_votes) {
    if (own.type == type) {
      out.push_back(Broadcast{own});
      return;
    }
  }
  ledger::Vote vote =
      ledger::sign_vote(key_, chain_id_, type, signer_.height, signer_.round, value, self_);
  ++stats_.signed_messages;
  signer_.own_votes.push_back(vote);
  (void)votes_.add(vote, signer_.round);
  // The step this vote moves to is part of the record: after a restart the engine resumes
  // there and does not vote again in this step.
  signer_.step = type == VoteType::kPrevote ? Step::kPrevote : Step::kPrecommit;
  persist(out);
  out.push_back(Broadcast{std::move(vote)});
}

// A re-proposed value (vr >= 0) is prevoted only by validators that saw its polka at vr
// (L28), and the network may have lost some of those prevotes long ago, when vr was the
// current round: the proposer relays them with its proposal (they carry their own signatures).
void Engine::relay_polka(std::vector<EngineAction>& out) {
  const auto& p = signer_.own_proposal;
  if (!p || !p->valid_round) return;
  for (ledger::Vote& v :
       votes_.votes_for(*p->valid_round, VoteType::kPrevote, ledger::block_hash(p->block))) {
    out.push_back(Broadcast{std::move(v)});
  }
}

CatchUp Engine::catch_up(Round peer_round) const {
  CatchUp out;
  const Round ours = signer_.round;
  if (decided_ || !(peer_round < ours)) return out;
  auto add_round = [&](Round r, bool whole) {
    if (whole) {
      if (auto p = proposals_.find(r); p != proposals_.end()) out.proposals.push_back(p->second);
      auto prevotes = votes_.all_votes(r, VoteType::kPrevote);
      out.votes.insert(out.votes.end(), prevotes.begin(), prevotes.end());
    }
    auto precommits = votes_.all_votes(r, VoteType::kPrecommit);
    out.votes.insert(out.votes.end(), precommits.begin(), precommits.end());
  };
  add_round(peer_round, true);
  const Round before_ours{ours.value() - 1};
  if (peer_round < before_ours) add_round(before_ours, false);
  add_round(ours, true);
  return out;
}

void Engine::persist(std::vector<EngineAction>& out) {
  if (KMCHAIN_FAULT(faults_(Rule::kSkipWal))) return;
  out.push_back(PersistSigner{signer_});
}

void Engine::schedule(TimeoutKind kind, std::uint64_t after_ms, std::vector<EngineAction>& out) {
  out.push_back(ScheduleTimeout{TimeoutIn{signer_.height, signer_.round, kind}, after_ms});
}

}  // namespace kmchain::consensus
