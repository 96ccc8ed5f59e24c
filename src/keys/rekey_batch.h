// Rekey batches: the key messages a gateway pushes to one device in one request, in delivery
// order, so that a device on a slow link receives everything queued for it in one round trip
// (a gateway keeps one push in flight per device, to keep the order).
//
// Wire format, big-endian:
//   u8  version (1)
//   u8  count n, 1..kRekeyBatchCountMax
//   n × (u32 length, then `length` bytes: one rekey message, rekey_message.h)
// The messages of a batch total at most kRekeyBatchBytesMax bytes unless it holds a single one (a
// bundle of a large network is larger than that, and travels alone); decoding enforces both
// bounds, so a peer's batch costs a device no more than the gateway's own would.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"

namespace kmchain::keys {

inline constexpr std::uint8_t kRekeyBatchVersion = 1;
inline constexpr std::size_t kRekeyBatchCountMax = 255;
inline constexpr std::size_t kRekeyBatchBytesMax = 16 * 1024;
// A single message: its length field must not claim more than any message can be.
inline constexpr std::size_t kRekeyMessageBytesMax = 1u << 20;

enum class BatchError : std::uint8_t {
  kTruncated = 1,   // a length runs past the end, or no room for the header
  kBadVersion = 2,  // unknown version byte
  kBadCount = 3,    // zero messages, or more than the limit
  kTrailing = 4,    // bytes after the last message
  kTooLarge = 5,    // a length above kRekeyMessageBytesMax, or several above kRekeyBatchBytesMax
};
const char* to_string(BatchError e);

// `messages` in order; 1..kRekeyBatchCountMax of them (a local invariant: checked).
Bytes encode_batch(const std::vector<ByteView>& messages);
// Views into `wire`, in order.
Result<std::vector<ByteView>, BatchError> decode_batch(ByteView wire);

}  // namespace kmchain::keys
