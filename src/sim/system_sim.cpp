#include "sim/system_sim.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <utility>

#include "base/check.h"
#include "crypto/verify_memo.h"
#include "ledger/contract.h"
#include "sim/consensus_sim.h"

namespace kmchain::sim {

namespace {

// Per seed, which of the system's own faults are in the mix (swarm testing, as for the
// consensus faults).
struct DeviceFaultMix {
  bool sleepers = false;
  bool restarts = false;
  bool cut_offs = false;
  bool join_crashes = false;

  std::string describe() const {
    return fmt::format("; device faults: sleep {} restart {} cut-off {} join-crash {}",
                       sleepers ? "yes" : "no", restarts ? "yes" : "no", cut_offs ? "yes" : "no",
                       join_crashes ? "yes" : "no");
  }
};

class SystemSim {
 public:
  explicit SystemSim(const SystemSimConfig& config)
      : config_(config),
        rng_(config.seed),
        mix_(with_clock_offset(draw_fault_mix(rng_, false, force_crashes(config)), config.seed)),
        mode_(config.mode ? *config.mode
                          : (rng_.uniform(2) == 0 ? ledger::SubmissionMode::kCommit
                                                  : ledger::SubmissionMode::kSync)),
        device_faults_(draw_device_faults(config)),
        duration_ms_(config.ticks * kTickMs),
        heal_ms_(duration_ms_ * 2 / 5),
        workload_end_ms_(duration_ms_ * 3 / 5),
        probe_ms_(duration_ms_ * 4 / 5),
        cluster_(cluster_config()) {
    KMCHAIN_CHECK(config.byzantine * 3 < config.gateways || config.byzantine == 0);
    cluster_.draw_byzantine(config.byzantine, false, false);
  }

  SystemSimResult run() {
    result_.seed = config_.seed;
    result_.mode = mode_;
    result_.fault_mix = mix_.describe() + device_faults_.describe() + cluster_.liars().describe();
    cluster_.set_faulty(true);
    cluster_.start();
    schedule();
    cluster_.run_until(duration_ms_, config_.stop_at_violation);
    finish();
    return std::move(result_);
  }

 private:
  static FaultMix with_clock_offset(FaultMix mix, std::uint64_t seed) {
    mix.clock_offset_ms = draw_clock_offset(seed);
    return mix;
  }
  static bool force_crashes(const SystemSimConfig& config) {
#if KMCHAIN_FAULTS_ENABLED
    return config.faults.forget_pending_joins || config.faults.gateway.record_after_gossip;
#else
    (void)config;
    return false;
#endif
  }

  DeviceFaultMix draw_device_faults(const SystemSimConfig& config) {
    DeviceFaultMix m;
    m.sleepers = rng_.uniform(2) == 0;
    m.restarts = rng_.uniform(2) == 0;
    m.cut_offs = rng_.uniform(2) == 0;
    m.join_crashes = rng_.uniform(2) == 0;
#if KMCHAIN_FAULTS_ENABLED
    if (config.faults.gateway.record_after_gossip || config.faults.forget_pending_joins)
      m.join_crashes = true;
#else
    (void)config;
#endif
    return m;
  }

  SystemClusterConfig cluster_config() const {
    SystemClusterConfig c;
    c.gateways = config_.gateways;
    c.seed = config_.seed;
    c.mode = mode_;
    c.mix = mix_;
    c.trace = config_.trace;
    c.faults = config_.faults;
    c.agent.grace_ms = 2'000;
    c.agent.catch_up_after_ms = 300;
    c.agent.keys_wait_ms = 1'000;
    c.agent.check_interval_ms = 2'000;
    return c;
  }

  std::uint64_t now() const {
    return cluster_.now_ms();
  }
  bool faulty() const {
    return now() < heal_ms_;
  }

