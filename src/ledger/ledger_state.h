// LedgerState: the replicated state every correct gateway derives from the ordered
// transactions, and must derive byte-identically (compare state_hash()).
//
//   - the set table (who is in which set, who owns each set; Layer 1's SetTable);
//   - each member's credential commitment;
//   - every node id and commitment ever used (never reused: a join cannot replay an old
//     identity), kept as sets and covered in the hash by a chain over all applied transactions;
//   - the refresh history: every applied transaction with the refresh positions its steps took,
//     from which a gateway serves missed refreshes to a device that slept;
//   - the evictions asked for by gateways other than the device's home and not yet in effect:
//     who asked, per member (contract.h: in effect once they hold more than a third of the
//     power).
// It also knows the consortium (chain id, each gateway's key and power), fixed by the genesis,
// which the contract checks signatures and eviction power against.
// It changes only through apply() in contract.h.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "base/ids.h"
#include "keys/set_table.h"
#include "ledger/genesis.h"
#include "ledger/hashing.h"
#include "ledger/transaction.h"

namespace kmchain::ledger {

struct SignedTransaction;

// One applied transaction and the refresh positions its steps took (first..last), with the
// gateways that asked for it: the submitter, or for an eviction asked by others, all of them.
struct HistoryEntry {
  Transaction transaction;
  Position first;
  Position last;
  std::vector<GatewayId> requested_by;
};

// Who may sign membership changes, and how much each one's word weighs (from the genesis).
struct Consortium {
  Hash256 chain_id{};
  std::vector<Validator> validators;  // indexed by GatewayId
  std::uint64_t total_power = 0;

  const Validator* find(GatewayId g) const {
    return g.value() < validators.size() ? &validators[g.value()] : nullptr;
  }
};

class LedgerState {
 public:
  explicit LedgerState(const Genesis& genesis);

  std::size_t gateways() const { return gateways_; }
  const Consortium& consortium() const { return *consortium_; }
  const keys::SetTable& table() const { return table_; }
  Position position() const { return position_; }
  const Commitment* commitment_of(NodeId node) const;
  // A member's home gateway: the owner of its set (nullopt for no member).
  std::optional<GatewayId> home_of(NodeId node) const;
  bool node_id_used(NodeId node) const { return used_nodes_.contains(node); }
  bool commitment_used(const Commitment& c) const { return used_commitments_.contains(c); }
  const std::vector<HistoryEntry>& history() const { return history_; }
  // Evictions asked for by gateways other than the home and not yet in effect, by member.
  const std::map<NodeId, std::set<GatewayId>>& eviction_requests() const {
    return eviction_requests_;
  }
  // The gateways that asked to evict `node` so far (empty if none), and their power together.
  std::set<GatewayId> eviction_requested_by(NodeId node) const;
  std::uint64_t eviction_power(NodeId node) const;

  // SHA-256 over the canonical encoding of the current state and the chain of every applied
  // transaction's hash.
  Hash256 state_hash() const;

 private:
  friend std::vector<keys::Step> apply(LedgerState& state, const SignedTransaction& stx);

  std::shared_ptr<const Consortium> consortium_;  // shared: a state is copied per block check
  std::size_t gateways_;
  keys::SetTable table_;
  Position position_{0};
  std::map<NodeId, Commitment> commitments_;
  std::set<NodeId> used_nodes_;
  std::set<Commitment> used_commitments_;
  std::vector<HistoryEntry> history_;
  std::map<NodeId, std::set<GatewayId>> eviction_requests_;
  Hash256 history_chain_{};
};

}  // namespace kmchain::ledger
