#include "channel/record.h"

#include "base/check.h"
#include "codec/byte_reader.h"
#include "codec/byte_writer.h"

namespace kmchain::channel {

const char* to_string(ChannelError e) {
  switch (e) {
    case ChannelError::kTruncated:
      return "truncated";
    case ChannelError::kBadVersion:
      return "bad version";
    case ChannelError::kUnknownPurpose:
      return "unknown purpose";
    case ChannelError::kBadKeyClass:
      return "bad key class";
    case ChannelError::kNotForMe:
      return "not for this device";
    case ChannelError::kNoKey:
      return "no key for sender";
    case ChannelError::kAuthFailed:
      return "authentication failed";
    case ChannelError::kReplayed:
      return "replayed";
    case ChannelError::kTooOld:
      return "too old";
    case ChannelError::kTooLarge:
      return "too large";
    case ChannelError::kCounterExhausted:
      return "counter exhausted";
  }
  return "unknown channel error";
}

bool is_dek_class(keys::KeyClass key_class) {
  return key_class == keys::KeyClass::kPairwiseNodeKey ||
         key_class == keys::KeyClass::kPairwiseSetKey;
}

void encode_header(const RecordHeader& header, Bytes& out) {
  codec::ByteWriter w(out);
  w.u8(kRecordVersion);
  w.u8(static_cast<std::uint8_t>(header.purpose));
  w.u8(static_cast<std::uint8_t>(header.key_class));
  w.u32(header.sender.value());
  w.u32(header.receiver.value());
  w.u64(header.epoch);
  w.u64(header.counter);
}

Result<RecordHeader, ChannelError> parse_header(ByteView record) {
  if (record.size() > kRecordBytesMax) return Err{ChannelError::kTooLarge};
  if (record.size() < kRecordBytesMin) return Err{ChannelError::kTruncated};
  codec::ByteReader r(record);
  if (r.u8() != kRecordVersion) return Err{ChannelError::kBadVersion};
  const std::uint8_t purpose = r.u8();
  if (purpose != static_cast<std::uint8_t>(Purpose::kApplicationData)) {
    return Err{ChannelError::kUnknownPurpose};
  }
  const auto key_class = static_cast<keys::KeyClass>(r.u8());
  if (!is_dek_class(key_class)) return Err{ChannelError::kBadKeyClass};
  RecordHeader h;
  h.purpose = static_cast<Purpose>(purpose);
  h.key_class = key_class;
  h.sender = NodeId{r.u32()};
  h.receiver = NodeId{r.u32()};
  h.epoch = r.u64();
  h.counter = r.u64();
  // The length was checked above: the header is all there.
  KMCHAIN_CHECK(r.ok());
  return h;
}

crypto::CcmNonce record_nonce(NodeId sender, std::uint64_t counter) {
  crypto::CcmNonce nonce{};
  for (std::size_t i = 0; i < 4; ++i)
    nonce[i] = static_cast<std::uint8_t>(sender.value() >> (8 * (3 - i)));
  for (std::size_t i = 0; i < 8; ++i)
    nonce[4 + i] = static_cast<std::uint8_t>(counter >> (8 * (7 - i)));
  // nonce[12] stays 0: the records' share of the nonce space (record.h).
  return nonce;
}

Bytes associated_data(const ContextId& context, ByteView header_bytes) {
  Bytes aad;
  aad.reserve(kRecordDomain.size() + context.size() + header_bytes.size());
  codec::ByteWriter w(aad);
  w.raw(as_bytes(kRecordDomain));
  w.raw(context);
  w.raw(header_bytes);
  return aad;
}

}  // namespace kmchain::channel
