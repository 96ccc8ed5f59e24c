// The consensus layer: heights decided by P in-process replicas over a perfect network, the
// contract's check and apply at a ledger of n members, and one consensus-simulator seed.
//
// BM_EngineHeight/<P>: P consensus::Replica objects joined by a perfect in-memory network (a
// FIFO queue of (from, to, bytes), no loss, no delay). One iteration is one height decided by
// ALL P replicas, so the time is the whole consortium's CPU per height (the sum over P
// gateways, run on one thread). The commit pause between heights (Timeouts::commit_ms) costs
// no CPU, so its timeouts fire as soon as the queue drains, with the fake clock moved to their
// deadline; any other timeout fires only if the queue drains without the height decided (never
// on a perfect network: `timeouts_fired` stays 0).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <variant>
#include <vector>

#include "base/check.h"
#include "base/ids.h"
#include "consensus/engine.h"
#include "consensus/message.h"
#include "consensus/replica.h"
#include "crypto/random.h"
#include "crypto/sign.h"
#include "ledger/contract.h"
#include "ledger/genesis.h"
#include "ledger/ledger_state.h"
#include "ledger/signed_transaction.h"
#include "ledger/transaction.h"
#include "sim/consensus_sim.h"
#include "sim/sim_consortium.h"

namespace kmchain::bench {
namespace {

using consensus::Action;
using consensus::Replica;
using consensus::TimeoutKind;

constexpr std::uint64_t kGenesisTimeMs = 1'700'000'000'000;

benchmark::Counter count(double v) {
  return benchmark::Counter(v);
}

// --- BM_EngineHeight ----------------------------------------------------------------------

class Cluster {
 public:
  explicit Cluster(std::size_t p) : clock_ms_(kGenesisTimeMs) {
    crypto::DeterministicRng rng(0xbe4c);
    std::vector<crypto::Ed25519KeyPair> keys;
    genesis_.name = "bench";
    genesis_.genesis_time_ms = kGenesisTimeMs;
    for (std::size_t i = 0; i < p; ++i) {
      keys.push_back(crypto::Ed25519KeyPair::generate(rng));
      genesis_.validators.push_back(ledger::Validator{gateway(i), keys.back().public_key(), 1});
    }
    KMCHAIN_CHECK(ledger::validate_genesis(genesis_).ok());
    for (std::size_t i = 0; i < p; ++i) {
      nodes_.emplace_back().replica =
          std::make_unique<Replica>(genesis_, keys[i], gateway(i), consensus::ReplicaConfig{});
    }
    for (std::size_t i = 0; i < p; ++i) {
      std::vector<Action> out;
      KMCHAIN_CHECK(nodes_[i].replica->start(std::nullopt, clock_ms_, out).ok());
      execute(i, out);
    }
  }

  std::size_t size() const { return nodes_.size(); }
  Replica& replica(std::size_t i) { return *nodes_[i].replica; }
  std::uint64_t now() const { return clock_ms_; }

  // Runs until every replica has committed `height`. False if the network stalls.
  bool run_to(Height height) {
    for (;;) {
      drain();
      if (all_committed(height)) return true;
      if (!fire_next_timer()) return false;
    }
  }

