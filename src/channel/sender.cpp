#include "channel/sender.h"

#include "base/check.h"

namespace kmchain::channel {

ChannelSender::ChannelSender(NodeId self, const ContextId& context, CounterStore& store)
    : self_(self), context_(context), store_(store) {
  next_ = store_.load();
  reserved_ = next_;
}

Result<Bytes, ChannelError> ChannelSender::seal(NodeId receiver, keys::KeyClass key_class,
                                                std::uint64_t epoch, const crypto::Key128& key,
                                                ByteView plaintext) {
  if (!is_dek_class(key_class)) return Err{ChannelError::kBadKeyClass};
  if (plaintext.size() > kRecordPlaintextMax) return Err{ChannelError::kTooLarge};
  if (next_ > kCounterMax) return Err{ChannelError::kCounterExhausted};

  // Persist ahead of use: the counter is durably below the high-water mark before any record
  // carrying it exists, so a reboot can never hand it out again.
  if (next_ >= reserved_) {
    const std::uint64_t room = UINT64_MAX - next_;
    const std::uint64_t up_to = next_ + (room < kCounterReserveBlock ? room : kCounterReserveBlock);
    store_.reserve(up_to);
    reserved_ = up_to;
  }
  KMCHAIN_CHECK(next_ < reserved_);
  const std::uint64_t counter = next_++;

  const RecordHeader header{Purpose::kApplicationData, key_class, self_, receiver, epoch, counter};
  Bytes record;
  record.reserve(kRecordHeaderBytes + plaintext.size() + kRecordTagBytes);
  encode_header(header, record);
  const Bytes aad = associated_data(context_, record);
  crypto::aes128_ccm_seal(key, record_nonce(self_, counter), aad, plaintext, kRecordTag, record);
  return record;
}

}  // namespace kmchain::channel
