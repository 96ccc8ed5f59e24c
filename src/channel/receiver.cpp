#include "channel/receiver.h"

#include <utility>

namespace kmchain::channel {

Result<Opened, ChannelError> ChannelReceiver::open(ByteView record, const KeyLookup& keys,
                                                   std::uint64_t now_ms) {
  auto parsed = parse_header(record);
  if (!parsed) return Err{parsed.error()};
  const RecordHeader& h = *parsed;
  if (h.receiver != self_) return Err{ChannelError::kNotForMe};

  const DekCandidates candidates = keys(h.sender, h.key_class, now_ms);
  if (candidates.empty()) return Err{ChannelError::kNoKey};

  const ByteView header_bytes = record.first(kRecordHeaderBytes);
  const ByteView sealed = record.subspan(kRecordHeaderBytes);
  const Bytes aad = associated_data(context_, header_bytes);
  const crypto::CcmNonce nonce = record_nonce(h.sender, h.counter);
  Bytes plaintext;
  bool authentic = false;
  for (const DekVersion& version : candidates) {
    if (crypto::aes128_ccm_open(version.key, nonce, aad, sealed, kRecordTag, plaintext)) {
      authentic = true;
      break;
    }
  }
  if (!authentic) return Err{ChannelError::kAuthFailed};

  // The window moves only now, after authentication: a forged counter cannot shift it.
  switch (replay_.check(h.sender, h.counter)) {
    case Freshness::kReplayed:
      return Err{ChannelError::kReplayed};
    case Freshness::kTooOld:
      return Err{ChannelError::kTooOld};
    case Freshness::kFresh:
      break;
  }
  replay_.accept(h.sender, h.counter);
  return Opened{h.sender, h.key_class, h.epoch, h.counter, std::move(plaintext)};
}

}  // namespace kmchain::channel
