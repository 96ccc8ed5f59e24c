// The channel end to end (sender.h, receiver.h): round trips under both DEK classes; every
// single-byte corruption and every truncation of a record refused with the receiver's state
// unchanged; wrong receiver, context, key; replay and reordering; the grace period across a
// rekey; a forged high counter that must not move the window; the replay state across a
// receiver restart.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cstddef>
#include <cstdint>
#include <set>
#include <vector>

#include "channel/receiver.h"
#include "channel/sender.h"
#include "channel_fixture.h"

namespace kmchain::channel {
namespace {

using namespace fixture;

void expect_refused(const Result<Opened, ChannelError>& r, ChannelError e) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), e) << to_string(r.error()) << " instead of " << to_string(e);
}

// ---------------------------------------------------------------------------------------------
// Round trips

TEST(ChannelRoundTrip, PairwiseNodeKey) {
  Pair p;
  const Bytes plaintext = text(40);
  const Bytes record = p.seal_to_bob(plaintext);
  ASSERT_EQ(record.size(), kRecordHeaderBytes + 40 + kRecordTagBytes);
  auto opened = p.bob_opens(record);
  ASSERT_TRUE(opened.ok()) << to_string(opened.error());
  EXPECT_EQ(opened->sender, kAlice);
  EXPECT_EQ(opened->key_class, KeyClass::kPairwiseNodeKey);
  EXPECT_EQ(opened->epoch, kEpoch);
  EXPECT_EQ(opened->counter, 0u);
  EXPECT_EQ(opened->plaintext, plaintext);
}

TEST(ChannelRoundTrip, PairwiseSetKey) {
  Pair p;
  const Bytes plaintext = text(17, 0x90);
  (void)p.seal_to_bob(text(1));  // the counter is shared across keys
  const Bytes record = p.seal_to_carol(plaintext);
  auto opened = p.carol_opens(record);
  ASSERT_TRUE(opened.ok()) << to_string(opened.error());
  EXPECT_EQ(opened->sender, kAlice);
  EXPECT_EQ(opened->key_class, KeyClass::kPairwiseSetKey);
  EXPECT_EQ(opened->epoch, kEpoch);
  EXPECT_EQ(opened->counter, 1u);
  EXPECT_EQ(opened->plaintext, plaintext);
}

TEST(ChannelRoundTrip, EmptyAndLargestPlaintexts) {
  Pair p;
  auto empty = p.bob_opens(p.seal_to_bob({}));
  ASSERT_TRUE(empty.ok()) << to_string(empty.error());
  EXPECT_TRUE(empty->plaintext.empty());
  const Bytes largest = text(kRecordPlaintextMax);
  auto big = p.bob_opens(p.seal_to_bob(largest));
  ASSERT_TRUE(big.ok()) << to_string(big.error());
  EXPECT_EQ(big->plaintext, largest);
}

TEST(ChannelRoundTrip, ManyRecordsInOrder) {
  Pair p;
  for (std::uint64_t i = 0; i < 300; ++i) {
    auto opened = p.bob_opens(p.seal_to_bob(text(8, static_cast<std::uint8_t>(i))));
    ASSERT_TRUE(opened.ok()) << i << ": " << to_string(opened.error());
    EXPECT_EQ(opened->counter, i);
  }
}

// ---------------------------------------------------------------------------------------------
// Refusals that must leave the receiver as it was

TEST(ChannelRefusal, EverySingleByteCorruptionIsRefusedAndChangesNothing) {
  for (bool to_set : {false, true}) {
    SCOPED_TRACE(to_set ? "pairwise set key" : "pairwise node key");
    Pair p;
    // Some history first, so the window has something to lose.
    for (int i = 0; i < 3; ++i) {
      auto r =
          to_set ? p.carol_opens(p.seal_to_carol(text(5))) : p.bob_opens(p.seal_to_bob(text(5)));
      ASSERT_TRUE(r.ok());
    }
    const Bytes record = to_set ? p.seal_to_carol(text(12)) : p.seal_to_bob(text(12));
    const ChannelReceiver& receiver = to_set ? p.carol : p.bob;
    const Bytes before = receiver.replay_state().encode();
    for (std::size_t i = 0; i < record.size(); ++i) {
      for (int delta = 1; delta < 256; ++delta) {
        Bytes bad = record;
        bad[i] = static_cast<std::uint8_t>(bad[i] ^ delta);
        auto r = to_set ? p.carol_opens(bad) : p.bob_opens(bad);
        ASSERT_FALSE(r.ok()) << "byte " << i << " xor " << delta;
        ASSERT_EQ(receiver.replay_state().encode(), before) << "byte " << i << " xor " << delta;
      }
    }
    // The genuine record still opens.
    auto r = to_set ? p.carol_opens(record) : p.bob_opens(record);
    ASSERT_TRUE(r.ok()) << to_string(r.error());
  }
}

