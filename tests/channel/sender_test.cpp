// ChannelSender (channel/sender.h): counters are reserved in blocks before use, a restart
// resumes at the reserved high-water mark, the counter refuses to wrap, refused seals use no
// counter, and across random seals and restarts no (key, nonce) pair is ever used twice.
#include "channel/sender.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <set>
#include <utility>
#include <vector>

#include "channel_fixture.h"

namespace kmchain::channel {
namespace {

using namespace fixture;

std::uint64_t counter_of(const Bytes& record) {
  auto h = parse_header(record);
  EXPECT_TRUE(h.ok());
  return h.ok() ? h->counter : UINT64_MAX;
}

Result<Bytes, ChannelError> seal_one(ChannelSender& sender, ByteView plaintext = {}) {
  return sender.seal(kBob, KeyClass::kPairwiseNodeKey, kEpoch, kNodeDek, plaintext);
}

TEST(ChannelSender, CountsFromZeroAndReservesOneBlockAhead) {
  MemoryCounterStore store;
  ChannelSender sender(kAlice, context(), store);
  EXPECT_EQ(sender.next_counter(), 0u);
  EXPECT_EQ(store.writes(), 0u);  // nothing reserved before the first record
  for (std::uint64_t i = 0; i < kCounterReserveBlock; ++i) {
    auto r = seal_one(sender);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(counter_of(*r), i);
    // Persist ahead of use: the counter was durably reserved before the record existed.
    ASSERT_LT(i, store.value());
  }
  EXPECT_EQ(store.writes(), 1u);
  EXPECT_EQ(store.value(), kCounterReserveBlock);
  ASSERT_TRUE(seal_one(sender).ok());
  EXPECT_EQ(store.writes(), 2u);
  EXPECT_EQ(store.value(), 2 * kCounterReserveBlock);
  EXPECT_EQ(sender.reserved(), store.value());
}

TEST(ChannelSender, OneCounterAcrossKeysAndReceivers) {
  MemoryCounterStore store;
  ChannelSender sender(kAlice, context(), store);
  auto a = sender.seal(kBob, KeyClass::kPairwiseNodeKey, kEpoch, kNodeDek, text(3));
  auto b = sender.seal(kCarol, KeyClass::kPairwiseSetKey, kEpoch, kSetDek, text(3));
  auto c = sender.seal(kBob, KeyClass::kPairwiseNodeKey, kEpoch + 1, counting_key(9), text(3));
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(counter_of(*a), 0u);
  EXPECT_EQ(counter_of(*b), 1u);
  EXPECT_EQ(counter_of(*c), 2u);
}

TEST(ChannelSender, RestartResumesAtTheReservedMarkNeverBelow) {
  MemoryCounterStore store;
  std::uint64_t last = 0;
  {
    ChannelSender first(kAlice, context(), store);
    for (int i = 0; i < 5; ++i) {
      auto r = seal_one(first);
      ASSERT_TRUE(r.ok());
      last = counter_of(*r);
    }
  }
  EXPECT_EQ(last, 4u);
  ChannelSender second(kAlice, context(), store);
  EXPECT_EQ(second.next_counter(), kCounterReserveBlock);
  auto r = seal_one(second);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(counter_of(*r), kCounterReserveBlock);
  EXPECT_EQ(store.value(), 2 * kCounterReserveBlock);
}

TEST(ChannelSender, RestartWithoutSendingReservesNothing) {
  MemoryCounterStore store(5000);
  for (int i = 0; i < 3; ++i) {
    ChannelSender idle(kAlice, context(), store);
    EXPECT_EQ(idle.next_counter(), 5000u);
  }
  EXPECT_EQ(store.writes(), 0u);
  EXPECT_EQ(store.value(), 5000u);
}

TEST(ChannelSender, RefusesToWrapTheCounter) {
  MemoryCounterStore store(kCounterMax - 1);
  ChannelSender sender(kAlice, context(), store);
  auto a = seal_one(sender);
  auto b = seal_one(sender);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(counter_of(*a), kCounterMax - 1);
  EXPECT_EQ(counter_of(*b), kCounterMax);
  EXPECT_EQ(store.value(), UINT64_MAX);
  for (int i = 0; i < 3; ++i) {
    auto c = seal_one(sender);
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error(), ChannelError::kCounterExhausted);
  }
  // After a restart too.
  ChannelSender again(kAlice, context(), store);
  auto d = seal_one(again);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error(), ChannelError::kCounterExhausted);
  EXPECT_EQ(store.value(), UINT64_MAX);
}

