#include "ledger/ledger_state.h"

#include "codec/byte_writer.h"

namespace kmchain::ledger {

namespace {

std::shared_ptr<const Consortium> consortium_of(const Genesis& genesis) {
  auto c = std::make_shared<Consortium>();
  c->chain_id = genesis.chain_id();
  c->validators = genesis.validators;
  c->total_power = genesis.total_power();
  return c;
}

}  // namespace

LedgerState::LedgerState(const Genesis& genesis)
    : consortium_(consortium_of(genesis)), gateways_(genesis.validators.size()) {}

std::set<GatewayId> LedgerState::eviction_requested_by(NodeId node) const {
  auto it = eviction_requests_.find(node);
  return it == eviction_requests_.end() ? std::set<GatewayId>{} : it->second;
}

std::uint64_t LedgerState::eviction_power(NodeId node) const {
  auto it = eviction_requests_.find(node);
  if (it == eviction_requests_.end()) return 0;
  std::uint64_t power = 0;
  for (GatewayId g : it->second) {
    if (const Validator* v = consortium_->find(g)) power += v->power;
  }
  return power;
}

const Commitment* LedgerState::commitment_of(NodeId node) const {
  auto it = commitments_.find(node);
  return it == commitments_.end() ? nullptr : &it->second;
}

std::optional<GatewayId> LedgerState::home_of(NodeId node) const {
  const keys::MemberRecord* member = table_.find_member(node);
  if (member == nullptr) return std::nullopt;
  return table_.find_set(member->set)->owner;
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
  w.u32(static_cast<std::uint32_t>(eviction_requests_.size()));
  for (const auto& [node, by] : eviction_requests_) {
    w.u32(node.value());
    w.u16(static_cast<std::uint16_t>(by.size()));
    for (GatewayId g : by)
      w.u16(g.value());
  }
  // Used ids and commitments, and the refresh history, follow from the applied transactions.
  w.u64(history_.size());
  w.raw(history_chain_);
  return crypto::sha256(bytes);
}

}  // namespace kmchain::ledger
