#include "gateway/pending_transactions.h"

#include "consensus/message.h"
#include "ledger/contract.h"

namespace kmchain::gateway {

void PendingTransactions::restore(const std::vector<ledger::SignedTransaction>& transactions) {
  pending_.clear();
  for (const ledger::SignedTransaction& stx : transactions)
    pending_.insert_or_assign(Key{stx.transaction.node, stx.transaction.op}, Pending{stx, 0});
}

const ledger::Transaction* PendingTransactions::find(NodeId node, ledger::Operation op) const {
  auto it = pending_.find(Key{node, op});
  return it == pending_.end() ? nullptr : &it->second.signed_tx.transaction;
}

Status<ledger::MempoolVerdict> PendingTransactions::submit(
    const ledger::Transaction& tx, consensus::Replica& replica, std::uint64_t now_ms,
    std::vector<Action>& out, std::optional<crypto::Ed25519Signature> device_consent) {
  const ledger::SignedTransaction stx = replica.sign(tx, device_consent);
  std::vector<consensus::Action> gossip;
  auto verdict = replica.submit(stx, now_ms, gossip);
  if (!verdict) return verdict;
  pending_.insert_or_assign(Key{tx.node, tx.op}, Pending{stx, now_ms});
  out.push_back(PutPending{stx});
  for (consensus::Action& a : gossip)
    out.push_back(from_replica(std::move(a)));
  return {};
}

void PendingTransactions::forget(const Key& key, std::vector<Action>& out) {
  if (pending_.erase(key) != 0) out.push_back(ErasePending{key.first, key.second});
}

void PendingTransactions::drop(NodeId node, ledger::Operation op, std::vector<Action>& out) {
  forget(Key{node, op}, out);
}

void PendingTransactions::on_committed(const ledger::AppliedTransaction& applied,
                                       std::vector<Action>& out) {
  const ledger::Transaction& tx = applied.transaction;
  if (applied.steps.empty()) {
    // A request to evict, recorded: ours is done asking.
    if (applied.submitter == self_) forget(Key{tx.node, ledger::Operation::kEvict}, out);
    return;
  }
  if (tx.op == ledger::Operation::kJoin) {
    forget(Key{tx.node, ledger::Operation::kJoin}, out);
    return;
  }
  // Removed, by whichever request: a leave and an eviction of it are both done.
  forget(Key{tx.node, ledger::Operation::kLeave}, out);
  forget(Key{tx.node, ledger::Operation::kEvict}, out);
}

std::vector<GivenUp> PendingTransactions::resubmit(consensus::Replica& replica, crypto::Rng& rng,
                                                   std::uint64_t now_ms, std::vector<Action>& out,
                                                   std::uint64_t& resubmitted) {
  std::vector<GivenUp> given_up;
  std::vector<Key> keys;
  for (const auto& [key, p] : pending_)
    keys.push_back(key);
  for (const Key& key : keys) {
    const ledger::SignedTransaction stx = pending_.at(key).signed_tx;
    const ledger::Transaction& tx = stx.transaction;
    if (replica.mempool().contains(stx)) continue;
    const ledger::LedgerState& committed = replica.state();
    const ledger::LedgerState& check = replica.mempool().check_state();
    ledger::Transaction next = tx;
    next.refresh_key = rng.key128();
    if (tx.op == ledger::Operation::kJoin) {
      if (committed.node_id_used(tx.node)) {  // final (in a block before a restart, say)
        forget(key, out);
        continue;
      }
      // Another version of it waits in the mempool: it may still become final.
      if (check.node_id_used(tx.node)) continue;
      if (committed.commitment_used(tx.commitment)) {
        // Forgotten by the caller once the device's record says so (drop()).
        given_up.push_back(GivenUp{tx, ledger::to_string(ledger::Rejection::kCommitmentUsed)});
        continue;
      }
      auto placement = check.table().assign(self_);
      if (!placement) continue;  // the network or this gateway's set ids are full for now
      next.set = placement->set;
    } else {
      // Submitted for a member of the committed state only: gone from it, it was removed, by
      // whatever request.
      if (committed.table().find_member(tx.node) == nullptr) {
        forget(key, out);
        continue;
      }
      const keys::MemberRecord* member = check.table().find_member(tx.node);
      const ledger::Commitment* commitment = check.commitment_of(tx.node);
      if (member == nullptr || commitment == nullptr) continue;  // a removal of it waits
      next.set = member->set;
      next.commitment = *commitment;
    }
    // Refused for a reason that may pass later (a full mempool, a commitment pending in another
    // join): tried again at the next tick.
    if (!ledger::check_rules(check, next, self_)) continue;
    if (submit(next, replica, now_ms, out, stx.device_signature)) ++resubmitted;
  }
  return given_up;
}

void PendingTransactions::regossip(const consensus::Replica& replica, std::uint64_t now_ms,
                                   std::vector<Action>& out) {
  for (auto& [key, p] : pending_) {
    if (now_ms < p.gossiped_ms + kRegossipMs || !replica.mempool().contains(p.signed_tx)) continue;
    p.gossiped_ms = now_ms;
    out.push_back(consensus::BroadcastAll{consensus::encode(consensus::Message{p.signed_tx})});
  }
}

}  // namespace kmchain::gateway
