// The contract: the deterministic rules every gateway runs on a transaction before accepting
// it into its mempool and again when executing a block (docs/protocol.md section 3).
//
//   join:        the node id is fresh (never used), in the range of an existing gateway, and
//                not reserved; the commitment was never used; the set is the one Assignment
//                gives for a join through that gateway in the current state.
//   leave/evict: the node is a member, and the set and commitment match its record.
// A transaction that fails is rejected with a reason code, never silently dropped. apply()
// runs only on a transaction that passed check(); every correct gateway that applies the
// same transactions in the same order reaches the same state_hash().
#pragma once

#include <cstdint>
#include <vector>

#include "base/result.h"
#include "keys/set_table.h"
#include "ledger/ledger_state.h"
#include "ledger/transaction.h"

namespace kmchain::ledger {

enum class Rejection : std::uint8_t {
  kReservedNodeId = 1,       // node id 0 names "no node" in rekey messages
  kUnknownGateway = 2,       // the node id's range belongs to no gateway of the consortium
  kNodeIdUsed = 3,           // join: the node id was used before
  kCommitmentUsed = 4,       // join: the commitment was used before
  kWrongSet = 5,             // join: Assignment gives another set
  kNetworkFull = 6,          // join: the network holds limits::kDevicesMax devices
  kSetIdsExhausted = 7,      // join: the gateway opened all the sets it may
  kNotMember = 8,            // leave/evict: no such member
  kSetMismatch = 9,          // leave/evict: the member is in another set
  kCommitmentMismatch = 10,  // leave/evict: the commitment differs from the record
};
const char* to_string(Rejection r);

// Node ids come from per-gateway ranges: the gateway is the top byte, as for set ids, so
// joins at different gateways never contend for an id.
inline GatewayId origin_of(NodeId node) {
  return GatewayId{static_cast<std::uint16_t>(node.value() >> 24)};
}

Status<Rejection> check(const LedgerState& state, const Transaction& tx);

// A transaction as the ledger applied it: the structural steps (Assignment's placement, the
// removal and the Reorder it triggered) are decided here once, and the key work replays them.
struct AppliedTransaction {
  Transaction transaction;
  std::vector<keys::Step> steps;
};

// Applies a transaction that passed check() (aborts otherwise: executing an unchecked
// transaction is a local bug). Returns the structural steps, for the key work.
std::vector<keys::Step> apply(LedgerState& state, const Transaction& tx);

}  // namespace kmchain::ledger
