#include "ledger/contract.h"

#include "base/check.h"

namespace kmchain::ledger {

const char* to_string(Rejection r) {
  switch (r) {
    case Rejection::kReservedNodeId:
      return "reserved node id";
    case Rejection::kUnknownGateway:
      return "node id of no gateway";
    case Rejection::kNodeIdUsed:
      return "node id already used";
    case Rejection::kCommitmentUsed:
      return "commitment already used";
    case Rejection::kWrongSet:
      return "set is not the one Assignment gives";
    case Rejection::kNetworkFull:
      return "network is full";
    case Rejection::kSetIdsExhausted:
      return "gateway has no set ids left";
    case Rejection::kNotMember:
      return "not a member";
    case Rejection::kSetMismatch:
      return "member is in another set";
    case Rejection::kCommitmentMismatch:
      return "commitment does not match the member";
    case Rejection::kUnknownSubmitter:
      return "submitter is no gateway";
    case Rejection::kBadSignature:
      return "not signed by its submitter";
    case Rejection::kNotHome:
      return "submitter is not the node's home gateway";
    case Rejection::kNoConsent:
      return "leave without the device's consent";
    case Rejection::kUnexpectedConsent:
      return "device signature on a change that takes none";
    case Rejection::kAlreadyAsked:
      return "eviction already asked by this gateway";
    case Rejection::kAlreadyHome:
      return "the member's home already";
  }
  return "unknown rejection";
}

namespace {

// Why Assignment found no place, as the contract says it.
Rejection placement_rejection(keys::TableError e) {
  switch (e) {
    case keys::TableError::kNetworkFull:
      return Rejection::kNetworkFull;
    case keys::TableError::kSetIdsExhausted:
      return Rejection::kSetIdsExhausted;
    default:
      return Rejection::kUnknownGateway;
  }
}

Status<Rejection> check_join(const LedgerState& state, const Transaction& tx) {
  if (tx.node.value() == 0) return Err{Rejection::kReservedNodeId};
  const GatewayId origin = origin_of(tx.node);
  if (origin.value() >= state.gateways()) return Err{Rejection::kUnknownGateway};
  if (state.node_id_used(tx.node)) return Err{Rejection::kNodeIdUsed};
  if (state.commitment_used(tx.commitment)) return Err{Rejection::kCommitmentUsed};
  auto placement = state.table().assign(origin);
  if (!placement) return Err{placement_rejection(placement.error())};
  if (placement->set != tx.set) return Err{Rejection::kWrongSet};
  return {};
}

Status<Rejection> check_removal(const LedgerState& state, const Transaction& tx) {
  const keys::MemberRecord* member = state.table().find_member(tx.node);
  if (member == nullptr) return Err{Rejection::kNotMember};
  if (member->set != tx.set) return Err{Rejection::kSetMismatch};
  const Commitment* commitment = state.commitment_of(tx.node);
  KMCHAIN_CHECK(commitment != nullptr);
  if (*commitment != tx.commitment) return Err{Rejection::kCommitmentMismatch};
  return {};
}

Status<Rejection> check_move(const LedgerState& state, const Transaction& tx, GatewayId submitter,
                             const crypto::Ed25519Signature* consent) {
  const keys::MemberRecord* member = state.table().find_member(tx.node);
  if (member == nullptr) return Err{Rejection::kNotMember};
  const Commitment* commitment = state.commitment_of(tx.node);
  KMCHAIN_CHECK(commitment != nullptr);
  if (*commitment != tx.commitment) return Err{Rejection::kCommitmentMismatch};
  if (state.home_of(tx.node) == submitter) return Err{Rejection::kAlreadyHome};
  if (consent == nullptr || !verify_move_consent(*commitment, state.consortium().chain_id, tx.node,
                                                 submitter, member->placed_at, *consent))
    return Err{Rejection::kNoConsent};
  auto placement = state.table().assign_move(tx.node, submitter);
  if (!placement) return Err{placement_rejection(placement.error())};
  if (placement->set != tx.set) return Err{Rejection::kWrongSet};
  return {};
}

}  // namespace

Status<Rejection> check_signatures(const LedgerState& state, const SignedTransaction& stx) {
  const Consortium& consortium = state.consortium();
  const Validator* submitter = consortium.find(stx.submitter);
  if (submitter == nullptr) return Err{Rejection::kUnknownSubmitter};
  const Transaction& tx = stx.transaction;
  if (tx.op == Operation::kLeave) {
    if (!stx.device_signature ||
        !verify_leave_consent(tx.commitment, consortium.chain_id, tx.node, *stx.device_signature))
      return Err{Rejection::kNoConsent};
  } else if (tx.op == Operation::kMove) {
    // Its consent names the placement it moves from: the rules check it against the state.
    if (!stx.device_signature) return Err{Rejection::kNoConsent};
  } else if (stx.device_signature) {
    return Err{Rejection::kUnexpectedConsent};
  }
  if (!verify_submitter(submitter->public_key, consortium.chain_id, stx))
    return Err{Rejection::kBadSignature};
  return {};
}

Status<Rejection> check_rules(const LedgerState& state, const Transaction& tx, GatewayId submitter,
                              const crypto::Ed25519Signature* move_consent) {
  if (state.consortium().find(submitter) == nullptr) return Err{Rejection::kUnknownSubmitter};
  const bool home = state.home_of(tx.node) == submitter;
  switch (tx.op) {
    case Operation::kJoin:
      if (auto st = check_join(state, tx); !st) return st;
      if (submitter != origin_of(tx.node)) return Err{Rejection::kNotHome};
      return {};
    case Operation::kMove:
      return check_move(state, tx, submitter, move_consent);
    case Operation::kLeave:
      if (auto st = check_removal(state, tx); !st) return st;
      if (!home) return Err{Rejection::kNotHome};
      return {};
    case Operation::kEvict:
      if (auto st = check_removal(state, tx); !st) return st;
      if (!home && state.eviction_requested_by(tx.node).contains(submitter))
        return Err{Rejection::kAlreadyAsked};
      return {};
  }
  return Err{Rejection::kNotMember};
}

Status<Rejection> check_rules(const LedgerState& state, const SignedTransaction& stx) {
  return check_rules(state, stx.transaction, stx.submitter,
                     stx.device_signature ? &*stx.device_signature : nullptr);
}

bool from_home(const LedgerState& state, const SignedTransaction& stx) {
  return state.home_of(stx.transaction.node) == stx.submitter;
}

Status<Rejection> check(const LedgerState& state, const SignedTransaction& stx) {
  if (auto st = check_signatures(state, stx); !st) return st;
  return check_rules(state, stx);
}

std::vector<keys::Step> apply(LedgerState& state, const SignedTransaction& stx) {
  KMCHAIN_CHECK(check_rules(state, stx).ok());
  const Transaction& tx = stx.transaction;
  const Hash256 tx_hash = transaction_hash(stx);
  state.history_chain_ = crypto::Sha256().update(state.history_chain_).update(tx_hash).finish();
  std::vector<GatewayId> requested_by{stx.submitter};
  if (tx.op == Operation::kEvict && !from_home(state, stx)) {
    // A request: recorded, and in effect once those who asked hold more than a third.
    state.eviction_requests_[tx.node].insert(stx.submitter);
    if (3 * state.eviction_power(tx.node) <= state.consortium().total_power) return {};
    requested_by.clear();
    for (GatewayId g : state.eviction_requests_.at(tx.node))
      requested_by.push_back(g);
  }
  const Position first = next(state.position_);
  std::vector<keys::Step> steps;
  if (tx.op == Operation::kJoin) {
    auto step = state.table_.join(tx.node, origin_of(tx.node), first);
    KMCHAIN_CHECK(step.ok());
    steps.push_back(*step);
    state.commitments_.emplace(tx.node, tx.commitment);
    state.used_nodes_.insert(tx.node);
    state.used_commitments_.insert(tx.commitment);
  } else if (tx.op == Operation::kMove) {
    // The eviction requests stay: they are about the device, not about where it is served.
    auto moved = state.table_.move(tx.node, stx.submitter, first);
    KMCHAIN_CHECK(moved.ok());
    steps = std::move(*moved);
  } else {
    const keys::Cause cause =
        tx.op == Operation::kLeave ? keys::Cause::kLeave : keys::Cause::kEvict;
    auto removed = state.table_.remove(tx.node, cause, first);
    KMCHAIN_CHECK(removed.ok());
    steps = std::move(*removed);
    state.commitments_.erase(tx.node);
    state.eviction_requests_.erase(tx.node);  // whatever was asked, the member is gone
  }
  state.position_ = steps.back().position;
  state.history_.push_back(HistoryEntry{tx, first, state.position_, std::move(requested_by)});
  return steps;
}

}  // namespace kmchain::ledger
