// LedgerState: the replicated state every correct gateway derives from the ordered
// transactions, and must derive byte-identically (compare state_hash()).
//
//   - the set table (who is in which set, who owns each set; Layer 1's SetTable);
//   - each member's credential commitment;
//   - every node id and commitment ever used (never reused: a join cannot replay an old
//     identity), kept as sets and covered in the hash by a chain over all applied transactions;
//   - the refresh history: every applied transaction with the refresh positions its steps took,
//     from which a gateway serves missed refreshes to a device that slept.
// It changes only through apply() in contract.h.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <vector>

#include "base/ids.h"
#include "keys/set_table.h"
#include "ledger/hashing.h"
#include "ledger/transaction.h"

namespace kmchain::ledger {

// One applied transaction and the refresh positions its steps took (first..last).
struct HistoryEntry {
  Transaction transaction;
  Position first;
  Position last;
};

class LedgerState {
 public:
  explicit LedgerState(std::size_t gateways);

  std::size_t gateways() const { return gateways_; }
  const keys::SetTable& table() const { return table_; }
  Position position() const { return position_; }
  const Commitment* commitment_of(NodeId node) const;
  bool node_id_used(NodeId node) const { return used_nodes_.contains(node); }
  bool commitment_used(const Commitment& c) const { return used_commitments_.contains(c); }
  const std::vector<HistoryEntry>& history() const { return history_; }

  // SHA-256 over the canonical encoding of the current state and the chain of every applied
  // transaction's hash.
  Hash256 state_hash() const;

 private:
  friend std::vector<keys::Step> apply(LedgerState& state, const Transaction& tx);

  std::size_t gateways_;
  keys::SetTable table_;
  Position position_{0};
  std::map<NodeId, Commitment> commitments_;
  std::set<NodeId> used_nodes_;
  std::set<Commitment> used_commitments_;
  std::vector<HistoryEntry> history_;
  Hash256 history_chain_{};
};

}  // namespace kmchain::ledger
