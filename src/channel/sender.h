// ChannelSender: seals records (channel/record.h) with one counter per device across all of its
// keys. A counter is never used twice, across reboots included: the sender reserves counters in
// blocks through a CounterStore whose reserve() is durable on return, before using any of them
// ("persist ahead of use", docs/protocol.md section 5). After a restart it continues from the
// reserved high-water mark, skipping whatever the previous run reserved but did not use.
#pragma once

#include <cstdint>

#include "base/bytes.h"
#include "base/ids.h"
#include "base/result.h"
#include "channel/record.h"
#include "crypto/secret.h"
#include "keys/key_id.h"

namespace kmchain::channel {

// Counters reserved per write of the CounterStore: one durable write per 1024 records, and at
// most 1024 counters skipped per reboot (2^64 counters last forever either way).
inline constexpr std::uint64_t kCounterReserveBlock = 1024;

// The largest counter a record may carry is UINT64_MAX - 1: the high-water mark after using it,
// UINT64_MAX, must still be representable. Sending past it would wrap the counter and reuse
// nonces, so the sender refuses (kCounterExhausted) and the device needs a new identity.
inline constexpr std::uint64_t kCounterMax = UINT64_MAX - 1;

// The sender's durable counter, implemented by the shell (a file or flash cell). The high-water
// mark is the first counter that was never reserved: every counter used so far is below it.
class CounterStore {
 public:
  virtual ~CounterStore() = default;
  // The high-water mark last reserved; 0 on a device that never sent.
  virtual std::uint64_t load() = 0;
  // Raises the high-water mark to `up_to`; durable when it returns.
  virtual void reserve(std::uint64_t up_to) = 0;
};

class ChannelSender {
 public:
  // Reads the high-water mark once: this run's first counter.
  ChannelSender(NodeId self, const ContextId& context, CounterStore& store);
  ChannelSender(const ChannelSender&) = delete;
  ChannelSender& operator=(const ChannelSender&) = delete;

  // Seals `plaintext` for `receiver` under `key`, the version of the DEK of class `key_class`
  // that the sender's keyring took at position `epoch`. Refuses a KEK class (kBadKeyClass), a
  // plaintext above kRecordPlaintextMax (kTooLarge) and a wrapping counter (kCounterExhausted);
  // a refused seal uses no counter.
  Result<Bytes, ChannelError> seal(NodeId receiver, keys::KeyClass key_class, std::uint64_t epoch,
                                   const crypto::Key128& key, ByteView plaintext);

  NodeId self() const { return self_; }
  // The counter the next record will carry.
  std::uint64_t next_counter() const { return next_; }
  // The high-water mark this sender has made durable.
  std::uint64_t reserved() const { return reserved_; }

 private:
  NodeId self_;
  ContextId context_;
  CounterStore& store_;
  std::uint64_t next_;
  std::uint64_t reserved_;
};

}  // namespace kmchain::channel
