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

}  // namespace kmchain::limits
