#include "consensus/replica.h"

#include <algorithm>
#include <utility>

#include "base/check.h"
#include "ledger/contract.h"

namespace kmchain::consensus {

const char* to_string(RestoreError e) {
  switch (e) {
    case RestoreError::kWrongHeight:
      return "stored block out of order";
    case RestoreError::kBrokenChain:
      return "stored block does not chain to the previous one";
    case RestoreError::kInvalidTransaction:
      return "stored transaction refused by the contract";
    case RestoreError::kStateMismatch:
      return "state after a stored block differs from its stored hash";
    case RestoreError::kBadWal:
      return "consensus WAL record does not decode";
    case RestoreError::kWalAhead:
      return "consensus WAL is ahead of the block store";
  }
  return "unknown restore error";
}

Replica::Replica(const ledger::Genesis& genesis, crypto::Ed25519KeyPair key, GatewayId self,
                 ReplicaConfig config)
    : genesis_(genesis),
      chain_id_(genesis.chain_id()),
      self_(self),
      config_(config),
      key_(key),
      state_(genesis),
      state_hash_(state_.state_hash()),
      last_timestamp_ms_(genesis.genesis_time_ms),
      mempool_(state_, config.mempool_capacity),
      engine_(genesis_, chain_id_, std::move(key), self, config.timeouts, config.faults, *this) {
  KMCHAIN_CHECK(config.block_transactions_max <= limits::kBlockTransactionsMax);
}

Result<std::vector<ledger::AppliedTransaction>, RestoreError> Replica::restore_block(
    const StoredBlock& stored) {
  KMCHAIN_CHECK(!started_);
  const ledger::Block& block = stored.block;
  if (block.header.height != next()) return Err{RestoreError::kWrongHeight};
  if (block.header.previous_hash != last_hash_) return Err{RestoreError::kBrokenChain};
  // A store that fails here leaves the state half-applied: the caller refuses to start.
  std::vector<ledger::AppliedTransaction> applied;
  for (const ledger::SignedTransaction& tx : block.transactions) {
    // Our own store: its blocks were checked in full before they were stored.
    if (!ledger::check_rules(state_, tx)) return Err{RestoreError::kInvalidTransaction};
    applied.push_back(
        ledger::AppliedTransaction{tx.transaction, tx.submitter, ledger::apply(state_, tx)});
  }
  state_hash_ = state_.state_hash();
  if (state_hash_ != stored.state_hash_after) return Err{RestoreError::kStateMismatch};
  last_hash_ = ledger::block_hash(block);
  last_timestamp_ms_ = block.header.timestamp_ms;
  committed_ = block.header.height;
  return applied;
}

Status<RestoreError> Replica::start(const std::optional<Bytes>& wal_record, std::uint64_t now_ms,
                                    std::vector<Action>& out) {
  KMCHAIN_CHECK(!started_);
  std::optional<SignerState> restored;
  if (wal_record) {
    auto decoded = decode_signer_state(*wal_record);
    if (!decoded) return Err{RestoreError::kBadWal};
    if (decoded->height > next()) return Err{RestoreError::kWalAhead};
    if (decoded->height == next()) restored = std::move(decoded).value();
  }
  mempool_ = ledger::Mempool(state_, config_.mempool_capacity);
  started_ = true;
  std::vector<EngineAction> engine_out;
  engine_.start(next(), restored, now_ms, engine_out);
  run(engine_out, now_ms, out);
  return {};
}

void Replica::count(Ignored why) {
  if (why != Ignored::kNone) ++stats_.ignored[why];
}

void Replica::on_message(GatewayId from, ByteView bytes, std::uint64_t now_ms,
                         std::vector<Action>& out) {
  KMCHAIN_CHECK(started_);
  ++stats_.messages;
  auto decoded = decode_message(bytes);
  if (!decoded) {
    ++stats_.decode_errors[decoded.error().code];
    return;
  }
  const Message& message = *decoded;
  if (const auto* p = std::get_if<ledger::Proposal>(&message)) {
    on_consensus(from, message, p->height, now_ms, out);
  } else if (const auto* v = std::get_if<ledger::Vote>(&message)) {
    on_consensus(from, message, v->height, now_ms, out);
  } else if (const auto* c = std::get_if<CommitMessage>(&message)) {
    on_commit(*c, now_ms, out);
  } else if (const auto* tx = std::get_if<ledger::SignedTransaction>(&message)) {
    auto added = mempool_.add(*tx);
    if (added) {
      ++stats_.transactions_accepted;
      out.push_back(BroadcastAll{encode(Message{*tx})});  // gossip on, once: duplicates stop
    } else {
      ++stats_.transactions_refused;
    }
  } else if (const auto* s = std::get_if<SyncRequest>(&message)) {
    serve(from, s->from, now_ms, out);
  }
}

void Replica::on_consensus(GatewayId from, const Message& message, Height height,
                           std::uint64_t now_ms, std::vector<Action>& out) {
  if (height <= committed_) {
    // The sender is behind: offer it the blocks from its height on.
    count(Ignored::kWrongHeight);
    if (height.value() >= 1) serve(from, height, now_ms, out);
    return;
  }
  if (height == next() && !waiting_) {
    std::vector<EngineAction> engine_out;
    Ignored why = Ignored::kNone;
    if (const auto* p = std::get_if<ledger::Proposal>(&message)) {
      why = engine_.on_proposal(*p, now_ms, engine_out);
    } else {
      why = engine_.on_vote(std::get<ledger::Vote>(message), now_ms, engine_out);
    }
    count(why);
    if (why == Ignored::kEquivocation) collect_evidence();
    run(engine_out, now_ms, out);
    help_behind(from, message, why, now_ms, out);
    return;
  }
  const Height buffered = waiting_ ? next() : Height{next().value() + 1};
  if (height == buffered) {
    // Of the height we start next: keep the first messages for then.
    const std::size_t bound = kNextHeightBufferPerValidator * genesis_.validators.size();
    if (next_height_.size() < bound) {
      next_height_.emplace_back(from, message);
      ++stats_.next_height_buffered;
    } else {
      ++stats_.next_height_dropped;
    }
    if (waiting_) return;
  }
  // The sender is ahead of us: ask it for the blocks we lack.
  request_sync(from, now_ms, out);
}

void Replica::request_sync(GatewayId from, std::uint64_t now_ms, std::vector<Action>& out) {
  if (genesis_.find(from) == nullptr || from == self_) return;
  auto it = last_sync_request_ms_.find(from);
  if (it != last_sync_request_ms_.end() && now_ms < it->second + config_.sync_interval_ms) return;
  last_sync_request_ms_[from] = now_ms;
  out.push_back(SendTo{from, encode(Message{SyncRequest{next()}})});
}

// A peer's own, authentic message of an earlier round than ours: it is stuck there unless it
// gets the votes it lacks. Its periodic rebroadcast brings us here again, so the network may
// lose what we send; one batch per peer per sync interval bounds what a liar can make us send.
void Replica::help_behind(GatewayId from, const Message& message, Ignored why, std::uint64_t now_ms,
                          std::vector<Action>& out) {
  if (why != Ignored::kNone && why != Ignored::kDuplicate && why != Ignored::kEquivocation) return;
  if (waiting_ || engine_.decided() || from == self_) return;
  GatewayId signer;
  Round round;
  if (const auto* p = std::get_if<ledger::Proposal>(&message)) {
    signer = p->proposer;
    round = p->round;
  } else {
    const auto& v = std::get<ledger::Vote>(message);
    signer = v.validator;
    round = v.round;
  }
  // Relayed messages say nothing of the relay's round, and a later message shows it moved on.
  if (signer != from || !(round < engine_.round())) return;
  const std::optional<Round> reached = engine_.votes().highest_round(from);
  if (reached && round < *reached) return;
  auto it = last_catch_up_ms_.find(from);
  if (it != last_catch_up_ms_.end() && now_ms < it->second + config_.sync_interval_ms) return;
  last_catch_up_ms_[from] = now_ms;
  ++stats_.catch_ups_sent;
  const CatchUp missing = engine_.catch_up(round);
  for (const ledger::Proposal& p : missing.proposals)
    out.push_back(SendTo{from, encode(Message{p})});
  for (const ledger::Vote& v : missing.votes)
    out.push_back(SendTo{from, encode(Message{v})});
}

void Replica::serve(GatewayId to, Height from, std::uint64_t now_ms, std::vector<Action>& out) {
  if (genesis_.find(to) == nullptr || to == self_) return;
  if (from.value() == 0 || from > committed_height()) return;
  auto it = last_serve_ms_.find(to);
  if (it != last_serve_ms_.end() && now_ms < it->second + config_.sync_interval_ms) return;
  last_serve_ms_[to] = now_ms;
  const std::uint64_t last =
      std::min(committed_height().value(), from.value() + config_.sync_batch - 1);
  out.push_back(ServeBlocks{to, from, Height{last}});
}

void Replica::on_commit(const CommitMessage& commit, std::uint64_t now_ms,
                        std::vector<Action>& out) {
  const Height h = commit.block.header.height;
  if (h <= committed_) return;
  if ((h > next() || waiting_) && h.value() - next().value() < config_.sync_batch) {
    // Out of order (the network reorders a batch), or between heights: keep it for its turn.
    if (pending_commits_.size() < config_.sync_batch) pending_commits_.emplace(h, commit);
    return;
  }
  if (h != next()) return;
  ++stats_.certificate_verifications;
  if (!certified(commit) ||
      !(valid(commit.block) || KMCHAIN_FAULT(config_.faults(Rule::kSyncSkipsValidity)))) {
    ++stats_.bad_commits;
    return;
  }
  ++stats_.commits_by_sync;
  this->commit(commit.block, commit.certificate, true, now_ms, out);
}

bool Replica::certified(const CommitMessage& commit) const {
#if KMCHAIN_FAULTS_ENABLED
  const BrokenRules& broken = config_.faults;
  if (broken(Rule::kCertificateSkipsSignatures) || broken(Rule::kCertificateShortQuorum) ||
      broken(Rule::kCertificateAnyBlock)) {
    // The certificate check with one of its parts left out.
    const ledger::CommitCertificate& c = commit.certificate;
    if (!broken(Rule::kCertificateAnyBlock) &&
        (c.height != commit.block.header.height || c.block != ledger::block_hash(commit.block)))
      return false;
    std::uint64_t power = 0;
    for (const auto& [validator, signature] : c.precommits) {
      const ledger::Validator* v = genesis_.find(validator);
      if (v == nullptr) return false;
      const ledger::Vote precommit{
          ledger::VoteType::kPrecommit, c.height, c.round, c.block, validator, signature};
      if (!broken(Rule::kCertificateSkipsSignatures) &&
          !ledger::verify_vote(v->public_key, chain_id_, precommit))
        return false;
      power += v->power;
    }
    return broken(Rule::kCertificateShortQuorum) ||
           ledger::has_quorum(power, genesis_.total_power());
  }
#endif
  return ledger::verify_commit(genesis_, commit.block, commit.certificate).ok();
}

void Replica::on_timeout(const TimeoutIn& timeout, std::uint64_t now_ms, std::vector<Action>& out) {
  KMCHAIN_CHECK(started_);
  if (timeout.kind == TimeoutKind::kCommit) {
    if (waiting_ && timeout.height == next()) start_next_height(now_ms, out);
    return;
  }
  if (waiting_) return;
  std::vector<EngineAction> engine_out;
  (void)engine_.on_timeout(timeout, now_ms, engine_out);
  run(engine_out, now_ms, out);
}

ledger::SignedTransaction Replica::sign(
    const ledger::Transaction& tx, std::optional<crypto::Ed25519Signature> device_consent) const {
  return ledger::sign_transaction(key_, chain_id_, self_, tx, device_consent);
}

Status<ledger::MempoolVerdict> Replica::submit(const ledger::SignedTransaction& tx, std::uint64_t,
                                               std::vector<Action>& out) {
  auto added = mempool_.add(tx);
  if (!added) return added;
  out.push_back(BroadcastAll{encode(Message{tx})});
  return {};
}

void Replica::run(std::vector<EngineAction>& engine_out, std::uint64_t now_ms,
                  std::vector<Action>& out) {
  flush_clock_notes(out);  // from timely(), asked by the engine
  for (EngineAction& action : engine_out) {
    if (auto* persist = std::get_if<PersistSigner>(&action)) {
      out.push_back(WriteWal{encode(persist->state)});
    } else if (auto* broadcast = std::get_if<Broadcast>(&action)) {
      out.push_back(BroadcastAll{encode(broadcast->message)});
    } else if (auto* timeout = std::get_if<ScheduleTimeout>(&action)) {
      out.push_back(Schedule{timeout->timeout, now_ms + timeout->after_ms});
    } else if (auto* decided = std::get_if<Decided>(&action)) {
      // The engine stops at a decision, so this is its last action.
      commit(decided->block, decided->certificate, false, now_ms, out);
      return;
    }
  }
}

void Replica::commit(const ledger::Block& block, const ledger::CommitCertificate& certificate,
                     bool by_sync, std::uint64_t now_ms, std::vector<Action>& out) {
  // With a validity check broken on purpose, a block that fails it may be decided here: the
  // replica carries on (at the height it was deciding, skipping what the contract refuses) so
  // that the simulator's checks, not an assertion, report it.
  const bool checks_broken = KMCHAIN_FAULT(
      config_.faults(Rule::kSkipHeightCheck) || config_.faults(Rule::kSkipContract) ||
      config_.faults(Rule::kPrevoteInvalidBlock) || config_.faults(Rule::kSyncSkipsValidity));
  KMCHAIN_CHECK(block.header.height == next() || checks_broken);
  collect_evidence();
  check_clock(block, certificate.round, by_sync, now_ms);
  flush_clock_notes(out);
  std::vector<ledger::AppliedTransaction> applied;
  applied.reserve(block.transactions.size());
  for (const ledger::SignedTransaction& tx : block.transactions) {
    if (checks_broken && !ledger::check_rules(state_, tx)) continue;
    // valid() checked every transaction in this order on this state before any decision.
    applied.push_back(
        ledger::AppliedTransaction{tx.transaction, tx.submitter, ledger::apply(state_, tx)});
  }
  state_hash_ = state_.state_hash();
  last_hash_ = ledger::block_hash(block);
  last_timestamp_ms_ = block.header.timestamp_ms;
  committed_ = next();
  (void)mempool_.update(state_, block.transactions);
  // Durable before the next height's first WAL record (actions run in order).
  out.push_back(StoreBlock{StoredBlock{block, certificate, state_hash_}});
  out.push_back(Committed{committed_, certificate.round, last_hash_, state_hash_,
                          std::move(applied), by_sync});
  vote_evidence_seen_ = 0;
  proposal_evidence_seen_ = 0;
  // next_height_ holds messages of the height that starts next: they are replayed then.
  pending_commits_.erase(pending_commits_.begin(), pending_commits_.upper_bound(committed_));
  if (by_sync && pending_commits_.contains(next())) {
    // Catching up: no reason to pace blocks that are already final elsewhere.
    start_next_height(now_ms, out);
    return;
  }
  waiting_ = true;
  out.push_back(Schedule{TimeoutIn{next(), Round{0}, TimeoutKind::kCommit},
                         now_ms + config_.timeouts.commit_ms});
}

void Replica::start_next_height(std::uint64_t now_ms, std::vector<Action>& out) {
  waiting_ = false;
  std::vector<EngineAction> engine_out;
  engine_.start(next(), std::nullopt, now_ms, engine_out);
  run(engine_out, now_ms, out);

  // Replay what arrived early for this height; a buffered commit may finish it at once.
  std::vector<std::pair<GatewayId, Message>> early;
  early.swap(next_height_);
  for (auto& [from, message] : early) {
    if (engine_.decided()) break;
    const Height h = std::holds_alternative<ledger::Proposal>(message)
                         ? std::get<ledger::Proposal>(message).height
                         : std::get<ledger::Vote>(message).height;
    on_consensus(from, message, h, now_ms, out);
  }
  if (waiting_ || engine_.decided()) return;
  auto pending = pending_commits_.find(next());
  if (pending != pending_commits_.end()) {
    CommitMessage commit = std::move(pending->second);
    pending_commits_.erase(pending);
    on_commit(commit, now_ms, out);
  }
}

ledger::Block Replica::make_block(Height height, GatewayId proposer, std::uint64_t now_ms) {
  ledger::BlockHeader header;
  header.height = height;
  header.previous_hash = last_hash_;
  header.state_hash = state_hash_;
  header.proposer = proposer;
  header.timestamp_ms = std::max(now_ms, last_timestamp_ms_ + 1);
  return ledger::make_block(header, mempool_.reap(config_.block_transactions_max));
}

bool Replica::valid(const ledger::Block& block) {
  const ledger::BlockHeader& h = block.header;
  [[maybe_unused]] const BrokenRules& broken = config_.faults;
  if (h.height != next() && !KMCHAIN_FAULT(broken(Rule::kSkipHeightCheck))) return false;
  if (h.previous_hash != last_hash_ && !KMCHAIN_FAULT(broken(Rule::kSkipPreviousHash)))
    return false;
  if (h.state_hash != state_hash_ && !KMCHAIN_FAULT(broken(Rule::kSkipStateHash))) return false;
  if (genesis_.find(h.proposer) == nullptr && !KMCHAIN_FAULT(broken(Rule::kSkipProposerKnown)))
    return false;
  if (h.timestamp_ms <= last_timestamp_ms_ && !KMCHAIN_FAULT(broken(Rule::kSkipTimestampOrder)))
    return false;
  if (block.transactions.size() > config_.block_transactions_max &&
      !KMCHAIN_FAULT(broken(Rule::kSkipTransactionLimit)))
    return false;
  if (block.transactions.empty() || KMCHAIN_FAULT(broken(Rule::kSkipContract))) return true;
  // Every transaction passes the contract on the state its predecessors leave (L22 valid(v)).
  ledger::LedgerState scratch = state_;
  for (const ledger::SignedTransaction& tx : block.transactions) {
    // The signatures of what our mempool holds were checked when it entered.
    const bool ok = mempool_.contains(tx) ? ledger::check_rules(scratch, tx).ok()
                                          : ledger::check(scratch, tx).ok();
    if (!ok) return false;
    (void)ledger::apply(scratch, tx);
  }
  return true;
}

// The block-time rule (docs/consensus.md, "Block time"): a fresh proposal's time is at most the
// allowed drift ahead of the local clock. A polka holds at least one correct validator that
// checked this, so a final block's time is at most the drift ahead of some correct clock, and
// the chain's time cannot run ahead of correct clocks.
bool Replica::timely(const ledger::Block& block, std::uint64_t now_ms) {
  const std::uint64_t local = chain_now(now_ms);
  const std::uint64_t t = block.header.timestamp_ms;
  if (t <= local + config_.clock_drift_max_ms ||
      KMCHAIN_FAULT(config_.faults(Rule::kSkipTimestampDrift)))
    return true;
  ++stats_.untimely_proposals;
  note_clock(ClockNote{ClockNote::Kind::kProposalAhead, block.header.height, block.header.proposer,
                       t - local},
             now_ms);
  return false;
}

// A final block more than twice the drift ahead of the local clock proves the clock behind
// (some correct validator found the block timely on its own clock). Such a gateway judges fresh
// proposals by the chain's time instead, so that it still prevotes; correct clocks are never
// that far behind a final block, so they keep their own.
std::uint64_t Replica::chain_now(std::uint64_t now_ms) const {
  return last_timestamp_ms_ > now_ms + 2 * config_.clock_drift_max_ms ? last_timestamp_ms_ : now_ms;
}

void Replica::note_clock(ClockNote note, std::uint64_t now_ms) {
  auto it = last_clock_note_ms_.find(note.kind);
  if (it != last_clock_note_ms_.end() && now_ms < it->second + kClockNoteIntervalMs) return;
  last_clock_note_ms_[note.kind] = now_ms;
  clock_notes_.push_back(note);
}

// What a final block says of the local clock. A block decided here in its first round was
// proposed moments ago, on the proposer's clock: far behind ours, ours is probably ahead, and
// its proposals are refused by the others (they prevote nil; its rounds are lost).
void Replica::check_clock(const ledger::Block& block, Round round, bool by_sync,
                          std::uint64_t now_ms) {
  const std::uint64_t t = block.header.timestamp_ms;
  const std::uint64_t drift = config_.clock_drift_max_ms;
  if (t > now_ms + drift) {
    ++stats_.blocks_ahead_of_clock;
    if (t > now_ms + 2 * drift)
      note_clock(ClockNote{ClockNote::Kind::kClockBehind, block.header.height,
                           block.header.proposer, t - now_ms},
                 now_ms);
  } else if (!by_sync && round.value() == 0 && block.header.proposer != self_ &&
             now_ms > t + 2 * drift) {
    note_clock(ClockNote{ClockNote::Kind::kClockAhead, block.header.height, block.header.proposer,
                         now_ms - t},
               now_ms);
  }
}

void Replica::flush_clock_notes(std::vector<Action>& out) {
  for (ClockNote& note : clock_notes_)
    out.push_back(note);
  clock_notes_.clear();
}

const char* to_string(ClockNote::Kind kind) {
  switch (kind) {
    case ClockNote::Kind::kProposalAhead:
      return "proposal_ahead_of_clock";
    case ClockNote::Kind::kClockBehind:
      return "clock_behind_chain";
    case ClockNote::Kind::kClockAhead:
      return "clock_ahead_of_chain";
  }
  return "clock";
}

void Replica::collect_evidence() {
  auto keep = [this](Evidence e) {
    ++stats_.equivocations;
    if (evidence_.size() == kEvidenceKept) evidence_.pop_front();
    evidence_.push_back(std::move(e));
  };
  const auto& votes = engine_.votes().evidence();
  for (; vote_evidence_seen_ < votes.size(); ++vote_evidence_seen_) {
    const Equivocation& e = votes[vote_evidence_seen_];
    keep(Evidence{Evidence::Kind::kVote, e.first.height, e.first.round, e.first.validator,
                  ledger::encode(e.first), ledger::encode(e.second)});
  }
  const auto& proposals = engine_.proposal_evidence();
  for (; proposal_evidence_seen_ < proposals.size(); ++proposal_evidence_seen_) {
    const ProposalEquivocation& e = proposals[proposal_evidence_seen_];
    keep(Evidence{Evidence::Kind::kProposal, e.first.height, e.first.round, e.first.proposer,
                  ledger::encode(e.first), ledger::encode(e.second)});
  }
}

}  // namespace kmchain::consensus
