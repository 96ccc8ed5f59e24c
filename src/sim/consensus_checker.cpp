#include "sim/consensus_checker.h"

#include <fmt/format.h>

#include "base/check.h"
#include "ledger/contract.h"

namespace kmchain::sim {

std::optional<Violation> ConsensusChecker::on_commit(std::size_t node,
                                                     const consensus::StoredBlock& stored,
                                                     std::uint64_t now_ms) {
  const Height h = stored.block.header.height;
  const ledger::Hash256 hash = ledger::block_hash(stored.block);
  auto it = decided_.find(h);
  if (it == decided_.end()) {
    KMCHAIN_CHECK(h.value() == decided_.size() + 1);  // a gateway commits in height order
    for (std::size_t i = 0; i < stored.block.transactions.size(); ++i) {
      const ledger::Transaction& tx = stored.block.transactions[i];
      auto verdict = ledger::check(state_, tx);
      if (!verdict) {
        return Violation{
            "validity",
            fmt::format("height {} transaction {} ({}) fails the contract: {}", h.value(), i,
                        ledger::to_string(tx.op), ledger::to_string(verdict.error())),
            now_ms};
      }
      (void)ledger::apply(state_, tx);
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
