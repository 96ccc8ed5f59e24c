#include "sim/consensus_sim.h"

#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <queue>
#include <set>
#include <utility>

#include "base/check.h"
#include "consensus/message.h"
#include "consensus/proposer.h"
#include "consensus/replica.h"
#include "crypto/random.h"
#include "ledger/contract.h"
#include "ledger/genesis.h"
#include "sim/sim_disk.h"

namespace kmchain::sim {

namespace {

using consensus::Action;
using consensus::Message;
using consensus::Replica;

constexpr std::uint64_t kGenesisTimeMs = 1'700'000'000'000;

// Timeouts of the simulated consortium: short, so that a seed covers many heights and rounds.
consensus::Timeouts sim_timeouts() {
  consensus::Timeouts t;
  t.propose_ms = 300;
  t.propose_delta_ms = 100;
  t.prevote_ms = 200;
  t.prevote_delta_ms = 100;
  t.precommit_ms = 200;
  t.precommit_delta_ms = 100;
  t.rebroadcast_ms = 400;
  t.commit_ms = 300;
  t.growth_rounds_max = 8;
  return t;
}

enum Behaviour : std::uint32_t {
  kEquivocate = 1u << 0,
  kInvalidVotes = 1u << 1,
  kBadSignatures = 1u << 2,
  kStaleFuture = 1u << 3,
  kSilence = 1u << 4,
  kFlood = 1u << 5,
  kGarbage = 1u << 6,
  kSplitLock = 1u << 7,
};
constexpr int kBehaviourCount = 8;
constexpr std::uint32_t kAllBehaviours = (1u << kBehaviourCount) - 1;

std::string describe_behaviours(std::uint32_t b) {
  static const char* names[kBehaviourCount] = {"equivocate",   "invalid-votes", "bad-signatures",
                                               "stale-future", "silence",       "flood",
                                               "garbage",      "split-lock"};
  std::string out;
  for (int i = 0; i < kBehaviourCount; ++i) {
    if ((b & (1u << i)) == 0) continue;
    if (!out.empty()) out += "+";
    out += names[i];
  }
  return out.empty() ? "none" : out;
}

struct FaultMix {
  double loss = 0;
  double duplicate = 0;
  std::uint64_t delay_min_ms = 1;
  std::uint64_t delay_max_ms = 20;
  bool partitions = false;
  bool crashes = false;
  double crash_probability = 0;  // per event handled by a correct gateway
  std::uint64_t skew_max_ms = 0;

  std::string describe() const {
    return fmt::format("loss {:.2f} dup {:.2f} delay {}-{} ms partitions {} crashes {} skew {} ms",
                       loss, duplicate, delay_min_ms, delay_max_ms, partitions ? "yes" : "no",
                       crashes ? fmt::format("{:.3f}", crash_probability) : "no", skew_max_ms);
  }
};

struct Node {
  bool byzantine = false;
  std::uint32_t behaviours = 0;
  bool silent_now = false;
  std::unique_ptr<Replica> replica;
  MemoryWal wal;
  MemoryBlockStore store;
  bool up = false;
  std::uint64_t epoch = 0;
  std::int64_t skew_ms = 0;
  std::uint64_t verified_before = 0;  // signature checks of earlier incarnations
};

enum class EventKind : std::uint8_t {
  kDeliver,
  kTimer,
  kWorkload,
  kPartition,
  kPartitionEnd,
  kRestart,
  kHeal,
  kFlood,
  kSilenceToggle,
};

struct Event {
  // The sequence number is assigned by Simulation::push; the second argument is a placeholder.
  Event(std::uint64_t at, std::uint64_t, EventKind k, std::size_t to = 0, std::size_t sender = 0,
        std::uint64_t incarnation = 0)
      : at_ms(at), seq(0), kind(k), node(to), from(sender), epoch(incarnation) {}
  std::uint64_t at_ms;
  std::uint64_t seq;
  EventKind kind;
  std::size_t node = 0;
  std::size_t from = 0;
  std::uint64_t epoch = 0;
  Bytes bytes;
  consensus::TimeoutIn timeout{};
};

struct EventOrder {
  bool operator()(const Event& a, const Event& b) const {
    return a.at_ms != b.at_ms ? a.at_ms > b.at_ms : a.seq > b.seq;
  }
};

crypto::Ed25519KeyPair gateway_key(std::uint64_t seed, std::size_t i) {
  crypto::DeterministicRng rng(seed * 1000 + i + 7);
  return crypto::Ed25519KeyPair::generate(rng);
}

// The reference the correct gateways are checked against: the first block final at each
// height, its transactions checked by the contract and applied to a state of the checker's own.
class Checker {
 public:
  explicit Checker(std::size_t gateways) : state_(gateways) {}

  std::optional<Violation> on_commit(std::size_t node, const consensus::StoredBlock& stored,
                                     std::uint64_t now_ms) {
    const Height h = stored.block.header.height;
    const ledger::Hash256 hash = ledger::block_hash(stored.block);
    auto it = decided_.find(h);
    if (it == decided_.end()) {
      KMCHAIN_CHECK(h.value() == decided_.size() + 1);  // a gateway commits in height order
      for (std::size_t i = 0; i < stored.block.transactions.size(); ++i) {
        const ledger::Transaction& tx = stored.block.transactions[i];
        auto verdict = ledger::check(state_, tx);
        if (!verdict) {
          return Violation{
              "validity",
              fmt::format("height {} transaction {} ({}) fails the contract: {}", h.value(), i,
                          ledger::to_string(tx.op), ledger::to_string(verdict.error())),
              now_ms};
        }
        (void)ledger::apply(state_, tx);
      }
      transactions_ += stored.block.transactions.size();
      decided_.emplace(h, std::make_pair(hash, state_.state_hash()));
      it = decided_.find(h);
    }
    if (it->second.first != hash) {
      return Violation{
          "agreement",
          fmt::format("gateway {} finalised another block at height {}", node, h.value()), now_ms};
    }
    if (it->second.second != stored.state_hash_after) {
      return Violation{
          "state-hash",
          fmt::format("gateway {} has another state hash after height {}", node, h.value()),
          now_ms};
    }
    return std::nullopt;
  }

