#include "sim/consensus_sim.h"

#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <set>
#include <utility>

#include "base/check.h"
#include "consensus/message.h"
#include "consensus/replica.h"
#include "crypto/random.h"
#include "crypto/verify_memo.h"
#include "ledger/genesis.h"
#include "sim/byzantine.h"
#include "sim/consensus_checker.h"
#include "sim/event_queue.h"
#include "sim/fault_mix.h"
#include "sim/sim_consortium.h"
#include "sim/sim_disk.h"
#include "sim/sim_network.h"
#include "sim/trace.h"

namespace kmchain::sim {

namespace {

using consensus::Action;

std::vector<std::uint64_t> powers_of(const ledger::Genesis& genesis) {
  std::vector<std::uint64_t> out;
  for (const ledger::Validator& v : genesis.validators)
    out.push_back(v.power);
  return out;
}

using consensus::Message;
using consensus::Replica;

struct Node {
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
  kCrash,
};

struct Event {
  explicit Event(EventKind k, std::size_t to = 0, std::size_t sender = 0,
                 std::uint64_t incarnation = 0)
      : kind(k), node(to), from(sender), epoch(incarnation) {}
  EventKind kind;
  std::size_t node = 0;
  std::size_t from = 0;
  std::uint64_t epoch = 0;
  Bytes bytes;
  consensus::TimeoutIn timeout{};
};

// The cluster: P real replicas over the simulated network and disk, the liars among them, the
// workload, and the checks after every step.
class Simulation final : private ByzantineHost {
 public:
  explicit Simulation(const ConsensusSimConfig& config)
      : config_(config),
        rng_(config.seed),
        nodes_(config.gateways),
        genesis_(sim_genesis(fmt::format("sim-{}", config.seed), config.seed, config.gateways,
                             config.powers)),
        checker_(genesis_, ChainRules{kSimBlockTransactionsMax, kSimTimestampSlackMs}),
        mix_(draw_fault_mix(rng_, config.force_partitions, config.force_crashes)),
        network_(config.gateways, mix_, rng_),
        byzantine_(genesis_, config.seed, rng_, *this, config.trace),
        heal_ms_(config.ticks * kTickMs * 2 / 5),
        duration_ms_(
            std::max(config.ticks * kTickMs, heal_ms_ + rotation_bound_ms(powers_of(genesis_)))) {
    KMCHAIN_CHECK(config.gateways >= 1 && config.gateways <= 64);
    KMCHAIN_CHECK(config.powers.empty() || config.powers.size() == config.gateways);
    KMCHAIN_CHECK(byzantine_power_tolerated(powers_of(genesis_), config.byzantine));
    byzantine_.draw(config.byzantine, config.force_equivocation, config.force_split_lock,
                    config.force_behaviours);
    for (Node& n : nodes_) {
      if (mix_.skew_max_ms > 0) {
        n.skew_ms = static_cast<std::int64_t>(rng_.uniform(2 * mix_.skew_max_ms + 1)) -
                    static_cast<std::int64_t>(mix_.skew_max_ms);
      }
    }
    mix_.clock_offset_ms = draw_clock_offset(config.seed);
    if (mix_.clock_offset_ms != 0) {
      if (auto g = clock_offset_gateway(powers_of(genesis_),
                                        [this](std::size_t i) { return byzantine(i); }))
        nodes_[*g].skew_ms += mix_.clock_offset_ms;
    }
  }

  ConsensusSimResult run() {
    result_.seed = config_.seed;
    result_.fault_mix = mix_.describe() + byzantine_.describe();
    for (std::size_t i = 0; i < nodes_.size(); ++i)
      start_node(i);
    push(rng_.uniform(200), Event{EventKind::kWorkload});
    if (mix_.partitions) push(500 + rng_.uniform(2000), Event{EventKind::kPartition});
    push(heal_ms_, Event{EventKind::kHeal});
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      if (byzantine_.behaviours(i) & kFlood)
        push(300 + rng_.uniform(500), Event{EventKind::kFlood, i});
      if (byzantine_.behaviours(i) & kSilence)
        push(rng_.uniform(2000), Event{EventKind::kSilenceToggle, i});
    }
    while (!events_.empty()) {
      if (events_.next_ms() > duration_ms_) break;
      auto [at, e] = events_.pop();
      now_ms_ = at;
      handle(e);
      if (config_.stop_at_violation && !result_.violations.empty()) break;
    }
    finish();
    return std::move(result_);
  }

