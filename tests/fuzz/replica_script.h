// fuzz_replica's scripts (the format is described there) run against a replica, with the
// timeout bookkeeping they need. make_consensus_corpus writes scripts in this format and
// replays them with the same code, so the two cannot drift apart.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <tuple>
#include <variant>
#include <vector>

#include "base/bytes.h"
#include "base/ids.h"
#include "consensus/replica.h"
#include "fuzz_assert.h"

namespace kmchain::fuzz {

// A script starts one second after the fixed consortium's genesis time (ledger_fuzz_fixture.h).
inline constexpr std::uint64_t kScriptStartMs = 1700000000000 + 1000;
// A message operation t (t < 0xf0) first advances the clock by (t >> 2) units.
inline constexpr std::uint64_t kAdvanceUnitMs = 50;
inline constexpr std::uint64_t kAdvanceMaxUnits = 0xef >> 2;
// At most this many timeouts are kept pending; beyond that the earliest is forgotten.
inline constexpr std::size_t kPendingMax = 64;

struct Pending {
  std::uint64_t at_ms;
  std::uint64_t seq;
  consensus::TimeoutIn timeout;
};

// The timeouts a replica has scheduled and not yet seen fired, earliest first (ties in the
// order they were scheduled).
class PendingTimeouts {
 public:
  void add(const consensus::Schedule& s) {
    const Pending p{s.at_ms, seq_++, s.timeout};
    pending_.insert(std::upper_bound(pending_.begin(), pending_.end(), p, earlier), p);
    if (pending_.size() > kPendingMax) pending_.erase(pending_.begin());
  }
  // Adds every timeout `actions` schedule, in order.
  void add_all(const std::vector<consensus::Action>& actions) {
    for (const consensus::Action& a : actions) {
      if (const auto* s = std::get_if<consensus::Schedule>(&a)) add(*s);
    }
  }

  bool empty() const { return pending_.empty(); }
  const Pending& earliest() const { return pending_.front(); }

  // Removes and returns the (k mod their count)-th earliest; nullopt if none is pending.
  std::optional<Pending> take(std::size_t k) {
    if (pending_.empty()) return std::nullopt;
    const auto at = pending_.begin() + static_cast<std::ptrdiff_t>(k % pending_.size());
    const Pending fired = *at;
    pending_.erase(at);
    return fired;
  }

 private:
  static bool earlier(const Pending& a, const Pending& b) {
    return std::tie(a.at_ms, a.seq) < std::tie(b.at_ms, b.seq);
  }

  std::vector<Pending> pending_;
  std::uint64_t seq_ = 0;
};

// Runs `script` against `replica`, not started yet: starts it at kScriptStartMs with no WAL
// record, then performs the script's operations in order (a message the script's end cuts short
// is delivered as far as it goes). seen(actions) gets what the start and each operation return.
template <typename Seen>
void run_script(consensus::Replica& replica, ByteView script, Seen&& seen) {
  PendingTimeouts pending;
  std::vector<consensus::Action> out;
  std::uint64_t now = kScriptStartMs;
  KMCHAIN_FUZZ_ASSERT(replica.start(std::nullopt, now, out).ok());
  seen(out);
  pending.add_all(out);

  std::size_t at = 0;
  while (at < script.size()) {
    const std::uint8_t t = script[at++];
    out.clear();
    if (t >= 0xf0) {
      const std::optional<Pending> fired = pending.take(t & 0x0fu);
      if (!fired) continue;
      now = std::max(now, fired->at_ms);
      replica.on_timeout(fired->timeout, now, out);
    } else {
      const GatewayId from{static_cast<std::uint16_t>(t & 3u)};
      now += static_cast<std::uint64_t>(t >> 2u) * kAdvanceUnitMs;
      std::size_t length = 0;
      if (at < script.size()) length = std::size_t{script[at++]} << 8;
      if (at < script.size()) length |= script[at++];
      length = std::min(length, script.size() - at);
      replica.on_message(from, script.subspan(at, length), now, out);
      at += length;
    }
    seen(out);
    pending.add_all(out);
  }
}

}  // namespace kmchain::fuzz
