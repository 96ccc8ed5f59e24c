// The contract: the deterministic rules every gateway runs on a signed transaction before
// accepting it into its mempool and again when executing a block (docs/protocol.md section 3).
//
// Who may make a change (the submitter signs the envelope, signed_transaction.h; a member's home
// gateway is the owner of its set, LedgerState::home_of: the gateway whose range its id is from,
// origin_of(node), until the member moves):
//   join:   only origin_of(node), into its own range (so into its own sets).
//   leave:  only the home gateway, carrying the device's own consent.
//   evict:  the home gateway alone, at once; any other gateway only asks: the eviction takes
//           effect once the gateways that asked hold more than a third of the power (so at
//           least one correct gateway agrees), and the ledger records who asked. A gateway asks
//           once per member.
//   move:   only a gateway other than the home, carrying the device's consent to move to that
//           gateway from the placement it is in (its position, move_consent_bytes()); the
//           device re-attached there (enroll/attach.h) and it becomes the home.
// What each change must match:
//   join:        the node id is fresh (never used), in the range of an existing gateway, and
//                not reserved; the commitment was never used; the set is the one Assignment
//                gives for a join through that gateway in the current state.
//   leave/evict: the node is a member, and the set and commitment match its record.
//   move:        the node is a member whose commitment matches; the set is the one Assignment
//                gives for the move (SetTable::assign_move).
// Node ids are never reused, so a replayed change is refused (its node is used, or no member,
// or it asked already). A transaction that fails is rejected with a reason code, never silently
// dropped. apply() runs only on a transaction that passed check(); every correct gateway that
// applies the same transactions in the same order reaches the same state_hash().
#pragma once

#include <cstdint>
#include <vector>

#include "base/result.h"
#include "keys/set_table.h"
#include "ledger/ledger_state.h"
#include "ledger/signed_transaction.h"
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
  kUnknownSubmitter = 11,    // the submitter is no gateway of the consortium
  kBadSignature = 12,        // the envelope is not signed by its submitter for this chain
  kNotHome = 13,             // join/leave: the submitter is not the node's home gateway
  kNoConsent = 14,           // leave: no device signature, or not the device's
  kUnexpectedConsent = 15,   // join/evict: a device signature where none belongs
  kAlreadyAsked = 16,        // evict: this gateway already asked to evict the member
  kAlreadyHome = 17,         // move: the submitter is the member's home already
};
const char* to_string(Rejection r);

// Node ids come from per-gateway ranges: the gateway is the top byte, as for set ids, so
// joins at different gateways never contend for an id.
inline GatewayId origin_of(NodeId node) {
  return GatewayId{static_cast<std::uint16_t>(node.value() >> 24)};
}

// Everything: the signatures, then the rules.
Status<Rejection> check(const LedgerState& state, const SignedTransaction& stx);
// The signatures alone: the submitter is a gateway and signed the envelope for this chain; a
// leave carries its device's consent, nothing else carries one. Depends on the consortium only,
// never on the membership, so it holds for an envelope once and for all.
Status<Rejection> check_signatures(const LedgerState& state, const SignedTransaction& stx);
// The rules alone, for an envelope whose signatures were checked (the mempool's, a stored block).
Status<Rejection> check_rules(const LedgerState& state, const SignedTransaction& stx);
// The rules for `tx` as `submitter` would submit it (a gateway asking itself before it signs),
// with the device's consent for a move (kNoConsent without it, or if it is not the device's
// for this gateway and placement: unlike a leave's, it depends on the state).
Status<Rejection> check_rules(const LedgerState& state, const Transaction& tx, GatewayId submitter,
                              const crypto::Ed25519Signature* move_consent = nullptr);

// Whether the submitter is the member's home gateway (an eviction then takes effect at once).
bool from_home(const LedgerState& state, const SignedTransaction& stx);

// A transaction as the ledger applied it: the structural steps (Assignment's placement, the
// removal and the Reorder it triggered) are decided here once, and the key work replays them.
// No steps: an eviction asked for and not yet in effect (recorded in the state only).
struct AppliedTransaction {
  Transaction transaction;
  GatewayId submitter;
  std::vector<keys::Step> steps;
};

// Applies a transaction that passed check_rules() (aborts otherwise: executing an unchecked
// transaction is a local bug). Returns the structural steps, for the key work: none for an
// eviction request that does not yet reach the power.
std::vector<keys::Step> apply(LedgerState& state, const SignedTransaction& stx);

}  // namespace kmchain::ledger
