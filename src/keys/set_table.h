// SetTable: which device is in which set, and who owns each set. No secrets.
//
// It is replicated state: every gateway applies the same membership changes in the same
// order and must reach the same table, so every rule here is a deterministic function of the
// table and of the gateway that originates the change (docs/protocol.md sections 2 and 4).
//
// Assignment (join): with cap = ceil(sqrt(n)) for the grown network, the new device goes to
// the smallest set of the originating gateway that holds fewer than cap members (ties: lowest
// id), or to a new set that gateway opens. Pure growth at n = k*k yields k sets of k.
//
// Reorder (after a removal), for every owner g in id order, with cap for the shrunk network:
//   1. dissolve: while g has two or more sets and the spare room (cap - size) of its other
//      sets can absorb its smallest set (ties: highest id), dissolve that set and place each
//      of its members, in id order, like a join would (never into a new set);
//   2. trim: while a set of g holds more than cap + kSetSlack members, move its most recently
//      placed member (ties: highest id) to g's smallest other set with room, or a new set.
// Move (a device re-attached to another gateway, docs/protocol.md section 4.7): the device
// leaves its set as a removal would (Reorder follows), then enters the set Assignment gives for
// a join through the new gateway, which becomes its home. Its node id stays.
// Invariants after any sequence (checked by tests and the simulator):
//   max set size <= cap + kSetSlack;  sets of g <= ceil(n_g / cap) + 1;  so the number of sets
//   is at most n/cap + p + 1 <= ceil(sqrt(n)) + p + 1 for p gateways.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <vector>

#include "base/bytes.h"
#include "base/ids.h"
#include "base/result.h"

namespace kmchain::keys {

// Why a structural step happens; carried into rekey messages for the record.
enum class Cause : std::uint8_t { kJoin = 1, kLeave = 2, kEvict = 3, kReorder = 4, kMove = 5 };
// Whether a step of this cause takes the device out of the network (its keys must die with it).
inline bool departs(Cause cause) {
  return cause == Cause::kLeave || cause == Cause::kEvict;
}

enum class StepKind : std::uint8_t {
  kPlace = 1,     // node enters set (a join, or a Reorder move into it)
  kRemove = 2,    // node leaves set (leave, eviction, or a Reorder move out of it)
  kDissolve = 3,  // set disappears; its members are placed by the steps that follow
};

// One structural change, with the refresh position it takes.
struct Step {
  StepKind kind;
  Cause cause;
  Position position;
  NodeId node;              // kPlace, kRemove
  SetId set;                // the set entered, left or dissolved
  GatewayId owner;          // owner of `set`
  bool opens_set = false;   // kPlace: `set` is new
  bool closes_set = false;  // kRemove: `node` was the last member; `set` is gone

  friend bool operator==(const Step&, const Step&) = default;
};

// Whether the step brings a device to a new home gateway (a join's or a move's placement).
inline bool arrives(const Step& step) {
  return step.kind == StepKind::kPlace &&
         (step.cause == Cause::kJoin || step.cause == Cause::kMove);
}

struct SetRecord {
  GatewayId owner;
  std::vector<NodeId> members;  // sorted

  friend bool operator==(const SetRecord&, const SetRecord&) = default;
};

struct MemberRecord {
  SetId set;
  Position placed_at;  // position of the step that placed the node in its current set

  friend bool operator==(const MemberRecord&, const MemberRecord&) = default;
};

// Where Assignment puts the next device joining through a gateway.
struct Placement {
  SetId set;
  bool opens_set = false;
};

enum class TableError : std::uint8_t {
  kNodeExists = 1,
  kNodeUnknown = 2,
  kGatewayOutOfRange = 3,
  kSetIdsExhausted = 4,
  kNetworkFull = 5,
  kNotEmpty = 6,
  // Key custody (key_manager.h): refused before anything changes.
  kNodeKeyMissing = 7,  // a join through a gateway whose store is held came without a node key
  kNodeKeyNotHome = 8,  // a node key was given to a custody view that is not the device's home
  kNotInCustody = 9,    // the keys asked for are held by another gateway
  // apply_step: the step does not follow from the table as it stands (another table decided it).
  kStepMismatch = 10,
};
const char* to_string(TableError e);

class SetTable {
 public:
  // ceil(sqrt(n)), and at least 1.
  static std::uint32_t capacity(std::size_t members);

  std::size_t member_count() const { return members_.size(); }
  std::size_t set_count() const { return sets_.size(); }
  const std::map<SetId, SetRecord>& sets() const { return sets_; }
  const std::map<NodeId, MemberRecord>& members() const { return members_; }
  const SetRecord* find_set(SetId set) const;
  const MemberRecord* find_member(NodeId node) const;
  std::size_t max_set_size() const;
  std::size_t sets_of(GatewayId owner) const;

  // Canonical bytes of the whole table (sets in id order with owner and members with the
  // position that placed them, then the per-owner count of sets opened): equal tables, and
  // only equal tables, encode equally. For state hashes.
  void encode(Bytes& out) const;

  // Assignment for the next join through `origin` (does not change the table).
  Result<Placement, TableError> assign(GatewayId origin) const;
  // Where a move of `node` to gateway `to` would place it: Assignment on the table as the
  // node's removal and its Reorder leave it (does not change this table).
  Result<Placement, TableError> assign_move(NodeId node, GatewayId to) const;

  // Called after each step is applied, so the observer sees the table exactly as that step
  // left it (the members a rekey message must reach depend on it).
  using StepObserver = std::function<void(const Step&)>;

  // Applies a join; `first` is the position its step takes.
  Result<Step, TableError> join(NodeId node, GatewayId origin, Position first,
                                const StepObserver& observer = {});
  // Applies a leave or eviction and the Reorder it triggers; the steps take consecutive
  // positions from `first`.
  Result<std::vector<Step>, TableError> remove(NodeId node, Cause cause, Position first,
                                               const StepObserver& observer = {});

  // Applies a move: the removal (cause kMove) and its Reorder, then the placement through
  // `to` (cause kMove); the steps take consecutive positions from `first`.
  Result<std::vector<Step>, TableError> move(NodeId node, GatewayId to, Position first,
                                             const StepObserver& observer = {});

  // Replays one step that another table decided (the ledger's): the table changes exactly as
  // the step says, or not at all if the step cannot follow from it here (kStepMismatch). A
  // table that replays every step of another ends equal to it; Assignment and Reorder are not
  // run again.
  Status<TableError> apply_step(const Step& step);

  friend bool operator==(const SetTable&, const SetTable&) = default;

 private:
  SetId new_set_id(GatewayId owner) const;
  Step place(NodeId node, SetId set, GatewayId owner, Cause cause, Position position);
  Step take_out(NodeId node, Cause cause, Position position);
  void reorder(GatewayId owner, std::vector<Step>& steps, Position& next_position,
               const StepObserver& observer);
  // Reorder of every owner with sets, in id order (after a removal).
  void reorder_all(std::vector<Step>& steps, Position& next_position, const StepObserver& observer);
  std::optional<SetId> smallest_with_room(GatewayId owner, std::optional<SetId> excluded,
                                          std::uint32_t cap) const;

  std::map<SetId, SetRecord> sets_;
  std::map<NodeId, MemberRecord> members_;
  std::map<GatewayId, std::uint32_t> sets_opened_;  // per owner, for fresh set ids
};

}  // namespace kmchain::keys