 private:
  // ByzantineHost
  void transmit(std::size_t from, std::size_t to, const Bytes& bytes) override {
    if (!byzantine(from) && byzantine_.network_withholds(from, to, bytes)) return;
    for (std::uint64_t delay : network_.deliveries(from, to, faulty_phase())) {
      Event e{EventKind::kDeliver, to, from};
      e.bytes = bytes;
      push(now_ms_ + delay, std::move(e));
    }
  }
  bool faulty_phase() const override { return now_ms_ < heal_ms_; }
  std::uint64_t now_ms() const override { return now_ms_; }
  const Replica* replica_of(std::size_t i) const override {
    const Node& n = nodes_[i];
    return n.up ? n.replica.get() : nullptr;
  }
  std::optional<consensus::StoredBlock> stored_block(std::size_t i, Height height) const override {
    return nodes_[i].store.get(height);
  }

  std::uint64_t local_now(const Node& n) const {
    return static_cast<std::uint64_t>(static_cast<std::int64_t>(kSimGenesisTimeMs + now_ms_) +
                                      n.skew_ms);
  }

  void push(std::uint64_t at_ms, Event e) { events_.push(at_ms, std::move(e)); }

  bool byzantine(std::size_t i) const { return byzantine_.is_byzantine(i); }

  void start_node(std::size_t i) {
    Node& n = nodes_[i];
    consensus::ReplicaConfig rc;
    rc.timeouts = sim_timeouts();
    if (!byzantine(i)) rc.faults = config_.faults;  // empty without fault injection
    rc.block_transactions_max = kSimBlockTransactionsMax;
    n.replica = std::make_unique<Replica>(genesis_, sim_gateway_key(config_.seed, i),
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
    push(now_ms_ + 200 + rng_.uniform(2500), Event{EventKind::kRestart, i, 0, n.epoch});
  }

  void violation(std::string invariant, std::string detail) {
    result_.violations.push_back(Violation{std::move(invariant), std::move(detail), now_ms_});
  }

  void send_out(std::size_t from, const std::vector<std::size_t>& to, const Bytes& bytes) {
    if (byzantine(from)) {
      byzantine_.send(from, to, bytes);
      return;
    }
    if (auto decoded = consensus::decode_message(bytes)) {
      if (auto v = checker_.on_signed(from, *decoded, now_ms_)) result_.violations.push_back(*v);
      note_proposal(*decoded);
      // Once: a restarted locker sends its precommit again.
      if (config_.restart_lockers && byzantine_.is_split_lock_locker_precommit(from, *decoded) &&
          lockers_restarted_.emplace(from, std::get<ledger::Vote>(*decoded).height.value()).second)
        push(now_ms_ + 1, Event{EventKind::kCrash, from, 0, nodes_[from].epoch});
    }
    if (config_.trace) trace(from, "  sends " + describe_message(bytes));
    for (std::size_t t : to)
      transmit(from, t, bytes);
  }

  void note_proposal(const Message& m) {
    if (const auto* p = std::get_if<ledger::Proposal>(&m)) {
      if (p->round.value() == 0) first_proposal_ms_.emplace(p->height, now_ms_);
    }
    byzantine_.note_sent(m);
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
    if (may_crash && !byzantine(i) && mix_.crashes && faulty_phase() &&
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
                         static_cast<std::int64_t>(kSimGenesisTimeMs);
      Event e{EventKind::kTimer, i, 0, n.epoch};
      e.timeout = s->timeout;
      push(std::max<std::uint64_t>(now_ms_,
                                   static_cast<std::uint64_t>(std::max<std::int64_t>(local, 0))),
           std::move(e));
    } else if (auto* serve = std::get_if<consensus::ServeBlocks>(&action)) {
      for (std::uint64_t h = serve->from.value(); h <= serve->to_height.value(); ++h) {
        const consensus::StoredBlock& stored = n.store.at(Height{h});
        send_out(
            i, {serve->to.value()},
            consensus::encode(Message{consensus::CommitMessage{stored.block, stored.certificate}}));
      }
    } else if (auto* c = std::get_if<consensus::Committed>(&action)) {
      max_round_ = std::max<std::uint64_t>(max_round_, c->round.value());
      if (byzantine(i)) return;
      if (byzantine_.is_split_lock_decider(i, c->height, c->by_sync)) {
        isolate(i);  // the split-lock attack's last move: the decider must not tell the others
      } else if (mix_.partitions && faulty_phase() && !c->by_sync && !network_.partitioned() &&
                 rng_.unit() < (config_.force_partitions ? 0.5 : 0.05)) {
        // The adversarial partition: cut off a gateway right after it decides, before it can
        // hand the block to the others (who then go on deciding that height without it).
        isolate(i);
      }
      // Blocks this gateway stored before a crash kept it from reporting them come first.
      const std::uint64_t known = checker_.height();
      for (std::uint64_t h = std::min(known + 1, c->height.value()); h <= c->height.value(); ++h) {
        if (auto v = checker_.on_commit(i, Height{h}, n.store.at(Height{h}), now_ms_))
          result_.violations.push_back(*v);
      }
      auto first = first_proposal_ms_.find(c->height);
      if (!c->by_sync && c->round.value() == 0 && first != first_proposal_ms_.end() &&
          !faulty_phase() && latency_recorded_.insert(c->height).second) {
        result_.commit_latency_ms.push_back(now_ms_ - first->second);
      }
    }
  }

  void isolate(std::size_t i) {
    push(now_ms_ + network_.isolate(i), Event{EventKind::kPartitionEnd});
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
        check_kept(e.node, e.bytes);
        if (config_.trace)
          trace(e.node, fmt::format("from {} {}", e.from, describe_message(e.bytes)));
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
          push(now_ms_ + 50 + rng_.uniform(400), Event{EventKind::kWorkload});
        return;
      case EventKind::kPartition:
        if (faulty_phase()) push(now_ms_ + network_.partition(), Event{EventKind::kPartitionEnd});
        return;
      case EventKind::kPartitionEnd:
        network_.heal();
        if (faulty_phase()) push(now_ms_ + 500 + rng_.uniform(3000), Event{EventKind::kPartition});
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
        push(now_ms_ + 300 + rng_.uniform(700), Event{EventKind::kFlood, e.node});
        return;
      case EventKind::kCrash: {
        Node& n = nodes_[e.node];
        if (n.up && e.epoch == n.epoch) crash(e.node);
        return;
      }
      case EventKind::kSilenceToggle:
        byzantine_.toggle_silence(e.node);
        push(now_ms_ + 500 + rng_.uniform(3000), Event{EventKind::kSilenceToggle, e.node});
        return;
    }
  }