TEST(ChannelRefusal, HeaderCorruptionsHaveTheirTypedErrors) {
  Pair p;
  const Bytes record = p.seal_to_bob(text(12));
  auto with = [&](std::size_t i, std::uint8_t v) {
    Bytes bad = record;
    bad[i] = v;
    return p.bob_opens(bad);
  };
  expect_refused(with(0, 2), ChannelError::kBadVersion);
  expect_refused(with(1, 2), ChannelError::kUnknownPurpose);
  expect_refused(with(2, 1), ChannelError::kBadKeyClass);
  expect_refused(with(2, 2), ChannelError::kBadKeyClass);
  expect_refused(with(10, 0x03), ChannelError::kNotForMe);  // receiver's last byte
  // Bob shares no pairwise set key with a member of his own set.
  expect_refused(with(2, 4), ChannelError::kNoKey);
  expect_refused(with(6, 0x05), ChannelError::kNoKey);        // a sender Bob has no key with
  expect_refused(with(18, 0x08), ChannelError::kAuthFailed);  // epoch
  expect_refused(with(26, 0x01), ChannelError::kAuthFailed);  // counter
  expect_refused(with(27, static_cast<std::uint8_t>(record[27] ^ 1)), ChannelError::kAuthFailed);
}

TEST(ChannelRefusal, EveryTruncationIsRefusedAndChangesNothing) {
  Pair p;
  ASSERT_TRUE(p.bob_opens(p.seal_to_bob(text(3))).ok());
  const Bytes record = p.seal_to_bob(text(20));
  const Bytes before = p.bob.replay_state().encode();
  for (std::size_t len = 0; len < record.size(); ++len) {
    auto r = p.bob_opens(ByteView(record).first(len));
    ASSERT_FALSE(r.ok()) << len;
    EXPECT_EQ(r.error(),
              len < kRecordBytesMin ? ChannelError::kTruncated : ChannelError::kAuthFailed)
        << len;
    ASSERT_EQ(p.bob.replay_state().encode(), before) << len;
  }
  Bytes longer = record;
  longer.push_back(0);
  expect_refused(p.bob_opens(longer), ChannelError::kAuthFailed);
  EXPECT_TRUE(p.bob_opens(record).ok());
}

TEST(ChannelRefusal, OversizedRecordIsRefusedBeforeAnyWork) {
  Pair p;
  Bytes record = p.seal_to_bob(text(kRecordPlaintextMax));
  record.push_back(0);
  expect_refused(p.bob_opens(record), ChannelError::kTooLarge);
}

TEST(ChannelRefusal, RecordForAnotherDevice) {
  Pair p;
  const Bytes to_carol = p.seal_to_carol(text(8));
  expect_refused(p.bob_opens(to_carol), ChannelError::kNotForMe);
  const Bytes to_bob = p.seal_to_bob(text(8));
  expect_refused(p.carol_opens(to_bob), ChannelError::kNotForMe);
  EXPECT_EQ(p.bob.replay_state().size(), 0u);
  EXPECT_EQ(p.carol.replay_state().size(), 0u);
}

TEST(ChannelRefusal, AnotherConsortiumsContextFailsAuthentication) {
  Pair p;
  const Bytes record = p.seal_to_bob(text(8));
  ChannelReceiver elsewhere(kBob, context(0x00));
  expect_refused(elsewhere.open(record, lookup_in(p.bob_keys, kBob), 0), ChannelError::kAuthFailed);
  EXPECT_EQ(elsewhere.replay_state().size(), 0u);
  EXPECT_TRUE(p.bob_opens(record).ok());
}

TEST(ChannelRefusal, WrongKeyOrNoKey) {
  Pair p;
  expect_refused(p.bob_opens(p.seal_to_bob(text(8), counting_key(0x11))),
                 ChannelError::kAuthFailed);
  p.bob_keys.erase(KeyId::pairwise_node_key(kAlice, kBob));
  expect_refused(p.bob_opens(p.seal_to_bob(text(8))), ChannelError::kNoKey);
  EXPECT_EQ(p.bob.replay_state().size(), 0u);
}

