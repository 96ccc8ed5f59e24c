#include "gateway/push_queues.h"

#include "keys/rekey_batch.h"

namespace kmchain::gateway {

void PushQueues::push(NodeId node, const Endpoint& to, Bytes wire, std::vector<Action>& out) {
  Queue& queue = queues_[node];
  if (queue.messages.size() >= kPushQueueMax) {
    ++stats_.dropped;
    return;
  }
  queue.messages.push_back(Queued{to, std::move(wire)});
  if (queue.in_flight == 0) send_front(node, out);
}

// Everything queued, up to a batch's bounds; a single message however large.
void PushQueues::send_front(NodeId node, std::vector<Action>& out) {
  Queue& queue = queues_.at(node);
  std::vector<ByteView> batch;
  std::size_t bytes = 0;
  for (const Queued& q : queue.messages) {
    if (!batch.empty() && (batch.size() == keys::kRekeyBatchCountMax ||
                           bytes + q.wire.size() > keys::kRekeyBatchBytesMax)) {
      break;
    }
    batch.push_back(q.wire);
    bytes += q.wire.size();
  }
  queue.in_flight = batch.size();
  ++stats_.pushed;
  stats_.messages += batch.size();
  out.push_back(PushToDevice{node, queue.messages.front().to, keys::encode_batch(batch)});
}

void PushQueues::on_result(NodeId node, bool delivered, std::vector<Action>& out) {
  auto it = queues_.find(node);
  if (it == queues_.end() || it->second.in_flight == 0) return;  // forgotten meanwhile
  Queue& queue = it->second;
  if (!delivered) {
    stats_.dropped += queue.messages.size();
    queues_.erase(it);
    return;
  }
  stats_.delivered += queue.in_flight;
  queue.messages.erase(queue.messages.begin(),
                       queue.messages.begin() + static_cast<std::ptrdiff_t>(queue.in_flight));
  queue.in_flight = 0;
  if (queue.messages.empty()) {
    queues_.erase(it);
    return;
  }
  send_front(node, out);
}

void PushQueues::forget(NodeId node) {
  queues_.erase(node);
}

std::size_t PushQueues::queued() const {
  std::size_t n = 0;
  for (const auto& [node, queue] : queues_)
    n += queue.messages.size();
  return n;
}

}  // namespace kmchain::gateway
