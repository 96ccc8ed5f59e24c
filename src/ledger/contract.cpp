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
  }
  return "unknown rejection";
}

namespace {

Status<Rejection> check_join(const LedgerState& state, const Transaction& tx) {
  if (tx.node.value() == 0) return Err{Rejection::kReservedNodeId};
  const GatewayId origin = origin_of(tx.node);
  if (origin.value() >= state.gateways()) return Err{Rejection::kUnknownGateway};
  if (state.node_id_used(tx.node)) return Err{Rejection::kNodeIdUsed};
  if (state.commitment_used(tx.commitment)) return Err{Rejection::kCommitmentUsed};
  auto placement = state.table().assign(origin);
  if (!placement) {
    switch (placement.error()) {
      case keys::TableError::kNetworkFull:
        return Err{Rejection::kNetworkFull};
      case keys::TableError::kSetIdsExhausted:
        return Err{Rejection::kSetIdsExhausted};
      default:
        return Err{Rejection::kUnknownGateway};
    }
  }
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

}  // namespace

Status<Rejection> check(const LedgerState& state, const Transaction& tx) {
  switch (tx.op) {
    case Operation::kJoin:
      return check_join(state, tx);
    case Operation::kLeave:
    case Operation::kEvict:
      return check_removal(state, tx);
  }
  return Err{Rejection::kNotMember};
}

std::vector<keys::Step> apply(LedgerState& state, const Transaction& tx) {
  KMCHAIN_CHECK(check(state, tx).ok());
  const Position first = next(state.position_);
  std::vector<keys::Step> steps;
  if (tx.op == Operation::kJoin) {
    auto step = state.table_.join(tx.node, origin_of(tx.node), first);
    KMCHAIN_CHECK(step.ok());
    steps.push_back(*step);
    state.commitments_.emplace(tx.node, tx.commitment);
    state.used_nodes_.insert(tx.node);
    state.used_commitments_.insert(tx.commitment);
  } else {
    const keys::Cause cause =
        tx.op == Operation::kLeave ? keys::Cause::kLeave : keys::Cause::kEvict;
    auto removed = state.table_.remove(tx.node, cause, first);
    KMCHAIN_CHECK(removed.ok());
    steps = std::move(*removed);
    state.commitments_.erase(tx.node);
  }
  state.position_ = steps.back().position;
  state.history_.push_back(HistoryEntry{tx, first, state.position_});
  const Hash256 tx_hash = transaction_hash(tx);
  state.history_chain_ = crypto::Sha256().update(state.history_chain_).update(tx_hash).finish();
  return steps;
}

}  // namespace kmchain::ledger
