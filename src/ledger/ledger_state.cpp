#include "ledger/ledger_state.h"

#include "codec/byte_writer.h"

namespace kmchain::ledger {

LedgerState::LedgerState(std::size_t gateways) : gateways_(gateways) {}

const Commitment* LedgerState::commitment_of(NodeId node) const {
  auto it = commitments_.find(node);
  return it == commitments_.end() ? nullptr : &it->second;
}

Hash256 LedgerState::state_hash() const {
  Bytes bytes;
  codec::ByteWriter w(bytes);
  w.raw(as_bytes(domain::kState));
  w.u16(static_cast<std::uint16_t>(gateways_));
  w.u64(position_.value());
  table_.encode(bytes);
  w.u32(static_cast<std::uint32_t>(commitments_.size()));
  for (const auto& [node, commitment] : commitments_) {
    w.u32(node.value());
    w.raw(commitment);
  }
  // Used ids and commitments, and the refresh history, follow from the applied transactions.
  w.u64(history_.size());
  w.raw(history_chain_);
  return crypto::sha256(bytes);
}

}  // namespace kmchain::ledger
