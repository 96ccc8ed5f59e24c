// ConsensusChecker: the safety checks of a simulated consortium, fed what the correct gateways
// decide and sign. The reference chain is the first block final at each height, its
// transactions checked by the contract and applied to a state of the checker's own:
//
//   agreement    no two different blocks final at one height
//   validity     every final transaction passes the contract on the state before it
//   state-hash   every gateway's state hash after height h is the reference one
//   double-sign  no correct gateway signs two different proposals or votes for one height,
//                round and step (checked on what actually leaves it)
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>

#include "consensus/message.h"
#include "consensus/storage.h"
#include "ledger/ledger_state.h"

namespace kmchain::sim {

struct Violation {
  std::string invariant;
  std::string detail;
  std::uint64_t at_ms = 0;
};

class ConsensusChecker {
 public:
  explicit ConsensusChecker(std::size_t gateways) : state_(gateways) {}

  // A block gateway `node` made final (in height order per gateway).
  std::optional<Violation> on_commit(std::size_t node, const consensus::StoredBlock& stored,
                                     std::uint64_t now_ms);
  // A message a correct gateway sends: none may conflict with one it signed before.
  std::optional<Violation> on_signed(std::size_t node, const consensus::Message& m,
                                     std::uint64_t now_ms);

  std::uint64_t transactions() const { return transactions_; }
  std::uint64_t height() const { return decided_.size(); }
  const ledger::LedgerState& state() const { return state_; }
  // The reference block at `height` (1..height()).
  const consensus::StoredBlock& block(Height height) const { return blocks_.at(height); }

 private:
  using Key = std::tuple<std::size_t, std::uint64_t, std::uint32_t, int>;
  ledger::LedgerState state_;
  std::map<Height, std::pair<ledger::Hash256, ledger::Hash256>> decided_;
  std::map<Height, consensus::StoredBlock> blocks_;
  std::map<Key, Bytes> signed_;
  std::uint64_t transactions_ = 0;
};

}  // namespace kmchain::sim