TEST(ChannelRefusal, AReflectedRecordIsNotForTheSender) {
  Pair p;
  ChannelReceiver alice(kAlice, context());
  DekHistory alice_keys(kGraceMs);
  alice_keys.update(KeyId::pairwise_node_key(kAlice, kBob), kNodeDek, kEpoch, 0);
  expect_refused(alice.open(p.seal_to_bob(text(8)), lookup_in(alice_keys, kAlice), 0),
                 ChannelError::kNotForMe);
}

// ---------------------------------------------------------------------------------------------
// Replay window

TEST(ChannelReplay, AReplayedRecordIsRefused) {
  Pair p;
  const Bytes record = p.seal_to_bob(text(8));
  ASSERT_TRUE(p.bob_opens(record).ok());
  const Bytes before = p.bob.replay_state().encode();
  expect_refused(p.bob_opens(record), ChannelError::kReplayed);
  expect_refused(p.bob_opens(record), ChannelError::kReplayed);
  EXPECT_EQ(p.bob.replay_state().encode(), before);
}

TEST(ChannelReplay, ReorderingWithinTheWindowIsAcceptedBeyondItRefused) {
  Pair p;
  std::vector<Bytes> records;
  for (std::uint64_t i = 0; i < kReplayWindow + 10; ++i)
    records.push_back(p.seal_to_bob(text(4)));
  // The newest first, then everything older inside the window, newest to oldest.
  const std::size_t last = records.size() - 1;
  ASSERT_TRUE(p.bob_opens(records[last]).ok());
  for (std::size_t i = last; i-- > last - (kReplayWindow - 1);) {
    auto r = p.bob_opens(records[i]);
    ASSERT_TRUE(r.ok()) << i << ": " << to_string(r.error());
  }
  // Left of the window: counters last - 64 and below.
  for (std::size_t i = 0; i <= last - kReplayWindow; ++i)
    expect_refused(p.bob_opens(records[i]), ChannelError::kTooOld);
  // And every accepted one is now a replay.
  for (std::size_t i = last - (kReplayWindow - 1); i <= last; ++i)
    expect_refused(p.bob_opens(records[i]), ChannelError::kReplayed);
}

TEST(ChannelReplay, WindowsArePerSender) {
  Pair p;
  MemoryCounterStore other_store;
  const NodeId dave{0x01000004};
  ChannelSender dave_sender(dave, context(), other_store);
  p.bob_keys.update(KeyId::pairwise_node_key(dave, kBob), counting_key(0x30), kEpoch, 0);
  // Both senders use counter 0; neither is a replay of the other.
  ASSERT_TRUE(p.bob_opens(p.seal_to_bob(text(4))).ok());
  auto r = dave_sender.seal(kBob, KeyClass::kPairwiseNodeKey, kEpoch, counting_key(0x30), text(4));
  ASSERT_TRUE(r.ok());
  auto opened = p.bob_opens(*r);
  ASSERT_TRUE(opened.ok()) << to_string(opened.error());
  EXPECT_EQ(opened->sender, dave);
  EXPECT_EQ(p.bob.replay_state().size(), 2u);
}

TEST(ChannelReplay, AForgedHighCounterDoesNotMoveTheWindow) {
  Pair p;
  ASSERT_TRUE(p.bob_opens(p.seal_to_bob(text(4))).ok());  // counter 0
  const Bytes next = p.seal_to_bob(text(4));              // counter 1, held back
  const Bytes before = p.bob.replay_state().encode();

  // An outsider's record claiming Alice's counter 1000: sealed under a key it guessed.
  MemoryCounterStore forged_store(1000);
  ChannelSender forger(kAlice, context(), forged_store);
  auto forged = forger.seal(kBob, KeyClass::kPairwiseNodeKey, kEpoch, counting_key(0x77), text(4));
  ASSERT_TRUE(forged.ok());
  expect_refused(p.bob_opens(*forged), ChannelError::kAuthFailed);
  // The same, made from the genuine record by rewriting its counter.
  Bytes rewritten = next;
  rewritten[19] = 0xff;
  expect_refused(p.bob_opens(rewritten), ChannelError::kAuthFailed);
  EXPECT_EQ(p.bob.replay_state().encode(), before);

  auto opened = p.bob_opens(next);
  ASSERT_TRUE(opened.ok()) << to_string(opened.error());
  EXPECT_EQ(opened->counter, 1u);
}

