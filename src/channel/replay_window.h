// Replay protection of a receiver: one sliding window of counters per sender (the IPsec/DTLS
// anti-replay window, RFC 4303 section 3.4.3), and a bounded table of those windows.
//
// A window remembers the highest counter accepted and which of the kReplayWindow counters ending
// there were accepted. A counter above the highest is fresh; one inside the window is fresh
// once; one left of the window is too old. Windows change only through accept(), which the
// receiver calls after a record authenticates, so a forged record cannot move them.
//
// The table tracks at most kReplaySendersMax senders and forgets the least recently accepted
// one to make room. A forgotten sender's window starts over: its records from before the
// eviction could be accepted once more. Only senders the device shares a DEK with ever get a
// window (the receiver asks for a key before it authenticates), so the bound is set above the
// number of peers a device talks to at a time, and a rekey ends the exposure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>

#include "base/bytes.h"
#include "base/ids.h"
#include "base/result.h"

namespace kmchain::channel {

// Counters per window: one bit each in a u64. Records reordered by up to 63 places on the way
// (a multi-hop mesh retransmitting) are still accepted.
inline constexpr std::uint64_t kReplayWindow = 64;
// Senders with a window: 256 windows of 20 bytes each (plus their map nodes) fit a few KiB of
// device RAM, and a device exchanges traffic with far fewer peers at a time.
inline constexpr std::size_t kReplaySendersMax = 256;

enum class Freshness : std::uint8_t { kFresh, kReplayed, kTooOld };

class ReplayWindow {
 public:
  Freshness check(std::uint64_t counter) const;
  // Marks `counter` accepted; it must be fresh.
  void accept(std::uint64_t counter);

  // Nothing accepted yet.
  bool empty() const { return seen_ == 0; }
  std::uint64_t highest() const { return highest_; }
  // Bit i set: counter highest() - i was accepted. Bit 0 is set unless empty().
  std::uint64_t seen() const { return seen_; }

  // A window from saved parts, if they are consistent: bit 0 set, and no bit for a counter
  // below 0.
  static std::optional<ReplayWindow> from_parts(std::uint64_t highest, std::uint64_t seen);

  friend bool operator==(const ReplayWindow&, const ReplayWindow&) = default;

 private:
  std::uint64_t highest_ = 0;
  std::uint64_t seen_ = 0;
};
static_assert(kReplayWindow == 64, "a window is the bits of one u64");

enum class ReplayStateError : std::uint8_t {
  kTruncated = 1,       // ends inside a field
  kBadVersion = 2,      // unknown version byte
  kTooManySenders = 3,  // more windows than kReplaySendersMax
  kMalformed = 4,       // duplicate sender, inconsistent window, or trailing bytes
};
// "truncated", "bad version", "too many senders", "malformed".
const char* to_string(ReplayStateError e);

inline constexpr std::uint8_t kReplayStateVersion = 1;

// Every sender's window, most recently accepted last.
//
// Saved form, big-endian: u8 version (1), u16 count, then count entries of u32 sender,
// u64 highest, u64 seen bits, least recently accepted first (so the order survives a restart).
class ReplayState {
 public:
  // A sender without a window has accepted nothing: every counter is fresh.
  Freshness check(NodeId sender, std::uint64_t counter) const;
  // Marks (sender, counter) accepted and the sender most recently seen, evicting the least
  // recently seen sender when the table is full. The counter must be fresh.
  void accept(NodeId sender, std::uint64_t counter);

  std::size_t size() const { return entries_.size(); }
  const ReplayWindow* window(NodeId sender) const;

  Bytes encode() const;
  static Result<ReplayState, ReplayStateError> decode(ByteView in);

  // Same windows, same recency order.
  friend bool operator==(const ReplayState& a, const ReplayState& b) {
    return a.encode() == b.encode();
  }

 private:
  struct Entry {
    ReplayWindow window;
    std::uint64_t last_accepted = 0;  // tick_ when it last accepted a record
  };

  std::map<NodeId, Entry> entries_;
  std::uint64_t tick_ = 0;
};

}  // namespace kmchain::channel
