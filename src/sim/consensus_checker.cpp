#include "sim/consensus_checker.h"

#include <fmt/format.h>

#include "base/check.h"
#include "ledger/certificate.h"
#include "ledger/contract.h"
#include "ledger/proposal.h"

namespace kmchain::sim {

ConsensusChecker::ConsensusChecker(const ledger::Genesis& genesis, ChainRules rules)
    : genesis_(genesis),
      chain_id_(genesis.chain_id()),
      rules_(rules),
      schedule_(genesis),
      state_(genesis) {}

// Who may make a change, checked here on its own terms rather than by asking the contract: the
// submitter signed the envelope; a join or a leave comes from the node's home gateway (a leave
// with the device's consent); an eviction by another gateway removes the member only once the
// gateways that asked it hold more than a third of the power.
std::optional<std::string> ConsensusChecker::unauthorised(const ledger::SignedTransaction& stx,
                                                          std::optional<Position> placed_at) {
  const ledger::Transaction& tx = stx.transaction;
  const ledger::Validator* submitter = genesis_.find(stx.submitter);
  if (submitter == nullptr) return "submitted by no gateway";
  if (!ledger::verify_submitter(submitter->public_key, chain_id_, stx))
    return "not signed by its submitter";
  if (tx.op == ledger::Operation::kJoin) {
    if (stx.submitter.value() != tx.node.value() >> 24)
      return "a join from another gateway than the node's range";
    homes_[tx.node] = stx.submitter;
    return std::nullopt;
  }
  auto home_it = homes_.find(tx.node);
  if (home_it == homes_.end()) return "a change of a node that never joined";
  const bool home = home_it->second == stx.submitter;
  if (tx.op == ledger::Operation::kLeave) {
    if (!home) return "a leave from another gateway than home";
    if (!stx.device_signature ||
        !ledger::verify_leave_consent(tx.commitment, chain_id_, tx.node, *stx.device_signature))
      return "a leave without the device's consent";
    homes_.erase(home_it);
  }
  if (tx.op == ledger::Operation::kMove) {
    if (home) return "a move to the gateway that is home already";
    if (!placed_at || !stx.device_signature ||
        !ledger::verify_move_consent(tx.commitment, chain_id_, tx.node, stx.submitter, *placed_at,
                                     *stx.device_signature))
      return "a move without the device's consent to this gateway from its placement";
    home_it->second = stx.submitter;
  }
  if (tx.op == ledger::Operation::kEvict && home) homes_.erase(home_it);
  if (tx.op == ledger::Operation::kEvict && !home) {
    auto& asked = eviction_asked_[tx.node];
    asked.insert(stx.submitter);
    ++eviction_requests_;
    std::uint64_t power = 0;
    for (GatewayId g : asked)
      power += genesis_.find(g)->power;
    const bool removes = 3 * power > genesis_.total_power();
    const bool removed = state_.table().find_member(tx.node) == nullptr;
    if (removed && !removes) return "an eviction in effect without a third of the power asking";
    if (!removed && removes) return "an eviction asked by a third of the power not in effect";
    if (removed) homes_.erase(tx.node);
  }
  return std::nullopt;
}

std::optional<Violation> ConsensusChecker::check_header(Height at,
                                                        const consensus::StoredBlock& stored,
                                                        std::uint64_t now_ms) const {
  const ledger::BlockHeader& h = stored.block.header;
  auto bad = [&](std::string what) {
    return Violation{"header", fmt::format("height {}: {}", at.value(), what), now_ms};
  };
  if (h.height != at) return bad(fmt::format("the header says height {}", h.height.value()));
  const bool first = at.value() == 1;
  const ledger::Hash256 previous =
      first ? ledger::Hash256{} : decided_.at(Height{at.value() - 1}).first;
  if (h.previous_hash != previous) return bad("the previous hash is not the reference block's");
  if (h.state_hash != state_.state_hash())
    return bad("the state hash is not the reference state's before it");
  if (h.transactions_root != ledger::transactions_root(stored.block.transactions))
    return bad("the transactions root is not its transactions'");
  if (genesis_.find(h.proposer) == nullptr)
    return bad(fmt::format("the proposer {} is not a validator", h.proposer.value()));
  const std::uint64_t previous_time =
      first ? genesis_.genesis_time_ms
            : blocks_.at(Height{at.value() - 1}).block.header.timestamp_ms;
  if (h.timestamp_ms <= previous_time) return bad("the timestamp does not follow the previous one");
  if (h.timestamp_ms > genesis_.genesis_time_ms + now_ms + rules_.timestamp_slack_ms)
    return bad("the timestamp is ahead of every clock by more than the allowed drift");
  if (stored.block.transactions.size() > rules_.block_transactions_max)
    return bad(
        fmt::format("{} transactions, more than the limit", stored.block.transactions.size()));
  return std::nullopt;
}

std::optional<Violation> ConsensusChecker::on_commit(std::size_t node, Height at,
                                                     const consensus::StoredBlock& stored,
                                                     std::uint64_t now_ms) {
  const Height h = at;
  const ledger::Hash256 hash = ledger::block_hash(stored.block);
  if (!ledger::verify_commit(genesis_, stored.block, stored.certificate).ok()) {
    return Violation{"certificate",
                     fmt::format("gateway {} stored height {} with a certificate that is not a "
                                 "quorum of valid precommits for it",
                                 node, h.value()),
                     now_ms};
  }
  auto it = decided_.find(h);
  if (it == decided_.end()) {
    KMCHAIN_CHECK(h.value() == decided_.size() + 1);  // a gateway commits in height order
    if (auto v = check_header(h, stored, now_ms)) return v;
    for (std::size_t i = 0; i < stored.block.transactions.size(); ++i) {
      const ledger::SignedTransaction& stx = stored.block.transactions[i];
      const ledger::Transaction& tx = stx.transaction;
      std::optional<Position> placed_at;
      if (const keys::MemberRecord* m = state_.table().find_member(tx.node))
        placed_at = m->placed_at;
      auto verdict = ledger::check(state_, stx);
      if (!verdict) {
        return Violation{
            "validity",
            fmt::format("height {} transaction {} ({}) fails the contract: {}", h.value(), i,
                        ledger::to_string(tx.op), ledger::to_string(verdict.error())),
            now_ms};
      }
      (void)ledger::apply(state_, stx);
      if (auto why = unauthorised(stx, placed_at)) {
        return Violation{
            "authority",
            fmt::format("height {} transaction {} ({} of node {} by gateway {}): {}", h.value(), i,
                        ledger::to_string(tx.op), tx.node.value(), stx.submitter.value(), *why),
            now_ms};
      }
    }
    transactions_ += stored.block.transactions.size();
    decided_.emplace(h, std::make_pair(hash, state_.state_hash()));
    blocks_.emplace(h, stored);
    it = decided_.find(h);
  }
  if (it->second.first != hash) {
    return Violation{
        "agreement",
        fmt::format("gateway {} finalised another block at height {}", node, h.value()), now_ms};
  }
  if (it->second.second != stored.state_hash_after) {
    return Violation{
        "state-hash",
        fmt::format("gateway {} has another state hash after height {}", node, h.value()), now_ms};
  }
  return std::nullopt;
}

std::optional<Violation> ConsensusChecker::on_kept(std::size_t node, const consensus::Message& m,
                                                   std::uint64_t now_ms) const {
  auto forged = [&](std::string what) {
    return Violation{"forged-accepted", fmt::format("gateway {} kept {}", node, what), now_ms};
  };
  if (const auto* p = std::get_if<ledger::Proposal>(&m)) {
    const ledger::Validator* v = genesis_.find(p->proposer);
    if (v == nullptr || !ledger::verify_proposal(v->public_key, chain_id_, *p))
      return forged(fmt::format("a proposal of height {} round {} with a wrong signature",
                                p->height.value(), p->round.value()));
    if (schedule_.proposer(p->height, p->round) != p->proposer)
      return forged(fmt::format("a proposal of height {} round {} from {}, not its proposer",
                                p->height.value(), p->round.value(), p->proposer.value()));
  } else if (const auto* vote = std::get_if<ledger::Vote>(&m)) {
    const ledger::Validator* v = genesis_.find(vote->validator);
    if (v == nullptr || !ledger::verify_vote(v->public_key, chain_id_, *vote))
      return forged(fmt::format("a vote of height {} round {} with a wrong signature",
                                vote->height.value(), vote->round.value()));
  }
  return std::nullopt;
}

std::optional<Violation> ConsensusChecker::on_signed(std::size_t node, const consensus::Message& m,
                                                     std::uint64_t now_ms) {
  Key key;
  Bytes value;
  // Relayed messages (a proposer relays the polka it saw) are their signers' business.
  if (const auto* p = std::get_if<ledger::Proposal>(&m)) {
    if (p->proposer.value() != node) return std::nullopt;
    key = Key{node, p->height.value(), p->round.value(), 0};
    const auto h = ledger::block_hash(p->block);
    value.assign(h.begin(), h.end());
    value.push_back(p->valid_round ? 1 : 0);
  } else if (const auto* v = std::get_if<ledger::Vote>(&m)) {
    if (v->validator.value() != node) return std::nullopt;
    key = Key{node, v->height.value(), v->round.value(), static_cast<int>(v->type)};
    if (v->block) value.assign(v->block->begin(), v->block->end());
  } else {
    return std::nullopt;
  }
  auto [it, inserted] = signed_.emplace(key, value);
  if (!inserted && it->second != value) {
    static const char* kinds[] = {"proposals", "prevotes", "precommits"};
    return Violation{"double-sign",
                     fmt::format("gateway {} signed two different {} at height {} round {}", node,
                                 kinds[std::get<3>(key)], std::get<1>(key), std::get<2>(key)),
                     now_ms};
  }
  return std::nullopt;
}

}  // namespace kmchain::sim