TEST(ChannelReplay, SenderRestartIsNotMistakenForAReplay) {
  Pair p;
  ASSERT_TRUE(p.bob_opens(p.seal_to_bob(text(4))).ok());
  ChannelSender restarted(kAlice, context(), p.store);
  auto r = restarted.seal(kBob, KeyClass::kPairwiseNodeKey, kEpoch, kNodeDek, text(4));
  ASSERT_TRUE(r.ok());
  auto opened = p.bob_opens(*r);
  ASSERT_TRUE(opened.ok()) << to_string(opened.error());
  EXPECT_EQ(opened->counter, kCounterReserveBlock);
}

TEST(ChannelReplay, SavedStateRefusesReplaysAfterAReceiverRestart) {
  Pair p;
  std::vector<Bytes> records;
  for (int i = 0; i < 5; ++i)
    records.push_back(p.seal_to_bob(text(4)));
  for (int i : {0, 1, 3})
    ASSERT_TRUE(p.bob_opens(records[static_cast<std::size_t>(i)]).ok());
  const Bytes saved = p.bob.replay_state().encode();

  auto state = ReplayState::decode(saved);
  ASSERT_TRUE(state.ok()) << to_string(state.error());
  ChannelReceiver rebooted(kBob, context(), std::move(*state));
  const KeyLookup keys = lookup_in(p.bob_keys, kBob);
  for (int i : {0, 1, 3})
    expect_refused(rebooted.open(records[static_cast<std::size_t>(i)], keys, 0),
                   ChannelError::kReplayed);
  EXPECT_TRUE(rebooted.open(records[2], keys, 0).ok());
  EXPECT_TRUE(rebooted.open(records[4], keys, 0).ok());
}

// ---------------------------------------------------------------------------------------------
// Grace period across a rekey

TEST(ChannelGrace, OldVersionAcceptedDuringGraceRefusedAfter) {
  Pair p;
  const Key128 new_key = counting_key(0x20);
  const std::uint64_t rekey_at = 100'000;
  // Alice seals under the old version just before Bob switches, and more afterwards (she has
  // not applied the rekey yet).
  std::vector<Bytes> old_records;
  for (int i = 0; i < 3; ++i)
    old_records.push_back(p.seal_to_bob(text(6)));
  p.bob_keys.update(KeyId::pairwise_node_key(kAlice, kBob), new_key, kEpoch + 5, rekey_at);

  auto during = p.bob_opens(old_records[0], rekey_at + kGraceMs - 1);
  ASSERT_TRUE(during.ok()) << to_string(during.error());
  EXPECT_EQ(during->epoch, kEpoch);
  auto at_start = p.bob_opens(old_records[1], rekey_at);
  ASSERT_TRUE(at_start.ok()) << to_string(at_start.error());

  const Bytes before = p.bob.replay_state().encode();
  expect_refused(p.bob_opens(old_records[2], rekey_at + kGraceMs), ChannelError::kAuthFailed);
  EXPECT_EQ(p.bob.replay_state().encode(), before);

  // The new version opens, before and after the old one's grace.
  auto fresh = p.bob_opens(p.seal_to_bob(text(6), new_key, kEpoch + 5), rekey_at + 1);
  ASSERT_TRUE(fresh.ok()) << to_string(fresh.error());
  EXPECT_EQ(fresh->epoch, kEpoch + 5);
  EXPECT_TRUE(
      p.bob_opens(p.seal_to_bob(text(6), new_key, kEpoch + 5), rekey_at + 10 * kGraceMs).ok());
}

TEST(ChannelGrace, PairwiseSetKeyRekeyWithinGrace) {
  Pair p;
  const Key128 new_key = counting_key(0x70);
  const Bytes old_record = p.seal_to_carol(text(6));
  p.carol_keys.update(KeyId::pairwise_set_key(kSetA, kSetC), new_key, kEpoch + 1, 1000);
  EXPECT_TRUE(p.carol_opens(p.seal_to_carol(text(6), new_key, kEpoch + 1), 1000).ok());
  EXPECT_TRUE(p.carol_opens(old_record, 1000 + kGraceMs / 2).ok());
}

