// EventQueue: a simulator's agenda. Events leave in time order, and events of the same time in
// the order they were pushed, so that a run is a function of its seed alone.
#pragma once

#include <cstdint>
#include <queue>
#include <utility>
#include <vector>

namespace kmchain::sim {

template <class Event>
class EventQueue {
 public:
  void push(std::uint64_t at_ms, Event event) {
    queue_.push(Entry{at_ms, ++seq_, std::move(event)});
  }
  bool empty() const { return queue_.empty(); }
  std::uint64_t next_ms() const { return queue_.top().at_ms; }
  // The next event and its time.
  std::pair<std::uint64_t, Event> pop() {
    Entry e = queue_.top();
    queue_.pop();
    return {e.at_ms, std::move(e.event)};
  }

 private:
  struct Entry {
    std::uint64_t at_ms;
    std::uint64_t seq;
    Event event;
  };
  struct Later {
    bool operator()(const Entry& a, const Entry& b) const {
      return a.at_ms != b.at_ms ? a.at_ms > b.at_ms : a.seq > b.seq;
    }
  };
  std::priority_queue<Entry, std::vector<Entry>, Later> queue_;
  std::uint64_t seq_ = 0;
};

}  // namespace kmchain::sim
