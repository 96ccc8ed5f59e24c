#include "keys/rekey_batch.h"

#include "base/check.h"
#include "codec/byte_reader.h"
#include "codec/byte_writer.h"

namespace kmchain::keys {

const char* to_string(BatchError e) {
  switch (e) {
    case BatchError::kTruncated:
      return "truncated";
    case BatchError::kBadVersion:
      return "bad version";
    case BatchError::kBadCount:
      return "bad count";
    case BatchError::kTrailing:
      return "trailing bytes";
    case BatchError::kTooLarge:
      return "message too large";
  }
  return "unknown batch error";
}

Bytes encode_batch(const std::vector<ByteView>& messages) {
  KMCHAIN_CHECK(!messages.empty() && messages.size() <= kRekeyBatchCountMax);
  Bytes out;
  codec::ByteWriter w(out);
  w.u8(kRekeyBatchVersion);
  w.u8(static_cast<std::uint8_t>(messages.size()));
  for (ByteView m : messages) {
    KMCHAIN_CHECK(m.size() <= kRekeyMessageBytesMax);
    w.u32(static_cast<std::uint32_t>(m.size()));
    w.raw(m);
  }
  return out;
}

Result<std::vector<ByteView>, BatchError> decode_batch(ByteView wire) {
  if (wire.size() < 2) return Err{BatchError::kTruncated};
  if (wire[0] != kRekeyBatchVersion) return Err{BatchError::kBadVersion};
  const std::size_t count = wire[1];
  if (count == 0) return Err{BatchError::kBadCount};
  std::vector<ByteView> out;
  out.reserve(count);
  std::size_t at = 2;
  std::size_t total = 0;
  for (std::size_t i = 0; i < count; ++i) {
    if (wire.size() - at < 4) return Err{BatchError::kTruncated};
    codec::ByteReader r(wire.subspan(at, 4));
    const std::size_t length = r.u32();
    at += 4;
    if (length > kRekeyMessageBytesMax) return Err{BatchError::kTooLarge};
    if (wire.size() - at < length) return Err{BatchError::kTruncated};
    total += length;
    if (count > 1 && total > kRekeyBatchBytesMax) return Err{BatchError::kTooLarge};
    out.push_back(wire.subspan(at, length));
    at += length;
  }
  if (at != wire.size()) return Err{BatchError::kTrailing};
  return out;
}

}  // namespace kmchain::keys