TEST(ChannelGrace, ADepartedPeersKeysAreGoneAtOnce) {
  Pair p;
  const Bytes old_record = p.seal_to_bob(text(6));
  p.bob_keys.update(KeyId::pairwise_node_key(kAlice, kBob), counting_key(0x20), kEpoch + 1, 0);
  p.bob_keys.erase(KeyId::pairwise_node_key(kAlice, kBob));
  expect_refused(p.bob_opens(old_record, 1), ChannelError::kNoKey);
}

// Random interleavings of seals under the current or the previous version, rekeys, clock
// advances, replays and corruptions: the receiver accepts exactly the records a naive model
// accepts, and a refused record never changes its state.
RC_GTEST_PROP(ChannelProperty, ReceiverAgreesWithANaiveModel, ()) {
  const std::uint64_t grace_ms = 1000;
  Pair p(grace_ms);
  struct Sent {
    Bytes record;
    std::uint64_t counter;
    std::uint64_t version;  // index into keys
  };
  std::vector<Key128> keys{kNodeDek};
  std::vector<std::uint64_t> replaced_at{0};  // when version i stopped being current
  std::vector<Sent> sent;
  std::set<std::uint64_t> accepted;
  std::uint64_t now = 0;
  const KeyId id = KeyId::pairwise_node_key(kAlice, kBob);

  const auto steps = *rc::gen::inRange<std::size_t>(1, 200);
  for (std::size_t step = 0; step < steps; ++step) {
    const auto op = *rc::gen::inRange<int>(0, 10);
    if (op == 0) {
      replaced_at.back() = now;
      keys.push_back(counting_key(static_cast<std::uint8_t>(0x40 + keys.size())));
      replaced_at.push_back(0);
      p.bob_keys.update(id, keys.back(), kEpoch + keys.size(), now);
    } else if (op == 1) {
      now += *rc::gen::inRange<std::uint64_t>(0, 700);
    } else if (op <= 4) {
      // Seal under the current version, or the previous one (a sender late to the rekey); now
      // and then a burst, so counters fall out of the window.
      const std::uint64_t v =
          keys.size() > 1 && *rc::gen::arbitrary<bool>() ? keys.size() - 2 : keys.size() - 1;
      const auto burst = op == 4 ? *rc::gen::inRange<std::size_t>(1, 80) : std::size_t{1};
      for (std::size_t k = 0; k < burst; ++k) {
        const Bytes record = p.seal_to_bob(text(3), keys[v], kEpoch + v);
        auto h = parse_header(record);
        RC_ASSERT(h.ok());
        sent.push_back({record, h->counter, v});
      }
    } else if (!sent.empty()) {
      // Deliver any record sent so far (reordering and replays), sometimes corrupted.
      const auto& s = sent[*rc::gen::inRange<std::size_t>(0, sent.size())];
      Bytes record = s.record;
      const bool corrupt = op == 9;
      if (corrupt) {
        const auto i = *rc::gen::inRange<std::size_t>(0, record.size());
        record[i] = static_cast<std::uint8_t>(record[i] ^ *rc::gen::inRange<int>(1, 256));
      }
      const Bytes before = p.bob.replay_state().encode();
      auto r = p.bob_opens(record, now);
      if (corrupt) {
        RC_ASSERT(!r.ok());
      } else {
        // The model: the version is current or within the grace of its replacement (and among
        // the kDekVersionsMax newest), then the window rule over everything accepted.
        const bool current = s.version == keys.size() - 1;
        const bool in_grace = keys.size() - 1 - s.version < kDekVersionsMax &&
                              now < replaced_at[s.version] + grace_ms;
        if (!current && !in_grace) {
          RC_ASSERT(!r.ok());
          RC_ASSERT(r.error() == ChannelError::kAuthFailed);
        } else {
          // Left of the window is too old whether or not it was accepted once.
          const std::uint64_t highest = accepted.empty() ? 0 : *accepted.rbegin();
          if (!accepted.empty() && s.counter < highest && highest - s.counter >= kReplayWindow) {
            RC_ASSERT(!r.ok());
            RC_ASSERT(r.error() == ChannelError::kTooOld);
          } else if (accepted.count(s.counter)) {
            RC_ASSERT(!r.ok());
            RC_ASSERT(r.error() == ChannelError::kReplayed);
          } else {
            RC_ASSERT(r.ok());
            RC_ASSERT(r->counter == s.counter);
            accepted.insert(s.counter);
          }
        }
      }
      if (!r.ok()) RC_ASSERT(p.bob.replay_state().encode() == before);
    }
  }
}

}  // namespace
}  // namespace kmchain::channel
