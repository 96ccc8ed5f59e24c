// A device's costs: applying one refresh message, and the memory its keyring takes.
//
// The device is placed in set 0 of a network of n = k*k devices in k sets of k: it holds k-1
// pairwise node keys (peers 2..k) and k-1 pairwise set keys (sets 1..k-1), loaded from a real
// sealed key bundle. Refreshes are real sealed messages too, addressed to set 0 under its set
// key at consecutive positions; they are prepared in batches outside the timed region.
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "base/check.h"
#include "base/ids.h"
#include "crypto/random.h"
#include "keys/derivation.h"
#include "keys/keyring.h"
#include "keys/rekey_message.h"

namespace kmchain::bench {
namespace {

using crypto::Key128;
using keys::Audience;
using keys::Keyring;
using keys::MessageKind;

std::uint32_t isqrt(std::int64_t n) {
  auto k = static_cast<std::uint32_t>(std::llround(std::sqrt(static_cast<double>(n))));
  KMCHAIN_CHECK(static_cast<std::int64_t>(k) * k == n);
  return k;
}

// The gateway side of one device: its keys as the gateways know them, and the messages for it.
class Feed {
 public:
  explicit Feed(std::uint32_t k) : k_(k), node_key_(rng_.key128()), set_key_(rng_.key128()) {}

  const Key128& node_key() const { return node_key_; }
  const Key128& set_key() const { return set_key_; }
  NodeId self() const { return NodeId{1}; }
  SetId own() const { return SetId{0}; }

  // Every key of a member of set 0 (synthetic values), sealed under its node key.
  Bytes bundle() {
    keys::KeyBundleBody body{own(), set_key_, {}, {}};
    body.pairwise_node_keys.reserve(k_ - 1);
    body.pairwise_set_keys.reserve(k_ - 1);
    for (std::uint32_t i = 0; i + 1 < k_; ++i) {
      body.pairwise_node_keys.emplace_back(NodeId{2 + i}, rng_.key128());
      body.pairwise_set_keys.emplace_back(SetId{1 + i}, rng_.key128());
    }
    keys::Header header{MessageKind::kKeyBundle, Audience::kDevice, self().value(), bundle_at_, {}};
    rng_.fill(header.nonce);
    return keys::seal_message(header, body, node_key_);
  }

  // The refresh of a device joining set `changed`, as set 0 receives it: under set 0's key at
  // the next position. A refresh of set 0 itself moves set 0's key, which the next message
  // then travels under.
  Bytes refresh(SetId changed) {
    position_ = next(position_);
    keys::Header header{MessageKind::kRefresh, Audience::kSet, own().value(), position_, {}};
    rng_.fill(header.nonce);
    const keys::RefreshBody body{keys::StepKind::kPlace, keys::Cause::kJoin, NodeId{joiner_++},
                                 changed, rng_.key128()};
    Bytes wire = keys::seal_message(header, body, set_key_);
    if (changed == own()) {
      set_key_ = keys::refresh(set_key_, body.refresh_key, keys::KeyId::set_key(own()), position_);
    }
    return wire;
  }

  // The next set other than set 0, round robin.
  SetId next_other_set() {
    other_ = other_ % (k_ - 1) + 1;
    return SetId{other_};
  }

