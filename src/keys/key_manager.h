// KeyManager: turns membership changes into complete rekey plans (docs/protocol.md section 2).
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
//
// Two shapes (docs/protocol.md section 4, key custody):
//   composition:   every gateway's store in one object; its plans hold every message. The
//                  simulator, the demo and the tests use it.
//   custody view:  gateway `self` only. It executes every committed change (ledger order) on
//                  the replicated SetTable, but holds only self's GatewayKeys, updates only
//                  that store and emits only the envelopes self sends. Views of all gateways
//                  together emit exactly the composition's messages, when their key sources
//                  agree (DerivedKeySource, key_source.h). A view never holds, derives or asks
//                  for a key of a set self does not own, of a pair of sets self owns neither of,
//                  or of a device homed elsewhere.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "base/fault_injection.h"
#include "base/ids.h"
#include "base/result.h"
#include "crypto/random.h"
#include "keys/gateway_keys.h"
#include "keys/key_source.h"
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

// Deliberate protocol violations, so tests can show that the simulator's checks catch them
// (only in builds with fault injection, base/fault_injection.h).
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
  // Composition of `gateways` stores; fresh keys and nonces drawn from `rng` (RngKeySource).
  KeyManager(std::size_t gateways, crypto::Rng& rng);
  // Composition of `gateways` stores; fresh keys from `source`, which must serve every
  // gateway (PerGatewayKeySource over DerivedKeySources, or an RngKeySource); nonces from
  // `nonce_rng`. Both outlive the manager.
  KeyManager(std::size_t gateways, KeySource& source, crypto::Rng& nonce_rng);

  // The custody view of gateway `self` in a consortium of `gateways`. `source` serves self
  // (a DerivedKeySource of self with a pair secret for every other gateway, so that the owners
  // of two sets derive the same pairwise set key); `nonce_rng` draws nonces (the OS CSPRNG in
  // production). Both outlive the manager.
  static KeyManager custody_view(std::size_t gateways, GatewayId self, KeySource& source,
                                 crypto::Rng& nonce_rng);
  // A copy (for example, to try an operation without committing it) shares the key source and
  // the Rng with the original; a DerivedKeySource has no state that changes.

  // `node_key` is the key the device agreed with `origin` at enrollment. It is given exactly
  // when this manager holds origin's store (always in a composition; in a view, when origin is
  // self, the device's home): otherwise kNodeKeyMissing or kNodeKeyNotHome, and nothing changes.
  Result<RekeyPlan, TableError> join(NodeId node, GatewayId origin,
                                     const std::optional<Key128>& node_key,
                                     const Key128& refresh_key);
  // `cause` is kLeave or kEvict.
  Result<RekeyPlan, TableError> remove(NodeId node, Cause cause, const Key128& refresh_key);
  // A member re-attached to gateway `to` (SetTable::move): its old home drops its node key,
  // `to` keeps `node_key` (the key of the attachment, enroll/attach.h), given exactly when this
  // manager holds to's store, as for join(). The device gets its bundle under that key; its old
  // set refreshes as for a removal, under the node keys of those who stay.
  Result<RekeyPlan, TableError> move(NodeId node, GatewayId to,
                                     const std::optional<Key128>& node_key,
                                     const Key128& refresh_key);

  // One membership change whose structural steps another table already decided (the ledger's,
  // ledger::apply): the steps are replayed, not computed again, and each is executed as join()
  // and remove() execute theirs. `node_key` as for join() when a step brings the device to a
  // new home (a join's or a move's placement), nullopt otherwise (kNodeKeyMissing,
  // kNodeKeyNotHome as for join(); nothing changes then). The steps must follow from this table at
  // the next position: they come from a table equal to it, so a step that does not is a local bug
  // and aborts.
  Result<RekeyPlan, TableError> apply_steps(const std::vector<Step>& steps,
                                            const std::optional<Key128>& node_key,
                                            const Key128& refresh_key);

  // Genesis enrollment of a first batch of devices into an empty network: every key is fresh
  // and there is no earlier traffic to protect, so no refresh runs and no message is sent;
  // each device then fetches its keys with bundle_for(). Fails on a non-empty network. A view
  // that does not hold origin's store takes the node ids alone (the other overload).
  Status<TableError> provision(GatewayId origin,
                               const std::vector<std::pair<NodeId, Key128>>& nodes);
  Status<TableError> provision(GatewayId origin, const std::vector<NodeId>& nodes);

  // A sealed bundle of every key `node` holds now, at the current position, under its node
  // key: what a device that was provisioned, or that missed too much, loads. A view serves
  // only the devices homed at self (kNotInCustody otherwise).
  Result<Envelope, TableError> bundle_for(NodeId node);

  const SetTable& table() const { return table_; }
  Position position() const { return position_; }
  std::size_t gateway_count() const { return gateway_count_; }
  // The gateway a custody view is for; nullopt for a composition.
  std::optional<GatewayId> self() const { return self_; }
  // Whether this manager holds gateway `id`'s store (every one in a composition).
  bool holds(GatewayId id) const;
  // The store of gateway `id`, which this manager must hold.
  const GatewayKeys& gateway(GatewayId id) const;

  // The value the design gives a key now (nullopt if it does not exist, or if a view does not
  // hold it).
  std::optional<Key128> current_key(const KeyId& id) const;

#if KMCHAIN_FAULTS_ENABLED
  void inject_fault_for_testing(Fault fault) {
    fault_ = fault;
  }
#endif

 private:
  KeyManager(std::size_t gateways, std::optional<GatewayId> self, KeySource* source,
             crypto::Rng& rng);

  KeySource& source() {
    return own_source_ ? *own_source_ : *source_;
  }
  GatewayKeys* held(GatewayId id);
  const GatewayKeys* held(GatewayId id) const;
  GatewayId owner_of(SetId set) const;

  Status<TableError> provision_steps(GatewayId origin, const std::vector<NodeId>& nodes,
                                     const std::vector<std::pair<NodeId, Key128>>* node_keys);
  void execute(const Step& step, const Key128& refresh_key, const Key128* join_node_key,
               RekeyPlan& plan);
  void place(const Step& step, const Key128& refresh_key, RekeyPlan& plan);
  void send_placement_keys(const Step& step, GatewayKeys& owner,
                           const std::vector<NodeId>& old_members, RekeyPlan& plan);
  void open_set_keys(const Step& step, RekeyPlan* plan);
  void remove_step(const Step& step, const Key128& refresh_key, RekeyPlan& plan);
  void forget_set(const Step& step, RekeyPlan& plan);
  void refresh_pairwise_set_key(SetId x, SetId y, const Key128& refresh_key, Position position);
  void send(GatewayId sender, Audience audience, std::uint32_t target, Position position, Body body,
            const Key128& kek, std::vector<NodeId> recipients, RekeyPlan& plan);

  crypto::Rng& rng_;  // nonces (and fresh keys, through own_source_, in the first constructor)
  std::optional<RngKeySource> own_source_;
  KeySource* source_ = nullptr;
  std::size_t gateway_count_;
  std::optional<GatewayId> self_;
  // A composition: one store per gateway, by id. A view: self's store alone.
  std::vector<GatewayKeys> stores_;
  SetTable table_;
  Position position_{0};
#if KMCHAIN_FAULTS_ENABLED
  Fault fault_ = Fault::kNone;
#endif
};

}  // namespace kmchain::keys
