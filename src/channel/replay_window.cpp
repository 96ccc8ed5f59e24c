#include "channel/replay_window.h"

#include <algorithm>
#include <vector>

#include "base/check.h"
#include "codec/byte_reader.h"
#include "codec/byte_writer.h"

namespace kmchain::channel {

Freshness ReplayWindow::check(std::uint64_t counter) const {
  if (empty() || counter > highest_) return Freshness::kFresh;
  const std::uint64_t behind = highest_ - counter;
  if (behind >= kReplayWindow) return Freshness::kTooOld;
  return (seen_ >> behind) & 1u ? Freshness::kReplayed : Freshness::kFresh;
}

void ReplayWindow::accept(std::uint64_t counter) {
  KMCHAIN_CHECK(check(counter) == Freshness::kFresh);
  if (empty()) {
    highest_ = counter;
    seen_ = 1;
  } else if (counter > highest_) {
    const std::uint64_t ahead = counter - highest_;
    // A jump of a whole window or more leaves only the new counter inside it.
    seen_ = ahead >= kReplayWindow ? 1 : (seen_ << ahead) | 1u;
    highest_ = counter;
  } else {
    seen_ |= std::uint64_t{1} << (highest_ - counter);
  }
}

std::optional<ReplayWindow> ReplayWindow::from_parts(std::uint64_t highest, std::uint64_t seen) {
  if ((seen & 1u) == 0) return std::nullopt;
  // Bit i stands for counter highest - i, which must not be negative.
  if (highest < kReplayWindow - 1 && (seen >> (highest + 1)) != 0) return std::nullopt;
  ReplayWindow w;
  w.highest_ = highest;
  w.seen_ = seen;
  return w;
}

const char* to_string(ReplayStateError e) {
  switch (e) {
    case ReplayStateError::kTruncated:
      return "truncated";
    case ReplayStateError::kBadVersion:
      return "bad version";
    case ReplayStateError::kTooManySenders:
      return "too many senders";
    case ReplayStateError::kMalformed:
      return "malformed";
  }
  return "unknown replay state error";
}

Freshness ReplayState::check(NodeId sender, std::uint64_t counter) const {
  const auto it = entries_.find(sender);
  return it == entries_.end() ? Freshness::kFresh : it->second.window.check(counter);
}

void ReplayState::accept(NodeId sender, std::uint64_t counter) {
  auto it = entries_.find(sender);
  if (it == entries_.end()) {
    if (entries_.size() >= kReplaySendersMax) {
      const auto oldest =
          std::min_element(entries_.begin(), entries_.end(), [](const auto& a, const auto& b) {
            return a.second.last_accepted < b.second.last_accepted;
          });
      entries_.erase(oldest);
    }
    it = entries_.emplace(sender, Entry{}).first;
  }
  it->second.window.accept(counter);
  it->second.last_accepted = ++tick_;
}

const ReplayWindow* ReplayState::window(NodeId sender) const {
  const auto it = entries_.find(sender);
  return it == entries_.end() ? nullptr : &it->second.window;
}

namespace {
constexpr std::size_t kEntryBytes = 4 + 8 + 8;
}  // namespace

Bytes ReplayState::encode() const {
  // Least recently accepted first; ticks are unique, so the order is total.
  std::vector<const std::map<NodeId, Entry>::value_type*> by_recency;
  by_recency.reserve(entries_.size());
  for (const auto& sender_entry : entries_)
    by_recency.push_back(&sender_entry);
  std::sort(by_recency.begin(), by_recency.end(), [](const auto* a, const auto* b) {
    return a->second.last_accepted < b->second.last_accepted;
  });

  Bytes out;
  out.reserve(1 + 2 + kEntryBytes * entries_.size());
  codec::ByteWriter w(out);
  w.u8(kReplayStateVersion);
  w.u16(static_cast<std::uint16_t>(entries_.size()));
  for (const auto* sender_entry : by_recency) {
    const ReplayWindow& window = sender_entry->second.window;
    w.u32(sender_entry->first.value());
    w.u64(window.highest());
    w.u64(window.seen());
  }
  return out;
}

Result<ReplayState, ReplayStateError> ReplayState::decode(ByteView in) {
  codec::ByteReader r(in);
  const std::uint8_t version = r.u8();
  const std::size_t count = r.u16();
  if (!r.ok()) return Err{ReplayStateError::kTruncated};
  if (version != kReplayStateVersion) return Err{ReplayStateError::kBadVersion};
  if (count > kReplaySendersMax) return Err{ReplayStateError::kTooManySenders};
  if (r.remaining() < count * kEntryBytes) return Err{ReplayStateError::kTruncated};

  ReplayState state;
  for (std::size_t i = 0; i < count; ++i) {
    const NodeId sender{r.u32()};
    const std::uint64_t highest = r.u64();
    const std::uint64_t seen = r.u64();
    const auto window = ReplayWindow::from_parts(highest, seen);
    if (!window) return Err{ReplayStateError::kMalformed};
    // Saved least recent first: ticks 1..count restore the order.
    const bool inserted = state.entries_.emplace(sender, Entry{*window, ++state.tick_}).second;
    if (!inserted) return Err{ReplayStateError::kMalformed};
  }
  if (!r.at_end()) return Err{ReplayStateError::kMalformed};
  return state;
}

}  // namespace kmchain::channel