  // Every recurring event of the run, each rescheduling itself.
  void schedule() {
    cluster_.at(rng_.uniform(100), [this] { workload(); });
    if (mix_.partitions) cluster_.at(500 + rng_.uniform(2000), [this] { partition(); });
    if (device_faults_.sleepers) cluster_.at(300 + rng_.uniform(1000), [this] { sleeper(); });
    if (device_faults_.restarts) cluster_.at(300 + rng_.uniform(1000), [this] { restarter(); });
    if (device_faults_.cut_offs) cluster_.at(300 + rng_.uniform(2000), [this] { cut_off(); });
    if (device_faults_.join_crashes) cluster_.at(rng_.uniform(1000), [this] { join_crash(); });
    for (std::size_t g = 0; g < config_.gateways; ++g) {
      const std::uint32_t b = cluster_.liars().behaviours(g);
      if (b & kFlood) cluster_.at(300 + rng_.uniform(500), [this, g] { flood(g); });
      if (b & kSilence) cluster_.at(rng_.uniform(2000), [this, g] { silence(g); });
    }
    cluster_.at(heal_ms_, [this] { heal(); });
    cluster_.at(probe_ms_, [this] { probe(); });
  }

  // --- the workload -----------------------------------------------------------------------

  // Devices that take part: started, not leaving.
  std::vector<std::size_t> present() const {
    std::vector<std::size_t> out;
    for (std::size_t d = 0; d < cluster_.device_count(); ++d) {
      const auto& dev = cluster_.device(d);
      if (dev.started && !dev.leaving) out.push_back(d);
    }
    return out;
  }
  std::vector<std::size_t> placed() const {
    std::vector<std::size_t> out;
    for (std::size_t d : present()) {
      const auto& dev = cluster_.device(d);
      if (!dev.asleep && dev.agent->placed()) out.push_back(d);
    }
    return out;
  }

  // The operator admits a new device's credential at a gateway that is up (one that is down
  // refuses the operator too), and the device joins through it.
  void join() {
    std::vector<std::size_t> up;
    for (std::size_t g = 0; g < config_.gateways; ++g)
      if (cluster_.gateway(g).up) up.push_back(g);
    if (up.empty()) return;
    const std::size_t d = cluster_.add_device(up[rng_.uniform(up.size())]);
    cluster_.start_device(d);
  }

  void workload() {
    const std::size_t population = present().size();
    if (population < config_.devices || rng_.uniform(10) < 4) {
      join();
    } else if (rng_.uniform(2) == 0) {
      const auto members = placed();
      if (!members.empty()) cluster_.leave(members[rng_.uniform(members.size())]);
    } else {
      evict();
    }
    const auto members = placed();
    for (std::uint64_t k = rng_.uniform(3); k > 0 && members.size() >= 2; --k) {
      const std::size_t a = members[rng_.uniform(members.size())];
      const std::size_t b = members[rng_.uniform(members.size())];
      if (a != b) (void)cluster_.send_record(a, b, false);
    }
    if (now() + 200 < workload_end_ms_)
      cluster_.at(now() + 20 + rng_.uniform(200), [this] { workload(); });
  }

  // A random member evicted: by its home gateway's operator alone when the draw says so and the
  // home is correct and up, else by the operators of other correct gateways, as many as hold
  // more than a third of the power (every gateway has power 1 here), each asking in turn.
  void evict() {
    std::vector<std::size_t> gateways;
    for (std::size_t g = 0; g < config_.gateways; ++g)
      if (!cluster_.byzantine(g) && cluster_.gateway(g).up) gateways.push_back(g);
    const auto members = placed();
    if (gateways.empty() || members.empty()) return;
    const std::size_t d = members[rng_.uniform(members.size())];
    const std::size_t g = gateways[rng_.uniform(gateways.size())];
    const NodeId node = *cluster_.device(d).agent->node();
    const std::size_t home = ledger::origin_of(node).value();
    if (g == home || rng_.uniform(2) == 0) {
      (void)cluster_.evict(g, node);
      return;
    }
    std::vector<std::size_t> others;
    for (std::size_t o : gateways)
      if (o != home) others.push_back(o);
    const std::size_t needed = config_.gateways / 3 + 1;
    if (others.size() < needed) return;
    for (std::size_t k = 0; k < needed; ++k)
      (void)cluster_.evict(others[k], node);
  }

