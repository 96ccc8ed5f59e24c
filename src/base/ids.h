// Identifiers of the protocol's actors and positions, each a type of its own.
#pragma once

#include <cstdint>

#include "base/strong_id.h"

namespace kmchain {

// A device (the paper's "node"). 4 bytes on the wire.
using NodeId = StrongId<struct NodeIdTag, std::uint32_t>;
// A set of devices. 4 bytes on the wire; the top byte is the owning gateway.
using SetId = StrongId<struct SetIdTag, std::uint32_t>;
// A gateway (blockchain participant), by its index in the genesis. Gateways are the ledger's
// validators: this is also the validator index of votes, proposals and certificates.
using GatewayId = StrongId<struct GatewayIdTag, std::uint16_t>;
// The position of a refresh in ledger order: every rekey step takes the next one. Devices
// apply refreshes strictly in this order; position 0 means "no refresh applied yet".
using Position = StrongId<struct PositionTag, std::uint64_t>;

// The ledger's block height: block 1 follows the genesis. 8 bytes on the wire.
using Height = StrongId<struct HeightTag, std::uint64_t>;
// A consensus round within one height (Tendermint), from 0. 4 bytes on the wire.
using Round = StrongId<struct RoundTag, std::uint32_t>;

inline constexpr Position next(Position p) {
  return Position{p.value() + 1};
}

}  // namespace kmchain