 private:
  std::uint32_t k_;
  crypto::DeterministicRng rng_{42};
  Key128 node_key_;
  Key128 set_key_;
  Position bundle_at_{1};
  Position position_{1};                  // the bundle's; refreshes follow it
  std::uint32_t joiner_ = 1'000'000'000;  // never a member of set 0
  std::uint32_t other_ = 0;
};

std::unique_ptr<Keyring> load(const Feed& feed, const Bytes& bundle) {
  auto ring = std::make_unique<Keyring>(feed.self(), feed.node_key());
  KMCHAIN_CHECK(ring->apply(bundle).ok());
  return ring;
}

// Applying one refresh: range(0) = n; range(1) = 0 for another set's refresh (one pairwise
// set key moves), 1 for the device's own set (set key and all k-1 pairwise set keys move).
void BM_KeyringApplyRefresh(benchmark::State& state) {
  const std::uint32_t k = isqrt(state.range(0));
  const bool own_set = state.range(1) != 0;
  Feed feed(k);
  const auto ring = load(feed, feed.bundle());
  const std::size_t batch_size = own_set ? 32 : 512;
  std::vector<Bytes> batch;
  std::size_t next_message = 0;
  for (auto _ : state) {
    if (next_message == batch.size()) {
      state.PauseTiming();
      batch.clear();
      for (std::size_t i = 0; i < batch_size; ++i) {
        batch.push_back(feed.refresh(own_set ? feed.own() : feed.next_other_set()));
      }
      next_message = 0;
      state.ResumeTiming();
    }
    const auto status = ring->apply(batch[next_message++]);
    if (!status.ok()) {
      state.SkipWithError(keys::to_string(status.error()));
      break;
    }
  }
  // After the rest of the batch, the device holds the set key the gateways hold.
  if (!state.error_occurred()) {
    while (next_message < batch.size()) {
      KMCHAIN_CHECK(ring->apply(batch[next_message++]).ok());
    }
    if (!(*ring->set_key() == feed.set_key())) {
      state.SkipWithError("device and gateway set keys diverged");
    }
  }
  state.counters["sets"] = benchmark::Counter(static_cast<double>(k));
  state.counters["hkdf"] = benchmark::Counter(own_set ? static_cast<double>(k) : 1.0);
}
BENCHMARK(BM_KeyringApplyRefresh)
    ->ArgNames({"n", "own_set"})
    ->Args({10000, 0})
    ->Args({1000000, 0})
    ->Args({10000, 1})
    ->Args({1000000, 1})
    ->Unit(benchmark::kMicrosecond);

std::size_t heap_in_use() {
  const struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;  // arena chunks in use + mmapped chunks
}

// Keyring memory at n = range(0), and the time to load the bundle (construct + apply, which
// opens and decodes it; destruction included).
//
// heap_delta is mallinfo2's in-use delta around constructing a keyring that lives on the
// stack: its two key vectors with malloc's chunk overhead. The object itself is added as
// sizeof(Keyring). (A heap-allocated object would be invisible to mallinfo2 when malloc serves
// it from the per-thread tcache, which mallinfo2 counts as in use while it is free; the
// vectors here are larger than any tcache bin.)
void BM_KeyringMemory(benchmark::State& state) {
  const std::uint32_t k = isqrt(state.range(0));
  Feed feed(k);
  const Bytes bundle = feed.bundle();
  load(feed, bundle).reset();  // warm up the per-thread cipher context

  std::size_t heap_delta = 0;
  std::size_t accounted = 0;
  std::size_t key_count = 0;
  {
    std::optional<Keyring> ring;
    const std::size_t before = heap_in_use();
    ring.emplace(feed.self(), feed.node_key());
    KMCHAIN_CHECK(ring->apply(bundle).ok());
    heap_delta = heap_in_use() - before;
    accounted = ring->memory_bytes();
    key_count = ring->key_count();
  }

  for (auto _ : state) {
    auto loaded = load(feed, bundle);
    benchmark::DoNotOptimize(loaded.get());
  }
  const double measured = static_cast<double>(heap_delta + sizeof(Keyring));
  const double baseline = 2.0 * k * 16;  // 2*sqrt(n) keys of 16 bytes
  state.counters["keys"] = benchmark::Counter(static_cast<double>(key_count));
  state.counters["memory_bytes"] = benchmark::Counter(static_cast<double>(accounted));
  state.counters["heap_delta"] = benchmark::Counter(static_cast<double>(heap_delta));
  state.counters["sizeof_keyring"] = benchmark::Counter(static_cast<double>(sizeof(Keyring)));
  state.counters["baseline"] = benchmark::Counter(baseline);
  state.counters["mem_ratio"] = benchmark::Counter(static_cast<double>(accounted) / baseline);
  state.counters["measured_ratio"] = benchmark::Counter(measured / baseline);
  state.counters["bundle_bytes"] = benchmark::Counter(static_cast<double>(bundle.size()));
}
BENCHMARK(BM_KeyringMemory)->Arg(10000)->Arg(1000000)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace kmchain::bench