  // What a correct gateway's engine kept of a message just delivered: never a forgery.
  void check_kept(std::size_t i, const Bytes& bytes) {
    const Node& n = nodes_[i];
    if (byzantine(i) || !n.replica) return;
    auto decoded = consensus::decode_message(bytes);
    if (!decoded) return;
    const consensus::Engine& engine = n.replica->engine();
    bool kept = false;
    if (const auto* p = std::get_if<ledger::Proposal>(&*decoded)) {
      const ledger::Proposal* stored = engine.proposal(p->round);
      kept = p->height == engine.height() && stored != nullptr && *stored == *p;
    } else if (const auto* v = std::get_if<ledger::Vote>(&*decoded)) {
      kept = v->height == engine.height() && engine.votes().contains(*v);
    }
    if (!kept) return;
    if (auto v = checker_.on_kept(i, *decoded, now_ms_)) result_.violations.push_back(*v);
  }

  void flood(std::size_t i) {
    Node& n = nodes_[i];
    if (!n.up || !n.replica) return;
    const Height committed = n.replica->committed_height();
    std::optional<consensus::StoredBlock> last;
    if (committed.value() >= 1) last = n.store.at(committed);
    byzantine_.flood(i, Height{committed.value() + 1}, last);
  }

  void trace(std::size_t i, const std::string& what) {
    const Node& n = nodes_[i];
    if (byzantine(i) || !n.replica) return;
    fmt::print(stderr, "{:>6} g{} {:<44} | {}\n", now_ms_, i, what,
               describe_engine(n.replica->engine()));
  }