  // Every proposal and vote a correct gateway sends: none may conflict with an earlier one.
  std::optional<Violation> on_signed(std::size_t node, const Message& m, std::uint64_t now_ms) {
    Key key;
    Bytes value;
    // Relayed messages (a proposer relays the polka it saw) are their signers' business.
    if (const auto* p = std::get_if<ledger::Proposal>(&m)) {
      if (p->proposer.value() != node) return std::nullopt;
      key = Key{node, p->height.value(), p->round.value(), 0};
      const auto h = ledger::block_hash(p->block);
      value.assign(h.begin(), h.end());
      value.push_back(p->valid_round ? 1 : 0);
    } else if (const auto* v = std::get_if<ledger::Vote>(&m)) {
      if (v->validator.value() != node) return std::nullopt;
      key = Key{node, v->height.value(), v->round.value(), static_cast<int>(v->type)};
      if (v->block) value.assign(v->block->begin(), v->block->end());
    } else {
      return std::nullopt;
    }
    auto [it, inserted] = signed_.emplace(key, value);
    if (!inserted && it->second != value) {
      static const char* kinds[] = {"proposals", "prevotes", "precommits"};
      return Violation{"double-sign",
                       fmt::format("gateway {} signed two different {} at height {} round {}", node,
                                   kinds[std::get<3>(key)], std::get<1>(key), std::get<2>(key)),
                       now_ms};
    }
    return std::nullopt;
  }

  std::uint64_t transactions() const { return transactions_; }
  const ledger::LedgerState& state() const { return state_; }

 private:
  using Key = std::tuple<std::size_t, std::uint64_t, std::uint32_t, int>;
  ledger::LedgerState state_;
  std::map<Height, std::pair<ledger::Hash256, ledger::Hash256>> decided_;
  std::map<Key, Bytes> signed_;
  std::uint64_t transactions_ = 0;
};

class Simulation {
 public:
  explicit Simulation(const ConsensusSimConfig& config)
      : config_(config),
        rng_(config.seed),
        nodes_(config.gateways),
        checker_(config.gateways),
        duration_ms_(config.ticks * kTickMs),
        heal_ms_(duration_ms_ * 2 / 5) {
    KMCHAIN_CHECK(config.gateways >= 1 && config.gateways <= 64);
    KMCHAIN_CHECK(config.byzantine * 3 < config.gateways || config.byzantine == 0);
    genesis_.name = fmt::format("sim-{}", config.seed);
    genesis_.genesis_time_ms = kGenesisTimeMs;
    for (std::size_t i = 0; i < config.gateways; ++i) {
      genesis_.validators.push_back(ledger::Validator{GatewayId{static_cast<std::uint16_t>(i)},
                                                      gateway_key(config.seed, i).public_key(), 1});
    }
    chain_id_ = genesis_.chain_id();
    schedule_.emplace(genesis_);
    draw_faults();
  }

  ConsensusSimResult run() {
    result_.seed = config_.seed;
    result_.fault_mix = mix_.describe();
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      if (nodes_[i].byzantine)
        result_.fault_mix +=
            fmt::format("; gateway {} byzantine: {}", i, describe_behaviours(nodes_[i].behaviours));
      start_node(i);
    }
    push(Event{rng_.uniform(200), 0, EventKind::kWorkload});
    if (mix_.partitions) push(Event{500 + rng_.uniform(2000), 0, EventKind::kPartition});
    push(Event{heal_ms_, 0, EventKind::kHeal});
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      if (nodes_[i].behaviours & kFlood)
        push(Event{300 + rng_.uniform(500), 0, EventKind::kFlood, i});
      if (nodes_[i].behaviours & kSilence)
        push(Event{rng_.uniform(2000), 0, EventKind::kSilenceToggle, i});
    }
    while (!events_.empty()) {
      Event e = events_.top();
      events_.pop();
      if (e.at_ms > duration_ms_) break;
      now_ms_ = e.at_ms;
      handle(e);
      if (config_.stop_at_violation && !result_.violations.empty()) break;
    }
    finish();
    return std::move(result_);
  }

 private:
  bool faulty_phase() const { return now_ms_ < heal_ms_; }

