// PushQueues: key messages on their way to this gateway's devices. Each device has its own queue
// and one push in flight at a time, so that messages arrive in ledger order; a push carries
// every message queued when it leaves (a batch, keys/rekey_batch.h), so a device on a slow link
// gets all it lacks in one round trip. The next push leaves when the shell reports the last one
// delivered. A device that does not answer loses what is queued: it asks for catch-up when it
// is back (its periodic check, or the gap the next message shows).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>

#include "base/bytes.h"
#include "base/endpoint.h"
#include "base/ids.h"
#include "gateway/actions.h"

namespace kmchain::gateway {

// Messages queued for one device; a device further behind catches up instead.
inline constexpr std::size_t kPushQueueMax = 256;

struct PushStats {
  std::uint64_t pushed = 0;     // pushes handed to the shell
  std::uint64_t messages = 0;   // messages in them
  std::uint64_t delivered = 0;  // messages acknowledged by the device
  std::uint64_t dropped = 0;    // queued for a device that did not answer, or over the bound
};

class PushQueues {
 public:
  void push(NodeId node, const Endpoint& to, Bytes wire, std::vector<Action>& out);
  // The outcome of the PushToDevice in flight for `node`.
  void on_result(NodeId node, bool delivered, std::vector<Action>& out);
  // The device is gone: nothing more for it.
  void forget(NodeId node);

  std::size_t queued() const;
  const PushStats& stats() const { return stats_; }

 private:
  struct Queued {
    Endpoint to;
    Bytes wire;
  };
  void send_front(NodeId node, std::vector<Action>& out);

  struct Queue {
    std::deque<Queued> messages;  // the first `in_flight` are on their way
    std::size_t in_flight = 0;
  };
  std::map<NodeId, Queue> queues_;
  PushStats stats_;
};

}  // namespace kmchain::gateway
