// SystemCluster: the whole system in one process, deterministic. P real gateway nodes
// (gateway/gateway_node.h) and any number of real device agents (device/agent.h) run over a
// simulated network, disk and clock; the cluster executes their actions as their shells do
// (daemon/gateway_daemon.h, daemon/device_process.h) and the system checker (system_checker.h)
// watches everything that happens.
//
//   gateway links    the consensus simulator's network (sim_network.h): delay, loss,
//                    duplication, partitions while faults are active; Byzantine gateways
//                    (byzantine.h) tamper with what their replicas send
//   device links     device to gateway requests and replies, pushes and their acknowledgements,
//                    device to device records: the same delay, loss and duplication, and
//                    partitions that cut a gateway off from its devices
//   disks            each gateway's WAL, block store and device data survive its crashes; a
//                    crash may come before any action of a batch; a device's durable state
//                    survives its restarts
//   time             one clock; each gateway sees it skewed; a device request unanswered after
//                    request_timeout_ms, a push unacknowledged after push_timeout_ms, fail as
//                    libcoap's retransmissions give up in the real shells
//
// The system simulator (system_sim.h) drives it at random from a seed; tests drive it by hand.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "base/fault_injection.h"
#include "crypto/random.h"
#include "device/agent.h"
#include "device/eavesdropper.h"
#include "device/memory_state.h"
#include "enroll/credential.h"
#include "gateway/gateway_node.h"
#include "keys/key_source.h"
#include "ledger/genesis.h"
#include "sim/byzantine.h"
#include "sim/event_queue.h"
#include "sim/fault_mix.h"
#include "sim/sim_disk.h"
#include "sim/sim_network.h"
#include "sim/system_checker.h"

namespace kmchain::sim {

// Rules of the system broken on purpose, to show that the checks catch them (only in builds
// with fault injection, base/fault_injection.h).
struct SystemFaults {
#if KMCHAIN_FAULTS_ENABLED
  gateway::DeviceFaults gateway;      // lose pushes; store a device record after the gossip
  bool forget_pending_joins = false;  // a restarted gateway has lost the joins not yet final
  bool cached_peer_set_only = false;  // devices try records under the cached sender set only
#endif
};

struct SystemClusterConfig {
  std::size_t gateways = 4;
  std::uint64_t seed = 1;
  ledger::SubmissionMode mode = ledger::SubmissionMode::kCommit;
  FaultMix mix;  // the faults while faulty(); none by default
  std::uint64_t request_timeout_ms = 2'000;
  std::uint64_t push_timeout_ms = 2'000;
  std::uint64_t device_tick_ms = 100;
  std::uint64_t gateway_tick_ms = 500;
  std::size_t mempool_capacity = consensus::ReplicaConfig{}.mempool_capacity;
  device::AgentConfig agent;  // timing of every device (chain id, gateway and port are set)
  bool trace = false;
  SystemFaults faults;
};

// A D2D record on its way, and what became of it.
struct RecordSent {
  std::size_t from = 0;
  std::size_t to = 0;
  NodeId from_node;
  NodeId to_node;
  Position sender_position;  // the sender's keyring position when it sealed the record
  crypto::Key128 key;        // the DEK it was sealed under
  Bytes wire;
  bool probe = false;  // sent after the faults healed and everything settled
  std::uint64_t sent_ms = 0;
  std::optional<bool> opened;  // at the addressee; nullopt while on its way (or lost)
  std::string refused;         // why it did not open
};

class SystemCluster final : private ByzantineHost {
 public:
  struct Gateway {
    std::unique_ptr<keys::DerivedKeySource> source;
    std::unique_ptr<crypto::DeterministicRng> rng;
    std::unique_ptr<gateway::GatewayNode> node;
    MemoryWal wal;
    MemoryBlockStore store;
    MemoryDeviceData data;
    bool up = false;
    std::uint64_t epoch = 0;
    std::int64_t skew_ms = 0;
    bool devices_cut_off = false;  // a partition between the gateway and its devices
  };
  struct Device {
    std::size_t index = 0;
    std::size_t home = 0;
    enroll::DeviceCredential credential;
    enroll::SecretCode code;
    std::unique_ptr<crypto::DeterministicRng> rng;
    device::MemoryCounterStore counters;
    device::MemoryStateSink state;
    std::unique_ptr<device::DeviceAgent> agent;
    std::unique_ptr<device::Eavesdropper> eavesdropper;  // every key the device ever held
    bool started = false;
    bool asleep = false;
    std::uint64_t epoch = 0;
    bool leaving = false;  // asked to leave, or evicted: no more traffic of its own
  };