  void draw_faults() {
    static constexpr double kLoss[] = {0, 0, 0.02, 0.1, 0.3};
    static constexpr double kDup[] = {0, 0.02, 0.1};
    static constexpr std::uint64_t kDelayMax[] = {5, 20, 100, 400};
    static constexpr std::uint64_t kSkew[] = {0, 0, 50, 500};
    mix_.loss = kLoss[rng_.uniform(5)];
    mix_.duplicate = kDup[rng_.uniform(3)];
    mix_.delay_max_ms = kDelayMax[rng_.uniform(4)];
    mix_.delay_min_ms = 1 + rng_.uniform(std::max<std::uint64_t>(1, mix_.delay_max_ms / 4));
    mix_.partitions = config_.force_partitions || rng_.uniform(2) == 0;
    mix_.crashes = config_.force_crashes || rng_.uniform(2) == 0;
    static constexpr double kCrash[] = {0.0005, 0.002, 0.01};
    mix_.crash_probability = mix_.crashes ? kCrash[rng_.uniform(3)] : 0;
    mix_.skew_max_ms = kSkew[rng_.uniform(4)];
    // Byzantine gateways: random indexes, each with its own random set of behaviours.
    std::vector<std::size_t> order(nodes_.size());
    for (std::size_t i = 0; i < order.size(); ++i)
      order[i] = i;
    for (std::size_t i = order.size(); i > 1; --i)
      std::swap(order[i - 1], order[rng_.uniform(i)]);
    for (std::size_t k = 0; k < config_.byzantine; ++k) {
      Node& n = nodes_[order[k]];
      n.byzantine = true;
      n.behaviours = static_cast<std::uint32_t>(rng_.uniform(kAllBehaviours + 1));
      if (config_.force_equivocation) n.behaviours = (n.behaviours | kEquivocate) & ~kSilence;
      if (config_.force_split_lock) n.behaviours = (n.behaviours | kSplitLock) & ~kSilence;
    }
    for (Node& n : nodes_) {
      if (mix_.skew_max_ms > 0) {
        n.skew_ms = static_cast<std::int64_t>(rng_.uniform(2 * mix_.skew_max_ms + 1)) -
                    static_cast<std::int64_t>(mix_.skew_max_ms);
      }
    }
  }

  std::uint64_t local_now(const Node& n) const {
    return static_cast<std::uint64_t>(static_cast<std::int64_t>(kGenesisTimeMs + now_ms_) +
                                      n.skew_ms);
  }

  void push(Event e) {
    e.seq = ++seq_;
    events_.push(std::move(e));
  }

  void start_node(std::size_t i) {
    Node& n = nodes_[i];
    consensus::ReplicaConfig rc;
    rc.timeouts = sim_timeouts();
    if (!n.byzantine) rc.faults = config_.faults;
    rc.block_transactions_max = 64;
    n.replica = std::make_unique<Replica>(genesis_, gateway_key(config_.seed, i),
                                          GatewayId{static_cast<std::uint16_t>(i)}, rc);
    for (std::uint64_t h = 1; h <= n.store.height().value(); ++h) {
      auto restored = n.replica->restore_block(n.store.at(Height{h}));
      if (!restored) {
        violation("restart", fmt::format("gateway {} cannot replay block {}: {}", i, h,
                                         consensus::to_string(restored.error())));
        return;
      }
    }
    std::vector<Action> out;
    auto started = n.replica->start(n.wal.read_last(), local_now(n), out);
    if (!started) {
      violation("restart", fmt::format("gateway {} cannot start: {}", i,
                                       consensus::to_string(started.error())));
      return;
    }
    n.up = true;
    ++n.epoch;
    execute(i, out, false);
  }

  void crash(std::size_t i) {
    Node& n = nodes_[i];
    n.verified_before += n.replica->engine().stats().signatures_verified;
    n.replica.reset();
    n.up = false;
    ++n.epoch;
    ++result_.crashes;
    push(Event{now_ms_ + 200 + rng_.uniform(2500), 0, EventKind::kRestart, i, 0, n.epoch});
  }

  void violation(std::string invariant, std::string detail) {
    result_.violations.push_back(Violation{std::move(invariant), std::move(detail), now_ms_});
  }

  void send(std::size_t from, std::size_t to, const Bytes& bytes) {
    ++result_.messages_sent;
    if (blocked_.contains({from, to}) || rng_.unit() < (faulty_phase() ? mix_.loss : 0.0)) {
      ++result_.messages_dropped;
      return;
    }
    const int copies = faulty_phase() && rng_.unit() < mix_.duplicate ? 2 : 1;
    for (int c = 0; c < copies; ++c) {
      const std::uint64_t max = faulty_phase() ? mix_.delay_max_ms : 20;
      const std::uint64_t min = std::min(mix_.delay_min_ms, max);
      const std::uint64_t delay = min + rng_.uniform(max - min + 1);
      Event e{now_ms_ + delay, 0, EventKind::kDeliver, to, from};
      e.bytes = bytes;
      push(std::move(e));
    }
  }

  void send_out(std::size_t from, const std::vector<std::size_t>& to, const Bytes& bytes) {
    if (nodes_[from].byzantine) {
      byzantine_send(from, to, bytes);
      return;
    }
    if (auto decoded = consensus::decode_message(bytes)) {
      if (auto v = checker_.on_signed(from, *decoded, now_ms_)) result_.violations.push_back(*v);
      note_proposal(*decoded);
    }
    if (config_.trace) trace(from, "  sends " + describe(bytes));
    for (std::size_t t : to)
      send(from, t, bytes);
  }

  void note_proposal(const Message& m) {
    if (const auto* p = std::get_if<ledger::Proposal>(&m)) {
      if (p->round.value() == 0) first_proposal_ms_.emplace(p->height, now_ms_);
      if (split_ && p->height == split_->height && p->round.value() == split_->round.value() + 1)
        split_->next_value = ledger::block_hash(p->block);
    }
  }

  std::vector<std::size_t> others(std::size_t i) const {
    std::vector<std::size_t> out;
    for (std::size_t j = 0; j < nodes_.size(); ++j) {
      if (j != i) out.push_back(j);
    }
    return out;
  }

