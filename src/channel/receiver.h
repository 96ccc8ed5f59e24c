// ChannelReceiver: opens records (channel/record.h) addressed to this device.
//
// open() checks, in order: size, version, purpose, key class (kTooLarge, kTruncated,
// kBadVersion, kUnknownPurpose, kBadKeyClass), that the record is for this device (kNotForMe),
// that a DEK is shared with the sender under that class (kNoKey), authenticity under the DEK's
// candidate versions (kAuthFailed), and only then the sender's replay window (kReplayed,
// kTooOld). A refused record changes nothing; an accepted one marks its counter in the window.
//
// The replay state is what a device saves to survive a restart (replay_state().encode(), then
// ReplayState::decode at boot). Records accepted after the last save can be accepted again after
// a restart, so a device that acts on a record irreversibly saves the state first.
#pragma once

#include <cstdint>
#include <functional>
#include <utility>

#include "base/bytes.h"
#include "base/ids.h"
#include "base/result.h"
#include "channel/dek_history.h"
#include "channel/record.h"
#include "channel/replay_window.h"
#include "keys/key_id.h"

namespace kmchain::channel {

// The versions of the DEK this device shares with `sender` under `key_class` that may open a
// record at now_ms, in the order to try them; empty when it shares none. Typically
// DekHistory::candidates of KeyId::pairwise_node_key(self, sender) or of
// KeyId::pairwise_set_key(own set, sender's set).
using KeyLookup =
    std::function<DekCandidates(NodeId sender, keys::KeyClass key_class, std::uint64_t now_ms)>;

struct Opened {
  NodeId sender;
  keys::KeyClass key_class = keys::KeyClass::kPairwiseNodeKey;
  std::uint64_t epoch = 0;
  std::uint64_t counter = 0;
  Bytes plaintext;
};

class ChannelReceiver {
 public:
  ChannelReceiver(NodeId self, const ContextId& context, ReplayState state = {})
      : self_(self), context_(context), replay_(std::move(state)) {}

  Result<Opened, ChannelError> open(ByteView record, const KeyLookup& keys, std::uint64_t now_ms);

  NodeId self() const { return self_; }
  const ReplayState& replay_state() const { return replay_; }

 private:
  NodeId self_;
  ContextId context_;
  ReplayState replay_;
};

}  // namespace kmchain::channel