  explicit SystemCluster(SystemClusterConfig config);
  ~SystemCluster() override;
  SystemCluster(const SystemCluster&) = delete;
  SystemCluster& operator=(const SystemCluster&) = delete;

  // Byzantine gateways, drawn from the seed (before start()).
  void draw_byzantine(std::size_t count, bool force_equivocation, bool force_split_lock);
  void start();

  // --- time ---------------------------------------------------------------------------------
  std::uint64_t now_ms() const override { return now_ms_; }
  // Runs every event up to `until_ms` (or the first violation when `stop_at_violation`).
  void run_until(std::uint64_t until_ms, bool stop_at_violation = false);
  // Runs until `done()` holds (checked after every event) or `until_ms`; whether it held.
  bool run_until(const std::function<bool()>& done, std::uint64_t until_ms);
  void at(std::uint64_t at_ms, std::function<void()> what);
  // Whether the fault mix applies now (links, crashes).
  void set_faulty(bool faulty) { faulty_ = faulty; }
  bool faulty_phase() const override { return faulty_; }

  // --- the operator, the devices, the faults ------------------------------------------------
  // A device with a credential admitted at `gateway`, which must be up (not started); its secret
  // code drawn, or `code`.
  std::size_t add_device(std::size_t gateway,
                         const std::optional<enroll::SecretCode>& code = std::nullopt);
  void start_device(std::size_t d);
  void leave(std::size_t d);
  // The operator of `gateway` evicts `node`; false if the gateway refused (or is down). The
  // device that is `node` sends nothing more of its own from then.
  bool evict(std::size_t gateway, NodeId node);
  // What the last evict() was told (nullopt: refused, or the gateway was down).
  const std::optional<gateway::Eviction>& last_eviction() const { return last_eviction_; }
  // `from` seals a record for `to` under the key it shares with `to`'s current set; false if
  // it holds none.
  bool send_record(std::size_t from, std::size_t to, bool probe);
  void crash_gateway(std::size_t g);
  void restart_gateway(std::size_t g);
  // Crash gateway g right before the action `index` of its next device join's batch.
  void crash_in_next_join(std::size_t g, std::size_t index) { join_crash_[g] = index; }
  void sleep_device(std::size_t d);
  void wake_device(std::size_t d);
  void restart_device(std::size_t d);
  void cut_off_devices(std::size_t g, bool cut);
  void partition_gateways() { push_partition_end(network_.partition()); }
  void isolate_gateway(std::size_t g) { push_partition_end(network_.isolate(g)); }
  // Heals everything: gateway links, device links, crashed gateways, sleeping devices.
  void heal();
  void flood(std::size_t g);
  void toggle_silence(std::size_t g) { byzantine_.toggle_silence(g); }

  // --- what there is to see -----------------------------------------------------------------
  std::size_t gateway_count() const { return gateways_.size(); }
  const Gateway& gateway(std::size_t g) const { return gateways_.at(g); }
  std::size_t device_count() const { return devices_.size(); }
  const Device& device(std::size_t d) const { return *devices_.at(d); }
  bool byzantine(std::size_t g) const { return byzantine_.is_byzantine(g); }
  const ByzantineGateways& liars() const { return byzantine_; }
  const std::vector<RecordSent>& records() const { return records_; }
  SystemChecker& checker() { return checker_; }
  const SystemChecker& checker() const { return checker_; }
  const ledger::Genesis& genesis() const { return genesis_; }
  const SimNetwork& network() const { return network_; }
  std::uint64_t crashes() const { return crashes_; }
  std::uint64_t posts_lost() const { return posts_lost_; }