  // Executes a batch of actions in order; a correct gateway may crash before any of them.
  void execute(std::size_t i, std::vector<Action>& actions, bool may_crash) {
    Node& n = nodes_[i];
    std::optional<std::size_t> crash_at;
    if (may_crash && !n.byzantine && mix_.crashes && faulty_phase() &&
        rng_.unit() < mix_.crash_probability) {
      crash_at = rng_.uniform(actions.size() + 1);
    }
    for (std::size_t k = 0; k < actions.size(); ++k) {
      if (crash_at && *crash_at == k) {
        crash(i);
        return;
      }
      run_action(i, actions[k]);
      if (!n.up) return;
    }
    if (crash_at) crash(i);
  }

  void run_action(std::size_t i, Action& action) {
    Node& n = nodes_[i];
    if (auto* wal = std::get_if<consensus::WriteWal>(&action)) {
      n.wal.write(wal->record);
    } else if (auto* store = std::get_if<consensus::StoreBlock>(&action)) {
      n.store.append(store->stored);
    } else if (auto* to = std::get_if<consensus::SendTo>(&action)) {
      send_out(i, {to->to.value()}, to->bytes);
    } else if (auto* all = std::get_if<consensus::BroadcastAll>(&action)) {
      send_out(i, others(i), all->bytes);
    } else if (auto* s = std::get_if<consensus::Schedule>(&action)) {
      const auto local = static_cast<std::int64_t>(s->at_ms) - n.skew_ms -
                         static_cast<std::int64_t>(kGenesisTimeMs);
      Event e{std::max<std::uint64_t>(now_ms_,
                                      static_cast<std::uint64_t>(std::max<std::int64_t>(local, 0))),
              0,
              EventKind::kTimer,
              i,
              0,
              n.epoch};
      e.timeout = s->timeout;
      push(std::move(e));
    } else if (auto* serve = std::get_if<consensus::ServeBlocks>(&action)) {
      for (std::uint64_t h = serve->from.value(); h <= serve->to_height.value(); ++h) {
        const consensus::StoredBlock& stored = n.store.at(Height{h});
        send_out(
            i, {serve->to.value()},
            consensus::encode(Message{consensus::CommitMessage{stored.block, stored.certificate}}));
      }
    } else if (auto* c = std::get_if<consensus::Committed>(&action)) {
      max_round_ = std::max<std::uint64_t>(max_round_, c->round.value());
      if (n.byzantine) return;
      if (split_ && split_->decider == i && split_->height == c->height && !c->by_sync) {
        isolate(i);  // the split-lock attack's last move: the decider must not tell the others
      } else if (mix_.partitions && faulty_phase() && !c->by_sync && blocked_.empty() &&
                 rng_.unit() < (config_.force_partitions ? 0.5 : 0.05)) {
        // The adversarial partition: cut off a gateway right after it decides, before it can
        // hand the block to the others (who then go on deciding that height without it).
        isolate(i);
      }
      if (auto v = checker_.on_commit(i, n.store.at(c->height), now_ms_))
        result_.violations.push_back(*v);
      auto first = first_proposal_ms_.find(c->height);
      if (!c->by_sync && c->round.value() == 0 && first != first_proposal_ms_.end() &&
          !faulty_phase() && latency_recorded_.insert(c->height).second) {
        result_.commit_latency_ms.push_back(now_ms_ - first->second);
      }
    }
  }

  void handle(const Event& e) {
    switch (e.kind) {
      case EventKind::kDeliver: {
        Node& n = nodes_[e.node];
        if (!n.up) return;
        ++result_.messages_delivered;
        std::vector<Action> out;
        n.replica->on_message(GatewayId{static_cast<std::uint16_t>(e.from)}, e.bytes, local_now(n),
                              out);
        if (config_.trace) trace(e.node, fmt::format("from {} {}", e.from, describe(e.bytes)));
        execute(e.node, out, true);
        return;
      }
      case EventKind::kTimer: {
        Node& n = nodes_[e.node];
        if (!n.up || e.epoch != n.epoch) return;
        std::vector<Action> out;
        n.replica->on_timeout(e.timeout, local_now(n), out);
        if (config_.trace) {
          trace(e.node, fmt::format("timeout {} h{} r{}", static_cast<int>(e.timeout.kind),
                                    e.timeout.height.value(), e.timeout.round.value()));
        }
        execute(e.node, out, true);
        return;
      }
      case EventKind::kWorkload:
        workload();
        if (now_ms_ + 2000 < duration_ms_)
          push(Event{now_ms_ + 50 + rng_.uniform(400), 0, EventKind::kWorkload});
        return;
      case EventKind::kPartition:
        partition();
        return;
      case EventKind::kPartitionEnd:
        blocked_.clear();
        if (faulty_phase())
          push(Event{now_ms_ + 500 + rng_.uniform(3000), 0, EventKind::kPartition});
        return;
      case EventKind::kRestart: {
        Node& n = nodes_[e.node];
        if (n.up || e.epoch != n.epoch) return;
        start_node(e.node);
        return;
      }
      case EventKind::kHeal:
        heal();
        return;
      case EventKind::kFlood:
        flood(e.node);
        push(Event{now_ms_ + 300 + rng_.uniform(700), 0, EventKind::kFlood, e.node});
        return;
      case EventKind::kSilenceToggle:
        nodes_[e.node].silent_now = !nodes_[e.node].silent_now;
        push(Event{now_ms_ + 500 + rng_.uniform(3000), 0, EventKind::kSilenceToggle, e.node});
        return;
    }
  }

  static std::string short_hash(const ledger::Hash256& h) {
    return fmt::format("{:02x}{:02x}{:02x}", h[0], h[1], h[2]);
  }

