// ConsensusChecker: the safety checks of a simulated consortium, fed what the correct gateways
// decide and sign. The reference chain is the first block final at each height, its
// transactions checked by the contract and applied to a state of the checker's own:
//
//   agreement    no two different blocks final at one height
//   validity     every final transaction passes the contract on the state before it
//   state-hash   every gateway's state hash after height h is the reference one
//   double-sign  no correct gateway signs two different proposals or votes for one height,
//                round and step (checked on what actually leaves it)
//   header       every final block's header against the reference chain: its height is its
//                place, its previous hash the reference block's before it, its state hash the
//                reference state's before it, its transactions root its transactions', its
//                proposer a validator, its timestamp after the previous one and not ahead of
//                the clock by more than the allowed drift, and at most the block limit of
//                transactions
//   certificate  every gateway's stored certificate is a quorum of valid precommits for the
//                block it stores
//   forged-accepted  (by the simulators, with accepted()) no correct gateway keeps a proposal
//                or vote whose signature is wrong, or a proposal from a validator that is not
//                the round's proposer
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>

#include "consensus/message.h"
#include "consensus/proposer.h"
#include "consensus/storage.h"
#include "ledger/genesis.h"
#include "ledger/ledger_state.h"

namespace kmchain::sim {

struct Violation {
  std::string invariant;
  std::string detail;
  std::uint64_t at_ms = 0;
};

// What a final block must satisfy, as every gateway's configuration says.
struct ChainRules {
  std::size_t block_transactions_max = 256;
  // How far ahead of the simulated clock a timestamp may be: the replicas' allowed drift plus
  // the largest clock skew of the run.
  std::uint64_t timestamp_slack_ms = 10'000;
};

class ConsensusChecker {
 public:
  ConsensusChecker(const ledger::Genesis& genesis, ChainRules rules);

  // A block gateway `node` made final as its `at`-th (in height order per gateway); `now_ms`
  // is simulated time since the genesis.
  std::optional<Violation> on_commit(std::size_t node, Height at,
                                     const consensus::StoredBlock& stored, std::uint64_t now_ms);
  // A message a correct gateway received and kept (its engine stored it): none may carry a
  // wrong signature or come from a validator that is not the round's proposer.
  std::optional<Violation> on_kept(std::size_t node, const consensus::Message& m,
                                   std::uint64_t now_ms) const;
  // A message a correct gateway sends: none may conflict with one it signed before.
  std::optional<Violation> on_signed(std::size_t node, const consensus::Message& m,
                                     std::uint64_t now_ms);

  std::uint64_t transactions() const { return transactions_; }
  std::uint64_t height() const { return decided_.size(); }
  // Final eviction requests by gateways other than the member's home.
  std::uint64_t eviction_requests() const { return eviction_requests_; }
  const ledger::LedgerState& state() const { return state_; }
  // The reference block at `height` (1..height()).
  const consensus::StoredBlock& block(Height height) const { return blocks_.at(height); }

 private:
  using Key = std::tuple<std::size_t, std::uint64_t, std::uint32_t, int>;
  std::optional<Violation> check_header(Height at, const consensus::StoredBlock& stored,
                                        std::uint64_t now_ms) const;
  // Why a final change (just applied to state_) was not the submitter's to make, if it was not.
  // `placed_at`: the position of the member's placement before the change (moves only).
  std::optional<std::string> unauthorised(const ledger::SignedTransaction& stx,
                                          std::optional<Position> placed_at);

  const ledger::Genesis genesis_;
  const ledger::Hash256 chain_id_;
  const ChainRules rules_;
  consensus::ProposerSchedule schedule_;
  ledger::LedgerState state_;
  std::map<NodeId, std::set<GatewayId>> eviction_asked_;  // by gateways other than home
  // Each member's home as the checker follows it: the gateway of its join, then of each move.
  std::map<NodeId, GatewayId> homes_;
  std::map<Height, std::pair<ledger::Hash256, ledger::Hash256>> decided_;
  std::map<Height, consensus::StoredBlock> blocks_;
  std::map<Key, Bytes> signed_;
  std::uint64_t transactions_ = 0;
  std::uint64_t eviction_requests_ = 0;
};

}  // namespace kmchain::sim
