#include "device/eavesdropper.h"

#include <algorithm>

#include "channel/receiver.h"

namespace kmchain::device {

void Eavesdropper::keep(const crypto::Key128& key) {
  if (kept_.size() >= kEavesdropperKeysMax) return;
  std::array<std::uint8_t, 16> value{};
  std::copy(key.view().begin(), key.view().end(), value.begin());
  kept_.insert(value);
}

void Eavesdropper::observe(const keys::Keyring& keyring) {
  keep(keyring.node_key());
  if (!keyring.placed()) return;
  keep(*keyring.set_key());
  for (const auto& [peer, key] : keyring.pairwise_node_keys())
    keep(key);
  for (const auto& [set, key] : keyring.pairwise_set_keys())
    keep(key);
}

bool Eavesdropper::holds(const crypto::Key128& key) const {
  std::array<std::uint8_t, 16> value{};
  std::copy(key.view().begin(), key.view().end(), value.begin());
  return kept_.contains(value);
}

bool Eavesdropper::opens(ByteView record, std::uint64_t now_ms) const {
  auto header = channel::parse_header(record);
  if (!header) return false;
  // A fresh receiver for the addressee each time, so that only the key decides.
  for (const auto& value : kept_) {
    const crypto::Key128 key = crypto::Key128::from_view(value);
    channel::ChannelReceiver trial(header->receiver, chain_id_);
    const auto lookup = [&key, &header](NodeId, keys::KeyClass, std::uint64_t) {
      channel::DekCandidates c;
      c.push_back(channel::DekVersion{key, header->epoch});
      return c;
    };
    if (trial.open(record, lookup, now_ms)) return true;
  }
  return false;
}

}  // namespace kmchain::device