  static std::string describe(const Bytes& bytes) {
    auto decoded = consensus::decode_message(bytes);
    if (!decoded) return "undecodable";
    const Message& m = *decoded;
    if (const auto* p = std::get_if<ledger::Proposal>(&m)) {
      return fmt::format("proposal h{} r{} vr{} by {} block {}", p->height.value(),
                         p->round.value(),
                         p->valid_round ? static_cast<std::int64_t>(p->valid_round->value()) : -1,
                         p->proposer.value(), short_hash(ledger::block_hash(p->block)));
    }
    if (const auto* v = std::get_if<ledger::Vote>(&m)) {
      return fmt::format("{} h{} r{} by {} for {}",
                         v->type == ledger::VoteType::kPrevote ? "prevote" : "precommit",
                         v->height.value(), v->round.value(), v->validator.value(),
                         v->block ? short_hash(*v->block) : "nil");
    }
    if (const auto* c = std::get_if<consensus::CommitMessage>(&m))
      return fmt::format("commit h{}", c->block.header.height.value());
    if (std::holds_alternative<ledger::Transaction>(m)) return "transaction";
    return "sync-request";
  }

  void trace(std::size_t i, const std::string& what) {
    const Node& n = nodes_[i];
    if (n.byzantine || !n.replica) return;
    const auto& e = n.replica->engine();
    const auto& s = e.signer_state();
    fmt::print(stderr, "{:>6} g{} {:<44} | h{} r{} {} lock {} valid {}{}\n", now_ms_, i, what,
               e.height().value(), e.round().value(), consensus::to_string(e.step()),
               s.locked_value ? fmt::format("r{}:{}", s.locked_round->value(),
                                            short_hash(ledger::block_hash(*s.locked_value)))
                              : "-",
               s.valid_value ? fmt::format("r{}:{}", s.valid_round->value(),
                                           short_hash(ledger::block_hash(*s.valid_value)))
                             : "-",
               e.decided() ? " decided" : "");
  }

  void isolate(std::size_t i) {
    ++result_.partitions;
    blocked_.clear();
    for (std::size_t o = 0; o < nodes_.size(); ++o) {
      if (o == i) continue;
      blocked_.insert({i, o});
      blocked_.insert({o, i});
    }
    push(Event{now_ms_ + 1000 + rng_.uniform(3000), 0, EventKind::kPartitionEnd});
  }

  void partition() {
    if (!faulty_phase()) return;
    ++result_.partitions;
    blocked_.clear();
    const std::size_t p = nodes_.size();
    switch (rng_.uniform(3)) {
      case 0: {  // random halves
        std::vector<bool> side(p);
        for (std::size_t i = 0; i < p; ++i)
          side[i] = rng_.uniform(2) == 1;
        for (std::size_t a = 0; a < p; ++a)
          for (std::size_t b = 0; b < p; ++b)
            if (side[a] != side[b]) blocked_.insert({a, b});
        break;
      }
      case 1: {  // one gateway isolated
        const std::size_t x = rng_.uniform(p);
        for (std::size_t o = 0; o < p; ++o) {
          if (o == x) continue;
          blocked_.insert({x, o});
          blocked_.insert({o, x});
        }
        break;
      }
      default: {  // one-way: a gateway hears nobody, or nobody hears it
        const std::size_t x = rng_.uniform(p);
        const bool deaf = rng_.uniform(2) == 0;
        for (std::size_t o = 0; o < p; ++o) {
          if (o != x) blocked_.insert(deaf ? std::make_pair(o, x) : std::make_pair(x, o));
        }
        break;
      }
    }
    push(Event{now_ms_ + 300 + rng_.uniform(4000), 0, EventKind::kPartitionEnd});
  }

