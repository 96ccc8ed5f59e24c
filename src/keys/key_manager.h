// KeyManager: turns membership changes into complete rekey plans (PROTOCOL.md section 2).
//
// For each structural step of the SetTable (join, leave, eviction, and the Reorder moves they
// trigger) it updates the gateways' key stores and produces every message the step needs, in
// delivery order, each sealed under the KEK of its audience:
//   place u into S:   S's old members get R under the old set key of S and their pairwise node
//                     key with u under their node keys; each other set T gets R under its set
//                     key; u gets a bundle of fresh keys under its node key. A new set instead
//                     sends each other set its fresh pairwise set key.
//   remove u from S:  S's remaining members get R under their node keys (never a key u knows:
//                     forward secrecy); each other set gets R under its set key. The last
//                     member's departure closes S: the other sets delete their key with it.
//   dissolve D:       the other sets delete their key with D; D's members are placed next.
// Step i of an operation refreshes with step_refresh_key(R, i), R being the operation's
// refresh key (the one its ledger transaction carries).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "base/ids.h"
#include "base/result.h"
#include "crypto/random.h"
#include "keys/gateway_keys.h"
#include "keys/rekey_message.h"
#include "keys/set_table.h"

namespace kmchain::keys {

// One sealed message and the devices it must reach (a set's members at that step).
struct Envelope {
  GatewayId sender;
  Header header;
  std::vector<NodeId> recipients;
  Bytes wire;
};

struct RekeyPlan {
  std::vector<Step> steps;
  std::vector<Key128> refresh_keys;  // one per step
  std::vector<Envelope> messages;    // in delivery order
};

// Deliberate protocol violations, so tests can show that the simulator's checks catch them.
enum class Fault : std::uint8_t {
  kNone = 0,
  kLeaveRefreshUnderSetKey,   // a leave's R goes to the set under its old set key
  kJoinBundleCarriesOldKeys,  // the joiner receives the keys as they were before it joined
  kSkipPairwiseSetRefresh,    // the gateways forget to refresh pairwise set keys on a leave
};
const char* to_string(Fault f);
std::optional<Fault> fault_from_string(std::string_view name);

class KeyManager {
 public:
  KeyManager(std::size_t gateways, crypto::Rng& rng);

  // `node_key` is the key the device agreed with `origin` at enrollment.
  Result<RekeyPlan, TableError> join(NodeId node, GatewayId origin, const Key128& node_key,
                                     const Key128& refresh_key);
  // `cause` is kLeave or kEvict.
  Result<RekeyPlan, TableError> remove(NodeId node, Cause cause, const Key128& refresh_key);

  // Genesis enrollment of a first batch of devices into an empty network: every key is fresh
  // and there is no earlier traffic to protect, so no refresh runs and no message is sent;
  // each device then fetches its keys with bundle_for(). Fails on a non-empty network.
  Status<TableError> provision(GatewayId origin,
                               const std::vector<std::pair<NodeId, Key128>>& nodes);

  // A sealed bundle of every key `node` holds now, at the current position, under its node
  // key: what a device that was provisioned, or that missed too much, loads.
  Result<Envelope, TableError> bundle_for(NodeId node);

  const SetTable& table() const { return table_; }
  Position position() const { return position_; }
  std::size_t gateway_count() const { return gateways_.size(); }
  const GatewayKeys& gateway(GatewayId id) const { return gateways_.at(id.value()); }

  // The value the design gives a key now (nullopt if it does not exist).
  std::optional<Key128> current_key(const KeyId& id) const;

  void inject_fault_for_testing(Fault fault) { fault_ = fault; }

 private:
  void execute(const Step& step, const Key128& refresh_key, const Key128* join_node_key,
               RekeyPlan& plan);
  void place(const Step& step, const Key128& refresh_key, RekeyPlan& plan);
  void open_set_keys(SetId set, GatewayKeys& owner, const NodeId* joiner, RekeyPlan* plan);
  void remove_step(const Step& step, const Key128& refresh_key, RekeyPlan& plan);
  void forget_set(const Step& step, RekeyPlan& plan);
  void refresh_pairwise_set_key(SetId x, SetId y, const Key128& refresh_key, Position position);
  void send(GatewayId sender, Audience audience, std::uint32_t target, Position position, Body body,
            const Key128& kek, std::vector<NodeId> recipients, RekeyPlan& plan);
  GatewayKeys& owner_of(SetId set);
  const GatewayKeys& owner_of(SetId set) const;
  const GatewayKeys& home_of(NodeId node) const;

  crypto::Rng& rng_;
  SetTable table_;
  std::vector<GatewayKeys> gateways_;
  Position position_{0};
  Fault fault_ = Fault::kNone;
};

}  // namespace kmchain::keys