  // --- the faults ---------------------------------------------------------------------------

  void partition() {
    if (!faulty()) return;
    cluster_.partition_gateways();
    cluster_.at(now() + 500 + rng_.uniform(3000), [this] { partition(); });
  }

  void sleeper() {
    if (!faulty()) return;
    const auto devices = present();
    if (!devices.empty()) {
      const std::size_t d = devices[rng_.uniform(devices.size())];
      if (!cluster_.device(d).asleep) {
        ++result_.device_sleeps;
        cluster_.sleep_device(d);
        cluster_.at(now() + 300 + rng_.uniform(5000), [this, d] { cluster_.wake_device(d); });
      }
    }
    cluster_.at(now() + 200 + rng_.uniform(1500), [this] { sleeper(); });
  }

  void restarter() {
    if (!faulty()) return;
    const auto devices = present();
    if (!devices.empty()) {
      ++result_.device_restarts;
      cluster_.restart_device(devices[rng_.uniform(devices.size())]);
    }
    cluster_.at(now() + 300 + rng_.uniform(2000), [this] { restarter(); });
  }

  void cut_off() {
    if (!faulty()) return;
    const std::size_t g = rng_.uniform(config_.gateways);
    cluster_.cut_off_devices(g, true);
    cluster_.at(now() + 300 + rng_.uniform(4000), [this, g] {
      cluster_.cut_off_devices(g, false);
      cut_off();
    });
  }

  void join_crash() {
    if (!faulty()) return;
    cluster_.crash_in_next_join(rng_.uniform(config_.gateways), rng_.uniform(8));
    cluster_.at(now() + 500 + rng_.uniform(2500), [this] { join_crash(); });
  }

  void flood(std::size_t g) {
    if (!faulty()) return;
    cluster_.flood(g);
    cluster_.at(now() + 300 + rng_.uniform(700), [this, g] { flood(g); });
  }

  void silence(std::size_t g) {
    cluster_.toggle_silence(g);
    cluster_.at(now() + 500 + rng_.uniform(3000), [this, g] { silence(g); });
  }

  void heal() {
    cluster_.set_faulty(false);
    cluster_.heal();
    heal_height_ = 0;
    for (std::size_t g = 0; g < config_.gateways; ++g) {
      if (!cluster_.byzantine(g) && cluster_.gateway(g).up)
        heal_height_ =
            std::max(heal_height_, cluster_.gateway(g).node->replica().committed_height().value());
    }
  }

  // --- the probes ---------------------------------------------------------------------------

  // After everything settled: every current member (homed at a correct gateway) receives a
  // record from a random other one, and every pair that exchanged records before does once
  // more (its receiver knows the sender's set from then: a Reorder may have moved it since).
  void probe() {
    std::vector<std::size_t> members;
    for (std::size_t d : placed()) {
      if (!cluster_.byzantine(cluster_.device(d).home)) members.push_back(d);
    }
    if (members.size() < 2) return;
    const std::set<std::size_t> current(members.begin(), members.end());
    std::set<std::pair<std::size_t, std::size_t>> pairs;
    for (const RecordSent& r : cluster_.records()) {
      if (current.contains(r.from) && current.contains(r.to) && r.opened == true)
        pairs.emplace(r.from, r.to);
    }
    for (std::size_t i = 0; i < members.size(); ++i) {
      const std::size_t other = (i + 1 + rng_.uniform(members.size() - 1)) % members.size();
      pairs.emplace(members[other], members[i]);
    }
    for (const auto& [from, to] : pairs) {
      if (from == to) continue;
      if (cluster_.send_record(from, to, true)) {
        ++result_.probes;
      } else {
        cluster_.checker().violation(
            "d2d", fmt::format("device {} holds no key for current member device {}", from, to),
            now());
      }
    }
  }

