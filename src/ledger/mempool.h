// Mempool: transactions waiting for a block, bounded, each contract-checked on entry.
//
// Like Tendermint's check state, entry is checked against the committed state with every
// pending transaction ahead of it applied, so a gateway can queue several joins: the second is
// assigned as if the first had executed. After each block the mempool drops what the block
// included, rebuilds its check state from the new committed state and re-checks what remains,
// in arrival order; transactions that no longer pass leave with their reason (for the gateway
// that submitted them to resubmit or repair, as sync mode requires).
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "base/result.h"
#include "ledger/contract.h"
#include "ledger/ledger_state.h"
#include "ledger/signed_transaction.h"
#include "ledger/transaction.h"

namespace kmchain::ledger {

enum class MempoolError : std::uint8_t {
  kDuplicate = 1,  // the same transaction is already pending
  kFull = 2,       // capacity reached
  kRejected = 3,   // the contract refused it (see the rejection)
};

struct MempoolVerdict {
  MempoolError error;
  std::optional<Rejection> rejection;
};
// The rejection's text when the contract refused, else "duplicate", "mempool full".
const char* to_string(const MempoolVerdict& verdict);

class Mempool {
 public:
  Mempool(const LedgerState& committed, std::size_t capacity);

  Status<MempoolVerdict> add(const SignedTransaction& tx);

  // Up to `max` pending transactions in arrival order: a block proposal.
  std::vector<SignedTransaction> reap(std::size_t max) const;

  // The block that was committed on top of the previous state is `included`; `committed` is
  // the state after it. Returns the pending transactions that no longer pass, with why.
  std::vector<std::pair<SignedTransaction, Rejection>> update(
      const LedgerState& committed, const std::vector<SignedTransaction>& included);

  bool contains(const SignedTransaction& tx) const;
  std::size_t size() const { return pending_.size(); }
  std::size_t capacity() const { return capacity_; }
  const LedgerState& check_state() const { return check_state_; }

 private:
  std::size_t capacity_;
  LedgerState check_state_;
  std::vector<SignedTransaction> pending_;
  std::set<Hash256> pending_hashes_;
};

}  // namespace kmchain::ledger