  void heal() {
    blocked_.clear();
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      if (!nodes_[i].up) start_node(i);
    }
    heal_height_ = 0;
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      if (!nodes_[i].byzantine && nodes_[i].replica)
        heal_height_ = std::max(heal_height_, nodes_[i].replica->committed_height().value());
    }
  }

  // A join, leave or eviction through a random running correct gateway, built on what that
  // gateway's mempool expects (so most pass; some are stale by the time they are checked).
  void workload() {
    std::vector<std::size_t> candidates;
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      if (nodes_[i].up && !nodes_[i].byzantine) candidates.push_back(i);
    }
    if (candidates.empty()) return;
    const std::size_t g = candidates[rng_.uniform(candidates.size())];
    Node& n = nodes_[g];
    const ledger::LedgerState& view = n.replica->mempool().check_state();
    ledger::Transaction tx{};
    rng_.fill(tx.commitment);
    tx.refresh_key = rng_.key128();
    const auto& members = view.table().members();
    if (members.size() < 8 || rng_.uniform(10) < 6) {
      const auto origin = GatewayId{static_cast<std::uint16_t>(g)};
      auto placement = view.table().assign(origin);
      if (!placement) return;
      tx.op = ledger::Operation::kJoin;
      tx.node = NodeId{(static_cast<std::uint32_t>(g) << 24) | ++next_node_[g]};
      tx.set = placement->set;
    } else {
      auto it = members.begin();
      std::advance(it, static_cast<std::ptrdiff_t>(rng_.uniform(members.size())));
      tx.op = rng_.uniform(2) == 0 ? ledger::Operation::kLeave : ledger::Operation::kEvict;
      tx.node = it->first;
      tx.set = it->second.set;
      tx.commitment = *view.commitment_of(it->first);
    }
    std::vector<Action> out;
    (void)n.replica->submit(tx, local_now(n), out);
    execute(g, out, true);
  }

  // --- Byzantine gateways ---------------------------------------------------------------

  crypto::Ed25519KeyPair& key_of(std::size_t i) {
    auto it = keys_.find(i);
    if (it == keys_.end()) it = keys_.emplace(i, gateway_key(config_.seed, i)).first;
    return it->second;
  }

  ledger::Hash256 random_hash() {
    ledger::Hash256 h{};
    rng_.fill(h);
    return h;
  }

  Bytes resign_vote(std::size_t i, ledger::Vote v) {
    return consensus::encode(Message{
        ledger::sign_vote(key_of(i), chain_id_, v.type, v.height, v.round, v.block, v.validator)});
  }

  // The split-lock attack: a Byzantine proposer, with the network on its side, drives the
  // correct gateways into the one situation that only the lock rule (L22, L28) keeps safe.
  // At its round r it shows its block v to `lockers` (just enough correct gateways that with
  // its own vote they make a quorum) and another block to the rest, who include the proposer
  // of round r+1. The lockers see a polka for v, lock on it and precommit it; the attacker's
  // precommit for v goes to one of them only, the decider, which decides v and is then cut
  // off. The other lockers move to round r+1 locked on v, where a correct proposer that never
  // saw v proposes a fresh block, and the attacker votes for it. Correct lockers prevote nil
  // and the height goes on safely; lockers that ignore their lock give that block a quorum,
  // and it is decided beside v.
  struct SplitLock {
    std::size_t attacker = 0;
    Height height;
    Round round;
    ledger::Hash256 value{};  // v
    Bytes proposal;           // the proposal of v, and of the other block, as sent
    Bytes other_proposal;
    ledger::Hash256 other_value{};
    std::set<std::size_t> lockers;
    std::size_t decider = 0;
    std::optional<ledger::Hash256> next_value;  // the proposal of round r+1, once sent
  };

  // Starts the attack with proposal `p` of attacker `i` if it can work here: the next round's
  // proposer is correct and enough correct gateways are left to lock.
  bool start_split_lock(std::size_t i, const ledger::Proposal& p) {
    if (!faulty_phase() || p.valid_round || (split_ && split_->height >= p.height)) return false;
    const std::size_t next = schedule_->proposer(p.height, Round{p.round.value() + 1}).value();
    if (next == i || nodes_[next].byzantine) return false;
    // A quorum is the least power above 2/3 (every validator has power 1 here).
    const std::size_t quorum = 2 * nodes_.size() / 3 + 1;
    std::vector<std::size_t> candidates;
    for (std::size_t o = 0; o < nodes_.size(); ++o) {
      if (o != next && !nodes_[o].byzantine) candidates.push_back(o);
    }
    if (candidates.size() < quorum - 1) return false;
    for (std::size_t k = candidates.size(); k > 1; --k)
      std::swap(candidates[k - 1], candidates[rng_.uniform(k)]);
    SplitLock attack;
    attack.attacker = i;
    attack.height = p.height;
    attack.round = p.round;
    attack.value = ledger::block_hash(p.block);
    attack.lockers.insert(candidates.begin(),
                          candidates.begin() + static_cast<std::ptrdiff_t>(quorum - 1));
    attack.decider = candidates[0];
    ledger::Block other = p.block;
    other.transactions.clear();
    other.header.timestamp_ms += 1;
    other = ledger::make_block(other.header, other.transactions);
    attack.other_value = ledger::block_hash(other);
    attack.proposal = consensus::encode(Message{p});
    attack.other_proposal = consensus::encode(Message{ledger::sign_proposal(
        key_of(i), chain_id_, p.height, p.round, std::nullopt, std::move(other), p.proposer)});
    if (config_.trace) {
      std::string lockers;
      for (std::size_t l : attack.lockers)
        lockers += fmt::format(" g{}", l);
      fmt::print(stderr,
                 "{:>6} split-lock by g{} at h{} r{}: lockers{}, decider g{}, next proposer g{}\n",
                 now_ms_, i, p.height.value(), p.round.value(), lockers, attack.decider, next);
    }
    split_ = std::move(attack);
    ++result_.split_lock_attacks;
    return true;
  }

  // Sends what the attacker `i` sends at the attacked height's rounds r and r+1; false for
  // anything else (the attacker's other behaviours apply there).
  bool split_lock_send(std::size_t i, const std::vector<std::size_t>& to, const Message& m) {
    if (const auto* p = std::get_if<ledger::Proposal>(&m); p && p->proposer.value() == i) {
      if (!start_split_lock(i, *p) && !(split_ && split_->attacker == i &&
                                        split_->height == p->height && split_->round == p->round))
        return false;
      for (std::size_t t : to)
        send(i, t, split_->lockers.contains(t) ? split_->proposal : split_->other_proposal);
      return true;
    }
    const auto* v = std::get_if<ledger::Vote>(&m);
    if (!v || !split_ || split_->attacker != i || v->height != split_->height ||
        v->validator.value() != i) {
      return false;
    }
    if (v->round == split_->round) {
      for (std::size_t t : to) {
        ledger::Vote vote = *v;
        if (v->type == ledger::VoteType::kPrevote) {
          vote.block = split_->lockers.contains(t) ? split_->value : split_->other_value;
        } else {
          vote.block = t == split_->decider ? std::optional(split_->value) : std::nullopt;
        }
        send(i, t, resign_vote(i, vote));
      }
      return true;
    }
    if (v->round.value() == split_->round.value() + 1 && split_->next_value) {
      ledger::Vote vote = *v;
      vote.block = *split_->next_value;
      const Bytes bytes = resign_vote(i, vote);
      for (std::size_t t : to)
        send(i, t, bytes);
      return true;
    }
    return false;
  }

  void byzantine_send(std::size_t i, const std::vector<std::size_t>& to, const Bytes& bytes) {
    Node& n = nodes_[i];
    const std::uint32_t b = n.behaviours;
    if ((b & kSilence) && n.silent_now) return;
    auto decoded = consensus::decode_message(bytes);
    KMCHAIN_CHECK(decoded.ok());
    const Message& m = *decoded;
    if ((b & kSplitLock) && split_lock_send(i, to, m)) return;
    const auto self = GatewayId{static_cast<std::uint16_t>(i)};
    for (std::size_t t : to) {
      Bytes out = bytes;
      if (b & kEquivocate) {
        const auto* vote = std::get_if<ledger::Vote>(&m);
        if (vote && vote->type == ledger::VoteType::kPrecommit && vote->block &&
            t != to[vote->height.value() % to.size()]) {
          // A precommit for a block reaches one gateway only, the rest see nil: that one may
          // decide while the others move on to the next round still locked - where a rule
          // that ignores the lock lets the next proposal fork the chain.
          ledger::Vote nil = *vote;
          nil.block.reset();
          out = resign_vote(i, nil);
        } else if (const auto* v = vote; v && rng_.uniform(2) == 0) {
          // The other vote backs the other block this gateway proposed, if any: a coherent
          // attack, so that a broken lock or quorum rule can be driven into a fork.
          ledger::Vote other = *v;
          auto alt = alt_blocks_.find({v->height.value(), v->round.value()});
          if (alt != alt_blocks_.end() && v->block != alt->second) {
            other.block = alt->second;
          } else {
            other.block = v->block ? std::optional<ledger::Hash256>{} : random_hash();
          }
          out = resign_vote(i, other);
        } else if (const auto* p = std::get_if<ledger::Proposal>(&m); p && t % 2 == 1) {
          // Another, fresh block for the same round (valid round -1, so a correct gateway
          // judges it by its lock alone): drop the transactions, move the time.
          ledger::Block alt = p->block;
          alt.transactions.clear();
          alt.header.timestamp_ms += 1 + p->round.value();
          alt = ledger::make_block(alt.header, alt.transactions);
          alt_blocks_[{p->height.value(), p->round.value()}] = ledger::block_hash(alt);
          out = consensus::encode(Message{ledger::sign_proposal(
              key_of(i), chain_id_, p->height, p->round, std::nullopt, alt, self)});
        }
      }
      send(i, t, out);
      if (b & kInvalidVotes) {
        if (const auto* v = std::get_if<ledger::Vote>(&m)) {
          ledger::Vote bogus = *v;
          bogus.block = random_hash();
          bogus.type =
              rng_.uniform(2) == 0 ? ledger::VoteType::kPrevote : ledger::VoteType::kPrecommit;
          send(i, t, resign_vote(i, bogus));
        } else if (const auto* p = std::get_if<ledger::Proposal>(&m)) {
          ledger::Block bad = p->block;
          bad.header.state_hash = random_hash();
          send(i, t,
               consensus::encode(Message{
                   ledger::sign_proposal(key_of(i), chain_id_, p->height, p->round, p->valid_round,
                                         ledger::make_block(bad.header, bad.transactions), self)}));
        }
      }
      if ((b & kBadSignatures) && rng_.uniform(3) == 0) {
        Bytes forged = bytes;
        forged[forged.size() - 1 - rng_.uniform(std::min<std::size_t>(forged.size() - 1, 60))] ^=
            0x40;
        send(i, t, forged);
        if (const auto* v = std::get_if<ledger::Vote>(&m)) {
          ledger::Vote claim = *v;  // signed by us, claiming to be another gateway
          claim.validator = GatewayId{static_cast<std::uint16_t>(rng_.uniform(nodes_.size()))};
          claim.signature = ledger::sign_vote(key_of(i), chain_id_, claim.type, claim.height,
                                              claim.round, claim.block, claim.validator)
                                .signature;
          send(i, t, consensus::encode(Message{claim}));
        }
      }
      if ((b & kStaleFuture) && rng_.uniform(3) == 0) {
        if (const auto* v = std::get_if<ledger::Vote>(&m)) {
          ledger::Vote shifted = *v;
          const std::uint64_t dh = rng_.uniform(3);
          shifted.height =
              Height{rng_.uniform(2) == 0 && v->height.value() > dh ? v->height.value() - dh
                                                                    : v->height.value() + dh + 1};
          shifted.round = Round{static_cast<std::uint32_t>(v->round.value() + rng_.uniform(50))};
          send(i, t, resign_vote(i, shifted));
        }
      }
      if ((b & kGarbage) && rng_.uniform(4) == 0) {
        Bytes junk(rng_.uniform(2) == 0 ? rng_.uniform(200) : bytes.size() / 2);
        if (junk.size() == bytes.size() / 2) {
          std::copy(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(junk.size()),
                    junk.begin());
        } else {
          rng_.fill(junk);
        }
        send(i, t, junk);
      }
    }
  }

  // A burst against every bound: signed votes across many rounds and at future heights,
  // transactions, sync requests, commits with forged certificates, oversized garbage.
  void flood(std::size_t i) {
    Node& n = nodes_[i];
    if (!n.up || !n.replica) return;
    const Height h = Height{n.replica->committed_height().value() + 1};
    const auto self = GatewayId{static_cast<std::uint16_t>(i)};
    for (int k = 0; k < 12; ++k) {
      const auto round = Round{static_cast<std::uint32_t>(
          rng_.uniform(4) == 0 ? rng_.uniform(1u << 31) : rng_.uniform(40))};
      const auto type =
          rng_.uniform(2) == 0 ? ledger::VoteType::kPrevote : ledger::VoteType::kPrecommit;
      const Height vh = Height{h.value() + rng_.uniform(3)};
      const Bytes vote = consensus::encode(
          Message{ledger::sign_vote(key_of(i), chain_id_, type, vh, round, random_hash(), self)});
      const std::size_t t = rng_.uniform(nodes_.size());
      if (t != i) send(i, t, vote);
    }
    for (std::size_t t : others(i)) {
      ledger::Transaction tx{};
      tx.op = static_cast<ledger::Operation>(1 + rng_.uniform(3));
      tx.node = NodeId{static_cast<std::uint32_t>(rng_.u64())};
      tx.set = SetId{static_cast<std::uint32_t>(rng_.u64())};
      rng_.fill(tx.commitment);
      tx.refresh_key = rng_.key128();
      send(i, t, consensus::encode(Message{tx}));
      send(i, t, consensus::encode(Message{consensus::SyncRequest{Height{1}}}));
      if (n.replica->committed_height().value() >= 1) {
        consensus::StoredBlock stored = n.store.at(n.replica->committed_height());
        stored.certificate.height = Height{stored.certificate.height.value() + 1};
        stored.block.header.height = stored.certificate.height;
        send(i, t,
             consensus::encode(Message{consensus::CommitMessage{
                 ledger::make_block(stored.block.header, stored.block.transactions),
                 stored.certificate}}));
      }
      Bytes junk(consensus::kMessageBytesMax + 1 - rng_.uniform(2) * 2);
      junk[0] = static_cast<std::uint8_t>(rng_.uniform(8));
      send(i, t, junk);
    }
  }

  void finish() {
    result_.sim_ms = now_ms_;
    std::uint64_t min_height = UINT64_MAX;
    std::string lagging;
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      Node& n = nodes_[i];
      if (n.replica) {
        const auto& stats = n.replica->stats();
        for (const auto& [code, count] : stats.decode_errors)
          result_.decode_errors += count;
        result_.equivocations_detected += stats.equivocations;
        result_.signatures_verified += n.replica->engine().stats().signatures_verified;
      }
      result_.signatures_verified += n.verified_before;
      if (n.byzantine) continue;
      const std::uint64_t height = n.store.height().value();
      min_height = std::min(min_height, height);
      if (height < heal_height_ + kLivenessBlocks) {
        lagging += fmt::format(" gateway {} at height {}", i, height);
        if (n.replica) {
          const auto& e = n.replica->engine();
          lagging += fmt::format(" (engine height {} round {} step {}{})", e.height().value(),
                                 e.round().value(), consensus::to_string(e.step()),
                                 e.decided() ? " decided" : "");
        }
      }
    }
    result_.blocks = min_height == UINT64_MAX ? 0 : min_height;
    result_.transactions_committed = checker_.transactions();
    result_.max_round = max_round_;
    const bool ran_to_end = result_.violations.empty() || !config_.stop_at_violation;
    if (ran_to_end && !lagging.empty()) {
      result_.liveness_failure = true;
      result_.liveness_detail =
          fmt::format("{} blocks expected after height {} within {} ms of healing:{}",
                      kLivenessBlocks, heal_height_, duration_ms_ - heal_ms_, lagging);
    }
  }

  static constexpr std::uint64_t kLivenessBlocks = 3;

  const ConsensusSimConfig config_;
  crypto::DeterministicRng rng_;
  std::vector<Node> nodes_;
  Checker checker_;
  ledger::Genesis genesis_;
  ledger::Hash256 chain_id_{};
  FaultMix mix_;
  std::uint64_t duration_ms_;
  std::uint64_t heal_ms_;
  std::uint64_t now_ms_ = 0;
  std::uint64_t seq_ = 0;
  std::uint64_t heal_height_ = 0;
  std::uint64_t max_round_ = 0;
  std::priority_queue<Event, std::vector<Event>, EventOrder> events_;
  std::set<std::pair<std::size_t, std::size_t>> blocked_;
  std::map<std::size_t, std::uint32_t> next_node_;
  std::map<std::size_t, crypto::Ed25519KeyPair> keys_;
  std::map<std::pair<std::uint64_t, std::uint32_t>, ledger::Hash256> alt_blocks_;
  std::optional<consensus::ProposerSchedule> schedule_;  // from genesis_, once it is filled
  std::optional<SplitLock> split_;
  std::map<Height, std::uint64_t> first_proposal_ms_;
  std::set<Height> latency_recorded_;
  ConsensusSimResult result_;
};

}  // namespace

ConsensusSimResult run_consensus_sim(const ConsensusSimConfig& config) {
  Simulation sim(config);
  return sim.run();
}

bool inject_fault(std::string_view name, ConsensusSimConfig& config) {
  if (name == "none") return true;
  if (name == "ignore-lock") {
    config.faults.ignore_lock = true;
    config.force_split_lock = true;
  } else if (name == "two-thirds-quorum") {
    config.faults.two_thirds_quorum = true;
    config.force_equivocation = true;
  } else if (name == "skip-wal") {
    config.faults.skip_wal = true;
    config.force_crashes = true;
  } else {
    return false;
  }
  return true;
}

}  // namespace kmchain::sim
