#include "sim/byzantine.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/check.h"
#include "ledger/certificate.h"
#include "ledger/contract.h"
#include "sim/sim_consortium.h"

namespace kmchain::sim {

using consensus::Message;

std::string describe_behaviours(std::uint32_t b) {
  static const char* names[kBehaviourCount] = {
      "equivocate",  "invalid-votes", "bad-signatures", "stale-future",       "silence",
      "flood",       "garbage",       "split-lock",     "invalid-proposals",  "out-of-turn",
      "forged-sync", "fake-polka",    "round-ahead",    "forged-transactions"};
  std::string out;
  for (int i = 0; i < kBehaviourCount; ++i) {
    if ((b & (1u << i)) == 0) continue;
    if (!out.empty()) out += "+";
    out += names[i];
  }
  return out.empty() ? "none" : out;
}

ByzantineGateways::ByzantineGateways(const ledger::Genesis& genesis, std::uint64_t seed,
                                     crypto::Rng& rng, ByzantineHost& host, bool trace)
    : chain_id_(genesis.chain_id()),
      genesis_state_hash_(ledger::LedgerState(genesis).state_hash()),
      seed_(seed),
      gateways_(genesis.validators.size()),
      rng_(rng),
      host_(host),
      trace_(trace),
      schedule_(genesis),
      total_power_(genesis.total_power()),
      forge_rng_(seed ^ 0x666f72676564ULL) {
  for (const ledger::Validator& v : genesis.validators)
    powers_.push_back(v.power);
}

void ByzantineGateways::draw(std::size_t count, bool force_equivocation, bool force_split_lock,
                             std::uint32_t force_behaviours) {
  // Random indexes; the liars are the first in that order that keep their power below a third
  // (with unequal powers some cannot lie without breaking what the protocol tolerates). With
  // equal powers the first order always serves.
  std::vector<std::size_t> liars;
  for (int attempt = 0; attempt < 64 && liars.size() < count; ++attempt) {
    std::vector<std::size_t> order(gateways_);
    for (std::size_t i = 0; i < order.size(); ++i)
      order[i] = i;
    for (std::size_t i = order.size(); i > 1; --i)
      std::swap(order[i - 1], order[rng_.uniform(i)]);
    liars.clear();
    std::uint64_t power = 0;
    for (std::size_t k = 0; k < order.size() && liars.size() < count; ++k) {
      if (3 * (power + powers_[order[k]]) >= total_power_) continue;
      power += powers_[order[k]];
      liars.push_back(order[k]);
    }
  }
  if (liars.size() < count) {
    // Few sets of `count` gateways are light enough: the lightest are one (the caller checked).
    liars.resize(gateways_);
    for (std::size_t i = 0; i < gateways_; ++i)
      liars[i] = i;
    std::stable_sort(liars.begin(), liars.end(),
                     [&](std::size_t a, std::size_t b) { return powers_[a] < powers_[b]; });
    liars.resize(count);
  }
  for (std::size_t liar : liars) {
    auto b = static_cast<std::uint32_t>(rng_.uniform(kMainStreamBehaviours + 1));
    if (forge_rng_.uniform(2) == 0) b |= kForgedTransactions;
    if (force_equivocation) b = (b | kEquivocate) & ~kSilence;
    if (force_split_lock) b = (b | kSplitLock) & ~kSilence;
    if (force_behaviours != 0) b = (b | force_behaviours) & ~kSilence;
    behaviours_[liar] = b;
  }
}

std::uint32_t ByzantineGateways::behaviours(std::size_t gateway) const {
  auto it = behaviours_.find(gateway);
  return it == behaviours_.end() ? 0 : it->second;
}

std::string ByzantineGateways::describe() const {
  std::string out;
  for (const auto& [i, b] : behaviours_)
    out += fmt::format("; gateway {} byzantine: {}", i, describe_behaviours(b));
  return out;
}

crypto::Ed25519KeyPair& ByzantineGateways::key_of(std::size_t i) {
  auto it = keys_.find(i);
  if (it == keys_.end()) it = keys_.emplace(i, sim_gateway_key(seed_, i)).first;
  return it->second;
}

// A join into `set` under a node id of gateway i's range marked by `tag` (so made-up nodes
// never collide with the workload's), with a random commitment and refresh key.
ledger::Transaction ByzantineGateways::made_up_join(std::size_t i, SetId set, std::uint32_t tag) {
  ledger::Transaction tx{};
  tx.op = ledger::Operation::kJoin;
  tx.node = NodeId{(static_cast<std::uint32_t>(i) << 24) | tag |
                   static_cast<std::uint32_t>(rng_.uniform(0xFFFFF))};
  tx.set = set;
  rng_.fill(tx.commitment);
  tx.refresh_key = rng_.key128();
  return tx;
}

ledger::SignedTransaction ByzantineGateways::signed_by(std::size_t i,
                                                       const ledger::Transaction& tx) {
  return ledger::sign_transaction(key_of(i), chain_id_, GatewayId{static_cast<std::uint16_t>(i)},
                                  tx);
}

std::optional<ledger::SignedTransaction> ByzantineGateways::forged_transaction(std::size_t i) {
  const consensus::Replica* replica = host_.replica_of(i);
  if (replica == nullptr || gateways_ < 2) return std::nullopt;
  const ledger::LedgerState& state = replica->mempool().check_state();
  const auto self = GatewayId{static_cast<std::uint16_t>(i)};
  // Another gateway: the victim.
  auto victim = GatewayId{static_cast<std::uint16_t>(forge_rng_.uniform(gateways_ - 1))};
  if (victim.value() >= i) victim = GatewayId{static_cast<std::uint16_t>(victim.value() + 1)};
  // A member of the victim's, if it has one.
  std::optional<NodeId> member;
  for (const auto& [node, record] : state.table().members()) {
    if (state.home_of(node) == victim && (!member || forge_rng_.uniform(4) == 0)) member = node;
  }
  ledger::Transaction tx{};
  tx.refresh_key = forge_rng_.key128();
  switch (forge_rng_.uniform(7)) {
    case 0:
    case 1: {
      // A join into the victim's range and sets: as itself (not its range), or in the victim's
      // name under its own key (a forged signature).
      auto placement = state.table().assign(victim);
      if (!placement) return std::nullopt;
      tx.op = ledger::Operation::kJoin;
      tx.node = NodeId{(static_cast<std::uint32_t>(victim.value()) << 24) | 0xD00000u |
                       static_cast<std::uint32_t>(forge_rng_.uniform(0xFFFFF))};
      tx.set = placement->set;
      forge_rng_.fill(tx.commitment);
      const GatewayId as = forge_rng_.uniform(2) == 0 ? self : victim;
      return ledger::sign_transaction(key_of(i), chain_id_, as, tx);
    }
    case 2:
    case 3: {
      // The victim's member removed: a leave without its device's consent (as itself or in the
      // victim's name), or an eviction request, which the ledger records and which alone must
      // never evict.
      if (!member) return std::nullopt;
      tx.node = *member;
      tx.set = state.table().find_member(*member)->set;
      tx.commitment = *state.commitment_of(*member);
      if (forge_rng_.uniform(2) == 0) {
        tx.op = ledger::Operation::kEvict;
        return ledger::sign_transaction(key_of(i), chain_id_, self, tx);
      }
      tx.op = ledger::Operation::kLeave;
      crypto::Ed25519Signature consent{};
      forge_rng_.fill(consent);
      const GatewayId as = forge_rng_.uniform(2) == 0 ? self : victim;
      return ledger::sign_transaction(key_of(i), chain_id_, as, tx, consent);
    }
    case 4: {
      // The victim's member taken over: a move to itself, with a consent that is not the
      // device's (made up, or signed with its own gateway key over the right bytes).
      if (!member) return std::nullopt;
      auto placement = state.table().assign_move(*member, self);
      if (!placement) return std::nullopt;
      tx.op = ledger::Operation::kMove;
      tx.node = *member;
      tx.set = placement->set;
      tx.commitment = *state.commitment_of(*member);
      crypto::Ed25519Signature consent{};
      if (forge_rng_.uniform(2) == 0) {
        forge_rng_.fill(consent);
      } else {
        consent = key_of(i).sign(ledger::move_consent_bytes(
            chain_id_, *member, self, state.table().find_member(*member)->placed_at));
      }
      return ledger::sign_transaction(key_of(i), chain_id_, self, tx, consent);
    }
    default: {
      // A change already final, replayed as it was signed.
      const Height top = replica->committed_height();
      for (int attempt = 0; attempt < 4 && top.value() > 0; ++attempt) {
        auto stored = host_.stored_block(i, Height{1 + forge_rng_.uniform(top.value())});
        if (stored && !stored->block.transactions.empty()) {
          const auto& txs = stored->block.transactions;
          return txs[forge_rng_.uniform(txs.size())];
        }
      }
      return std::nullopt;
    }
  }
}

ledger::Hash256 ByzantineGateways::random_hash() {
  ledger::Hash256 h{};
  rng_.fill(h);
  return h;
}

Bytes ByzantineGateways::resign_vote(std::size_t i, ledger::Vote v) {
  return consensus::encode(Message{
      ledger::sign_vote(key_of(i), chain_id_, v.type, v.height, v.round, v.block, v.validator)});
}

void ByzantineGateways::note_sent(const Message& m) {
  if (const auto* p = std::get_if<ledger::Proposal>(&m)) {
    if (split_ && p->height == split_->height && p->round.value() == split_->round.value() + 1)
      split_->next_value = ledger::block_hash(p->block);
  }
  if (split_ && host_.faulty_phase()) split_lock_later_round(m);
}

// Signed by the attacker itself, not by its replica (which decided v with the lockers and moved
// on): to every correct gateway but the decider.
void ByzantineGateways::back_value(Round round, const std::optional<ledger::Hash256>& value) {
  const std::size_t a = split_->attacker;
  for (ledger::VoteType type : {ledger::VoteType::kPrevote, ledger::VoteType::kPrecommit}) {
    const Bytes vote = consensus::encode(
        Message{ledger::sign_vote(key_of(a), chain_id_, type, split_->height, round, value,
                                  GatewayId{static_cast<std::uint16_t>(a)})});
    for (std::size_t t = 0; t < gateways_; ++t) {
      if (t != a && t != split_->decider && !is_byzantine(t)) host_.transmit(a, t, vote);
    }
  }
}

void ByzantineGateways::split_lock_later_round(const Message& m) {
  Height height;
  Round round;
  if (const auto* p = std::get_if<ledger::Proposal>(&m)) {
    height = p->height;
    round = p->round;
    // A fresh block (not v) proposed in a later round: the attacker backs it.
    const ledger::Hash256 id = ledger::block_hash(p->block);
    if (height == split_->height && round > split_->round && id != split_->value &&
        split_->backed.insert(round.value()).second)
      back_value(round, id);
  } else if (const auto* v = std::get_if<ledger::Vote>(&m)) {
    height = v->height;
    round = v->round;
    // A later round with nothing fresh to back (no proposal, or v again): the attacker votes
    // nil, so that the rounds go on without the decider, who is gone, until its own turn.
    if (height == split_->height && round.value() > split_->round.value() + 1 &&
        v->type == ledger::VoteType::kPrevote && !split_->backed.contains(round.value()) &&
        split_->waved_on.insert(round.value()).second)
      back_value(round, std::nullopt);
  } else {
    return;
  }
  const std::size_t a = split_->attacker;
  if (height != split_->height || (behaviours(a) & kFakePolka) == 0) return;
  // Its turn is this round or the next: its proposal arrives before the others start it.
  if (schedule_.proposer(height, round).value() != a) round = Round{round.value() + 1};
  if (round.value() < split_->round.value() + 2 || schedule_.proposer(height, round).value() != a ||
      !split_->own_turns.insert(round.value()).second)
    return;
  // Its own turn while the lockers are locked on v: a fresh block that claims the polka of the
  // round before, which never happened. Only the check of that polka (L28) keeps the lockers
  // from unlocking for it.
  auto fresh = fabricated_block(a, height);
  if (!fresh) return;
  const ledger::Hash256 id = ledger::block_hash(*fresh);
  const Bytes proposal = consensus::encode(
      Message{ledger::sign_proposal(key_of(a), chain_id_, height, round, Round{round.value() - 1},
                                    std::move(*fresh), GatewayId{static_cast<std::uint16_t>(a)})});
  for (std::size_t t = 0; t < gateways_; ++t) {
    if (t != a && t != split_->decider && !is_byzantine(t)) host_.transmit(a, t, proposal);
  }
  split_->backed.insert(round.value());
  back_value(round, id);
}

bool ByzantineGateways::is_split_lock_locker_precommit(std::size_t gateway,
                                                       const Message& m) const {
  const auto* v = std::get_if<ledger::Vote>(&m);
  return split_ && v && split_->lockers.contains(gateway) && gateway != split_->decider &&
         v->validator.value() == gateway && v->type == ledger::VoteType::kPrecommit &&
         v->height == split_->height && v->round == split_->round && v->block == split_->value;
}

bool ByzantineGateways::is_split_lock_decider(std::size_t gateway, Height height,
                                              bool by_sync) const {
  return split_ && split_->decider == gateway && split_->height == height && !by_sync;
}

// Starts the attack with proposal `p` of attacker `i` if it can work here: the next round's
// proposer is correct and enough correct gateways are left to lock.
bool ByzantineGateways::start_split_lock(std::size_t i, const ledger::Proposal& p) {
  if (!host_.faulty_phase() || p.valid_round || (split_ && split_->height >= p.height))
    return false;
  const std::size_t next = schedule_.proposer(p.height, Round{p.round.value() + 1}).value();
  if (next == i || is_byzantine(next)) return false;
  std::vector<std::size_t> candidates;
  for (std::size_t o = 0; o < gateways_; ++o) {
    if (o != next && !is_byzantine(o)) candidates.push_back(o);
  }
  for (std::size_t k = candidates.size(); k > 1; --k)
    std::swap(candidates[k - 1], candidates[rng_.uniform(k)]);
  // Lockers: correct gateways in that order until, with the attacker's power, they hold a
  // quorum (more than two thirds of the power).
  std::uint64_t power = powers_[i];
  std::size_t locker_count = 0;
  while (locker_count < candidates.size() && !ledger::has_quorum(power, total_power_))
    power += powers_[candidates[locker_count++]];
  if (!ledger::has_quorum(power, total_power_) || locker_count == 0) return false;
  SplitLock attack;
  attack.attacker = i;
  attack.height = p.height;
  attack.round = p.round;
  attack.value = ledger::block_hash(p.block);
  attack.lockers.insert(candidates.begin(),
                        candidates.begin() + static_cast<std::ptrdiff_t>(locker_count));
  attack.decider = candidates[0];
  ledger::Block other = p.block;
  other.transactions.clear();
  other.header.timestamp_ms += 1;
  other = ledger::make_block(other.header, other.transactions);
  attack.other_value = ledger::block_hash(other);
  attack.proposal = consensus::encode(Message{p});
  attack.other_proposal = consensus::encode(Message{ledger::sign_proposal(
      key_of(i), chain_id_, p.height, p.round, std::nullopt, std::move(other), p.proposer)});
  if (trace_) {
    std::string lockers;
    for (std::size_t l : attack.lockers)
      lockers += fmt::format(" g{}", l);
    fmt::print(stderr,
               "{:>6} split-lock by g{} at h{} r{}: lockers{}, decider g{}, next proposer g{}\n",
               host_.now_ms(), i, p.height.value(), p.round.value(), lockers, attack.decider, next);
  }
  split_ = std::move(attack);
  ++split_lock_attacks_;
  return true;
}

// Sends what the attacker `i` sends at the attacked height's rounds r and r+1; false for
// anything else (the attacker's other behaviours apply there).
bool ByzantineGateways::split_lock_send(std::size_t i, const std::vector<std::size_t>& to,
                                        const Message& m) {
  if (const auto* p = std::get_if<ledger::Proposal>(&m); p && p->proposer.value() == i) {
    if (!start_split_lock(i, *p) && !(split_ && split_->attacker == i &&
                                      split_->height == p->height && split_->round == p->round))
      return false;
    for (std::size_t t : to)
      host_.transmit(i, t, split_->lockers.contains(t) ? split_->proposal : split_->other_proposal);
    return true;
  }
  if (const auto* c = std::get_if<consensus::CommitMessage>(&m)) {
    // Its own replica decided v too; it keeps quiet about it, as the decider must.
    return split_ && split_->attacker == i && c->block.header.height == split_->height;
  }
  const auto* v = std::get_if<ledger::Vote>(&m);
  if (!v || !split_ || split_->attacker != i || v->height != split_->height ||
      v->validator.value() != i) {
    return false;
  }
  if (v->round == split_->round) {
    for (std::size_t t : to) {
      ledger::Vote vote = *v;
      if (v->type == ledger::VoteType::kPrevote) {
        vote.block = split_->lockers.contains(t) ? split_->value : split_->other_value;
      } else {
        vote.block = t == split_->decider ? std::optional(split_->value) : std::nullopt;
      }
      host_.transmit(i, t, resign_vote(i, vote));
    }
    return true;
  }
  if (v->round.value() == split_->round.value() + 1 && split_->next_value) {
    ledger::Vote vote = *v;
    vote.block = *split_->next_value;
    const Bytes bytes = resign_vote(i, vote);
    for (std::size_t t : to)
      host_.transmit(i, t, bytes);
    return true;
  }
  if (v->round.value() > split_->round.value() + 1) {
    // Later rounds: never help v to a quorum (nil), so that the height is still open when the
    // attacker's turn comes again.
    ledger::Vote nil = *v;
    nil.block.reset();
    const Bytes bytes = resign_vote(i, nil);
    for (std::size_t t : to)
      host_.transmit(i, t, bytes);
    return true;
  }
  return false;
}

bool ByzantineGateways::network_withholds(std::size_t from, std::size_t to,
                                          const Bytes& bytes) const {
  if (!split_ || !host_.faulty_phase() || is_byzantine(to)) return false;
  const bool from_decider = from == split_->decider;
  const bool locker_to_other = split_->lockers.contains(from) && !split_->lockers.contains(to);
  if (!from_decider && !locker_to_other) return false;
  auto decoded = consensus::decode_message(bytes);
  if (!decoded) return false;
  if (const auto* c = std::get_if<consensus::CommitMessage>(&*decoded))
    return from_decider && c->block.header.height == split_->height;
  if (!locker_to_other) return false;
  // What the lockers relay of the attacker's round: its prevote for v completes their polka.
  if (const auto* v = std::get_if<ledger::Vote>(&*decoded)) {
    return v->height == split_->height && v->round == split_->round &&
           v->validator.value() == split_->attacker && v->type == ledger::VoteType::kPrevote;
  }
  if (const auto* p = std::get_if<ledger::Proposal>(&*decoded))
    return p->height == split_->height && p->round == split_->round;
  return false;
}

void ByzantineGateways::send_all(std::size_t i, const std::vector<std::size_t>& to,
                                 const Bytes& bytes) {
  for (std::size_t t : to)
    host_.transmit(i, t, bytes);
}

std::optional<ledger::Block> ByzantineGateways::fabricated_block(std::size_t i, Height height) {
  ledger::BlockHeader h;
  h.height = height;
  std::uint64_t previous_ms = kSimGenesisTimeMs;
  if (height.value() == 1) {
    h.state_hash = genesis_state_hash_;
  } else {
    // From gateway i's own store: the block before and the state after it.
    auto previous = host_.stored_block(i, Height{height.value() - 1});
    if (!previous) return std::nullopt;
    h.previous_hash = ledger::block_hash(previous->block);
    h.state_hash = previous->state_hash_after;
    previous_ms = previous->block.header.timestamp_ms;
  }
  h.proposer = GatewayId{static_cast<std::uint16_t>(i)};
  h.timestamp_ms = std::max(previous_ms, kSimGenesisTimeMs + host_.now_ms()) + 1 + rng_.uniform(5);
  return ledger::make_block(h, {});
}

Bytes ByzantineGateways::invalid_proposal(std::size_t i, const ledger::Proposal& p) {
  ledger::BlockHeader h = p.block.header;
  std::vector<ledger::SignedTransaction> txs = p.block.transactions;
  switch (rng_.uniform(8)) {
    case 0:
      h.previous_hash = random_hash();
      break;
    case 1:
      h.state_hash = random_hash();
      break;
    case 2: {
      // A valid join twice: the contract refuses the second (its node is taken). (A block of
      // another height cannot be proposed at all: decode_proposal binds the two heights.)
      const consensus::Replica* replica = host_.replica_of(i);
      if (replica == nullptr) break;
      auto placement = replica->state().table().assign(GatewayId{static_cast<std::uint16_t>(i)});
      if (!placement) break;
      const ledger::SignedTransaction tx = signed_by(i, made_up_join(i, placement->set, 0xE00000u));
      txs.assign({tx, tx});
      break;
    }
    case 3:
      h.proposer = GatewayId{static_cast<std::uint16_t>(gateways_ + 7)};
      break;
    case 4:
      // No later than the previous block (the genesis time at height 1).
      if (auto previous = host_.stored_block(i, Height{h.height.value() - 1}))
        h.timestamp_ms = previous->block.header.timestamp_ms;
      else
        h.timestamp_ms = kSimGenesisTimeMs;
      break;
    case 5:
      h.timestamp_ms += 86'400'000;  // a day ahead of every clock, even one hours off
      break;
    case 6: {
      // One more join than a block may carry, each valid after the ones before it.
      const consensus::Replica* replica = host_.replica_of(i);
      if (replica == nullptr) break;
      ledger::LedgerState scratch = replica->state();
      txs.clear();
      const auto origin = GatewayId{static_cast<std::uint16_t>(i)};
      for (std::size_t k = 0; k <= kSimBlockTransactionsMax; ++k) {
        auto placement = scratch.table().assign(origin);
        if (!placement) break;
        const ledger::SignedTransaction tx =
            signed_by(i, made_up_join(i, placement->set, 0xF00000u));
        if (!ledger::check(scratch, tx)) continue;
        (void)ledger::apply(scratch, tx);
        txs.push_back(tx);
      }
      break;
    }
    default: {
      // A leave of a node that is not a member: the contract refuses it.
      ledger::Transaction tx{};
      tx.op = ledger::Operation::kLeave;
      tx.node = NodeId{static_cast<std::uint32_t>(rng_.u64())};
      tx.set = SetId{1};
      rng_.fill(tx.commitment);
      tx.refresh_key = rng_.key128();
      txs.push_back(signed_by(i, tx));
      break;
    }
  }
  return consensus::encode(
      Message{ledger::sign_proposal(key_of(i), chain_id_, p.height, p.round, p.valid_round,
                                    ledger::make_block(h, txs), p.proposer)});
}

// Proposals for the round of `v`: one signed by this gateway as itself when it is not that
// round's proposer, one in the proposer's name but signed by this gateway.
void ByzantineGateways::send_out_of_turn(std::size_t i, const std::vector<std::size_t>& to,
                                         const ledger::Vote& v) {
  auto block = fabricated_block(i, v.height);
  if (!block) return;
  const auto self = GatewayId{static_cast<std::uint16_t>(i)};
  const GatewayId proposer = schedule_.proposer(v.height, v.round);
  if (proposer == self) return;
  send_all(i, to,
           consensus::encode(Message{ledger::sign_proposal(key_of(i), chain_id_, v.height, v.round,
                                                           std::nullopt, *block, self)}));
  ledger::Proposal named =
      ledger::sign_proposal(key_of(i), chain_id_, v.height, v.round, std::nullopt, *block, self);
  named.proposer = proposer;  // the signature stays this gateway's
  send_all(i, to, consensus::encode(Message{named}));
}

// A block at `height` that no quorum decided, with a certificate that is forged (every
// validator's precommit, signatures made up), short (this gateway's own real precommit alone)
// or borrowed (the real certificate of the block before).
void ByzantineGateways::send_forged_commit(std::size_t i, const std::vector<std::size_t>& to,
                                           Height height) {
  auto block = fabricated_block(i, height);
  if (!block) return;
  const ledger::Hash256 id = ledger::block_hash(*block);
  ledger::CommitCertificate c{height, Round{0}, id, {}};
  switch (rng_.uniform(3)) {
    case 0:
      for (std::size_t g = 0; g < gateways_; ++g) {
        crypto::Ed25519Signature sig{};
        rng_.fill(sig);
        if (g == i) {
          sig = ledger::sign_vote(key_of(i), chain_id_, ledger::VoteType::kPrecommit, height,
                                  Round{0}, id, GatewayId{static_cast<std::uint16_t>(i)})
                    .signature;
        }
        c.precommits.emplace_back(GatewayId{static_cast<std::uint16_t>(g)}, sig);
      }
      break;
    case 1:
      c.precommits.emplace_back(
          GatewayId{static_cast<std::uint16_t>(i)},
          ledger::sign_vote(key_of(i), chain_id_, ledger::VoteType::kPrecommit, height, Round{0},
                            id, GatewayId{static_cast<std::uint16_t>(i)})
              .signature);
      break;
    default: {
      if (height.value() < 2) return;
      auto previous = host_.stored_block(i, Height{height.value() - 1});
      if (!previous) return;
      c = previous->certificate;
      break;
    }
  }
  const Bytes bytes = consensus::encode(Message{consensus::CommitMessage{*block, c}});
  for (std::size_t t : to) {
    if (rng_.uniform(2) == 0) host_.transmit(i, t, bytes);
  }
}

void ByzantineGateways::send(std::size_t i, const std::vector<std::size_t>& to,
                             const Bytes& bytes) {
  const std::uint32_t b = behaviours(i);
  if ((b & kSilence) && silent_now_[i]) return;
  auto decoded = consensus::decode_message(bytes);
  KMCHAIN_CHECK(decoded.ok());
  const Message& m = *decoded;
  if ((b & kSplitLock) && split_lock_send(i, to, m)) return;
  const auto self = GatewayId{static_cast<std::uint16_t>(i)};
  if (const auto* p = std::get_if<ledger::Proposal>(&m); p && p->proposer == self) {
    if ((b & kForgedTransactions) && forge_rng_.uniform(3) == 0) {
      // Its own block with a change it may not make among the others.
      if (auto forged = forged_transaction(i)) {
        ++forged_transactions_;
        std::vector<ledger::SignedTransaction> txs = p->block.transactions;
        txs.insert(txs.begin() + static_cast<std::ptrdiff_t>(forge_rng_.uniform(txs.size() + 1)),
                   *forged);
        send_all(i, to,
                 consensus::encode(Message{ledger::sign_proposal(
                     key_of(i), chain_id_, p->height, p->round, p->valid_round,
                     ledger::make_block(p->block.header, txs), p->proposer)}));
        return;
      }
    }
    if ((b & kInvalidProposals) && rng_.uniform(2) == 0) {
      send_all(i, to, invalid_proposal(i, *p));
      return;
    }
    if ((b & kFakePolka) && p->round.value() >= 1 && !p->valid_round && rng_.uniform(2) == 0) {
      // A fresh block claiming the polka of the round before, which never happened.
      send_all(i, to,
               consensus::encode(
                   Message{ledger::sign_proposal(key_of(i), chain_id_, p->height, p->round,
                                                 Round{p->round.value() - 1}, p->block, self)}));
      return;
    }
  }
  if (const auto* v = std::get_if<ledger::Vote>(&m); v && v->validator == self) {
    if (b & kRoundAhead) {
      // One validator two rounds ahead is not the third of the power that lets correct
      // gateways skip there (L55): they must not leave a round that may still decide for it.
      ledger::Vote ahead = *v;
      ahead.type = ledger::VoteType::kPrevote;
      ahead.round = Round{v->round.value() + 2};
      ahead.block.reset();
      send_all(i, to, resign_vote(i, ahead));
    }
    if ((b & kOutOfTurn) && rng_.uniform(3) == 0) send_out_of_turn(i, to, *v);
    if ((b & kForgedTransactions) && forge_rng_.uniform(3) == 0) {
      if (auto forged = forged_transaction(i)) {
        ++forged_transactions_;
        send_all(i, to, consensus::encode(Message{*forged}));
      }
    }
    if ((b & kForgedSync) && rng_.uniform(4) == 0) send_forged_commit(i, to, v->height);
  }
  for (std::size_t t : to) {
    Bytes out = bytes;
    if (b & kEquivocate) {
      const auto* vote = std::get_if<ledger::Vote>(&m);
      if (vote && vote->type == ledger::VoteType::kPrecommit && vote->block &&
          t != to[vote->height.value() % to.size()]) {
        // A precommit for a block reaches one gateway only, the rest see nil: that one may
        // decide while the others move on to the next round still locked - where a rule
        // that ignores the lock lets the next proposal fork the chain.
        ledger::Vote nil = *vote;
        nil.block.reset();
        out = resign_vote(i, nil);
      } else if (const auto* v = vote; v && rng_.uniform(2) == 0) {
        // The other vote backs the other block this gateway proposed, if any: a coherent
        // attack, so that a broken lock or quorum rule can be driven into a fork.
        ledger::Vote other = *v;
        auto alt = alt_blocks_.find({v->height.value(), v->round.value()});
        if (alt != alt_blocks_.end() && v->block != alt->second) {
          other.block = alt->second;
        } else {
          other.block = v->block ? std::optional<ledger::Hash256>{} : random_hash();
        }
        out = resign_vote(i, other);
      } else if (const auto* p = std::get_if<ledger::Proposal>(&m); p && t % 2 == 1) {
        // Another, fresh block for the same round (valid round -1, so a correct gateway
        // judges it by its lock alone): drop the transactions, move the time.
        ledger::Block alt = p->block;
        alt.transactions.clear();
        alt.header.timestamp_ms += 1 + p->round.value();
        alt = ledger::make_block(alt.header, alt.transactions);
        alt_blocks_[{p->height.value(), p->round.value()}] = ledger::block_hash(alt);
        out = consensus::encode(Message{ledger::sign_proposal(key_of(i), chain_id_, p->height,
                                                              p->round, std::nullopt, alt, self)});
      }
    }
    host_.transmit(i, t, out);
    if (b & kInvalidVotes) {
      if (const auto* v = std::get_if<ledger::Vote>(&m)) {
        ledger::Vote bogus = *v;
        bogus.block = random_hash();
        bogus.type =
            rng_.uniform(2) == 0 ? ledger::VoteType::kPrevote : ledger::VoteType::kPrecommit;
        host_.transmit(i, t, resign_vote(i, bogus));
      } else if (const auto* p = std::get_if<ledger::Proposal>(&m)) {
        ledger::Block bad = p->block;
        bad.header.state_hash = random_hash();
        host_.transmit(i, t,
                       consensus::encode(Message{ledger::sign_proposal(
                           key_of(i), chain_id_, p->height, p->round, p->valid_round,
                           ledger::make_block(bad.header, bad.transactions), self)}));
      }
    }
    if ((b & kBadSignatures) && rng_.uniform(3) == 0) {
      Bytes forged = bytes;
      forged[forged.size() - 1 - rng_.uniform(std::min<std::size_t>(forged.size() - 1, 60))] ^=
          0x40;
      host_.transmit(i, t, forged);
      if (const auto* v = std::get_if<ledger::Vote>(&m)) {
        ledger::Vote claim = *v;  // signed by us, claiming to be another gateway
        claim.validator = GatewayId{static_cast<std::uint16_t>(rng_.uniform(gateways_))};
        claim.signature = ledger::sign_vote(key_of(i), chain_id_, claim.type, claim.height,
                                            claim.round, claim.block, claim.validator)
                              .signature;
        host_.transmit(i, t, consensus::encode(Message{claim}));
      }
    }
    if ((b & kStaleFuture) && rng_.uniform(3) == 0) {
      if (const auto* v = std::get_if<ledger::Vote>(&m)) {
        ledger::Vote shifted = *v;
        const std::uint64_t dh = rng_.uniform(3);
        shifted.height =
            Height{rng_.uniform(2) == 0 && v->height.value() > dh ? v->height.value() - dh
                                                                  : v->height.value() + dh + 1};
        shifted.round = Round{static_cast<std::uint32_t>(v->round.value() + rng_.uniform(50))};
        host_.transmit(i, t, resign_vote(i, shifted));
      }
    }
    if ((b & kGarbage) && rng_.uniform(4) == 0) {
      Bytes junk(rng_.uniform(2) == 0 ? rng_.uniform(200) : bytes.size() / 2);
      if (junk.size() == bytes.size() / 2) {
        std::copy(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(junk.size()),
                  junk.begin());
      } else {
        rng_.fill(junk);
      }
      host_.transmit(i, t, junk);
    }
  }
}

// A burst against every bound: signed votes across many rounds and at future heights,
// transactions, sync requests, commits with forged certificates, oversized garbage.
void ByzantineGateways::flood(std::size_t i, Height h,
                              const std::optional<consensus::StoredBlock>& last) {
  const auto self = GatewayId{static_cast<std::uint16_t>(i)};
  for (int k = 0; k < 12; ++k) {
    const auto round = Round{static_cast<std::uint32_t>(
        rng_.uniform(4) == 0 ? rng_.uniform(1u << 31) : rng_.uniform(40))};
    const auto type =
        rng_.uniform(2) == 0 ? ledger::VoteType::kPrevote : ledger::VoteType::kPrecommit;
    const Height vh = Height{h.value() + rng_.uniform(3)};
    const Bytes vote = consensus::encode(
        Message{ledger::sign_vote(key_of(i), chain_id_, type, vh, round, random_hash(), self)});
    const std::size_t t = rng_.uniform(gateways_);
    if (t != i) host_.transmit(i, t, vote);
  }
  for (std::size_t t = 0; t < gateways_; ++t) {
    if (t == i) continue;
    ledger::Transaction tx{};
    tx.op = static_cast<ledger::Operation>(1 + rng_.uniform(3));
    tx.node = NodeId{static_cast<std::uint32_t>(rng_.u64())};
    tx.set = SetId{static_cast<std::uint32_t>(rng_.u64())};
    rng_.fill(tx.commitment);
    tx.refresh_key = rng_.key128();
    host_.transmit(i, t, consensus::encode(Message{signed_by(i, tx)}));
    host_.transmit(i, t, consensus::encode(Message{consensus::SyncRequest{Height{1}}}));
    if (last) {
      consensus::StoredBlock stored = *last;
      stored.certificate.height = Height{stored.certificate.height.value() + 1};
      stored.block.header.height = stored.certificate.height;
      host_.transmit(i, t,
                     consensus::encode(Message{consensus::CommitMessage{
                         ledger::make_block(stored.block.header, stored.block.transactions),
                         stored.certificate}}));
    }
    Bytes junk(consensus::kMessageBytesMax + 1 - rng_.uniform(2) * 2);
    junk[0] = static_cast<std::uint8_t>(rng_.uniform(8));
    host_.transmit(i, t, junk);
  }
}

}  // namespace kmchain::sim
