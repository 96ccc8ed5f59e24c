// SystemChecker: what the system simulator checks, besides the consensus checks
// (consensus_checker.h) it runs on every block a correct gateway decides.
//
//   acknowledged-join  every join a device got an accept for ends final, or the device is told
//                      (authenticated) that it failed
//   acknowledged-leave no device whose leave its gateway acknowledged ends a member
//   orphan-member      every member whose join its correct gateway submitted is some device's
//                      node (a join final for a node no device knows it is holds a set place
//                      for nobody)
//   keyring            every current member's keyring equals the reference model's, key by key:
//                      a composition of every gateway's key store (keys/key_manager.h) fed the
//                      reference chain with each device's node key
//   d2d                every record sent between two current members once everything settled
//                      opens, also after a Reorder moved one of them
//   forward-secrecy    no departed or evicted device holds the key of any record sealed by a
//                      sender that had applied its removal (the eavesdropper beside each device
//                      keeps every key it ever held)
//   custody            no gateway holds a key outside its custody, every key it holds has the
//                      reference value, and no key of another gateway's custody appears in any
//                      message it sends
// Devices homed at Byzantine gateways are not checked: their gateway holds their keys.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "consensus/message.h"
#include "consensus/storage.h"
#include "crypto/random.h"
#include "keys/key_manager.h"
#include "keys/key_source.h"
#include "ledger/genesis.h"
#include "ledger/ledger_state.h"
#include "sim/consensus_checker.h"

namespace kmchain::sim {

class SystemCluster;

struct SystemCheckStats {
  std::uint64_t reference_blocks = 0;
  std::uint64_t joins = 0;
  std::uint64_t removals = 0;
  std::uint64_t keyrings_compared = 0;
  std::uint64_t keys_compared = 0;
  std::uint64_t records_checked = 0;
  std::uint64_t eavesdropper_trials = 0;
  std::uint64_t messages_scanned = 0;
  // Members whose join no gateway submitted for a device: joins a Byzantine proposer made up, in
  // any gateway's node id range (the contract does not yet check who may submit a join).
  std::uint64_t foreign_members = 0;
};

class SystemChecker {
 public:
  SystemChecker(const ledger::Genesis& genesis, std::map<GatewayId, keys::KeySource*> sources);

  // A message a correct gateway signs and sends (double-signing).
  void on_signed(std::size_t gateway, const consensus::Message& m, std::uint64_t now_ms);
  // A block a correct gateway made final as its `at`-th.
  void on_commit(std::size_t gateway, Height at, const consensus::StoredBlock& stored,
                 std::uint64_t now_ms);
  // Bytes a gateway sends (to a peer or a device): no key of another gateway's custody in them.
  void on_sent(std::size_t gateway, ByteView bytes, std::uint64_t now_ms);
  // A gateway stored the record of a device that joined through it: the node key its join will
  // carry (a node id whose join never left the gateway may be given again, with another key; a
  // member's never changes).
  void on_device_record(NodeId node, const crypto::Key128& node_key, std::uint64_t now_ms);
  // A device got an accept for `node`; a device was told the join of `node` failed.
  void on_accepted(std::size_t device, NodeId node) { accepted_[device].insert(node); }
  // A gateway made a join of its own durable as pending: a device asked for it.
  void on_join_submitted(NodeId node) { submitted_joins_.insert(node); }
  void on_join_failed(std::size_t device, NodeId node) { failed_[device].insert(node); }

  // The checks that need the run to have settled.
  void final_checks(const SystemCluster& cluster, std::uint64_t now_ms);

  void violation(std::string invariant, std::string detail, std::uint64_t at_ms);
  const std::vector<Violation>& violations() const { return violations_; }
  const ConsensusChecker& consensus() const { return consensus_; }
  const ledger::LedgerState& reference_state() const { return state_; }
  const keys::KeyManager& reference_keys() const { return keys_; }
  // The position at which the removal of `node` completed, if it was removed.
  std::optional<Position> removed_at(NodeId node) const;
  const SystemCheckStats& stats() const { return stats_; }

 private:
  void apply_reference(const consensus::StoredBlock& stored);
  void refresh_custody_values();
  void check_members(const SystemCluster& cluster, std::uint64_t now_ms);
  void check_keyrings(const SystemCluster& cluster, std::uint64_t now_ms);
  void check_joins(const SystemCluster& cluster, std::uint64_t now_ms);
  void check_records(const SystemCluster& cluster, std::uint64_t now_ms);
  void check_custody(const SystemCluster& cluster, std::uint64_t now_ms);

  ConsensusChecker consensus_;
  keys::PerGatewayKeySource source_;
  crypto::DeterministicRng nonce_rng_{0x5eed};
  ledger::LedgerState state_;
  keys::KeyManager keys_;
  std::uint64_t applied_height_ = 0;
  bool reference_broken_ = false;
  std::map<NodeId, Position> removals_;
  std::map<NodeId, crypto::Key128> node_keys_;
  std::map<std::size_t, std::set<NodeId>> accepted_;
  std::map<std::size_t, std::set<NodeId>> failed_;
  std::set<NodeId> submitted_joins_;
  // Per gateway, the values of keys it must never send: first 8 bytes -> whole key.
  std::vector<std::unordered_multimap<std::uint64_t, std::pair<crypto::Key128, keys::KeyId>>>
      foreign_;
  std::vector<Violation> violations_;
  SystemCheckStats stats_;
};

}  // namespace kmchain::sim