 private:
  struct PeerDelivery {
    std::size_t to;
    std::size_t from;
    Bytes bytes;
  };
  struct GatewayTimer {
    std::size_t gateway;
    std::uint64_t epoch;
    std::optional<consensus::TimeoutIn> timeout;  // nullopt: the node's tick
  };
  struct PostArrival {  // a device's post at a gateway
    std::size_t gateway;
    std::uint64_t post;
    device::Post message;
    Endpoint from;
  };
  struct PostReply {  // the gateway's answer back at the device
    std::uint64_t post;
    bool success;
    Bytes body;
  };
  struct PostTimeout {
    std::uint64_t post;
  };
  struct PushArrival {
    std::size_t device;
    std::uint64_t push;
    Bytes wire;
  };
  struct PushAck {
    std::uint64_t push;
  };
  struct PushTimeout {
    std::uint64_t push;
  };
  struct RecordArrival {
    std::size_t device;
    std::size_t record;
  };
  struct DeviceTick {
    std::size_t device;
    std::uint64_t epoch;
  };
  struct Call {
    std::function<void()> what;
  };
  using Event = std::variant<PeerDelivery, GatewayTimer, PostArrival, PostReply, PostTimeout,
                             PushArrival, PushAck, PushTimeout, RecordArrival, DeviceTick, Call>;
  struct OpenPost {
    std::size_t device;
    std::uint64_t epoch;
    device::PostKind kind;
    std::uint64_t tag;
  };
  struct OpenPush {
    std::size_t gateway;
    std::uint64_t epoch;
    NodeId node;
  };

  std::optional<gateway::Eviction> last_eviction_;
  void handle(Event& e);
  std::uint64_t local_now(const Gateway& g) const;
  void start_gateway(std::size_t g);
  // Executes a batch of a gateway's actions in order; a correct gateway may crash before any
  // of them (`crash_at`, or the fault mix when `may_crash`). Whether the batch ran to its end.
  bool execute(std::size_t g, std::vector<gateway::Action>& actions, bool may_crash,
               std::optional<std::size_t> crash_at = std::nullopt);
  void run_action(std::size_t g, gateway::Action& action);
  void send_out(std::size_t from, const std::vector<std::size_t>& to, const Bytes& bytes);
  void transmit(std::size_t from, std::size_t to, const Bytes& bytes) override;
  const consensus::Replica* replica_of(std::size_t i) const override {
    const Gateway& g = gateways_.at(i);
    return g.up && g.node ? &g.node->replica() : nullptr;
  }
  std::optional<consensus::StoredBlock> stored_block(std::size_t i, Height height) const override {
    return gateways_.at(i).store.get(height);
  }
  void on_committed(std::size_t g, const consensus::Committed& c);
  void push_partition_end(std::uint64_t after_ms);
  // Device side.
  void make_agent(Device& d);
  void device_posts(std::size_t d, std::vector<device::Post>& posts);
  void device_events(std::size_t d, std::vector<device::Event>& events);
  void after_device_input(std::size_t d);
  void schedule_device_tick(std::size_t d);
  std::vector<std::uint64_t> device_link(std::optional<std::size_t> gateway);
  std::optional<std::size_t> device_at(const Endpoint& e) const;
  Endpoint device_endpoint(std::size_t d) const;
  Endpoint gateway_endpoint(std::size_t g) const;

  const SystemClusterConfig config_;
  crypto::DeterministicRng rng_;
  ledger::Genesis genesis_;
  std::vector<Gateway> gateways_;
  std::vector<std::unique_ptr<Device>> devices_;
  SimNetwork network_;
  ByzantineGateways byzantine_;
  SystemChecker checker_;
  EventQueue<Event> events_;
  std::map<std::uint64_t, OpenPost> open_posts_;
  std::map<std::uint64_t, OpenPush> open_pushes_;
  std::map<std::size_t, std::size_t> join_crash_;
  std::vector<RecordSent> records_;
  std::uint64_t next_post_ = 0;
  std::uint64_t next_push_ = 0;
  std::uint64_t now_ms_ = 0;
  std::uint64_t crashes_ = 0;
  std::uint64_t posts_lost_ = 0;
  bool faulty_ = false;
};

}  // namespace kmchain::sim