  // --- the end --------------------------------------------------------------------------------

  void finish() {
    result_.sim_ms = cluster_.now_ms();
    SystemChecker& checker = cluster_.checker();
    const bool stopped_early = config_.stop_at_violation && !checker.violations().empty();
    if (!stopped_early) checker.final_checks(cluster_, cluster_.now_ms());
    result_.violations = checker.violations();
    std::uint64_t min_height = UINT64_MAX;
    std::string lagging;
    for (std::size_t g = 0; g < config_.gateways; ++g) {
      const auto& gw = cluster_.gateway(g);
      if (gw.node) {
        result_.resubmissions += gw.node->device_stats().resubmissions;
        result_.sync_repairs += gw.node->device_stats().sync_repairs;
        result_.joins_failed += gw.node->device_stats().joins_failed;
      }
      if (cluster_.byzantine(g)) continue;
      const std::uint64_t height = gw.store.height().value();
      min_height = std::min(min_height, height);
      if (height < heal_height_ + kLivenessBlocks) {
        lagging += fmt::format(" gateway {} at height {}", g, height);
      }
    }
    if (!stopped_early && !lagging.empty()) {
      result_.liveness_failure = true;
      result_.liveness_detail =
          fmt::format("{} blocks expected after height {} within {} ms of healing:{}",
                      kLivenessBlocks, heal_height_, duration_ms_ - heal_ms_, lagging);
    }
    result_.blocks = min_height == UINT64_MAX ? 0 : min_height;
    result_.joins = checker.stats().joins;
    result_.removals = checker.stats().removals;
    result_.keyrings_compared = checker.stats().keyrings_compared;
    result_.foreign_members = checker.stats().foreign_members;
    for (std::size_t d = 0; d < cluster_.device_count(); ++d)
      result_.devices += cluster_.device(d).started ? 1u : 0u;
    result_.records = cluster_.records().size();
    for (const RecordSent& r : cluster_.records())
      result_.records_opened += r.opened == true ? 1u : 0u;
    result_.gateway_crashes = cluster_.crashes();
    result_.posts_lost = cluster_.posts_lost();
  }

  static constexpr std::uint64_t kLivenessBlocks = 3;

  const SystemSimConfig config_;
  crypto::DeterministicRng rng_;
  FaultMix mix_;
  ledger::SubmissionMode mode_;
  DeviceFaultMix device_faults_;
  std::uint64_t duration_ms_;
  std::uint64_t heal_ms_;
  std::uint64_t workload_end_ms_;
  std::uint64_t probe_ms_;
  SystemCluster cluster_;
  std::uint64_t heal_height_ = 0;
  SystemSimResult result_;
};

}  // namespace

SystemSimResult run_system_sim(const SystemSimConfig& config) {
  // One message reaches every replica of the run: its signature is checked once.
  crypto::VerifyMemo memo;
  crypto::ScopedVerifyMemo scope(memo);
  SystemSim sim(config);
  return sim.run();
}

bool inject_system_fault(std::string_view name, SystemSimConfig& config) {
  if (name == "none") return true;
#if !KMCHAIN_FAULTS_ENABLED
  (void)config;
  return false;
#else
  if (name == "lose-push") {
    config.faults.gateway.lose_push = true;
  } else if (name == "record-after-gossip") {
    config.faults.gateway.record_after_gossip = true;
  } else if (name == "forget-pending-joins") {
    config.faults.forget_pending_joins = true;
  } else if (name == "cached-peer-set-only") {
    config.faults.cached_peer_set_only = true;
  } else {
    return false;
  }
  return true;
#endif
}

}  // namespace kmchain::sim
