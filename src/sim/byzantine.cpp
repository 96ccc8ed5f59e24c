#include "sim/byzantine.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/check.h"
#include "ledger/certificate.h"
#include "sim/sim_consortium.h"

namespace kmchain::sim {

using consensus::Message;

std::string describe_behaviours(std::uint32_t b) {
  static const char* names[kBehaviourCount] = {"equivocate",   "invalid-votes", "bad-signatures",
                                               "stale-future", "silence",       "flood",
                                               "garbage",      "split-lock"};
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
      seed_(seed),
      gateways_(genesis.validators.size()),
      rng_(rng),
      host_(host),
      trace_(trace),
      schedule_(genesis),
      total_power_(genesis.total_power()) {
  for (const ledger::Validator& v : genesis.validators)
    powers_.push_back(v.power);
}

void ByzantineGateways::draw(std::size_t count, bool force_equivocation, bool force_split_lock) {
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
    auto b = static_cast<std::uint32_t>(rng_.uniform(kAllBehaviours + 1));
    if (force_equivocation) b = (b | kEquivocate) & ~kSilence;
    if (force_split_lock) b = (b | kSplitLock) & ~kSilence;
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
  return false;
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
    host_.transmit(i, t, consensus::encode(Message{tx}));
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