  void heal() {
    network_.heal();
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      if (!nodes_[i].up) start_node(i);
    }
    heal_height_ = 0;
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      if (!byzantine(i) && nodes_[i].replica)
        heal_height_ = std::max(heal_height_, nodes_[i].replica->committed_height().value());
    }
  }

  // A join, leave or eviction through a random running correct gateway, built on what that
  // gateway's mempool expects (so most pass; some are stale by the time they are checked).
  void workload() {
    std::vector<std::size_t> candidates;
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      if (nodes_[i].up && !byzantine(i)) candidates.push_back(i);
    }
    if (candidates.empty()) return;
    std::size_t g = candidates[rng_.uniform(candidates.size())];
    ledger::Transaction tx{};
    // Drawn and unused (a join's commitment is its device's key now): every later draw of the
    // seed stays where it was.
    rng_.fill(tx.commitment);
    tx.refresh_key = rng_.key128();
    std::optional<crypto::Ed25519Signature> consent;
    const auto& members = nodes_[g].replica->mempool().check_state().table().members();
    if (members.size() < 8 || rng_.uniform(10) < 6) {
      // A join through its home gateway, under a device key the simulator can sign with.
      const ledger::LedgerState& view = nodes_[g].replica->mempool().check_state();
      auto placement = view.table().assign(GatewayId{static_cast<std::uint16_t>(g)});
      if (!placement) return;
      tx.op = ledger::Operation::kJoin;
      tx.node = NodeId{(static_cast<std::uint32_t>(g) << 24) | ++next_node_[g]};
      tx.set = placement->set;
      tx.commitment = sim_device_key(config_.seed, tx.node).public_key();
    } else {
      auto it = members.begin();
      std::advance(it, static_cast<std::ptrdiff_t>(rng_.uniform(members.size())));
      tx.node = it->first;
      tx.op = rng_.uniform(2) == 0 ? ledger::Operation::kLeave : ledger::Operation::kEvict;
      if (tx.op == ledger::Operation::kLeave) {
        // Only its home gateway submits a leave, with the device's consent.
        g = ledger::origin_of(tx.node).value();
        if (g >= nodes_.size() || !nodes_[g].up || byzantine(g)) return;
        consent = sim_device_key(config_.seed, tx.node)
                      .sign(ledger::leave_consent_bytes(genesis_.chain_id(), tx.node));
      }
      // An eviction from any gateway: at once from home, a request from any other.
      const ledger::LedgerState& view = nodes_[g].replica->mempool().check_state();
      const keys::MemberRecord* member = view.table().find_member(tx.node);
      const ledger::Commitment* commitment = view.commitment_of(tx.node);
      if (member == nullptr || commitment == nullptr) return;
      tx.set = member->set;
      tx.commitment = *commitment;
    }
    Node& n = nodes_[g];
    std::vector<Action> out;
    (void)n.replica->submit(n.replica->sign(tx, consent), local_now(n), out);
    execute(g, out, true);
  }

  void finish() {
    result_.sim_ms = now_ms_;
    result_.messages_sent = network_.sent();
    result_.messages_dropped = network_.dropped();
    result_.partitions = network_.partitions();
    result_.split_lock_attacks = byzantine_.split_lock_attacks();
    result_.forged_transactions = byzantine_.forged_transactions();
    result_.eviction_requests_final = checker_.eviction_requests();
    result_.total_power = genesis_.total_power();
    for (const ledger::Validator& v : genesis_.validators) {
      if (byzantine(v.index.value())) result_.byzantine_power += v.power;
    }
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
      if (byzantine(i)) continue;
      const std::uint64_t height = n.store.height().value();
      min_height = std::min(min_height, height);
      if (height < heal_height_ + kLivenessBlocks) {
        lagging += fmt::format(" gateway {} at height {}", i, height);
        if (n.replica) lagging += " (engine " + describe_engine(n.replica->engine()) + ")";
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

  // How long after healing liveness may take when the network is kind. A correct gateway
  // locked during the faults prevotes nil on every fresh block, and only a proposer with the
  // highest valid round (in the worst case that gateway itself) re-proposes what others can
  // take: the weighted schedule reaches every gateway within one rotation of W slots, W the
  // total power. So: W rounds at their longest, then the blocks the check asks for.
  static std::uint64_t rotation_bound_ms(const std::vector<std::uint64_t>& powers) {
    const ledger::Timeouts t = sim_timeouts();
    const auto round_ms = [&](Round r) { return t.propose(r) + t.prevote(r) + t.precommit(r); };
    std::uint64_t total_power = 0;
    for (std::uint64_t p : powers)
      total_power += p;
    return total_power * round_ms(Round{t.growth_rounds_max}) +
           kLivenessBlocks * (t.commit_ms + round_ms(Round{0}));
  }

  const ConsensusSimConfig config_;
  crypto::DeterministicRng rng_;
  std::vector<Node> nodes_;
  ledger::Genesis genesis_;
  ConsensusChecker checker_;
  FaultMix mix_;
  SimNetwork network_;
  ByzantineGateways byzantine_;
  std::uint64_t heal_ms_;
  std::uint64_t duration_ms_;
  std::uint64_t now_ms_ = 0;
  std::uint64_t heal_height_ = 0;
  std::uint64_t max_round_ = 0;
  EventQueue<Event> events_;
  std::map<std::size_t, std::uint32_t> next_node_;
  std::map<Height, std::uint64_t> first_proposal_ms_;
  std::set<Height> latency_recorded_;
  std::set<std::pair<std::size_t, std::uint64_t>> lockers_restarted_;  // (gateway, height)
  ConsensusSimResult result_;
};

}  // namespace