  // Starts the next height on every replica that waits for it (the commit timeouts).
  void fire_commit_timeouts() {
    std::vector<std::pair<std::size_t, Timer>> due;
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      auto& timers = nodes_[i].timers;
      for (auto it = timers.begin(); it != timers.end();) {
        if (it->timeout.kind == TimeoutKind::kCommit) {
          due.emplace_back(i, *it);
          it = timers.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (const auto& [i, timer] : due) {
      clock_ms_ = std::max(clock_ms_, timer.at_ms);
    }
    for (const auto& [i, timer] : due) {
      std::vector<Action> out;
      nodes_[i].replica->on_timeout(timer.timeout, clock_ms_, out);
      execute(i, out);
    }
  }

  // Submits a transaction through replica i (its gossip joins the queue).
  void submit(std::size_t i, const ledger::Transaction& tx) {
    std::vector<Action> out;
    KMCHAIN_CHECK(nodes_[i].replica->submit(nodes_[i].replica->sign(tx), clock_ms_, out).ok());
    execute(i, out);
  }

  std::uint64_t deliveries() const { return deliveries_; }
  std::uint64_t delivered_bytes() const { return delivered_bytes_; }
  std::uint64_t timeouts_fired() const { return timeouts_fired_; }
  std::uint64_t committed_transactions() const { return committed_transactions_; }
  std::uint64_t wal_bytes() const { return wal_bytes_; }

  // Delivers every queued message (and whatever they cause) in FIFO order.
  void drain() {
    std::vector<Action> out;
    while (!queue_.empty()) {
      Packet p = std::move(queue_.front());
      queue_.pop_front();
      ++deliveries_;
      delivered_bytes_ += p.bytes.size();
      nodes_[p.to].replica->on_message(gateway(p.from), p.bytes, clock_ms_, out);
      execute(p.to, out, p.hops);
    }
  }

  // The most message delays between a height's start and its commit at any replica, since
  // the last call: the commit latency in message delays.
  std::uint64_t take_commit_hops() { return std::exchange(commit_hops_, 0); }

  std::uint64_t signatures_verified() const {
    std::uint64_t s = 0;
    for (const Node& n : nodes_)
      s += n.replica->engine().stats().signatures_verified;
    return s;
  }
  std::uint64_t signed_messages() const {
    std::uint64_t s = 0;
    for (const Node& n : nodes_)
      s += n.replica->engine().stats().signed_messages;
    return s;
  }

 private:
  struct Timer {
    consensus::TimeoutIn timeout;
    std::uint64_t at_ms;
  };
  struct Node {
    std::unique_ptr<Replica> replica;
    std::vector<Timer> timers;
    // The shell's disk, in memory: the last WAL record and the last stored block.
    std::optional<Bytes> wal;
    std::optional<consensus::StoredBlock> last_block;
  };
  struct Packet {
    std::size_t from;
    std::size_t to;
    Bytes bytes;
    // Message delays on the causal chain that produced it: a message sent on a timer is 1
    // hop, one sent on receipt of an h-hop message is h+1.
    std::uint64_t hops;
  };

  static GatewayId gateway(std::size_t i) { return GatewayId{static_cast<std::uint16_t>(i)}; }

  bool all_committed(Height height) const {
    return std::all_of(nodes_.begin(), nodes_.end(), [&](const Node& n) {
      return n.replica->committed_height().value() >= height.value();
    });
  }

  // `hops`: of the message whose receipt produced `out` (0 for a timer or a submission).
  void execute(std::size_t i, std::vector<Action>& out, std::uint64_t hops = 0) {
    Node& node = nodes_[i];
    for (Action& action : out) {
      if (auto* wal = std::get_if<consensus::WriteWal>(&action)) {
        wal_bytes_ += wal->record.size();
        node.wal = std::move(wal->record);
      } else if (auto* store = std::get_if<consensus::StoreBlock>(&action)) {
        node.last_block = std::move(store->stored);
      } else if (auto* send = std::get_if<consensus::SendTo>(&action)) {
        queue_.push_back(Packet{i, send->to.value(), std::move(send->bytes), hops + 1});
      } else if (auto* all = std::get_if<consensus::BroadcastAll>(&action)) {
        for (std::size_t j = 0; j < nodes_.size(); ++j) {
          if (j != i) queue_.push_back(Packet{i, j, all->bytes, hops + 1});
        }
      } else if (auto* schedule = std::get_if<consensus::Schedule>(&action)) {
        node.timers.push_back(Timer{schedule->timeout, schedule->at_ms});
      } else if (auto* committed = std::get_if<consensus::Committed>(&action)) {
        committed_transactions_ += committed->applied.size();
        commit_hops_ = std::max(commit_hops_, hops);
      }
      // ServeBlocks: a replica that is behind asks for blocks; never on a perfect network.
    }
    out.clear();
  }

  // The earliest pending timer of any replica, the clock moved to it. Timers of heights a
  // replica has already committed are stale and dropped.
  bool fire_next_timer() {
    std::optional<std::pair<std::size_t, std::size_t>> best;
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      auto& timers = nodes_[i].timers;
      const std::uint64_t committed = nodes_[i].replica->committed_height().value();
      std::erase_if(timers, [&](const Timer& t) {
        return t.timeout.kind != TimeoutKind::kCommit && t.timeout.height.value() <= committed;
      });
      for (std::size_t k = 0; k < timers.size(); ++k) {
        if (!best || timers[k].at_ms < nodes_[best->first].timers[best->second].at_ms) {
          best = std::pair{i, k};
        }
      }
    }
    if (!best) return false;
    auto& timers = nodes_[best->first].timers;
    const Timer timer = timers[best->second];
    timers.erase(timers.begin() + static_cast<std::ptrdiff_t>(best->second));
    if (timer.timeout.kind != TimeoutKind::kCommit) ++timeouts_fired_;
    clock_ms_ = std::max(clock_ms_, timer.at_ms);
    std::vector<Action> out;
    nodes_[best->first].replica->on_timeout(timer.timeout, clock_ms_, out);
    execute(best->first, out);
    return true;
  }

  ledger::Genesis genesis_;
  std::vector<Node> nodes_;
  std::deque<Packet> queue_;
  std::uint64_t clock_ms_;
  std::uint64_t deliveries_ = 0;
  std::uint64_t delivered_bytes_ = 0;
  std::uint64_t timeouts_fired_ = 0;
  std::uint64_t committed_transactions_ = 0;
  std::uint64_t wal_bytes_ = 0;
  std::uint64_t commit_hops_ = 0;
};

// A valid join through gateway g, on what g's mempool expects (pending joins included).
ledger::Transaction next_join(Replica& r, std::uint32_t& next_node, crypto::Rng& rng) {
  const ledger::LedgerState& view = r.mempool().check_state();
  const GatewayId g = r.self();
  auto placement = view.table().assign(g);
  KMCHAIN_CHECK(placement.ok());
  ledger::Transaction tx{};
  tx.op = ledger::Operation::kJoin;
  tx.node = NodeId{(static_cast<std::uint32_t>(g.value()) << 24) | ++next_node};
  tx.set = placement->set;
  tx.commitment = sim::sim_device_key(1, tx.node).public_key();
  tx.refresh_key = rng.key128();
  return tx;
}

// One height per iteration; with `joins` > 0, that many join transactions are submitted
// through one gateway (a different one each height) and gossiped before the height starts.
void run_heights(benchmark::State& state, std::size_t joins) {
  const auto p = static_cast<std::size_t>(state.range(0));
  Cluster cluster(p);
  crypto::DeterministicRng rng(7);
  std::vector<std::uint32_t> next_node(p, 0);
  // Height 1 is started by start(); decide it outside the measurement.
  if (!cluster.run_to(Height{1})) {
    state.SkipWithError("height 1 not decided");
    return;
  }
  const std::uint64_t verified0 = cluster.signatures_verified();
  const std::uint64_t signed0 = cluster.signed_messages();
  const std::uint64_t deliveries0 = cluster.deliveries();
  const std::uint64_t bytes0 = cluster.delivered_bytes();
  const std::uint64_t wal0 = cluster.wal_bytes();
  const std::uint64_t txs0 = cluster.committed_transactions();
  (void)cluster.take_commit_hops();
  std::uint64_t commit_hops = 0;
  std::uint64_t height = 1;
  for (auto _ : state) {
    ++height;
    if (joins > 0) {
      const std::size_t g = height % p;
      for (std::size_t k = 0; k < joins; ++k) {
        cluster.submit(g, next_join(cluster.replica(g), next_node[g], rng));
      }
      cluster.drain();  // gossip reaches every mempool before the proposer reaps
    }
    cluster.fire_commit_timeouts();
    if (!cluster.run_to(Height{height})) {
      state.SkipWithError("the network stalled");
      break;
    }
    commit_hops += cluster.take_commit_hops();
  }
  const auto heights = static_cast<double>(height - 1);
  if (heights == 0) return;
  auto per_height = [&](std::uint64_t now, std::uint64_t before) {
    return count(static_cast<double>(now - before) / heights);
  };
  state.counters["sig_verifies_per_height"] = per_height(cluster.signatures_verified(), verified0);
  state.counters["signs_per_height"] = per_height(cluster.signed_messages(), signed0);
  state.counters["msgs_per_height"] = per_height(cluster.deliveries(), deliveries0);
  state.counters["bytes_per_height"] = per_height(cluster.delivered_bytes(), bytes0);
  state.counters["wal_bytes_per_height"] = per_height(cluster.wal_bytes(), wal0);
  // Summed over the P replicas: each commits every transaction once.
  state.counters["txs_per_height"] =
      count(static_cast<double>(cluster.committed_transactions() - txs0) /
            (heights * static_cast<double>(p)));
  state.counters["timeouts_fired"] = count(static_cast<double>(cluster.timeouts_fired()));
  // Message delays from the start of a height to its commit at the last replica.
  state.counters["commit_msg_delays"] = count(static_cast<double>(commit_hops) / heights);
}

void BM_EngineHeight(benchmark::State& state) {
  run_heights(state, 0);
}
BENCHMARK(BM_EngineHeight)->Arg(4)->Arg(16)->Arg(64)->Unit(benchmark::kMillisecond);

void BM_EngineHeightJoins16(benchmark::State& state) {
  run_heights(state, 16);
}
BENCHMARK(BM_EngineHeightJoins16)->Arg(4)->Arg(16)->Arg(64)->Unit(benchmark::kMillisecond);

// --- BM_Contract* -----------------------------------------------------------------------

constexpr std::size_t kLedgerGateways = 4;

// The benchmark consortium: the simulator's 4 gateways of seed 1, their keys, and device keys
// the simulator's way (a join's commitment is a real code key; a leave carries its consent).
const ledger::Genesis& ledger_genesis() {
  static const ledger::Genesis genesis = sim::sim_genesis("bench", 1, kLedgerGateways);
  return genesis;
}

ledger::SignedTransaction signed_by_home(const ledger::Transaction& tx) {
  static std::map<std::size_t, crypto::Ed25519KeyPair> keys;
  const std::size_t g = ledger::origin_of(tx.node).value();
  auto it = keys.find(g);
  if (it == keys.end()) it = keys.emplace(g, sim::sim_gateway_key(1, g)).first;
  const ledger::Hash256 chain_id = ledger_genesis().chain_id();
  std::optional<crypto::Ed25519Signature> consent;
  if (tx.op == ledger::Operation::kLeave)
    consent = sim::sim_device_key(1, tx.node).sign(ledger::leave_consent_bytes(chain_id, tx.node));
  return ledger::sign_transaction(it->second, chain_id, ledger::origin_of(tx.node), tx, consent);
}

struct Ledger {
  ledger::LedgerState state{ledger_genesis()};
  crypto::DeterministicRng rng{11};
  std::vector<std::uint32_t> next_node = std::vector<std::uint32_t>(kLedgerGateways, 0);
};

ledger::Transaction make_join(const ledger::LedgerState& state, GatewayId origin,
                              std::uint32_t& next_node, crypto::Rng& rng) {
  auto placement = state.table().assign(origin);
  KMCHAIN_CHECK(placement.ok());
  ledger::Transaction tx{};
  tx.op = ledger::Operation::kJoin;
  tx.node = NodeId{(static_cast<std::uint32_t>(origin.value()) << 24) | ++next_node};
  tx.set = placement->set;
  tx.commitment = sim::sim_device_key(1, tx.node).public_key();
  tx.refresh_key = rng.key128();
  return tx;
}

ledger::Transaction make_leave(const ledger::LedgerState& state, NodeId node) {
  const keys::MemberRecord* member = state.table().find_member(node);
  KMCHAIN_CHECK(member != nullptr);
  ledger::Transaction tx{};
  tx.op = ledger::Operation::kLeave;
  tx.node = node;
  tx.set = member->set;
  tx.commitment = *state.commitment_of(node);
  return tx;
}

// n members, joined round-robin through the 4 gateways. Built once per n.
Ledger& ledger_of(std::int64_t n) {
  static std::map<std::int64_t, std::unique_ptr<Ledger>> cache;
  std::unique_ptr<Ledger>& slot = cache[n];
  if (!slot) {
    slot = std::make_unique<Ledger>();
    for (std::int64_t i = 0; i < n; ++i) {
      const auto g = static_cast<std::size_t>(i) % kLedgerGateways;
      const auto tx = make_join(slot->state, GatewayId{static_cast<std::uint16_t>(g)},
                                slot->next_node[g], slot->rng);
      (void)ledger::apply(slot->state, signed_by_home(tx));
    }
    KMCHAIN_CHECK(slot->state.table().member_count() == static_cast<std::size_t>(n));
  }
  return *slot;
}

void ledger_counters(benchmark::State& state, const ledger::LedgerState& s) {
  state.counters["members"] = count(static_cast<double>(s.table().member_count()));
  state.counters["sets"] = count(static_cast<double>(s.table().set_count()));
}

// A pool of transactions that are valid one after the other from `base`: applied in order to
// a fresh copy of `base`, each passes the contract. 100 transactions on a ledger of n
// members move n by at most 10% (1,000) or 1% (10,000). Transactions are signed envelopes: a
// check verifies the gateway's signature (and a leave's consent); an apply does not (the
// signatures of what reaches apply were checked once).
constexpr std::size_t kPool = 100;

void BM_ContractCheckJoin(benchmark::State& state) {
  Ledger& l = ledger_of(state.range(0));
  std::vector<ledger::SignedTransaction> txs;
  std::vector<std::uint32_t> next_node = l.next_node;
  for (std::size_t g = 0; g < kLedgerGateways; ++g) {
    txs.push_back(signed_by_home(
        make_join(l.state, GatewayId{static_cast<std::uint16_t>(g)}, next_node[g], l.rng)));
  }
  std::size_t i = 0;
  for (auto _ : state) {
    auto status = ledger::check(l.state, txs[i]);
    benchmark::DoNotOptimize(status);
    if (!status.ok()) {
      state.SkipWithError("join refused");
      break;
    }
    i = (i + 1) % txs.size();
  }
  ledger_counters(state, l.state);
}
BENCHMARK(BM_ContractCheckJoin)->Arg(1000)->Arg(10000);

void BM_ContractCheckLeave(benchmark::State& state) {
  Ledger& l = ledger_of(state.range(0));
  std::vector<ledger::SignedTransaction> txs;
  const auto& members = l.state.table().members();
  std::size_t k = 0;
  for (const auto& [node, record] : members) {
    if (k++ % (members.size() / 64 + 1) == 0)
      txs.push_back(signed_by_home(make_leave(l.state, node)));
  }
  std::size_t i = 0;
  for (auto _ : state) {
    auto status = ledger::check(l.state, txs[i]);
    benchmark::DoNotOptimize(status);
    if (!status.ok()) {
      state.SkipWithError("leave refused");
      break;
    }
    i = (i + 1) % txs.size();
  }
  ledger_counters(state, l.state);
}
BENCHMARK(BM_ContractCheckLeave)->Arg(1000)->Arg(10000);

// Applies the pool in order; after every kPool iterations the state is restored from a copy
// of the base outside the timed region, so the pool is valid again.
void apply_pool(benchmark::State& state, const ledger::LedgerState& base,
                const std::vector<ledger::SignedTransaction>& pool) {
  ledger::LedgerState s = base;
  std::size_t i = 0;
  std::uint64_t steps = 0;
  for (auto _ : state) {
    if (i == pool.size()) {
      state.PauseTiming();
      s = base;
      i = 0;
      state.ResumeTiming();
    }
    auto applied = ledger::apply(s, pool[i++]);
    steps += applied.size();
    benchmark::DoNotOptimize(applied);
  }
  ledger_counters(state, base);
  state.counters["steps"] =
      count(static_cast<double>(steps) / static_cast<double>(std::max<std::int64_t>(
                                             1, static_cast<std::int64_t>(state.iterations()))));
}

void BM_ContractApplyJoin(benchmark::State& state) {
  Ledger& l = ledger_of(state.range(0));
  ledger::LedgerState scratch = l.state;
  std::vector<std::uint32_t> next_node = l.next_node;
  std::vector<ledger::SignedTransaction> pool;
  for (std::size_t k = 0; k < kPool; ++k) {
    const std::size_t g = k % kLedgerGateways;
    pool.push_back(signed_by_home(
        make_join(scratch, GatewayId{static_cast<std::uint16_t>(g)}, next_node[g], l.rng)));
    (void)ledger::apply(scratch, pool.back());
  }
  apply_pool(state, l.state, pool);
}
BENCHMARK(BM_ContractApplyJoin)->Arg(1000)->Arg(10000);

// Leaves of members spread over the ledger; a leave may trigger a Reorder (more steps).
void BM_ContractApplyLeave(benchmark::State& state) {
  Ledger& l = ledger_of(state.range(0));
  ledger::LedgerState scratch = l.state;
  std::vector<NodeId> leavers;
  const auto& members = l.state.table().members();
  const std::size_t stride = members.size() / kPool;
  std::size_t k = 0;
  for (const auto& [node, record] : members) {
    if (k++ % stride == 0 && leavers.size() < kPool) leavers.push_back(node);
  }
  std::vector<ledger::SignedTransaction> pool;
  for (NodeId node : leavers) {
    pool.push_back(signed_by_home(make_leave(scratch, node)));
    (void)ledger::apply(scratch, pool.back());
  }
  apply_pool(state, l.state, pool);
}
BENCHMARK(BM_ContractApplyLeave)->Arg(1000)->Arg(10000);

// --- BM_SimConsensusSeed ----------------------------------------------------------------

// One simulator seed (4 gateways, 1 Byzantine, 4000 ticks): what a CI seed costs. Each
// iteration runs the next seed; the counters are averages over the seeds run.
void BM_SimConsensusSeed(benchmark::State& state) {
  std::uint64_t seed = 1;
  std::uint64_t blocks = 0;
  std::uint64_t failures = 0;
  double wall_s = 0;
  for (auto _ : state) {
    sim::ConsensusSimConfig config;
    config.gateways = 4;
    config.byzantine = 1;
    config.ticks = 4000;
    config.seed = seed++;
    const auto start = std::chrono::steady_clock::now();
    const sim::ConsensusSimResult result = sim::run_consensus_sim(config);
    wall_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    blocks += result.blocks;
    if (!result.ok()) ++failures;
  }
  const auto runs = static_cast<double>(seed - 1);
  if (runs == 0) return;
  state.counters["blocks"] = count(static_cast<double>(blocks) / runs);
  state.counters["blocks_per_s"] = count(static_cast<double>(blocks) / wall_s);
  state.counters["seeds_per_s"] = count(runs / wall_s);
  state.counters["failed_seeds"] = count(static_cast<double>(failures));
}
BENCHMARK(BM_SimConsensusSeed)->Iterations(3)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace kmchain::bench
