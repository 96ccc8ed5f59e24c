#include "sim/system_cluster.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <utility>

#include "base/bytes.h"
#include "base/check.h"
#include "consensus/message.h"
#include "keys/rekey_batch.h"
#include "sim/sim_consortium.h"
#include "sim/trace.h"

namespace kmchain::sim {

namespace {

constexpr std::uint16_t kGatewayPortBase = 5000;
constexpr std::uint16_t kDevicePortBase = 10000;

crypto::Secret256 derived_secret(std::uint64_t seed, std::uint64_t a, std::uint64_t b) {
  crypto::DeterministicRng rng(seed * 1'000'003 + a * 1009 + b * 7 + 0x6b6d);
  return rng.secret<32>();
}

}  // namespace

SystemCluster::SystemCluster(SystemClusterConfig config)
    : config_(std::move(config)),
      rng_(config_.seed ^ 0x73797374656dULL),
      genesis_(sim_genesis(fmt::format("system-{}", config_.seed), config_.seed, config_.gateways)),
      gateways_(config_.gateways),
      network_(config_.gateways, config_.mix, rng_),
      byzantine_(genesis_, config_.seed, rng_, *this, config_.trace),
      checker_(genesis_, [&] {
        // Each gateway's own key source: a master and a pair secret with every other gateway,
        // as the daemon derives them from its identity and the genesis.
        std::map<GatewayId, keys::KeySource*> sources;
        for (std::size_t g = 0; g < config_.gateways; ++g) {
          const GatewayId self{static_cast<std::uint16_t>(g)};
          keys::DerivedKeySource::PairSecrets pairs;
          for (std::size_t h = 0; h < config_.gateways; ++h) {
            if (h == g) continue;
            pairs.emplace(GatewayId{static_cast<std::uint16_t>(h)},
                          derived_secret(config_.seed, std::min(g, h) + 1, std::max(g, h) + 1));
          }
          gateways_[g].source = std::make_unique<keys::DerivedKeySource>(
              self, derived_secret(config_.seed, g + 1, 0), std::move(pairs));
          sources.emplace(self, gateways_[g].source.get());
        }
        return sources;
      }()) {
  KMCHAIN_CHECK(config_.gateways >= 1 && config_.gateways <= 64);
  for (Gateway& g : gateways_) {
    if (config_.mix.skew_max_ms > 0) {
      g.skew_ms = static_cast<std::int64_t>(rng_.uniform(2 * config_.mix.skew_max_ms + 1)) -
                  static_cast<std::int64_t>(config_.mix.skew_max_ms);
    }
  }
}

SystemCluster::~SystemCluster() = default;

void SystemCluster::draw_byzantine(std::size_t count, bool force_equivocation,
                                   bool force_split_lock) {
  byzantine_.draw(count, force_equivocation, force_split_lock);
  // The mix's clock offset goes to a correct gateway, known only now.
  if (config_.mix.clock_offset_ms != 0) {
    std::vector<std::uint64_t> powers;
    for (const ledger::Validator& v : genesis_.validators)
      powers.push_back(v.power);
    if (auto g = clock_offset_gateway(powers,
                                      [this](std::size_t i) { return byzantine_.is_byzantine(i); }))
      gateways_[*g].skew_ms += config_.mix.clock_offset_ms;
  }
}

void SystemCluster::start() {
  for (std::size_t g = 0; g < gateways_.size(); ++g)
    start_gateway(g);
}

// --- time -------------------------------------------------------------------------------------

void SystemCluster::at(std::uint64_t at_ms, std::function<void()> what) {
  events_.push(std::max(at_ms, now_ms_), Call{std::move(what)});
}

void SystemCluster::run_until(std::uint64_t until_ms, bool stop_at_violation) {
  while (!events_.empty() && events_.next_ms() <= until_ms) {
    if (stop_at_violation && !checker_.violations().empty()) return;
    auto [at_ms, e] = events_.pop();
    now_ms_ = at_ms;
    handle(e);
  }
  now_ms_ = std::max(now_ms_, until_ms);
}

bool SystemCluster::run_until(const std::function<bool()>& done, std::uint64_t until_ms) {
  while (!done()) {
    if (events_.empty() || events_.next_ms() > until_ms) {
      now_ms_ = std::max(now_ms_, until_ms);
      return done();
    }
    auto [at_ms, e] = events_.pop();
    now_ms_ = at_ms;
    handle(e);
  }
  return true;
}

std::uint64_t SystemCluster::local_now(const Gateway& g) const {
  return static_cast<std::uint64_t>(static_cast<std::int64_t>(kSimGenesisTimeMs + now_ms_) +
                                    g.skew_ms);
}

// --- gateways ---------------------------------------------------------------------------------

void SystemCluster::start_gateway(std::size_t g) {
  Gateway& gw = gateways_[g];
  ++gw.epoch;
  gw.rng = std::make_unique<crypto::DeterministicRng>(config_.seed * 7919 + g * 131 + gw.epoch);
  gateway::GatewayNodeConfig nc;
  nc.self = GatewayId{static_cast<std::uint16_t>(g)};
  nc.mode = config_.mode;
  nc.replica.timeouts = sim_timeouts();
  nc.replica.block_transactions_max = kSimBlockTransactionsMax;
  nc.replica.mempool_capacity = config_.mempool_capacity;
  nc.tick_ms = config_.gateway_tick_ms;
#if KMCHAIN_FAULTS_ENABLED
  if (!byzantine(g)) nc.faults = config_.faults.gateway;
  if (config_.faults.forget_pending_joins && gw.epoch > 1 && !byzantine(g)) {
    gw.data.forget_unfinished_joins(checker_.reference_state());
  }
#endif
  gw.node = std::make_unique<gateway::GatewayNode>(genesis_, sim_gateway_key(config_.seed, g), nc,
                                                   *gw.source, *gw.rng,
                                                   [this] { return now_ms_ * 1000; });
  gw.node->restore(gw.data.load());
  for (std::uint64_t h = 1; h <= gw.store.height().value(); ++h) {
    std::vector<gateway::Action> actions;
    if (auto st = gw.node->restore_block(gw.store.at(Height{h}), actions); !st) {
      checker_.violation("restart",
                         fmt::format("gateway {} cannot replay block {}: {}", g, h,
                                     consensus::to_string(st.error())),
                         now_ms_);
      return;
    }
    gw.up = true;  // its own disk, not the network: no crash in between
    (void)execute(g, actions, false);
  }
  std::vector<gateway::Action> actions;
  if (auto st = gw.node->start(gw.wal.read_last(), local_now(gw), actions); !st) {
    checker_.violation(
        "restart", fmt::format("gateway {} cannot start: {}", g, consensus::to_string(st.error())),
        now_ms_);
    return;
  }
  gw.up = true;
  (void)execute(g, actions, false);
}

void SystemCluster::crash_gateway(std::size_t g) {
  Gateway& gw = gateways_[g];
  if (!gw.up) return;
  gw.node.reset();
  gw.up = false;
  ++gw.epoch;
  ++crashes_;
}

void SystemCluster::restart_gateway(std::size_t g) {
  if (!gateways_[g].up) start_gateway(g);
}

bool SystemCluster::execute(std::size_t g, std::vector<gateway::Action>& actions, bool may_crash,
                            std::optional<std::size_t> crash_at) {
  Gateway& gw = gateways_[g];
  const std::uint64_t epoch = gw.epoch;
  if (!crash_at && may_crash && !byzantine(g) && config_.mix.crashes && faulty_ &&
      rng_.unit() < config_.mix.crash_probability) {
    crash_at = rng_.uniform(actions.size() + 1);
  }
  const auto crash_now = [&] {
    crash_gateway(g);
    // Back after a while, from its disk, as an operator's supervisor would restart it.
    at(now_ms_ + 200 + rng_.uniform(2500), [this, g] { restart_gateway(g); });
    return false;
  };
  for (std::size_t k = 0; k < actions.size(); ++k) {
    if (crash_at && *crash_at == k) return crash_now();
    run_action(g, actions[k]);
    if (!gw.up || gw.epoch != epoch) return false;
  }
  if (crash_at) return crash_now();  // after the last action, before any reply
  return true;
}

void SystemCluster::run_action(std::size_t g, gateway::Action& action) {
  Gateway& gw = gateways_[g];
  if (const auto* pending = std::get_if<gateway::PutPending>(&action)) {
    if (pending->transaction.transaction.op == ledger::Operation::kJoin)
      checker_.on_join_submitted(pending->transaction.transaction.node);
  }
  if (const auto* put = std::get_if<gateway::PutDevice>(&action)) {
    checker_.on_device_record(put->record.node, put->record.node_key, now_ms_);
    if (config_.trace) {
      fmt::print(stderr, "{:>6} g{} stores device {} key {} failure '{}'\n", now_ms_, g,
                 put->record.node.value(), to_hex(put->record.node_key.view()).substr(0, 8),
                 put->record.join_failure);
    }
  }
  if (const auto* erase = std::get_if<gateway::EraseDevice>(&action); erase && config_.trace)
    fmt::print(stderr, "{:>6} g{} erases device {}\n", now_ms_, g, erase->node.value());
  if (const auto* tx = std::get_if<gateway::PutPending>(&action); tx && config_.trace) {
    fmt::print(stderr, "{:>6} g{} pending {} {}\n", now_ms_, g,
               ledger::to_string(tx->transaction.transaction.op),
               tx->transaction.transaction.node.value());
  }
  if (gw.data.apply(action)) return;
  std::visit(
      [&](auto& a) {
        using T = std::decay_t<decltype(a)>;
        if constexpr (std::is_same_v<T, consensus::WriteWal>) {
          gw.wal.write(a.record);
        } else if constexpr (std::is_same_v<T, consensus::StoreBlock>) {
          gw.store.append(a.stored);
        } else if constexpr (std::is_same_v<T, consensus::SendTo>) {
          send_out(g, {a.to.value()}, a.bytes);
        } else if constexpr (std::is_same_v<T, consensus::BroadcastAll>) {
          std::vector<std::size_t> others;
          for (std::size_t o = 0; o < gateways_.size(); ++o)
            if (o != g) others.push_back(o);
          send_out(g, others, a.bytes);
        } else if constexpr (std::is_same_v<T, consensus::Schedule>) {
          const auto local = static_cast<std::int64_t>(a.at_ms) - gw.skew_ms -
                             static_cast<std::int64_t>(kSimGenesisTimeMs);
          events_.push(std::max<std::uint64_t>(
                           now_ms_, static_cast<std::uint64_t>(std::max<std::int64_t>(local, 0))),
                       GatewayTimer{g, gw.epoch, a.timeout});
        } else if constexpr (std::is_same_v<T, consensus::ServeBlocks>) {
          for (std::uint64_t h = a.from.value(); h <= a.to_height.value(); ++h) {
            const consensus::StoredBlock& stored = gw.store.at(Height{h});
            send_out(g, {a.to.value()},
                     consensus::encode(consensus::Message{
                         consensus::CommitMessage{stored.block, stored.certificate}}));
          }
        } else if constexpr (std::is_same_v<T, consensus::Committed>) {
          on_committed(g, a);
        } else if constexpr (std::is_same_v<T, gateway::PushToDevice>) {
          checker_.on_sent(g, a.wire, now_ms_);
          const std::uint64_t id = ++next_push_;
          open_pushes_[id] = OpenPush{g, gw.epoch, a.node};
          if (auto d = device_at(a.to)) {
            for (std::uint64_t delay : device_link(g))
              events_.push(now_ms_ + delay, PushArrival{*d, id, a.wire});
          }
          events_.push(now_ms_ + config_.push_timeout_ms, PushTimeout{id});
        } else if constexpr (std::is_same_v<T, gateway::ScheduleTick>) {
          const auto local = static_cast<std::int64_t>(a.at_ms) - gw.skew_ms -
                             static_cast<std::int64_t>(kSimGenesisTimeMs);
          events_.push(std::max<std::uint64_t>(
                           now_ms_, static_cast<std::uint64_t>(std::max<std::int64_t>(local, 0))),
                       GatewayTimer{g, gw.epoch, std::nullopt});
        } else if constexpr (std::is_same_v<T, gateway::Note>) {
          if (config_.trace) fmt::print(stderr, "{:>6} g{} note {}\n", now_ms_, g, a.event);
        }
      },
      action);
}

void SystemCluster::send_out(std::size_t from, const std::vector<std::size_t>& to,
                             const Bytes& bytes) {
  if (byzantine(from)) {
    byzantine_.send(from, to, bytes);
    return;
  }
  if (auto decoded = consensus::decode_message(bytes)) {
    checker_.on_signed(from, *decoded, now_ms_);
    byzantine_.note_sent(*decoded);
  }
  checker_.on_sent(from, bytes, now_ms_);
  if (config_.trace)
    fmt::print(stderr, "{:>6} g{} sends {}\n", now_ms_, from, describe_message(bytes));
  for (std::size_t t : to)
    transmit(from, t, bytes);
}

void SystemCluster::transmit(std::size_t from, std::size_t to, const Bytes& bytes) {
  if (!byzantine_.is_byzantine(from) && byzantine_.network_withholds(from, to, bytes)) return;
  for (std::uint64_t delay : network_.deliveries(from, to, faulty_))
    events_.push(now_ms_ + delay, PeerDelivery{to, from, bytes});
}

void SystemCluster::push_partition_end(std::uint64_t after_ms) {
  at(now_ms_ + after_ms, [this] { network_.heal(); });
}

void SystemCluster::on_committed(std::size_t g, const consensus::Committed& c) {
  if (byzantine(g)) return;
  if (byzantine_.is_split_lock_decider(g, c.height, c.by_sync)) {
    isolate_gateway(g);  // the split-lock attack's last move: the decider must not tell the others
  } else if (config_.mix.partitions && faulty_ && !c.by_sync && !network_.partitioned() &&
             rng_.unit() < 0.05) {
    // The adversarial partition: cut off a gateway right after it decides, before it can hand
    // the block to the others.
    isolate_gateway(g);
  }
  // Blocks this gateway stored before a crash kept it from reporting them come first.
  const std::uint64_t known = checker_.consensus().height();
  for (std::uint64_t h = std::min(known + 1, c.height.value()); h <= c.height.value(); ++h)
    checker_.on_commit(g, Height{h}, gateways_[g].store.at(Height{h}), now_ms_);
}

void SystemCluster::flood(std::size_t g) {
  Gateway& gw = gateways_[g];
  if (!gw.up) return;
  const Height committed = gw.node->replica().committed_height();
  std::optional<consensus::StoredBlock> last;
  if (committed.value() >= 1) last = gw.store.at(committed);
  byzantine_.flood(g, Height{committed.value() + 1}, last);
}

void SystemCluster::heal() {
  network_.heal();
  for (Gateway& g : gateways_)
    g.devices_cut_off = false;
  for (std::size_t g = 0; g < gateways_.size(); ++g)
    restart_gateway(g);
  for (std::size_t d = 0; d < devices_.size(); ++d) {
    if (devices_[d]->asleep) wake_device(d);
  }
}

// --- devices ----------------------------------------------------------------------------------

Endpoint SystemCluster::device_endpoint(std::size_t d) const {
  return Endpoint{"device", static_cast<std::uint16_t>(kDevicePortBase + d)};
}

Endpoint SystemCluster::gateway_endpoint(std::size_t g) const {
  return Endpoint{"gateway", static_cast<std::uint16_t>(kGatewayPortBase + g)};
}

std::optional<std::size_t> SystemCluster::device_at(const Endpoint& e) const {
  if (e.host != "device" || e.port < kDevicePortBase) return std::nullopt;
  const std::size_t d = e.port - kDevicePortBase;
  return d < devices_.size() ? std::optional(d) : std::nullopt;
}

// The link between a device and gateway g (or another device, nullopt): the fault mix's loss,
// duplication and delay while faults are active; cut while the gateway is cut off.
std::vector<std::uint64_t> SystemCluster::device_link(std::optional<std::size_t> gateway) {
  return link_deliveries(rng_, config_.mix, gateway && gateways_[*gateway].devices_cut_off,
                         faulty_);
}

std::size_t SystemCluster::add_device(std::size_t gateway,
                                      const std::optional<enroll::SecretCode>& code) {
  const std::size_t d = devices_.size();
  KMCHAIN_CHECK(kDevicePortBase + d <= 65535);
  auto dev = std::make_unique<Device>();
  dev->index = d;
  dev->home = gateway;
  dev->rng = std::make_unique<crypto::DeterministicRng>(config_.seed * 104729 + d * 17 + 3);
  dev->credential = enroll::DeviceCredential::generate(*dev->rng);
  dev->code = enroll::draw_secret_code(*dev->rng);
  if (code) dev->code = *code;
  channel::ContextId chain{};
  const auto id = genesis_.chain_id();
  std::copy(id.begin(), id.end(), chain.begin());
  dev->eavesdropper = std::make_unique<device::Eavesdropper>(chain);
  devices_.push_back(std::move(dev));
  // The operator admits the credential at the device's gateway.
  Gateway& gw = gateways_[gateway];
  KMCHAIN_CHECK(gw.up);
  std::vector<gateway::Action> actions;
  KMCHAIN_CHECK(gw.node->admit(devices_[d]->credential, actions));
  (void)execute(gateway, actions, false);
  return d;
}

void SystemCluster::make_agent(Device& d) {
  device::AgentConfig c = config_.agent;
  const auto id = genesis_.chain_id();
  std::copy(id.begin(), id.end(), c.chain_id.begin());
  c.gateway = gateway_endpoint(d.home);
  c.listen_port = static_cast<std::uint16_t>(kDevicePortBase + d.index);
#if KMCHAIN_FAULTS_ENABLED
  c.fault_cached_peer_set_only = config_.faults.cached_peer_set_only;
#endif
  d.agent = std::make_unique<device::DeviceAgent>(c, d.credential, d.state.code().value_or(d.code),
                                                  *d.rng, d.counters, d.state, d.state.state());
}

void SystemCluster::start_device(std::size_t d) {
  Device& dev = *devices_[d];
  if (dev.started) return;
  dev.started = true;
  ++dev.epoch;
  make_agent(dev);
  std::vector<device::Post> posts;
  dev.agent->start(now_ms_, posts);
  device_posts(d, posts);
  schedule_device_tick(d);
}

void SystemCluster::schedule_device_tick(std::size_t d) {
  events_.push(now_ms_ + config_.device_tick_ms, DeviceTick{d, devices_[d]->epoch});
}

void SystemCluster::after_device_input(std::size_t d) {
  Device& dev = *devices_[d];
  // The attacker's copy: every key the device holds, kept after it stops holding them.
  if (dev.agent && dev.agent->keyring()) dev.eavesdropper->observe(*dev.agent->keyring());
}

void SystemCluster::device_events(std::size_t d, std::vector<device::Event>& events) {
  for (const device::Event& e : events) {
    const auto field = [&e](const std::string& key) {
      for (const auto& [k, v] : e.fields)
        if (k == key) return v;
      return std::string();
    };
    if (e.name == "accepted") {
      checker_.on_accepted(d, NodeId{static_cast<std::uint32_t>(std::stoul(field("node")))});
    } else if (e.name == "join_failed") {
      checker_.on_join_failed(d, NodeId{static_cast<std::uint32_t>(std::stoul(field("node")))});
    }
    if (config_.trace) {
      std::string fields;
      for (const auto& [k, v] : e.fields)
        fields += " " + k + "=" + v;
      fmt::print(stderr, "{:>6} device {} {}{}\n", now_ms_, d, e.name, fields);
    }
  }
  events.clear();
}

void SystemCluster::device_posts(std::size_t d, std::vector<device::Post>& posts) {
  Device& dev = *devices_[d];
  for (device::Post& p : posts) {
    KMCHAIN_CHECK(p.kind != device::PostKind::kD2d);  // records leave through send_record()
    const std::size_t g = p.to.port - kGatewayPortBase;
    KMCHAIN_CHECK(g < gateways_.size());
    const std::uint64_t id = ++next_post_;
    open_posts_[id] = OpenPost{d, dev.epoch, p.kind, p.tag};
    for (std::uint64_t delay : device_link(g))
      events_.push(now_ms_ + delay, PostArrival{g, id, p, device_endpoint(d)});
    events_.push(now_ms_ + config_.request_timeout_ms, PostTimeout{id});
  }
  posts.clear();
}

void SystemCluster::leave(std::size_t d) {
  Device& dev = *devices_[d];
  if (!dev.agent || dev.asleep) return;
  dev.leaving = true;
  std::vector<device::Post> posts;
  dev.agent->leave(now_ms_, posts);
  device_posts(d, posts);
}

bool SystemCluster::evict(std::size_t g, NodeId node) {
  Gateway& gw = gateways_[g];
  if (!gw.up) return false;
  std::vector<gateway::Action> actions;
  last_eviction_.reset();
  auto eviction = gw.node->evict(node, local_now(gw), actions);
  const bool done = execute(g, actions, true);
  if (!eviction.ok()) return false;
  last_eviction_ = *eviction;
  // Submitted, even if the gateway crashed before it answered: the device is on its way out.
  for (auto& dev : devices_) {
    if (dev->agent && dev->agent->node() == node) dev->leaving = true;
  }
  return done;
}

bool SystemCluster::send_record(std::size_t from, std::size_t to, bool probe) {
  Device& a = *devices_[from];
  Device& b = *devices_[to];
  if (!a.agent || !b.agent || a.asleep || !a.agent->placed() || !b.agent->placed()) return false;
  const NodeId peer = *b.agent->node();
  const SetId peer_set = *b.agent->set();
  const auto key = a.agent->keyring()->dek(peer, peer_set);
  if (!key) return false;
  RecordSent r;
  r.from = from;
  r.to = to;
  r.from_node = *a.agent->node();
  r.to_node = peer;
  r.sender_position = a.agent->position();
  r.key = *key;
  r.probe = probe;
  r.sent_ms = now_ms_;
  const std::string text = fmt::format("record {} from {} to {}", records_.size(), from, to);
  std::vector<device::Post> posts;
  std::string error;
  if (!a.agent->send(peer, peer_set, device_endpoint(to),
                     ByteView(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()),
                     records_.size(), posts, error)) {
    return false;
  }
  r.wire = posts.back().body;
  const std::size_t index = records_.size();
  records_.push_back(std::move(r));
  for (std::uint64_t delay : device_link(std::nullopt))
    events_.push(now_ms_ + delay, RecordArrival{to, index});
  after_device_input(from);
  return true;
}

void SystemCluster::sleep_device(std::size_t d) {
  devices_[d]->asleep = true;
}

void SystemCluster::wake_device(std::size_t d) {
  Device& dev = *devices_[d];
  if (!dev.asleep) return;
  dev.asleep = false;
  if (!dev.started) return;
  // Awake: it asks its gateway for what it missed (or sends its hello again).
  std::vector<device::Post> posts;
  dev.agent->start(now_ms_, posts);
  device_posts(d, posts);
}

void SystemCluster::restart_device(std::size_t d) {
  Device& dev = *devices_[d];
  if (!dev.started) return;
  ++dev.epoch;
  dev.asleep = false;
  make_agent(dev);  // from what it kept durably
  std::vector<device::Post> posts;
  dev.agent->start(now_ms_, posts);
  device_posts(d, posts);
  schedule_device_tick(d);
  after_device_input(d);
}

void SystemCluster::cut_off_devices(std::size_t g, bool cut) {
  gateways_[g].devices_cut_off = cut;
}

// --- events -----------------------------------------------------------------------------------

void SystemCluster::handle(Event& event) {
  std::visit(
      [&](auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, PeerDelivery>) {
          Gateway& gw = gateways_[e.to];
          if (!gw.up) return;
          std::vector<gateway::Action> actions;
          gw.node->on_peer_message(GatewayId{static_cast<std::uint16_t>(e.from)}, e.bytes,
                                   local_now(gw), actions);
          (void)execute(e.to, actions, true);
        } else if constexpr (std::is_same_v<T, GatewayTimer>) {
          Gateway& gw = gateways_[e.gateway];
          if (!gw.up || e.epoch != gw.epoch) return;
          std::vector<gateway::Action> actions;
          if (e.timeout) {
            gw.node->on_timeout(*e.timeout, local_now(gw), actions);
          } else {
            gw.node->on_tick(local_now(gw), actions);
          }
          (void)execute(e.gateway, actions, true);
        } else if constexpr (std::is_same_v<T, PostArrival>) {
          Gateway& gw = gateways_[e.gateway];
          if (!gw.up) return;  // nobody answers: the device gives up after its timeout
          std::vector<gateway::Action> actions;
          const bool join = e.message.path == "join";
          const gateway::Reply reply =
              join ? gw.node->on_join(e.from, e.message.body, local_now(gw), actions)
                   : gw.node->on_request(e.from, e.message.body, local_now(gw), actions);
          std::optional<std::size_t> crash_at;
          if (join) {
            if (auto c = join_crash_.find(e.gateway); c != join_crash_.end()) {
              crash_at = std::min(c->second, actions.size());
              join_crash_.erase(c);
            }
          }
          // The reply leaves only after every action of the batch (as in the daemon).
          if (!execute(e.gateway, actions, true, crash_at)) return;
          checker_.on_sent(e.gateway, reply.payload, now_ms_);
          const bool success = reply.code == gateway::ReplyCode::kCreated ||
                               reply.code == gateway::ReplyCode::kChanged;
          for (std::uint64_t delay : device_link(e.gateway))
            events_.push(now_ms_ + delay, PostReply{e.post, success, reply.payload});
        } else if constexpr (std::is_same_v<T, PostReply> || std::is_same_v<T, PostTimeout>) {
          auto open = open_posts_.find(e.post);
          if (open == open_posts_.end()) return;
          const OpenPost post = open->second;
          open_posts_.erase(open);
          Device& dev = *devices_[post.device];
          if (dev.epoch != post.epoch || dev.asleep) return;  // the asker is gone
          constexpr bool answered = std::is_same_v<T, PostReply>;
          bool success = false;
          Bytes body;
          if constexpr (answered) {
            success = e.success;
            body = e.body;
          } else {
            ++posts_lost_;
          }
          std::vector<device::Post> posts;
          std::vector<device::Event> events;
          if (post.kind == device::PostKind::kJoin) {
            dev.agent->on_join_reply(answered, success, body, now_ms_, posts, events);
          } else {
            dev.agent->on_request_reply(post.tag, answered, success, body, now_ms_, posts, events);
          }
          device_events(post.device, events);
          device_posts(post.device, posts);
          after_device_input(post.device);
        } else if constexpr (std::is_same_v<T, PushArrival>) {
          Device& dev = *devices_[e.device];
          if (!dev.started || dev.asleep) return;  // no answer: the gateway's push times out
          std::vector<device::Post> posts;
          std::vector<device::Event> events;
          if (getenv("DBG_DEV") && std::stoul(getenv("DBG_DEV")) == e.device) {
            auto msgs = keys::decode_batch(e.wire);
            for (ByteView m : *msgs) {
              auto h = keys::parse_header(m);
              const auto before = dev.agent->position().value();
              std::vector<device::Post> p2;
              std::vector<device::Event> e2;
              const auto errs = dev.agent->stats().rekey_errors;
              (void)dev.agent->on_rekey(m, now_ms_, p2, e2);
              std::string err;
              for (const auto& [k, v] : dev.agent->stats().rekey_errors)
                if (!errs.contains(k) || errs.at(k) != v) err = k;
              fmt::print(stderr, "{:>6} DBG dev {} push {} {} pos {} at {} -> {} {}\n", now_ms_,
                         e.device, e.push, keys::to_string(h->kind), h->position.value(), before,
                         dev.agent->position().value(), err);
              device_posts(e.device, p2);
            }
          } else
            (void)dev.agent->on_push(e.wire, now_ms_, posts, events);
          device_events(e.device, events);
          device_posts(e.device, posts);
          after_device_input(e.device);
          // Answered (a refusal is an answer too): the gateway hears of it.
          auto open = open_pushes_.find(e.push);
          if (open == open_pushes_.end()) return;
          for (std::uint64_t delay : device_link(open->second.gateway))
            events_.push(now_ms_ + delay, PushAck{e.push});
        } else if constexpr (std::is_same_v<T, PushAck> || std::is_same_v<T, PushTimeout>) {
          auto open = open_pushes_.find(e.push);
          if (open == open_pushes_.end()) return;
          const OpenPush push = open->second;
          open_pushes_.erase(open);
          Gateway& gw = gateways_[push.gateway];
          if (!gw.up || gw.epoch != push.epoch) return;
          std::vector<gateway::Action> actions;
          gw.node->on_push_result(push.node, std::is_same_v<T, PushAck>, actions);
          (void)execute(push.gateway, actions, true);
        } else if constexpr (std::is_same_v<T, RecordArrival>) {
          Device& dev = *devices_[e.device];
          if (!dev.started || dev.asleep) return;
          RecordSent& r = records_[e.record];
          std::vector<device::Event> events;
          const bool opened = dev.agent->on_d2d(r.wire, now_ms_, events);
          if (!r.opened) {
            r.opened = opened;
            for (const device::Event& ev : events) {
              if (ev.name != "d2d_refused") continue;
              for (const auto& [k, v] : ev.fields)
                if (k == "reason") r.refused = v;
            }
          }
          device_events(e.device, events);
          after_device_input(e.device);
        } else if constexpr (std::is_same_v<T, DeviceTick>) {
          Device& dev = *devices_[e.device];
          if (dev.epoch != e.epoch) return;  // an earlier incarnation's
          if (!dev.asleep) {
            std::vector<device::Post> posts;
            dev.agent->tick(now_ms_, posts);
            device_posts(e.device, posts);
          }
          schedule_device_tick(e.device);
        } else if constexpr (std::is_same_v<T, Call>) {
          e.what();
        }
      },
      event);
}

}  // namespace kmchain::sim
