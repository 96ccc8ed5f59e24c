// KeyWork: this gateway's share of Layer 1 (docs/protocol.md sections 2 and 4). Its custody view
// of the key manager takes every committed transaction with the structural steps the ledger
// decided for it (membership is computed once, by the ledger; the view replays the steps), keeps
// only this gateway's keys, and hands back only the key messages this gateway sends, which go to
// its own devices. The last messages each device was sent are kept for catch-up.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "base/bytes.h"
#include "base/ids.h"
#include "crypto/hash.h"
#include "crypto/random.h"
#include "keys/key_manager.h"
#include "keys/key_source.h"
#include "ledger/contract.h"

namespace kmchain::gateway {

// Messages kept per device for catch-up; a device further behind gets a fresh bundle.
inline constexpr std::size_t kCatchUpMessagesKept = 256;
// A device that lacks more messages than this gets a fresh bundle instead: one message, however
// far behind it is.
inline constexpr std::size_t kCatchUpReplayMax = 64;

// A key message for one of this gateway's devices.
struct DeviceMessage {
  NodeId node;
  Position position;
  Bytes wire;
};

class KeyWork {
 public:
  KeyWork(std::size_t gateways, GatewayId self, keys::KeySource& source, crypto::Rng& nonce_rng);

  // One committed transaction as the ledger applied it. `node_key` is the joining device's when
  // it joined through this gateway (nullopt otherwise). Returns the plan (its messages for this
  // gateway's devices are in messages_for_devices()).
  keys::RekeyPlan apply(const ledger::AppliedTransaction& applied,
                        const std::optional<crypto::Key128>& node_key);
  // The messages of a plan this gateway sends, one per recipient, in delivery order.
  std::vector<DeviceMessage> messages_for_devices(const keys::RekeyPlan& plan) const;

  // A sealed bundle of every key `node` (a member homed here) holds now.
  std::optional<keys::Envelope> bundle_for(NodeId node);
  // Sync mode's early answer (an early bundle, keys/rekey_message.h) for `node`, whose node key
  // is `node_key`: the bundle it would get if the pending transactions became final in this
  // order, from a trial on a copy of the view. `node_key_of` gives this gateway's devices' node
  // keys; nonces come from `rng`.
  std::optional<keys::Envelope> early_bundle(
      NodeId node, const crypto::Key128& node_key, const std::vector<ledger::Transaction>& pending,
      const std::function<std::optional<crypto::Key128>(NodeId)>& node_key_of,
      crypto::Rng& rng) const;

  // Catch-up: what was sent to `node`, kept in order.
  void remember(const DeviceMessage& m);
  // The kept messages at `from` and after, if they reach back that far (nullopt: not kept).
  std::optional<std::vector<Bytes>> kept_since(NodeId node, Position from) const;
  void forget(NodeId node) { sent_.erase(node); }

  const keys::KeyManager& view() const { return view_; }

 private:
  GatewayId self_;
  keys::KeyManager view_;
  std::map<NodeId, std::deque<std::pair<Position, Bytes>>> sent_;
};

// A digest of a key bundle's keys under `node_key`, to compare an early bundle with the final one
// without keeping the keys; nullopt if the envelope is not a bundle that opens under it.
std::optional<crypto::Digest256> bundle_digest(const keys::Envelope& bundle,
                                               const crypto::Key128& node_key);
// The bundle a plan carries for `node`, if any.
const keys::Envelope* find_bundle(const keys::RekeyPlan& plan, NodeId node);

}  // namespace kmchain::gateway
