// Replay windows and the replay state (channel/replay_window.h): the window against a naive
// set of accepted counters, its edges, the bound on senders with least-recently-accepted
// eviction, and the saved form (round trips, documented layout, every malformation refused).
#include "channel/replay_window.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "base/bytes.h"

namespace kmchain::channel {
namespace {

// The naive model: every counter ever accepted, and the window's rule stated directly.
Freshness naive(const std::set<std::uint64_t>& accepted, std::uint64_t counter) {
  if (accepted.empty()) return Freshness::kFresh;
  const std::uint64_t highest = *accepted.rbegin();
  if (counter <= highest && highest - counter >= kReplayWindow) return Freshness::kTooOld;
  return accepted.count(counter) ? Freshness::kReplayed : Freshness::kFresh;
}

TEST(ReplayWindow, EmptyAcceptsAnything) {
  ReplayWindow w;
  EXPECT_TRUE(w.empty());
  for (std::uint64_t c : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{1000}, UINT64_MAX})
    EXPECT_EQ(w.check(c), Freshness::kFresh);
}

TEST(ReplayWindow, EdgesOfTheWindow) {
  ReplayWindow w;
  w.accept(100);
  EXPECT_EQ(w.check(100), Freshness::kReplayed);
  EXPECT_EQ(w.check(101), Freshness::kFresh);
  EXPECT_EQ(w.check(100 - 63), Freshness::kFresh);   // the window's last slot
  EXPECT_EQ(w.check(100 - 64), Freshness::kTooOld);  // just left of it
  EXPECT_EQ(w.check(0), Freshness::kTooOld);
  w.accept(37);
  EXPECT_EQ(w.check(37), Freshness::kReplayed);
  w.accept(100 + 63);  // 37 falls out, 100 stays at the far edge
  EXPECT_EQ(w.check(100), Freshness::kReplayed);
  EXPECT_EQ(w.check(99), Freshness::kTooOld);
  EXPECT_EQ(w.check(101), Freshness::kFresh);
  w.accept(1000);  // a jump past the whole window
  EXPECT_EQ(w.seen(), 1u);
  EXPECT_EQ(w.check(1000 - 63), Freshness::kFresh);
}

TEST(ReplayWindow, LowCountersNearZero) {
  ReplayWindow w;
  w.accept(0);
  EXPECT_EQ(w.check(0), Freshness::kReplayed);
  w.accept(5);
  EXPECT_EQ(w.check(0), Freshness::kReplayed);
  EXPECT_EQ(w.check(3), Freshness::kFresh);
  EXPECT_EQ(w.seen(), 0b100001u);
}

TEST(ReplayWindow, TheLargestCounter) {
  ReplayWindow w;
  w.accept(UINT64_MAX);
  EXPECT_EQ(w.check(UINT64_MAX), Freshness::kReplayed);
  EXPECT_EQ(w.check(UINT64_MAX - 1), Freshness::kFresh);
  EXPECT_EQ(w.check(UINT64_MAX - 64), Freshness::kTooOld);
}

// Any sequence of counters, clustered so reordering, replays and jumps all occur: the window
// answers exactly as the naive model, and accepting what it calls fresh keeps them in step.
RC_GTEST_PROP(ReplayWindowProperty, AgreesWithANaiveSet, ()) {
  ReplayWindow w;
  std::set<std::uint64_t> accepted;
  const auto base = *rc::gen::element<std::uint64_t>(0, 1000, UINT64_MAX - 300);
  const auto steps = *rc::gen::inRange<std::size_t>(0, 300);
  for (std::size_t i = 0; i < steps; ++i) {
    const auto counter = base + *rc::gen::inRange<std::uint64_t>(0, 300);
    const Freshness expected = naive(accepted, counter);
    RC_ASSERT(w.check(counter) == expected);
    if (expected == Freshness::kFresh) {
      w.accept(counter);
      accepted.insert(counter);
    }
  }
}

TEST(ReplayWindow, FromPartsRefusesInconsistentWindows) {
  EXPECT_FALSE(ReplayWindow::from_parts(10, 0).has_value());       // nothing seen, yet a highest
  EXPECT_FALSE(ReplayWindow::from_parts(10, 0b10).has_value());    // highest itself not seen
  EXPECT_FALSE(ReplayWindow::from_parts(3, 0b10001).has_value());  // counter -1 seen
  EXPECT_TRUE(ReplayWindow::from_parts(3, 0b1111).has_value());
  EXPECT_TRUE(ReplayWindow::from_parts(63, UINT64_MAX).has_value());
  EXPECT_FALSE(ReplayWindow::from_parts(62, UINT64_MAX).has_value());
  EXPECT_TRUE(ReplayWindow::from_parts(0, 1).has_value());
}

// ---------------------------------------------------------------------------------------------
// The table of windows

TEST(ReplayState, TracksSendersApart) {
  ReplayState s;
  s.accept(NodeId{1}, 5);
  EXPECT_EQ(s.check(NodeId{1}, 5), Freshness::kReplayed);
  EXPECT_EQ(s.check(NodeId{2}, 5), Freshness::kFresh);
  EXPECT_EQ(s.size(), 1u);
  EXPECT_EQ(s.window(NodeId{2}), nullptr);
  ASSERT_NE(s.window(NodeId{1}), nullptr);
  EXPECT_EQ(s.window(NodeId{1})->highest(), 5u);
}

TEST(ReplayState, EvictsTheLeastRecentlyAcceptedSender) {
  ReplayState s;
  for (std::uint32_t n = 1; n <= kReplaySendersMax; ++n)
    s.accept(NodeId{n}, 10);
  EXPECT_EQ(s.size(), kReplaySendersMax);
  s.accept(NodeId{1}, 11);  // sender 1 is now the most recent; 2 the least
  s.accept(NodeId{100000}, 0);
  EXPECT_EQ(s.size(), kReplaySendersMax);
  EXPECT_EQ(s.window(NodeId{2}), nullptr);
  EXPECT_NE(s.window(NodeId{1}), nullptr);
  EXPECT_NE(s.window(NodeId{3}), nullptr);
  EXPECT_EQ(s.check(NodeId{1}, 10), Freshness::kReplayed);
  s.accept(NodeId{100001}, 0);
  EXPECT_EQ(s.window(NodeId{3}), nullptr);
  EXPECT_EQ(s.size(), kReplaySendersMax);
}

RC_GTEST_PROP(ReplayStateProperty, NeverTracksMoreThanTheBound, ()) {
  ReplayState s;
  const auto steps = *rc::gen::inRange<std::size_t>(0, 2000);
  for (std::size_t i = 0; i < steps; ++i) {
    const NodeId sender{*rc::gen::inRange<std::uint32_t>(0, 400)};
    const auto counter = *rc::gen::inRange<std::uint64_t>(0, 200);
    if (s.check(sender, counter) == Freshness::kFresh) s.accept(sender, counter);
    RC_ASSERT(s.size() <= kReplaySendersMax);
    RC_ASSERT(s.check(sender, counter) != Freshness::kFresh);
  }
}

// ---------------------------------------------------------------------------------------------
// Saved form

ReplayState sample_state() {
  ReplayState s;
  s.accept(NodeId{0x0a}, 3);
  s.accept(NodeId{0x0b}, 0x0102030405060708);
  s.accept(NodeId{0x0a}, 1);
  return s;
}

TEST(ReplayStateSaved, LayoutIsTheDocumentedOne) {
  EXPECT_EQ(to_hex(ReplayState{}.encode()), "010000");
  // Least recently accepted first: 0x0b, then 0x0a (which accepted 1 after 3).
  EXPECT_EQ(to_hex(sample_state().encode()),
            "01"
            "0002"
            "0000000b"
            "0102030405060708"
            "0000000000000001"
            "0000000a"
            "0000000000000003"
            "0000000000000005");  // counters 3 and 1: bits 0 and 2
}

TEST(ReplayStateSaved, RoundTripsWindowsAndRecency) {
  const ReplayState s = sample_state();
  auto back = ReplayState::decode(s.encode());
  ASSERT_TRUE(back.ok()) << to_string(back.error());
  EXPECT_TRUE(*back == s);
  EXPECT_EQ(back->check(NodeId{0x0a}, 1), Freshness::kReplayed);
  EXPECT_EQ(back->check(NodeId{0x0a}, 2), Freshness::kFresh);
  EXPECT_EQ(back->check(NodeId{0x0b}, 0x0102030405060708), Freshness::kReplayed);

  // The recency order survived: with a full table, 0x0b goes first.
  ReplayState full = *back;
  for (std::uint32_t n = 1000; full.size() < kReplaySendersMax; ++n)
    full.accept(NodeId{n}, 0);
  full.accept(NodeId{5000}, 0);
  EXPECT_EQ(full.window(NodeId{0x0b}), nullptr);
  EXPECT_NE(full.window(NodeId{0x0a}), nullptr);
  auto full_back = ReplayState::decode(full.encode());
  ASSERT_TRUE(full_back.ok());
  EXPECT_TRUE(*full_back == full);
}

RC_GTEST_PROP(ReplayStateProperty, RoundTripsAnyState, ()) {
  ReplayState s;
  const auto steps = *rc::gen::inRange<std::size_t>(0, 600);
  for (std::size_t i = 0; i < steps; ++i) {
    const NodeId sender{*rc::gen::inRange<std::uint32_t>(0, 300)};
    const auto counter = *rc::gen::inRange<std::uint64_t>(0, 100);
    if (s.check(sender, counter) == Freshness::kFresh) s.accept(sender, counter);
  }
  const Bytes saved = s.encode();
  auto back = ReplayState::decode(saved);
  RC_ASSERT(back.ok());
  RC_ASSERT(back->encode() == saved);
}

RC_GTEST_PROP(ReplayStateProperty, ArbitraryBytesDecodeCanonicallyOrNotAtAll, ()) {
  const auto bytes = *rc::gen::container<Bytes>(rc::gen::arbitrary<std::uint8_t>());
  auto decoded = ReplayState::decode(bytes);
  if (decoded.ok()) RC_ASSERT(decoded->encode() == bytes);
}

ReplayStateError decode_error(const Bytes& bytes) {
  auto r = ReplayState::decode(bytes);
  EXPECT_FALSE(r.ok());
  return r.ok() ? ReplayStateError{} : r.error();
}

TEST(ReplayStateSaved, EveryTruncationIsRefused) {
  const Bytes saved = sample_state().encode();
  for (std::size_t len = 0; len < saved.size(); ++len) {
    EXPECT_EQ(decode_error(Bytes(saved.begin(), saved.begin() + static_cast<long>(len))),
              ReplayStateError::kTruncated)
        << len;
  }
}

TEST(ReplayStateSaved, MalformedStatesAreRefused) {
  const Bytes saved = sample_state().encode();
  Bytes bad = saved;
  bad[0] = 2;
  EXPECT_EQ(decode_error(bad), ReplayStateError::kBadVersion);

  bad = saved;
  bad.push_back(0);
  EXPECT_EQ(decode_error(bad), ReplayStateError::kMalformed);

  // Count above the bound, whatever follows.
  bad = {1, static_cast<std::uint8_t>((kReplaySendersMax + 1) >> 8),
         static_cast<std::uint8_t>(kReplaySendersMax + 1)};
  EXPECT_EQ(decode_error(bad), ReplayStateError::kTooManySenders);
  EXPECT_EQ(decode_error(Bytes{1, 0xff, 0xff}), ReplayStateError::kTooManySenders);

  // The same sender twice.
  bad = saved;
  for (std::size_t i = 0; i < 4; ++i)
    bad[3 + 20 + i] = bad[3 + i];
  EXPECT_EQ(decode_error(bad), ReplayStateError::kMalformed);

  // A window whose highest counter is not marked seen.
  bad = saved;
  bad[3 + 19] &= 0xfe;
  EXPECT_EQ(decode_error(bad), ReplayStateError::kMalformed);

  // A window marking a counter below zero: highest 3, bit 4 set.
  bad = saved;
  bad[3 + 20 + 4 + 8 + 7] = 0x15;
  EXPECT_EQ(decode_error(bad), ReplayStateError::kMalformed);
}

TEST(ReplayStateErrorNames, EveryErrorHasADistinctName) {
  std::set<std::string> names;
  for (std::uint8_t e = 1; e <= 4; ++e)
    names.insert(to_string(static_cast<ReplayStateError>(e)));
  EXPECT_EQ(names.size(), 4u);
  EXPECT_EQ(names.count("unknown replay state error"), 0u);
}

}  // namespace
}  // namespace kmchain::channel
