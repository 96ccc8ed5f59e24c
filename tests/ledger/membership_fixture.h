// Helpers for the contract and mempool suites: node ids in a gateway's range, and join and
// removal transactions built from a ledger state the way a gateway builds them.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>

#include "ledger/contract.h"
#include "ledger/ledger_state.h"

namespace kmchain::ledger::fixture {

inline NodeId node_of(std::uint16_t gateway, std::uint32_t counter) {
  return NodeId{(static_cast<std::uint32_t>(gateway) << 24) | counter};
}

// A distinct commitment per n.
inline Commitment commitment_of_number(std::uint32_t n) {
  Commitment c{};
  for (std::size_t i = 0; i < 4; ++i)
    c[i] = static_cast<std::uint8_t>(n >> (24 - 8 * i));
  c[31] = 0xc0;
  return c;
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

}  // namespace kmchain::ledger::fixture
