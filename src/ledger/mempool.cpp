#include "ledger/mempool.h"

#include <algorithm>

namespace kmchain::ledger {

const char* to_string(const MempoolVerdict& verdict) {
  if (verdict.rejection) return to_string(*verdict.rejection);
  switch (verdict.error) {
    case MempoolError::kDuplicate:
      return "duplicate";
    case MempoolError::kFull:
      return "mempool full";
    case MempoolError::kRejected:
      return "rejected";
  }
  return "unknown";
}

Mempool::Mempool(const LedgerState& committed, std::size_t capacity)
    : capacity_(capacity), check_state_(committed) {}

Status<MempoolVerdict> Mempool::add(const SignedTransaction& tx) {
  const Hash256 hash = transaction_hash(tx);
  if (pending_hashes_.contains(hash)) return Err{MempoolVerdict{MempoolError::kDuplicate, {}}};
  if (pending_.size() >= capacity_) return Err{MempoolVerdict{MempoolError::kFull, {}}};
  auto verdict = check(check_state_, tx);
  if (!verdict) return Err{MempoolVerdict{MempoolError::kRejected, verdict.error()}};
  apply(check_state_, tx);
  pending_.push_back(tx);
  pending_hashes_.insert(hash);
  return {};
}

bool Mempool::contains(const SignedTransaction& tx) const {
  return pending_hashes_.contains(transaction_hash(tx));
}

std::vector<SignedTransaction> Mempool::reap(std::size_t max) const {
  const std::size_t n = std::min(max, pending_.size());
  return {pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(n)};
}

std::vector<std::pair<SignedTransaction, Rejection>> Mempool::update(
    const LedgerState& committed, const std::vector<SignedTransaction>& included) {
  std::set<Hash256> done;
  for (const SignedTransaction& tx : included)
    done.insert(transaction_hash(tx));
  std::vector<SignedTransaction> remaining;
  std::vector<std::pair<SignedTransaction, Rejection>> dropped;
  check_state_ = committed;
  pending_hashes_.clear();
  for (SignedTransaction& tx : pending_) {
    const Hash256 hash = transaction_hash(tx);
    if (done.contains(hash)) continue;
    // Its signatures were checked on entry; they depend on nothing a block changes.
    auto verdict = check_rules(check_state_, tx);
    if (!verdict) {
      dropped.emplace_back(std::move(tx), verdict.error());
      continue;
    }
    apply(check_state_, tx);
    pending_hashes_.insert(hash);
    remaining.push_back(std::move(tx));
  }
  pending_ = std::move(remaining);
  return dropped;
}

}  // namespace kmchain::ledger