TEST(ChannelSender, ReservationStopsAtTheLastRepresentableMark) {
  MemoryCounterStore store(UINT64_MAX - 10);
  ChannelSender sender(kAlice, context(), store);
  ASSERT_TRUE(seal_one(sender).ok());
  EXPECT_EQ(store.value(), UINT64_MAX);
}

TEST(ChannelSender, RefusedSealsUseNoCounter) {
  MemoryCounterStore store;
  ChannelSender sender(kAlice, context(), store);
  for (KeyClass kek : {KeyClass::kNodeKey, KeyClass::kSetKey, static_cast<KeyClass>(0),
                       static_cast<KeyClass>(5)}) {
    auto r = sender.seal(kBob, kek, kEpoch, kNodeDek, text(4));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error(), ChannelError::kBadKeyClass);
  }
  const Bytes too_large = text(kRecordPlaintextMax + 1);
  auto r = seal_one(sender, too_large);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), ChannelError::kTooLarge);
  EXPECT_EQ(sender.next_counter(), 0u);
  EXPECT_EQ(store.writes(), 0u);

  const Bytes largest = text(kRecordPlaintextMax);
  auto ok = seal_one(sender, largest);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->size(), kRecordBytesMax);
  EXPECT_EQ(counter_of(*ok), 0u);
}

// Random sequences of seals (two senders of set A, to Bob under their pairwise node keys and to
// Carol under the pairwise set key both hold) and restarts (a new ChannelSender over the same
// store): every (key, nonce) pair is new, and every counter was durable before its record.
RC_GTEST_PROP(ChannelSenderProperty, NoKeyAndNonceIsEverUsedTwice, ()) {
  const NodeId senders[] = {kAlice, NodeId{0x01000003}};
  MemoryCounterStore stores[2] = {MemoryCounterStore(*rc::gen::inRange<std::uint64_t>(0, 3000)),
                                  MemoryCounterStore(*rc::gen::inRange<std::uint64_t>(0, 3000))};
  std::unique_ptr<ChannelSender> live[2];
  for (int i = 0; i < 2; ++i)
    live[i] = std::make_unique<ChannelSender>(senders[i], context(), stores[i]);

  // (key, nonce); fixed-size arrays: GCC 12 reports a false stringop-overread comparing vectors.
  std::set<std::pair<std::array<std::uint8_t, 16>, crypto::CcmNonce>> used;
  const auto steps = *rc::gen::inRange<std::size_t>(1, 200);
  for (std::size_t step = 0; step < steps; ++step) {
    const auto who = *rc::gen::inRange<int>(0, 2);
    const auto op = *rc::gen::inRange<int>(0, 40);
    if (op <= 1) {
      // Restart: the old sender's memory is gone; only the store remains.
      live[who].reset();
      live[who] = std::make_unique<ChannelSender>(senders[who], context(), stores[who]);
      continue;
    }
    // Bursts make the block boundaries come up often.
    const auto burst = op == 2 ? *rc::gen::inRange<std::size_t>(200, 1200) : std::size_t{1};
    for (std::size_t k = 0; k < burst; ++k) {
      const bool to_set = *rc::gen::arbitrary<bool>();
      const Key128 key = to_set ? kSetDek : counting_key(static_cast<std::uint8_t>(who));
      auto r = live[who]->seal(to_set ? kCarol : kBob,
                               to_set ? KeyClass::kPairwiseSetKey : KeyClass::kPairwiseNodeKey,
                               kEpoch, key, text(2));
      RC_ASSERT(r.ok());
      auto h = parse_header(*r);
      RC_ASSERT(h.ok());
      RC_ASSERT(h->sender == senders[who]);
      RC_ASSERT(h->counter < stores[who].value());
      const crypto::CcmNonce nonce = record_nonce(h->sender, h->counter);
      std::array<std::uint8_t, 16> key_bytes{};
      std::copy(key.view().begin(), key.view().end(), key_bytes.begin());
      const bool fresh = used.emplace(key_bytes, nonce).second;
      RC_ASSERT(fresh);
    }
  }
}

}  // namespace
}  // namespace kmchain::channel
