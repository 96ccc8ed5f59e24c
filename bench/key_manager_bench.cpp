// The gateway's cost of one join and one leave in a network of n devices (one gateway).
//
// The network is provisioned once per n (KeyManager::provision: genesis enrollment, no
// messages) and cached across runs. Each iteration joins one new device and removes it
// again, so n, the sets and their sizes are the same at every iteration; only one of the two
// operations is timed. The counters describe that one operation's rekey plan.
#include <benchmark/benchmark.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "base/check.h"
#include "base/ids.h"
#include "crypto/random.h"
#include "crypto_counters.h"
#include "keys/key_manager.h"
#include "keys/rekey_message.h"

namespace kmchain::bench {
namespace {

using crypto::Key128;
using keys::Audience;
using keys::MessageKind;
using keys::RekeyPlan;
using keys::StepKind;

struct Network {
  crypto::OsRng rng;  // production randomness: nonces and fresh keys come from the OS CSPRNG
  keys::KeyManager manager{1, rng};
  std::size_t sets = 0;
  double provision_seconds = 0;
};

// Devices 1..n, all enrolled through gateway 0. Built once per n: 10^5 takes a while.
Network& network(std::int64_t n) {
  static std::map<std::int64_t, std::unique_ptr<Network>> cache;
  std::unique_ptr<Network>& slot = cache[n];
  if (!slot) {
    slot = std::make_unique<Network>();
    std::vector<std::pair<NodeId, Key128>> nodes;
    nodes.reserve(static_cast<std::size_t>(n));
    for (std::int64_t i = 1; i <= n; ++i) {
      nodes.emplace_back(NodeId{static_cast<std::uint32_t>(i)}, slot->rng.key128());
    }
    const auto start = std::chrono::steady_clock::now();
    const auto status = slot->manager.provision(GatewayId{0}, nodes);
    KMCHAIN_CHECK(status.ok());
    slot->provision_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    slot->sets = slot->manager.table().set_count();
  }
  return *slot;
}

// What one operation's plan contains. The HKDF count follows key_manager.cpp:
//   every step:                     1 (step_refresh_key)
//   place into an existing set S:   1 (set key of S) + 1 per other set (pairwise set key,
//                                   refreshed once and stored by both owners) + 1 per old
//                                   member of S (pairwise node key derived from S's seed)
//   remove that leaves S non-empty: 1 (set key of S) + 1 per other set (pairwise set key)
//   place opening a set, remove closing one, dissolve: none (fresh random keys or deletions)
// The other sets and the old members are read off the plan's messages: each other set gets
// one set-audience refresh for the step, each old member one pairwise node key message.
// Every message is one AES-CCM seal.
struct PlanStats {
  std::array<std::uint64_t, 6> by_kind{};  // indexed by MessageKind
  std::uint64_t messages = 0;
  std::uint64_t deliveries = 0;
  std::uint64_t wire_bytes = 0;
  std::uint64_t bundle_plaintext_bytes = 0;
  std::uint64_t hkdf = 0;
  std::uint64_t seals = 0;
  std::uint64_t steps = 0;
};

PlanStats analyse(const RekeyPlan& plan) {
  PlanStats s;
  for (const keys::Envelope& e : plan.messages) {
    ++s.by_kind.at(static_cast<std::size_t>(e.header.kind));
    s.deliveries += e.recipients.size();
    s.wire_bytes += e.wire.size();
    if (e.header.kind == MessageKind::kKeyBundle) {
      s.bundle_plaintext_bytes +=
          e.wire.size() - keys::kRekeyHeaderBytes - crypto::tag_bytes(keys::kRekeyTag);
    }
  }
  s.messages = plan.messages.size();
  s.seals = s.messages;
  s.steps = plan.steps.size();
  for (const keys::Step& step : plan.steps) {
    std::uint64_t other_set_refreshes = 0;
    std::uint64_t pairwise_node_keys = 0;
    for (const keys::Envelope& e : plan.messages) {
      if (e.header.position != step.position) continue;
      if (e.header.kind == MessageKind::kRefresh && e.header.audience == Audience::kSet &&
          e.header.target != step.set.value()) {
        ++other_set_refreshes;
      }
      if (e.header.kind == MessageKind::kPairwiseNodeKey) ++pairwise_node_keys;
    }
    s.hkdf += 1;
    if (step.kind == StepKind::kPlace && !step.opens_set) {
      s.hkdf += 1 + other_set_refreshes + pairwise_node_keys;
    } else if (step.kind == StepKind::kRemove && !step.closes_set) {
      s.hkdf += 1 + other_set_refreshes;
    }
  }
  return s;
}

void report(benchmark::State& state, const Network& net, const PlanStats& s,
            const CryptoCounts& measured, std::size_t set_size) {
  auto c = [](std::uint64_t v) { return benchmark::Counter(static_cast<double>(v)); };
  state.counters["sets"] = c(net.sets);
  state.counters["set_size"] = c(set_size);  // members of the joined set, joiner included
  state.counters["steps"] = c(s.steps);
  state.counters["refresh"] = c(s.by_kind[static_cast<std::size_t>(MessageKind::kRefresh)]);
  state.counters["set_added"] = c(s.by_kind[static_cast<std::size_t>(MessageKind::kSetAdded)]);
  state.counters["set_removed"] = c(s.by_kind[static_cast<std::size_t>(MessageKind::kSetRemoved)]);
  state.counters["pairwise_node_key"] =
      c(s.by_kind[static_cast<std::size_t>(MessageKind::kPairwiseNodeKey)]);
  state.counters["key_bundle"] = c(s.by_kind[static_cast<std::size_t>(MessageKind::kKeyBundle)]);
  state.counters["messages"] = c(s.messages);
  state.counters["deliveries"] = c(s.deliveries);
  state.counters["wire_bytes"] = c(s.wire_bytes);
  state.counters["bundle_pt_bytes"] = c(s.bundle_plaintext_bytes);
  state.counters["hkdf"] = c(s.hkdf);
  state.counters["seals"] = c(s.seals);
  state.counters["provision_s"] = benchmark::Counter(net.provision_seconds);
  // The plan-derived counts must equal the calls the code really made.
  if (measured.hkdf != s.hkdf || measured.seals != s.seals) {
    state.SkipWithError("plan-derived HKDF/seal counts differ from the counted calls");
  }
}

Key128 draw_key(crypto::Rng& rng) {
  return rng.key128();
}

// One join of a new device into the network of n; its removal is not timed.
void BM_KeyManagerJoin(benchmark::State& state) {
  Network& net = network(state.range(0));
  keys::KeyManager& km = net.manager;
  const NodeId joiner{static_cast<std::uint32_t>(state.range(0) + 1)};
  const Key128 node_key = draw_key(net.rng);
  const std::size_t members = km.table().member_count();
  PlanStats stats;
  CryptoCounts measured;
  std::size_t set_size = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const Key128 refresh_key = draw_key(net.rng);  // the transaction carries R
    const CryptoCounts before = crypto_counts();
    state.ResumeTiming();

    auto plan = km.join(joiner, GatewayId{0}, node_key, refresh_key);

    state.PauseTiming();
    measured = crypto_counts() - before;
    KMCHAIN_CHECK(plan.ok());
    stats = analyse(*plan);
    set_size = km.table().find_set(km.table().find_member(joiner)->set)->members.size();
    plan = RekeyPlan{};
    auto undo = km.remove(joiner, keys::Cause::kLeave, draw_key(net.rng));
    KMCHAIN_CHECK(undo.ok());
    state.ResumeTiming();
    if (km.table().member_count() != members || km.table().set_count() != net.sets) {
      state.SkipWithError("join + leave changed the network shape");
      break;
    }
  }
  report(state, net, stats, measured, set_size);
}
BENCHMARK(BM_KeyManagerJoin)->Arg(1000)->Arg(10000)->Arg(100000)->Unit(benchmark::kMicrosecond);

// One leave (of the device that last joined, so n returns to its value); the join is not timed.
void BM_KeyManagerLeave(benchmark::State& state) {
  Network& net = network(state.range(0));
  keys::KeyManager& km = net.manager;
  const NodeId leaver{static_cast<std::uint32_t>(state.range(0) + 1)};
  const Key128 node_key = draw_key(net.rng);
  const std::size_t members = km.table().member_count();
  PlanStats stats;
  CryptoCounts measured;
  std::size_t set_size = 0;
  for (auto _ : state) {
    state.PauseTiming();
    {
      auto joined = km.join(leaver, GatewayId{0}, node_key, draw_key(net.rng));
      KMCHAIN_CHECK(joined.ok());
    }
    set_size = km.table().find_set(km.table().find_member(leaver)->set)->members.size();
    const Key128 refresh_key = draw_key(net.rng);
    const CryptoCounts before = crypto_counts();
    state.ResumeTiming();

    auto plan = km.remove(leaver, keys::Cause::kLeave, refresh_key);

    state.PauseTiming();
    measured = crypto_counts() - before;
    KMCHAIN_CHECK(plan.ok());
    stats = analyse(*plan);
    plan = RekeyPlan{};
    state.ResumeTiming();
    if (km.table().member_count() != members || km.table().set_count() != net.sets) {
      state.SkipWithError("join + leave changed the network shape");
      break;
    }
  }
  report(state, net, stats, measured, set_size);
}
BENCHMARK(BM_KeyManagerLeave)->Arg(1000)->Arg(10000)->Arg(100000)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace kmchain::bench
