// Helpers for the contract and mempool suites: node ids in a gateway's range, device commitments
// that are real code keys (so a leave can carry the device's consent), and join and removal
// transactions built from a ledger state the way a gateway builds them, signed as a gateway
// would sign them.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <optional>

#include "ledger/contract.h"
#include "ledger/ledger_state.h"
#include "ledger/signed_transaction.h"
#include "ledger_fixture.h"

namespace kmchain::ledger::fixture {

inline NodeId node_of(std::uint16_t gateway, std::uint32_t counter) {
  return NodeId{(static_cast<std::uint32_t>(gateway) << 24) | counter};
}

// Device n's code key: seed n (big-endian) || 0xc0..., and the commitment it makes.
inline crypto::Ed25519KeyPair device_key_of_number(std::uint32_t n) {
  std::array<std::uint8_t, 32> seed{};
  for (std::size_t i = 0; i < 4; ++i)
    seed[i] = static_cast<std::uint8_t>(n >> (24 - 8 * i));
  seed[31] = 0xc0;
  return crypto::Ed25519KeyPair::from_seed(
      crypto::Secret256(std::span<const std::uint8_t, 32>(seed)));
}

// The device keys behind the commitments the fixture made, to sign a leave's consent.
inline std::map<Commitment, crypto::Ed25519KeyPair>& device_keys() {
  static std::map<Commitment, crypto::Ed25519KeyPair> keys;
  return keys;
}

// A distinct commitment per n: device n's public key.
inline Commitment commitment_of_number(std::uint32_t n) {
  const crypto::Ed25519KeyPair key = device_key_of_number(n);
  device_keys().insert_or_assign(key.public_key(), key);
  return key.public_key();
}

inline crypto::Key128 refresh_key_of(std::uint8_t seed) {
  crypto::Key128 k;
  k.mutable_view()[0] = seed;
  return k;
}

// A join with the set Assignment gives in `state` for the node's gateway.
inline Transaction join_tx(const LedgerState& state, NodeId node, std::uint32_t c) {
  auto placement = state.table().assign(origin_of(node));
  EXPECT_TRUE(placement.ok());
  return Transaction{Operation::kJoin, node, placement ? placement->set : SetId{},
                     commitment_of_number(c), refresh_key_of(1)};
}

// A leave or eviction matching the member's record in `state`.
inline Transaction removal_tx(const LedgerState& state, NodeId node, Operation op) {
  const auto* member = state.table().find_member(node);
  EXPECT_NE(member, nullptr);
  const Commitment* c = state.commitment_of(node);
  EXPECT_NE(c, nullptr);
  return Transaction{op, node, member ? member->set : SetId{}, c ? *c : Commitment{},
                     refresh_key_of(2)};
}

// A move of a member to gateway `to`, with the set Assignment gives for it in `state`.
inline Transaction move_tx(const LedgerState& state, NodeId node, GatewayId to) {
  auto placement = state.table().assign_move(node, to);
  EXPECT_TRUE(placement.ok());
  const Commitment* c = state.commitment_of(node);
  EXPECT_NE(c, nullptr);
  return Transaction{Operation::kMove, node, placement ? placement->set : SetId{},
                     c ? *c : Commitment{}, refresh_key_of(3)};
}

// The device's consent to move as tx.node to `to` from its placement in `state`.
inline std::optional<crypto::Ed25519Signature> move_consent_for(const LedgerState& state,
                                                                const Transaction& tx,
                                                                GatewayId to) {
  auto it = device_keys().find(tx.commitment);
  const auto* member = state.table().find_member(tx.node);
  if (it == device_keys().end() || member == nullptr) return std::nullopt;
  return it->second.sign(
      move_consent_bytes(state.consortium().chain_id, tx.node, to, member->placed_at));
}

// The device's consent to leave as tx.node, if the fixture made its commitment.
inline std::optional<crypto::Ed25519Signature> consent_for(const LedgerState& state,
                                                           const Transaction& tx) {
  auto it = device_keys().find(tx.commitment);
  if (it == device_keys().end()) return std::nullopt;
  return it->second.sign(leave_consent_bytes(state.consortium().chain_id, tx.node));
}

// `tx` signed by gateway `submitter` for the state's consortium; a leave or a move with its
// device's consent.
inline SignedTransaction signed_as(const LedgerState& state, const Transaction& tx,
                                   GatewayId submitter) {
  std::optional<crypto::Ed25519Signature> consent;
  if (tx.op == Operation::kLeave) consent = consent_for(state, tx);
  if (tx.op == Operation::kMove) consent = move_consent_for(state, tx, submitter);
  return sign_transaction(validator_key(submitter.value()), state.consortium().chain_id, submitter,
                          tx, consent);
}

// `tx` as its node's home gateway submits it: the gateway of its range for a join, the owner
// of its set for a member.
inline SignedTransaction from_home(const LedgerState& state, const Transaction& tx) {
  return signed_as(state, tx, state.home_of(tx.node).value_or(origin_of(tx.node)));
}

// A state of `gateways` gateways of power 1 (make_genesis).
inline LedgerState state_of(std::size_t gateways) {
  return LedgerState(make_genesis(std::vector<std::uint64_t>(gateways, 1)));
}

}  // namespace kmchain::ledger::fixture
