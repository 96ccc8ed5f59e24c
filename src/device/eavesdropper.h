// Eavesdropper: what a device that left, or was evicted, could still read with the keys it kept.
// It is the attacker of the forward-secrecy checks, never part of a device: the demo runs it
// beside the devices it will remove (`kmchain device --eavesdrop`), the system simulator beside
// every device. It keeps a copy of every key value the device held (the device itself keeps
// none past its grace period) and tries each on records addressed to other devices.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <set>

#include "base/bytes.h"
#include "channel/record.h"
#include "keys/keyring.h"

namespace kmchain::device {

// Key values kept: more than a device of the largest network holds over a long run.
inline constexpr std::size_t kEavesdropperKeysMax = 1u << 16;

class Eavesdropper {
 public:
  explicit Eavesdropper(const channel::ContextId& chain_id) : chain_id_(chain_id) {}

  // Copies every key the keyring holds now (node key, set key, pairwise keys).
  void observe(const keys::Keyring& keyring);
  // Whether any kept key opens `record` (as its addressee would open it).
  bool opens(ByteView record, std::uint64_t now_ms) const;
  // Whether `key` is among the kept ones (what opens() finds out by trying, when the key a
  // record was sealed under is known).
  bool holds(const crypto::Key128& key) const;
  std::size_t keys_kept() const { return kept_.size(); }

 private:
  void keep(const crypto::Key128& key);

  channel::ContextId chain_id_;
  std::set<std::array<std::uint8_t, 16>> kept_;
};

}  // namespace kmchain::device
