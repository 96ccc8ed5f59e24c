#include "keys/set_table.h"

#include <algorithm>
#include <cmath>

#include "base/check.h"
#include "base/limits.h"
#include "codec/byte_writer.h"

namespace kmchain::keys {

const char* to_string(TableError e) {
  switch (e) {
    case TableError::kNodeExists:
      return "node already a member";
    case TableError::kNodeUnknown:
      return "node is not a member";
    case TableError::kGatewayOutOfRange:
      return "gateway id out of range";
    case TableError::kSetIdsExhausted:
      return "gateway has no set ids left";
    case TableError::kNetworkFull:
      return "network is full";
    case TableError::kNotEmpty:
      return "network is not empty";
    case TableError::kNodeKeyMissing:
      return "node key missing for a device homed here";
    case TableError::kNodeKeyNotHome:
      return "node key given to a gateway that is not the device's home";
    case TableError::kNotInCustody:
      return "keys held by another gateway";
    case TableError::kStepMismatch:
      return "step does not follow from the table";
  }
  return "unknown table error";
}

std::uint32_t SetTable::capacity(std::size_t members) {
  if (members <= 1) return 1;
  auto c = static_cast<std::uint64_t>(std::sqrt(static_cast<double>(members)));
  while (c * c < members)
    ++c;
  while (c > 1 && (c - 1) * (c - 1) >= members)
    --c;
  return static_cast<std::uint32_t>(c);
}

const SetRecord* SetTable::find_set(SetId set) const {
  auto it = sets_.find(set);
  return it == sets_.end() ? nullptr : &it->second;
}

const MemberRecord* SetTable::find_member(NodeId node) const {
  auto it = members_.find(node);
  return it == members_.end() ? nullptr : &it->second;
}

std::size_t SetTable::max_set_size() const {
  std::size_t max = 0;
  for (const auto& [id, set] : sets_)
    max = std::max(max, set.members.size());
  return max;
}

std::size_t SetTable::sets_of(GatewayId owner) const {
  return static_cast<std::size_t>(std::count_if(
      sets_.begin(), sets_.end(), [&](const auto& entry) { return entry.second.owner == owner; }));
}

void SetTable::encode(Bytes& out) const {
  codec::ByteWriter w(out);
  w.u32(static_cast<std::uint32_t>(sets_.size()));
  for (const auto& [id, set] : sets_) {
    w.u32(id.value());
    w.u16(set.owner.value());
    w.u32(static_cast<std::uint32_t>(set.members.size()));
    for (NodeId m : set.members) {
      w.u32(m.value());
      w.u64(members_.at(m).placed_at.value());
    }
  }
  w.u32(static_cast<std::uint32_t>(sets_opened_.size()));
  for (const auto& [owner, opened] : sets_opened_) {
    w.u16(owner.value());
    w.u32(opened);
  }
}

SetId SetTable::new_set_id(GatewayId owner) const {
  auto it = sets_opened_.find(owner);
  const std::uint32_t opened = it == sets_opened_.end() ? 0 : it->second;
  // The owner in the top byte keeps set ids of different gateways apart without coordination.
  return SetId{(static_cast<std::uint32_t>(owner.value()) << 24) | opened};
}

std::optional<SetId> SetTable::smallest_with_room(GatewayId owner, std::optional<SetId> excluded,
                                                  std::uint32_t cap) const {
  std::optional<SetId> best;
  std::size_t best_size = 0;
  // An owner's sets are contiguous in id order (owner in the top byte).
  const SetId first{static_cast<std::uint32_t>(owner.value()) << 24};
  for (auto it = sets_.lower_bound(first); it != sets_.end() && it->second.owner == owner; ++it) {
    const std::size_t size = it->second.members.size();
    if (excluded && it->first == *excluded) continue;
    if (size >= cap) continue;
    if (!best || size < best_size) {
      best = it->first;
      best_size = size;
    }
  }
  return best;
}

Result<Placement, TableError> SetTable::assign(GatewayId origin) const {
  if (origin.value() >= limits::kGatewaysMax) return Err{TableError::kGatewayOutOfRange};
  if (members_.size() + 1 > limits::kDevicesMax) return Err{TableError::kNetworkFull};
  const std::uint32_t cap = capacity(members_.size() + 1);
  if (auto set = smallest_with_room(origin, std::nullopt, cap)) return Placement{*set, false};
  auto it = sets_opened_.find(origin);
  if (it != sets_opened_.end() && it->second >= limits::kSetsPerGatewayMax) {
    return Err{TableError::kSetIdsExhausted};
  }
  return Placement{new_set_id(origin), true};
}

Step SetTable::place(NodeId node, SetId set, GatewayId owner, Cause cause, Position position) {
  auto [it, created] = sets_.try_emplace(set, SetRecord{owner, {}});
  if (created) ++sets_opened_[owner];
  KMCHAIN_CHECK(it->second.owner == owner);
  auto& members = it->second.members;
  members.insert(std::upper_bound(members.begin(), members.end(), node), node);
  members_[node] = MemberRecord{set, position};
  return Step{StepKind::kPlace, cause, position, node, set, owner, created, false};
}

Step SetTable::take_out(NodeId node, Cause cause, Position position) {
  auto member = members_.find(node);
  KMCHAIN_CHECK(member != members_.end());
  const SetId set = member->second.set;
  members_.erase(member);
  auto it = sets_.find(set);
  KMCHAIN_CHECK(it != sets_.end());
  const GatewayId owner = it->second.owner;
  auto& members = it->second.members;
  auto pos = std::lower_bound(members.begin(), members.end(), node);
  KMCHAIN_CHECK(pos != members.end() && *pos == node);
  members.erase(pos);
  const bool closes = members.empty();
  if (closes) sets_.erase(it);
  return Step{StepKind::kRemove, cause, position, node, set, owner, false, closes};
}

Result<Step, TableError> SetTable::join(NodeId node, GatewayId origin, Position first,
                                        const StepObserver& observer) {
  if (members_.contains(node)) return Err{TableError::kNodeExists};
  auto placement = assign(origin);
  if (!placement) return Err{placement.error()};
  Step step = place(node, placement->set, origin, Cause::kJoin, first);
  if (observer) observer(step);
  return step;
}

Result<std::vector<Step>, TableError> SetTable::remove(NodeId node, Cause cause, Position first,
                                                       const StepObserver& observer) {
  if (!members_.contains(node)) return Err{TableError::kNodeUnknown};
  std::vector<Step> steps;
  steps.push_back(take_out(node, cause, first));
  if (observer) observer(steps.back());
  Position next_position = next(first);
  reorder_all(steps, next_position, observer);
  return steps;
}

void SetTable::reorder_all(std::vector<Step>& steps, Position& next_position,
                           const StepObserver& observer) {
  std::vector<GatewayId> owners;
  for (const auto& [id, set] : sets_) {
    if (owners.empty() || owners.back() != set.owner) owners.push_back(set.owner);
  }
  for (GatewayId owner : owners)
    reorder(owner, steps, next_position, observer);
}

Result<Placement, TableError> SetTable::assign_move(NodeId node, GatewayId to) const {
  if (!members_.contains(node)) return Err{TableError::kNodeUnknown};
  if (to.value() >= limits::kGatewaysMax) return Err{TableError::kGatewayOutOfRange};
  SetTable after = *this;
  after.take_out(node, Cause::kMove, Position{0});
  Position unused{1};
  std::vector<Step> steps;
  after.reorder_all(steps, unused, {});
  return after.assign(to);
}

Result<std::vector<Step>, TableError> SetTable::move(NodeId node, GatewayId to, Position first,
                                                     const StepObserver& observer) {
  auto placement = assign_move(node, to);
  if (!placement) return Err{placement.error()};
  std::vector<Step> steps;
  steps.push_back(take_out(node, Cause::kMove, first));
  if (observer) observer(steps.back());
  Position next_position = next(first);
  reorder_all(steps, next_position, observer);
  steps.push_back(place(node, placement->set, to, Cause::kMove, next_position));
  KMCHAIN_CHECK(steps.back().opens_set == placement->opens_set);
  if (observer) observer(steps.back());
  return steps;
}

Status<TableError> SetTable::apply_step(const Step& step) {
  const auto mismatch = Err{TableError::kStepMismatch};
  switch (step.kind) {
    case StepKind::kPlace: {
      // A node being placed is new, or was left without a set by the dissolve before it.
      if (auto m = members_.find(step.node); m != members_.end() && sets_.contains(m->second.set))
        return mismatch;
      const SetRecord* set = find_set(step.set);
      if (set == nullptr) {
        if (!step.opens_set || step.set != new_set_id(step.owner)) return mismatch;
      } else if (step.opens_set || set->owner != step.owner) {
        return mismatch;
      }
      const Step done = place(step.node, step.set, step.owner, step.cause, step.position);
      KMCHAIN_CHECK(done == step);
      return {};
    }
    case StepKind::kRemove: {
      const MemberRecord* m = find_member(step.node);
      if (m == nullptr || m->set != step.set) return mismatch;
      const SetRecord& set = sets_.at(step.set);
      if (set.owner != step.owner || step.closes_set != (set.members.size() == 1)) return mismatch;
      const Step done = take_out(step.node, step.cause, step.position);
      KMCHAIN_CHECK(done == step);
      return {};
    }
    case StepKind::kDissolve: {
      const SetRecord* set = find_set(step.set);
      if (set == nullptr || set->owner != step.owner) return mismatch;
      // Its members stay in members_ until the place steps that follow move them.
      sets_.erase(step.set);
      return {};
    }
  }
  return mismatch;
}

void SetTable::reorder(GatewayId owner, std::vector<Step>& steps, Position& next_position,
                       const StepObserver& observer) {
  auto record = [&](Step step) {
    steps.push_back(step);
    next_position = next(next_position);
    if (observer) observer(steps.back());
  };
  if (members_.empty()) return;
  const std::uint32_t cap = capacity(members_.size());
  const SetId first{static_cast<std::uint32_t>(owner.value()) << 24};
  auto owner_sets = [&] {
    std::vector<std::pair<SetId, std::size_t>> out;
    for (auto it = sets_.lower_bound(first); it != sets_.end() && it->second.owner == owner; ++it) {
      out.emplace_back(it->first, it->second.members.size());
    }
    return out;
  };

  // 1. Dissolve the smallest set while the others can absorb it.
  for (;;) {
    const auto sets = owner_sets();
    if (sets.size() < 2) break;
    auto victim = sets.front();
    for (const auto& s : sets) {
      if (s.second <= victim.second) victim = s;  // ties: the highest id
    }
    std::size_t room = 0;
    for (const auto& [id, size] : sets) {
      if (id != victim.first && size < cap) room += cap - size;
    }
    if (room < victim.second) break;
    const std::vector<NodeId> moving = sets_.at(victim.first).members;
    sets_.erase(victim.first);
    record(Step{StepKind::kDissolve, Cause::kReorder, next_position, NodeId{}, victim.first, owner,
                false, true});
    for (NodeId node : moving) {
      const auto target = smallest_with_room(owner, std::nullopt, cap);
      KMCHAIN_CHECK(target.has_value());  // room was counted above
      record(place(node, *target, owner, Cause::kReorder, next_position));
    }
  }

  // 2. Trim sets that the shrinking capacity left oversized.
  for (;;) {
    std::optional<SetId> oversized;
    for (const auto& [id, size] : owner_sets()) {
      if (size > cap + limits::kSetSlack) {
        oversized = id;
        break;
      }
    }
    if (!oversized) break;
    const auto& members = sets_.at(*oversized).members;
    NodeId mover = members.front();
    for (NodeId m : members) {
      const Position at = members_.at(m).placed_at;
      const Position best = members_.at(mover).placed_at;
      if (at > best || (at == best && m > mover)) mover = m;
    }
    std::optional<SetId> target = smallest_with_room(owner, oversized, cap);
    if (!target) {
      auto opened = sets_opened_.find(owner);
      if (opened != sets_opened_.end() && opened->second >= limits::kSetsPerGatewayMax) break;
      target = new_set_id(owner);
    }
    record(take_out(mover, Cause::kReorder, next_position));
    record(place(mover, *target, owner, Cause::kReorder, next_position));
  }
}

}  // namespace kmchain::keys