ConsensusSimResult run_consensus_sim(const ConsensusSimConfig& config) {
  // One message reaches every replica of the run: its signature is checked once.
  crypto::VerifyMemo memo;
  crypto::ScopedVerifyMemo scope(memo);
  Simulation sim(config);
  return sim.run();
}

bool inject_fault(std::string_view name, ConsensusSimConfig& config) {
  if (name == "none") return true;
  const std::optional<consensus::Rule> rule = consensus::rule_from_name(name);
  if (!rule) return false;
#if !KMCHAIN_FAULTS_ENABLED
  (void)config;
  return false;
#else
  using consensus::Rule;
  config.faults.set(*rule);
  // What it takes for the broken rule to matter.
  switch (*rule) {
    case Rule::kIgnoreLock:
    case Rule::kProposeIgnoresValidValue:
      config.force_split_lock = true;
      break;
    case Rule::kReproposalWithoutPolka:
      config.force_split_lock = true;
      config.force_behaviours |= kFakePolka;
      break;
    case Rule::kRestoreForgetsLock:
      config.force_split_lock = true;
      config.restart_lockers = true;
      break;
    case Rule::kTwoThirdsQuorum:
    case Rule::kLockOnOneThird:
    case Rule::kDecideOnOneThird:
      config.force_equivocation = true;
      break;
    case Rule::kSkipWal:
    case Rule::kRestoreForgetsVotes:
      config.force_crashes = true;
      break;
    case Rule::kSkipVoteSignature:
      config.force_behaviours |= kBadSignatures;
      break;
    case Rule::kSkipProposalSignature:
    case Rule::kSkipProposerCheck:
      config.force_behaviours |= kOutOfTurn;
      break;
    case Rule::kCertificateSkipsSignatures:
    case Rule::kCertificateShortQuorum:
    case Rule::kCertificateAnyBlock:
    case Rule::kSyncSkipsValidity:
      config.force_behaviours |= kForgedSync;
      break;
    case Rule::kPrevoteInvalidBlock:
    case Rule::kSkipHeightCheck:
    case Rule::kSkipPreviousHash:
    case Rule::kSkipStateHash:
    case Rule::kSkipProposerKnown:
    case Rule::kSkipTimestampOrder:
    case Rule::kSkipTimestampDrift:
    case Rule::kSkipTransactionLimit:
    case Rule::kSkipContract:
      config.force_behaviours |= kInvalidProposals;
      break;
    case Rule::kRoundSkipOnOne:
      config.force_behaviours |= kRoundAhead;
      break;
    default:
      break;  // the timeouts and the other round-skip rule: the faults of every seed
  }
  return true;
#endif
}

std::vector<std::string> injectable_faults() {
  std::vector<std::string> out;
  for (const consensus::RuleInfo& r : consensus::kRules)
    out.emplace_back(r.name);
  return out;
}

}  // namespace kmchain::sim
