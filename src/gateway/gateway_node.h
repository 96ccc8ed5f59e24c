// GatewayNode: one gateway as a deterministic state machine, the core that the gateway daemon
// (daemon/gateway_daemon.h) and the system simulator (sim/system_sim.h) both drive.
//
//   inputs   a peer's message, a consensus timeout, a device's join or request, the outcome of a
//            push, an operator's command, the periodic tick; each with the time it happened
//   outputs  actions (gateway/actions.h), executed by the shell in order: the replica's (write
//            the WAL, store a block, send to peers, schedule a timeout, serve blocks) and the
//            node's (store a credential, a device record or a pending transaction, push a key
//            message to a device, schedule the tick); and the reply to a device or operator,
//            which the shell sends only after the actions are executed
//
// It owns the replica (consensus/replica.h), the custody view of the key manager with the
// catch-up log (key_work.h), the device records (device_registry.h), the transactions it
// submitted (pending_transactions.h), the per-device push queues (push_queues.h) and the device
// flows (device_service.h). No sockets, no clock, no randomness of its own: time comes with each
// input, randomness from the injected Rng, storage is the shell's.
//
// A committed block reaches the key work with the ledger's structural steps; after every batch of
// blocks the node checks that its key view's set table is the ledger's.
//
// Restart: restore() with the durable device data, restore_block() for every stored block in
// height order, then start() with the WAL's last record.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/endpoint.h"
#include "base/ids.h"
#include "base/result.h"
#include "consensus/replica.h"
#include "crypto/random.h"
#include "crypto/sign.h"
#include "enroll/credential.h"
#include "gateway/actions.h"
#include "gateway/device_registry.h"
#include "gateway/device_service.h"
#include "gateway/key_work.h"
#include "gateway/pending_transactions.h"
#include "gateway/push_queues.h"
#include "keys/key_source.h"
#include "ledger/genesis.h"
#include "ledger/submission_mode.h"

namespace kmchain::gateway {

struct GatewayNodeConfig {
  GatewayId self;
  ledger::SubmissionMode mode = ledger::SubmissionMode::kCommit;
  consensus::ReplicaConfig replica;
  // How often pending transactions are gossiped again (and rebuilt if a block dropped them).
  std::uint64_t tick_ms = 500;
  DeviceFaults faults;  // empty without fault injection
};

// What the shell read back from disk at a restart.
struct DurableDeviceData {
  std::vector<CredentialRecord> credentials;
  std::vector<DeviceRecord> devices;
  std::vector<ledger::SignedTransaction> pending;
};

// The operator's eviction: submitted (pending until final) or refused with why. The device's
// home gateway evicts alone; any other gateway asks, and the eviction takes effect once the
// gateways that asked hold more than a third of the power (ledger/contract.h).
struct Eviction {
  NodeId node;
  SetId set;
  bool by_home = true;
  // For a request by another gateway: who has asked, this one included (committed or pending
  // here), their power, and the power that puts it in effect (more than a third).
  std::vector<GatewayId> asked_by;
  std::uint64_t power = 0;
  std::uint64_t power_needed = 0;
  bool already_asked = false;  // this gateway had asked before: nothing new was submitted
};

class GatewayNode {
 public:
  // `source` derives this gateway's keys; `rng` draws ephemeral keys, refresh keys and nonces;
  // `clock_us` is a monotonic clock for the timing figures only. All three outlive the node.
  GatewayNode(const ledger::Genesis& genesis, crypto::Ed25519KeyPair key, GatewayNodeConfig config,
              keys::KeySource& source, crypto::Rng& rng, std::function<std::uint64_t()> clock_us);
  GatewayNode(const GatewayNode&) = delete;
  GatewayNode& operator=(const GatewayNode&) = delete;

  // Restart, before start(): the durable device data first, then every stored block.
  void restore(DurableDeviceData data);
  Status<consensus::RestoreError> restore_block(const consensus::StoredBlock& stored,
                                                std::vector<Action>& out);
  // Begins consensus (resuming from the WAL's last record) and resubmits what is pending.
  Status<consensus::RestoreError> start(const std::optional<Bytes>& wal_record,
                                        std::uint64_t now_ms, std::vector<Action>& out);

  void on_peer_message(GatewayId from, ByteView bytes, std::uint64_t now_ms,
                       std::vector<Action>& out);
  void on_timeout(const consensus::TimeoutIn& timeout, std::uint64_t now_ms,
                  std::vector<Action>& out);
  void on_tick(std::uint64_t now_ms, std::vector<Action>& out);
  Reply on_join(const Endpoint& from, ByteView body, std::uint64_t now_ms,
                std::vector<Action>& out);
  Reply on_request(const Endpoint& from, ByteView body, std::uint64_t now_ms,
                   std::vector<Action>& out);
  void on_push_result(NodeId node, bool delivered, std::vector<Action>& out);

  // The operator admits a device credential (false: the registry is full).
  bool admit(const enroll::DeviceCredential& credential, std::vector<Action>& out);
  // The operator evicts a member: an eviction transaction, pending until final; from a gateway
  // that is not the device's home, a request that counts towards the power that evicts.
  Result<Eviction, std::string> evict(NodeId node, std::uint64_t now_ms, std::vector<Action>& out);

  GatewayId self() const { return config_.self; }
  ledger::SubmissionMode mode() const { return config_.mode; }
  const consensus::Replica& replica() const { return replica_; }
  const DeviceRegistry& registry() const { return registry_; }
  const PendingTransactions& pending() const { return pending_; }
  const KeyWork& keys() const { return keys_; }
  const PushQueues& pushes() const { return pushes_; }
  const DeviceServiceStats& device_stats() const { return devices_.stats(); }

 private:
  // Moves the replica's actions out, running the key work at each decided block.
  void absorb(std::vector<consensus::Action>& replica_out, std::uint64_t now_ms,
              std::vector<Action>& out);
  void after_blocks(std::uint64_t now_ms, std::vector<Action>& out);
  void check_views_agree() const;

  const GatewayNodeConfig config_;
  crypto::Rng& rng_;
  consensus::Replica replica_;
  DeviceRegistry registry_;
  PendingTransactions pending_;
  KeyWork keys_;
  PushQueues pushes_;
  DeviceService devices_;
};

}  // namespace kmchain::gateway
