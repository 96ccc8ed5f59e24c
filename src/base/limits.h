// Every bound of kmchain in one place, with the reason for it. Anything a peer can grow or
// make us allocate is bounded here.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kmchain::limits {

// Gateways in a consortium. The owner occupies the top byte of a SetId, so at most 256.
inline constexpr std::size_t kGatewaysMax = 256;
// Sets one gateway may open over its lifetime: the low 24 bits of a SetId.
inline constexpr std::uint32_t kSetsPerGatewayMax = 1u << 24;

// Devices in one network. The scheme targets up to a million (sqrt = 1000). At most 2^21: a
// key bundle (2*sqrt(n) + gateways keys) must fit one AES-CCM message, whose 13-byte nonce
// leaves 2 bytes for the length (checked in keys/rekey_message.h).
inline constexpr std::size_t kDevicesMax = 1u << 21;
// Members of one set and sets in one network: ceil(sqrt(kDevicesMax)) = 1449, plus one set
// per gateway and slack. These bound the counts a key bundle may carry.
inline constexpr std::size_t kSetMembersMax = 4096;
inline constexpr std::size_t kSetsMax = 4096;
static_assert(kSetMembersMax * kSetMembersMax >= kDevicesMax);
static_assert(kSetsMax >= 1449 + kGatewaysMax + 1);

// A set may exceed the capacity ceil(sqrt(n)) by this many members before Reorder trims it.
// Capacity shrinks as devices leave; the slack keeps one leave from forcing a move.
inline constexpr std::size_t kSetSlack = 1;

// Layer 2, the ledger. Validators are the gateways (a GatewayId indexes the genesis), so there
// are as many validators as gateways at most. A commit certificate holds one precommit per
// validator, so this also bounds a certificate.
inline constexpr std::size_t kValidatorsMax = kGatewaysMax;
static_assert(kValidatorsMax - 1 <= UINT16_MAX, "a validator index is a u16 GatewayId");

// Sum of the validators' voting powers. Quorum is tested in integers as 3 * power > 2 * total
// (ledger/certificate.h), which must not overflow 64 bits: 3 * 2^62 < 2^64.
inline constexpr std::uint64_t kTotalVotingPowerMax = std::uint64_t{1} << 62;
static_assert(kTotalVotingPowerMax <= UINT64_MAX / 3);

// Transactions in one block. Bounds a block's decoding, Merkle and contract work and the rekey
// plans it triggers (O(sqrt n) sealed messages per join at its gateway), so a block is checked
// and applied well inside one round's timeout. At a block per second that is still 4096
// membership changes per second, far above the churn of a million-device network. The Merkle
// tree over them is at most 12 levels deep.
inline constexpr std::size_t kBlockTransactionsMax = 4096;

// Bytes of one encoded block: what a peer may make us buffer before decoding it. A full block
// (4096 signed leaves of 189 bytes and the header: 774,261 bytes) fits; ledger/block.h checks.
inline constexpr std::size_t kBlockBytesMax = 784 * 1024;

// The genesis' human-readable name (it also tells apart two consortia of the same gateways).
inline constexpr std::size_t kGenesisNameBytesMax = 64;

}  // namespace kmchain::limits
