// SetTable: capacity, Assignment, Reorder and the step observer (docs/protocol.md section 2), plus
// a property over random join/leave/evict sequences that checks the shape invariants after every
// operation.
#include "keys/set_table.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "base/ids.h"
#include "base/limits.h"
#include "crypto/random.h"

namespace kmchain::keys {
namespace {

// Drives a table with consecutive positions, as the key manager does.
class Driver {
 public:
  SetTable& table() { return table_; }
  std::uint64_t position() const { return position_; }

  Step join(NodeId node, GatewayId origin = GatewayId{0}) {
    auto step = table_.join(node, origin, Position{position_ + 1});
    EXPECT_TRUE(step.ok()) << "join of " << node.value() << ": " << to_string(step.error());
    if (!step) return Step{};
    position_ = step->position.value();
    return *step;
  }

  std::vector<Step> remove(NodeId node, Cause cause = Cause::kLeave) {
    auto steps = table_.remove(node, cause, Position{position_ + 1});
    EXPECT_TRUE(steps.ok()) << "removal of " << node.value() << ": " << to_string(steps.error());
    if (!steps) return {};
    position_ = steps->back().position.value();
    return *steps;
  }

  void grow(std::uint32_t first, std::size_t count, GatewayId origin = GatewayId{0}) {
    for (std::size_t i = 0; i < count; ++i)
      join(NodeId{first + static_cast<std::uint32_t>(i)}, origin);
  }

 private:
  SetTable table_;
  std::uint64_t position_ = 0;
};

// The whole table as comparable values.
using SetsView = std::vector<std::tuple<std::uint32_t, std::uint16_t, std::vector<std::uint32_t>>>;
using MembersView = std::vector<std::tuple<std::uint32_t, std::uint32_t, std::uint64_t>>;

SetsView sets_view(const SetTable& t) {
  SetsView out;
  for (const auto& [id, rec] : t.sets()) {
    std::vector<std::uint32_t> members;
    for (NodeId m : rec.members)
      members.push_back(m.value());
    out.emplace_back(id.value(), rec.owner.value(), members);
  }
  return out;
}

MembersView members_view(const SetTable& t) {
  MembersView out;
  for (const auto& [node, rec] : t.members())
    out.emplace_back(node.value(), rec.set.value(), rec.placed_at.value());
  return out;
}

std::vector<std::size_t> sizes(const SetTable& t, GatewayId owner = GatewayId{0}) {
  std::vector<std::size_t> out;
  for (const auto& [id, rec] : t.sets()) {
    if (rec.owner == owner) out.push_back(rec.members.size());
  }
  return out;
}

std::uint32_t naive_capacity(std::size_t n) {
  std::uint32_t c = 1;
  while (static_cast<std::size_t>(c) * c < n)
    ++c;
  return c;
}

// ---------------------------------------------------------------------------------------------
// Capacity

TEST(SetTableCapacity, IsCeilSqrtForEverySizeUpTo20000) {
  for (std::size_t n = 0; n <= 20000; ++n)
    ASSERT_EQ(SetTable::capacity(n), naive_capacity(n)) << "n = " << n;
}

TEST(SetTableCapacity, IsExactAroundLargeSquares) {
  // Where the double square root could round the wrong way.
  for (std::uint64_t k : {1000ULL, 1449ULL, 2048ULL, 65535ULL, 1ULL << 20, 3037000499ULL}) {
    EXPECT_EQ(SetTable::capacity(k * k), k) << k;
    EXPECT_EQ(SetTable::capacity(k * k - 1), k) << k;
    EXPECT_EQ(SetTable::capacity(k * k + 1), k + 1) << k;
  }
}

// ---------------------------------------------------------------------------------------------
// Assignment

TEST(SetTableAssignment, PureGrowthReachesKSetsOfKAtEverySquare) {
  Driver d;
  std::uint32_t node = 0;
  for (std::size_t k = 1; k <= 30; ++k) {
    while (d.table().member_count() < k * k)
      d.join(NodeId{++node});
    ASSERT_EQ(d.table().set_count(), k) << "n = " << k * k;
    for (const auto& [id, rec] : d.table().sets())
      ASSERT_EQ(rec.members.size(), k) << "set " << id.value() << " at n = " << k * k;
  }
}

TEST(SetTableAssignment, OpensANewSetWhenEverySetIsFull) {
  Driver d;
  d.grow(1, 2);  // n = 2: one set of 2 = cap(2)
  auto p = d.table().assign(GatewayId{0});
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->opens_set);
  EXPECT_EQ(p->set, SetId{1});
  const Step s = d.join(NodeId{3});
  EXPECT_TRUE(s.opens_set);
  EXPECT_EQ(s.set, SetId{1});
  EXPECT_EQ(s.kind, StepKind::kPlace);
  EXPECT_EQ(s.cause, Cause::kJoin);
}

// Sixteen joins make sets 0..3 of 4; three removals leave sizes 4, 3, 4, 2, too uneven to
// dissolve (set 3's 2 members do not fit in set 1's one spare place).
Driver uneven_table() {
  Driver d;
  d.grow(1, 16);
  auto member_of = [&](std::uint32_t set) { return d.table().find_set(SetId{set})->members[0]; };
  d.remove(member_of(1));
  d.remove(member_of(3));
  d.remove(member_of(3));
  return d;
}

TEST(SetTableAssignment, PicksTheSmallestSetWithRoom) {
  Driver d = uneven_table();
  ASSERT_EQ(sizes(d.table()), (std::vector<std::size_t>{4, 3, 4, 2}));
  auto p = d.table().assign(GatewayId{0});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->set, SetId{3});  // smaller than set 1 although its id is higher
  EXPECT_FALSE(p->opens_set);
  EXPECT_EQ(d.join(NodeId{100}).set, SetId{3});
}

TEST(SetTableAssignment, TiesGoToTheLowestId) {
  Driver d = uneven_table();
  d.join(NodeId{100});  // into set 3
  ASSERT_EQ(sizes(d.table()), (std::vector<std::size_t>{4, 3, 4, 3}));
  auto p = d.table().assign(GatewayId{0});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->set, SetId{1});
  EXPECT_EQ(d.join(NodeId{101}).set, SetId{1});
}

TEST(SetTableAssignment, AssignDoesNotChangeTheTable) {
  Driver d = uneven_table();
  const auto sets = sets_view(d.table());
  const auto members = members_view(d.table());
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(d.table().assign(GatewayId{static_cast<std::uint16_t>(i)}).ok());
  EXPECT_EQ(sets_view(d.table()), sets);
  EXPECT_EQ(members_view(d.table()), members);
}

TEST(SetTableAssignment, NewSetIdsCarryTheOwnerInTheTopByte) {
  Driver d;
  for (std::uint16_t g : {std::uint16_t{0}, std::uint16_t{7}, std::uint16_t{255}}) {
    for (std::uint32_t i = 0; i < 10; ++i)
      d.join(NodeId{static_cast<std::uint32_t>(g) * 1000 + i + 1}, GatewayId{g});
  }
  std::map<std::uint16_t, std::uint32_t> opened;
  for (const auto& [id, rec] : d.table().sets()) {
    EXPECT_EQ(id.value() >> 24, rec.owner.value()) << "set " << id.value();
    // Low bits count the owner's opened sets from 0.
    EXPECT_EQ(id.value() & 0xffffffu, opened[rec.owner.value()]++) << "set " << id.value();
  }
  EXPECT_EQ(opened.size(), 3u);
}

TEST(SetTableAssignment, SetIdsAreNeverReused) {
  Driver d = uneven_table();
  // Removing a member of set 1 lets set 1 absorb set 3, which is dissolved.
  d.remove(d.table().find_set(SetId{1})->members[0]);
  ASSERT_EQ(d.table().find_set(SetId{3}), nullptr);
  ASSERT_EQ(sizes(d.table()), (std::vector<std::size_t>{4, 4, 4}));
  const Step s = d.join(NodeId{100});  // n = 13, cap 4: every set is full
  EXPECT_TRUE(s.opens_set);
  EXPECT_EQ(s.set, SetId{4});
}

TEST(SetTableAssignment, JoinsThroughDifferentGatewaysNeverShareASet) {
  Driver d;
  crypto::DeterministicRng rng(3);
  std::map<NodeId, GatewayId> origin;
  for (std::uint32_t i = 1; i <= 300; ++i) {
    const GatewayId g{static_cast<std::uint16_t>(rng.uniform(4))};
    d.join(NodeId{i}, g);
    origin[NodeId{i}] = g;
    if (i % 3 == 0) {  // and some churn, so Reorder moves run too
      const NodeId victim{static_cast<std::uint32_t>(rng.uniform(i)) + 1};
      if (d.table().find_member(victim) != nullptr) d.remove(victim);
    }
  }
  std::size_t owners_with_sets = 0;
  for (std::uint16_t g = 0; g < 4; ++g)
    if (d.table().sets_of(GatewayId{g}) > 0) ++owners_with_sets;
  EXPECT_EQ(owners_with_sets, 4u);
  for (const auto& [id, rec] : d.table().sets()) {
    for (NodeId m : rec.members)
      EXPECT_EQ(origin.at(m), rec.owner) << "node " << m.value() << " in set " << id.value();
  }
}

// ---------------------------------------------------------------------------------------------
// Errors leave the table unchanged

class SetTableErrors : public ::testing::Test {
 protected:
  void SetUp() override {
    d_.grow(1, 10, GatewayId{0});
    d_.grow(101, 5, GatewayId{1});
    sets_ = sets_view(d_.table());
    members_ = members_view(d_.table());
    next_ = d_.table().assign(GatewayId{0})->set;
  }
  void ExpectUnchanged() {
    EXPECT_EQ(sets_view(d_.table()), sets_);
    EXPECT_EQ(members_view(d_.table()), members_);
    EXPECT_EQ(d_.table().assign(GatewayId{0})->set, next_);  // set id counters too
    EXPECT_EQ(observed_, 0);
  }
  SetTable::StepObserver counter() {
    return [this](const Step&) { ++observed_; };
  }

  Driver d_;
  SetsView sets_;
  MembersView members_;
  SetId next_;
  int observed_ = 0;
};

TEST_F(SetTableErrors, JoinOfAnExistingNodeIsRefused) {
  for (GatewayId g : {GatewayId{0}, GatewayId{1}, GatewayId{2}}) {
    auto r = d_.table().join(NodeId{3}, g, Position{100}, counter());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error(), TableError::kNodeExists);
  }
  ExpectUnchanged();
}

TEST_F(SetTableErrors, RemovalOfAnUnknownNodeIsRefused) {
  for (Cause c : {Cause::kLeave, Cause::kEvict}) {
    auto r = d_.table().remove(NodeId{42}, c, Position{100}, counter());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error(), TableError::kNodeUnknown);
  }
  ExpectUnchanged();
}

TEST_F(SetTableErrors, MoveOfAnUnknownNodeOrToNoGatewayIsRefused) {
  auto unknown = d_.table().move(NodeId{42}, GatewayId{1}, Position{100}, counter());
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error(), TableError::kNodeUnknown);
  EXPECT_EQ(d_.table().assign_move(NodeId{42}, GatewayId{1}).error(), TableError::kNodeUnknown);
  auto nowhere = d_.table().move(NodeId{3}, GatewayId{256}, Position{100}, counter());
  ASSERT_FALSE(nowhere.ok());
  EXPECT_EQ(nowhere.error(), TableError::kGatewayOutOfRange);
  ExpectUnchanged();
}

TEST_F(SetTableErrors, GatewayIdOutOfRangeIsRefused) {
  for (std::uint16_t g : {std::uint16_t{256}, std::uint16_t{257}, std::uint16_t{65535}}) {
    auto a = d_.table().assign(GatewayId{g});
    ASSERT_FALSE(a.ok());
    EXPECT_EQ(a.error(), TableError::kGatewayOutOfRange);
    auto r = d_.table().join(NodeId{500}, GatewayId{g}, Position{100}, counter());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error(), TableError::kGatewayOutOfRange);
  }
  ExpectUnchanged();
  EXPECT_TRUE(d_.table().assign(GatewayId{255}).ok());  // the last valid owner
}

TEST(SetTableErrorNames, EveryErrorHasADistinctName) {
  std::vector<std::string> names;
  for (auto e : {TableError::kNodeExists, TableError::kNodeUnknown, TableError::kGatewayOutOfRange,
                 TableError::kSetIdsExhausted, TableError::kNetworkFull, TableError::kNotEmpty}) {
    names.emplace_back(to_string(e));
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(std::unique(names.begin(), names.end()), names.end());
}

// ---------------------------------------------------------------------------------------------
// Reorder

TEST(SetTableMove, TakesTheDeviceOutOfItsSetAndIntoASetOfTheNewHome) {
  Driver d;
  d.grow(1, 10, GatewayId{0});
  d.grow(101, 5, GatewayId{1});
  const SetId from = d.table().find_member(NodeId{3})->set;
  const Placement target = *d.table().assign_move(NodeId{3}, GatewayId{1});
  std::vector<Step> seen;
  auto steps = d.table().move(NodeId{3}, GatewayId{1}, Position{d.position() + 1},
                              [&](const Step& s) { seen.push_back(s); });
  ASSERT_TRUE(steps.ok());
  EXPECT_EQ(seen, *steps);
  const Step& out = steps->front();
  EXPECT_EQ(out.kind, StepKind::kRemove);
  EXPECT_EQ(out.cause, Cause::kMove);
  EXPECT_EQ(out.set, from);
  EXPECT_EQ(out.owner, GatewayId{0});
  const Step& in = steps->back();
  EXPECT_EQ(in.kind, StepKind::kPlace);
  EXPECT_EQ(in.cause, Cause::kMove);
  EXPECT_EQ(in.owner, GatewayId{1});
  EXPECT_EQ(in.set, target.set);
  EXPECT_EQ(d.table().find_member(NodeId{3})->set, target.set);
  EXPECT_EQ(d.table().find_member(NodeId{3})->placed_at, in.position);
  EXPECT_EQ(d.table().member_count(), 15u);
  EXPECT_FALSE(std::count(d.table().find_set(from)->members.begin(),
                          d.table().find_set(from)->members.end(), NodeId{3}));
  // Only joins and moves arrive at a home; only leaves and evictions depart.
  EXPECT_TRUE(arrives(in));
  EXPECT_FALSE(departs(out.cause));
  EXPECT_TRUE(departs(Cause::kLeave) && departs(Cause::kEvict));
  EXPECT_FALSE(departs(Cause::kReorder));
}

TEST(SetTableReorder, DissolvesTheSmallestSetWhenTheOthersCanAbsorbIt) {
  Driver d = uneven_table();
  ASSERT_EQ(sizes(d.table()), (std::vector<std::size_t>{4, 3, 4, 2}));
  const std::vector<NodeId> moving = d.table().find_set(SetId{3})->members;
  const NodeId leaver = d.table().find_set(SetId{1})->members[0];
  const std::uint64_t first = d.position() + 1;

  // n = 12, cap 4: sizes 4, 2, 4, 2; set 3 (ties: highest id) fits in set 1's two places.
  const std::vector<Step> steps = d.remove(leaver);
  ASSERT_EQ(steps.size(), 4u);
  EXPECT_EQ(steps[0].kind, StepKind::kRemove);
  EXPECT_EQ(steps[0].node, leaver);
  EXPECT_EQ(steps[0].cause, Cause::kLeave);
  EXPECT_EQ(steps[1].kind, StepKind::kDissolve);
  EXPECT_EQ(steps[1].cause, Cause::kReorder);
  EXPECT_EQ(steps[1].set, SetId{3});
  EXPECT_EQ(steps[1].owner, GatewayId{0});
  EXPECT_TRUE(steps[1].closes_set);
  EXPECT_EQ(steps[1].node, NodeId{});
  for (std::size_t i = 0; i < 2; ++i) {
    const Step& s = steps[2 + i];
    EXPECT_EQ(s.kind, StepKind::kPlace);
    EXPECT_EQ(s.cause, Cause::kReorder);
    EXPECT_EQ(s.node, moving[i]);  // in id order
    EXPECT_EQ(s.set, SetId{1});
    EXPECT_FALSE(s.opens_set);
    const MemberRecord* rec = d.table().find_member(moving[i]);
    ASSERT_NE(rec, nullptr);
    EXPECT_EQ(rec->set, SetId{1});
    EXPECT_EQ(rec->placed_at, s.position);
  }
  for (std::size_t i = 0; i < steps.size(); ++i)
    EXPECT_EQ(steps[i].position, Position{first + i});
  EXPECT_EQ(d.table().find_set(SetId{3}), nullptr);
  EXPECT_EQ(sizes(d.table()), (std::vector<std::size_t>{4, 4, 4}));
}

TEST(SetTableReorder, KeepsASmallSetTheOthersCannotAbsorb) {
  Driver d;
  d.grow(1, 16);
  d.remove(d.table().find_set(SetId{1})->members[0]);
  d.remove(d.table().find_set(SetId{3})->members[0]);
  // n = 13, cap 4: set 3 would shrink to 2, set 1 has a single spare place.
  const std::vector<Step> steps = d.remove(d.table().find_set(SetId{3})->members[0]);
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_EQ(steps[0].kind, StepKind::kRemove);
  EXPECT_FALSE(steps[0].closes_set);
  EXPECT_EQ(sizes(d.table()), (std::vector<std::size_t>{4, 3, 4, 2}));
}

TEST(SetTableReorder, TheLastMemberLeavingClosesItsSet) {
  Driver d;
  d.grow(1, 4, GatewayId{0});
  d.join(NodeId{100}, GatewayId{1});
  const std::vector<Step> steps = d.remove(NodeId{100});
  ASSERT_FALSE(steps.empty());
  EXPECT_EQ(steps[0].kind, StepKind::kRemove);
  EXPECT_TRUE(steps[0].closes_set);
  EXPECT_EQ(steps[0].set, SetId{1u << 24});
  EXPECT_EQ(steps[0].owner, GatewayId{1});
  EXPECT_EQ(d.table().sets_of(GatewayId{1}), 0u);
}

TEST(SetTableReorder, TrimsASetAboveCapPlusSlack) {
  // Gateway 1's set fills to 5 at cap 5; gateway 0's departures then shrink the network.
  Driver d;
  d.grow(1, 20, GatewayId{0});
  d.grow(101, 5, GatewayId{1});
  const SetId big{1u << 24};
  ASSERT_EQ(d.table().find_set(big)->members.size(), 5u);
  const NodeId newest{105};  // the most recently placed member of `big`

  std::uint32_t next_leaver = 1;
  while (d.table().member_count() > 10) {
    const std::vector<Step> steps = d.remove(NodeId{next_leaver++});
    for (const Step& s : steps)
      ASSERT_NE(s.owner, GatewayId{1}) << "gateway 1 reordered at n = " << d.table().member_count();
  }
  // n = 10, cap 4: 5 = cap + slack is allowed.
  ASSERT_EQ(d.table().find_set(big)->members.size(), 4 + limits::kSetSlack);

  // n = 9, cap 3: 5 > cap + slack, so the newest member moves to a new set of gateway 1.
  const std::vector<Step> steps = d.remove(NodeId{next_leaver++});
  std::vector<Step> trim;
  for (const Step& s : steps) {
    if (s.owner == GatewayId{1}) trim.push_back(s);
  }
  ASSERT_EQ(trim.size(), 2u);
  EXPECT_EQ(trim[0].kind, StepKind::kRemove);
  EXPECT_EQ(trim[0].cause, Cause::kReorder);
  EXPECT_EQ(trim[0].node, newest);
  EXPECT_EQ(trim[0].set, big);
  EXPECT_FALSE(trim[0].closes_set);
  EXPECT_EQ(trim[1].kind, StepKind::kPlace);
  EXPECT_EQ(trim[1].cause, Cause::kReorder);
  EXPECT_EQ(trim[1].node, newest);
  EXPECT_EQ(trim[1].set, SetId{(1u << 24) | 1u});
  EXPECT_TRUE(trim[1].opens_set);
  EXPECT_EQ(trim[1].position, next(trim[0].position));
  EXPECT_EQ(d.table().find_set(big)->members.size(), 4u);
  EXPECT_EQ(d.table().find_member(newest)->set, trim[1].set);
  EXPECT_EQ(d.table().find_member(newest)->placed_at, trim[1].position);
  EXPECT_LE(d.table().max_set_size(), SetTable::capacity(9) + limits::kSetSlack);
}

// ---------------------------------------------------------------------------------------------
// The observer

// Checks that `table` is as `step` left it.
void expect_table_after(const SetTable& table, const Step& s) {
  const MemberRecord* m = table.find_member(s.node);
  const SetRecord* set = table.find_set(s.set);
  switch (s.kind) {
    case StepKind::kPlace:
      ASSERT_NE(m, nullptr) << "placed node " << s.node.value() << " is not a member yet";
      EXPECT_EQ(m->set, s.set);
      EXPECT_EQ(m->placed_at, s.position);
      ASSERT_NE(set, nullptr);
      EXPECT_TRUE(std::binary_search(set->members.begin(), set->members.end(), s.node));
      EXPECT_EQ(set->owner, s.owner);
      EXPECT_EQ(s.opens_set, set->members.size() == 1);
      break;
    case StepKind::kRemove:
      EXPECT_EQ(m, nullptr) << "removed node " << s.node.value() << " is still a member";
      if (s.closes_set) {
        EXPECT_EQ(set, nullptr);
      } else {
        ASSERT_NE(set, nullptr);
        EXPECT_FALSE(std::binary_search(set->members.begin(), set->members.end(), s.node));
      }
      break;
    case StepKind::kDissolve:
      EXPECT_EQ(set, nullptr) << "dissolved set " << s.set.value() << " still exists";
      break;
  }
}

bool same_step(const Step& a, const Step& b) {
  return a.kind == b.kind && a.cause == b.cause && a.position == b.position && a.node == b.node &&
         a.set == b.set && a.owner == b.owner && a.opens_set == b.opens_set &&
         a.closes_set == b.closes_set;
}

TEST(SetTableObserver, SeesEachStepWithTheTableAsThatStepLeftIt) {
  SetTable table;
  crypto::DeterministicRng rng(11);
  std::vector<NodeId> live;
  std::uint32_t next_node = 0;
  std::uint64_t position = 0;
  std::map<std::pair<StepKind, Cause>, std::size_t> seen;
  std::size_t closes = 0;
  std::vector<Step> observed;
  const SetTable::StepObserver observer = [&](const Step& s) {
    observed.push_back(s);
    ++seen[{s.kind, s.cause}];
    if (s.kind == StepKind::kRemove && s.closes_set) ++closes;
    expect_table_after(table, s);
  };
  for (int op = 0; op < 3000 && !::testing::Test::HasFailure(); ++op) {
    observed.clear();
    // Grow to ~200, then shrink to ~20, twice: capacity moves both ways.
    const bool grow_phase = (op / 750) % 2 == 0;
    const bool join = live.empty() || rng.unit() < (grow_phase ? 0.7 : 0.3);
    if (join) {
      const NodeId node{++next_node};
      const GatewayId g{static_cast<std::uint16_t>(rng.uniform(3))};
      auto step = table.join(node, g, Position{position + 1}, observer);
      ASSERT_TRUE(step.ok());
      ASSERT_EQ(observed.size(), 1u);
      EXPECT_TRUE(same_step(observed[0], *step));
      position = step->position.value();
      live.push_back(node);
    } else {
      const std::size_t i = rng.uniform(live.size());
      const NodeId node = live[i];
      live[i] = live.back();
      live.pop_back();
      auto steps = table.remove(node, rng.unit() < 0.5 ? Cause::kLeave : Cause::kEvict,
                                Position{position + 1}, observer);
      ASSERT_TRUE(steps.ok());
      ASSERT_EQ(observed.size(), steps->size());
      for (std::size_t k = 0; k < observed.size(); ++k)
        EXPECT_TRUE(same_step(observed[k], (*steps)[k])) << "step " << k;
      position = steps->back().position.value();
    }
  }
  // The run exercised every kind of step.
  EXPECT_GT((seen[{StepKind::kPlace, Cause::kJoin}]), 0u);
  EXPECT_GT((seen[{StepKind::kRemove, Cause::kLeave}]), 0u);
  EXPECT_GT((seen[{StepKind::kRemove, Cause::kEvict}]), 0u);
  EXPECT_GT((seen[{StepKind::kDissolve, Cause::kReorder}]), 0u);
  EXPECT_GT((seen[{StepKind::kPlace, Cause::kReorder}]), 0u);
  EXPECT_GT((seen[{StepKind::kRemove, Cause::kReorder}]), 0u) << "no trim ran";
  EXPECT_GT(closes, 0u);
}

// ---------------------------------------------------------------------------------------------
// Property: the shape invariants hold after any sequence of operations

enum class OpKind : std::uint8_t { kJoin, kLeave, kEvict, kMove };

struct Op {
  OpKind kind;
  std::uint32_t pick;  // which member leaves or moves (modulo the member count)
  std::uint8_t gateway;
};

std::ostream& operator<<(std::ostream& os, const Op& op) {
  const char* names[] = {"join", "leave", "evict", "move"};
  return os << names[static_cast<int>(op.kind)] << "(" << op.pick << ", g" << int{op.gateway}
            << ")";
}

// Every invariant of the table's contract; an empty string when all hold.
std::string shape_violation(const SetTable& t, std::size_t gateways) {
  const std::size_t n = t.member_count();
  const std::size_t cap = SetTable::capacity(n);
  if (t.max_set_size() > cap + limits::kSetSlack) {
    return "a set of " + std::to_string(t.max_set_size()) + " at n = " + std::to_string(n);
  }
  if (t.set_count() > cap + gateways + 1) {
    return std::to_string(t.set_count()) + " sets at n = " + std::to_string(n);
  }
  std::size_t placed = 0;
  for (const auto& [id, rec] : t.sets()) {
    if (rec.members.empty()) return "empty set " + std::to_string(id.value());
    if (id.value() >> 24 != rec.owner.value()) return "set id without its owner";
    for (std::size_t i = 1; i < rec.members.size(); ++i) {
      if (!(rec.members[i - 1] < rec.members[i])) return "members not sorted";
    }
    for (NodeId m : rec.members) {
      const MemberRecord* r = t.find_member(m);
      if (r == nullptr || r->set != id) {
        return "member " + std::to_string(m.value()) + " of set " + std::to_string(id.value()) +
               " has no record pointing to it";
      }
    }
    placed += rec.members.size();
  }
  // Each membership has a record naming its set, and as many memberships as records: every
  // member is in exactly one set.
  if (placed != n) return std::to_string(placed) + " memberships for " + std::to_string(n);
  // Per owner (set_table.h): sets of g <= ceil(n_g / cap) + 1.
  std::map<GatewayId, std::pair<std::size_t, std::size_t>> per_owner;  // sets, members
  for (const auto& [id, rec] : t.sets()) {
    ++per_owner[rec.owner].first;
    per_owner[rec.owner].second += rec.members.size();
  }
  for (const auto& [owner, count] : per_owner) {
    const auto& [owned_sets, owned_members] = count;
    if (owned_sets > (owned_members + cap - 1) / cap + 1) {
      return "gateway " + std::to_string(owner.value()) + " has " + std::to_string(owned_sets) +
             " sets for " + std::to_string(owned_members) + " members at cap " +
             std::to_string(cap);
    }
  }
  return {};
}

// Sizes do not ramp up with rapidcheck's size parameter: every case may be large, and shrinking
// finds the small counterexample.
template <class T>
T full_range(T min, T max) {
  return *rc::gen::resize(rc::kNominalSize, rc::gen::inRange<T>(min, max));
}

RC_GTEST_PROP(SetTableProperty, ShapeHoldsAfterEveryOperation, ()) {
  const auto gateways = full_range<std::size_t>(1, 6);
  // A growth phase of joins, so capacity is large when the churn starts ...
  const auto growth = full_range<std::size_t>(0, 400);
  const auto growth_gateways = *rc::gen::resize(
      rc::kNominalSize,
      rc::gen::container<std::vector<std::uint8_t>>(growth, rc::gen::inRange<std::uint8_t>(0, 5)));
  // ... then churn that grows (join weight 4), holds (2) or shrinks the network (1, 0).
  const auto join_weight = full_range<std::size_t>(0, 5);
  const auto gen_op = rc::gen::construct<Op>(
      rc::gen::weightedElement<OpKind>({{join_weight, OpKind::kJoin},
                                        {1, OpKind::kLeave},
                                        {1, OpKind::kEvict},
                                        {1, OpKind::kMove}}),
      rc::gen::arbitrary<std::uint32_t>(), rc::gen::inRange<std::uint8_t>(0, 5));
  std::vector<Op> ops;
  for (std::uint8_t g : growth_gateways)
    ops.push_back(Op{OpKind::kJoin, 0, g});
  const auto churn = *rc::gen::resize(400, rc::gen::container<std::vector<Op>>(gen_op));
  ops.insert(ops.end(), churn.begin(), churn.end());

  SetTable t;
  std::vector<NodeId> live;
  std::uint32_t next_node = 0;
  std::uint64_t position = 0;
  for (const Op& op : ops) {
    const std::uint64_t first = position + 1;
    if (op.kind == OpKind::kJoin || live.empty()) {
      const NodeId node{++next_node};
      auto step = t.join(node, GatewayId{static_cast<std::uint16_t>(op.gateway % gateways)},
                         Position{first});
      RC_ASSERT(step.ok());
      RC_ASSERT(step->position == Position{first});
      position = first;
      live.push_back(node);
    } else if (op.kind == OpKind::kMove) {
      // To the gateway the op names: its home again is a move too (out and back in).
      const NodeId node = live[op.pick % live.size()];
      const GatewayId to{static_cast<std::uint16_t>(op.gateway % gateways)};
      auto placement = t.assign_move(node, to);
      RC_ASSERT(placement.ok());
      auto steps = t.move(node, to, Position{first});
      RC_ASSERT(steps.ok());
      RC_ASSERT(steps->size() >= 2);
      RC_ASSERT(steps->front().kind == StepKind::kRemove && steps->front().node == node);
      RC_ASSERT(steps->front().cause == Cause::kMove);
      const Step& placed = steps->back();
      RC_ASSERT(placed.kind == StepKind::kPlace && placed.node == node);
      RC_ASSERT(placed.cause == Cause::kMove && placed.owner == to);
      RC_ASSERT(placed.set == placement->set && placed.opens_set == placement->opens_set);
      for (std::size_t k = 0; k < steps->size(); ++k)
        RC_ASSERT((*steps)[k].position == Position{first + k});
      RC_ASSERT(t.find_member(node)->set == placed.set);
      position = placed.position.value();
    } else {
      const std::size_t i = op.pick % live.size();
      const NodeId node = live[i];
      live.erase(live.begin() + static_cast<std::ptrdiff_t>(i));
      auto steps = t.remove(node, op.kind == OpKind::kLeave ? Cause::kLeave : Cause::kEvict,
                            Position{first});
      RC_ASSERT(steps.ok());
      RC_ASSERT(!steps->empty());
      RC_ASSERT((*steps)[0].node == node);
      for (std::size_t k = 0; k < steps->size(); ++k)
        RC_ASSERT((*steps)[k].position == Position{first + k});
      position = steps->back().position.value();
    }
    RC_ASSERT(t.member_count() == live.size());
    const std::string violation = shape_violation(t, gateways);
    if (!violation.empty()) RC_FAIL(violation);
  }
}

}  // namespace
}  // namespace kmchain::keys

// ---------------------------------------------------------------------------------------------
// Replaying another table's steps (the key view replays the ledger's)

namespace kmchain::keys {
namespace {

RC_GTEST_PROP(SetTableReplay, ReplayingEveryStepGivesAnEqualTable, ()) {
  const auto gateways = *rc::gen::inRange<std::uint16_t>(1, 4);
  const auto ops = *rc::gen::inRange(1, 120);
  SetTable decided;
  SetTable replayed;
  std::uint64_t position = 0;
  std::uint32_t next_node = 1;
  for (int i = 0; i < ops; ++i) {
    std::vector<Step> steps;
    const bool join = decided.member_count() == 0 || *rc::gen::inRange(0, 10) < 6;
    if (join) {
      const GatewayId origin{*rc::gen::inRange<std::uint16_t>(0, gateways)};
      auto step = decided.join(NodeId{next_node++}, origin, Position{position + 1});
      RC_ASSERT(step.ok());
      steps.push_back(*step);
    } else {
      const auto& members = decided.members();
      auto it = members.begin();
      std::advance(it, *rc::gen::inRange<std::size_t>(0, members.size()));
      if (*rc::gen::inRange(0, 3) == 0) {
        const GatewayId to{*rc::gen::inRange<std::uint16_t>(0, gateways)};
        auto moved = decided.move(it->first, to, Position{position + 1});
        RC_ASSERT(moved.ok());
        steps = *moved;
      } else {
        auto removed = decided.remove(it->first, Cause::kLeave, Position{position + 1});
        RC_ASSERT(removed.ok());
        steps = *removed;
      }
    }
    position = steps.back().position.value();
    for (const Step& s : steps)
      RC_ASSERT(replayed.apply_step(s).ok());
    RC_ASSERT(replayed == decided);
  }
}

TEST(SetTableReplay, AStepThatDoesNotFollowIsRefusedAndChangesNothing) {
  SetTable decided;
  SetTable replayed;
  std::vector<Step> steps;
  for (std::uint32_t n = 1; n <= 5; ++n) {
    auto step = decided.join(NodeId{n}, GatewayId{0}, Position{n});
    ASSERT_TRUE(step.ok());
    ASSERT_TRUE(replayed.apply_step(*step).ok());
  }
  auto next = decided.join(NodeId{6}, GatewayId{0}, Position{6});
  ASSERT_TRUE(next.ok());
  const SetTable before = replayed;
  Step wrong_set = *next;
  wrong_set.set = SetId{wrong_set.set.value() + 7};
  Step wrong_owner = *next;
  wrong_owner.owner = GatewayId{1};
  Step member_again = *next;
  member_again.node = NodeId{1};
  Step remove_stranger{StepKind::kRemove, Cause::kLeave, Position{6}, NodeId{99},
                       next->set,         GatewayId{0},  false,       false};
  for (const Step& s : {wrong_set, wrong_owner, member_again, remove_stranger}) {
    auto applied = replayed.apply_step(s);
    ASSERT_FALSE(applied.ok());
    EXPECT_EQ(applied.error(), TableError::kStepMismatch);
    EXPECT_TRUE(replayed == before);
  }
  EXPECT_TRUE(replayed.apply_step(*next).ok());
  EXPECT_TRUE(replayed == decided);
}

}  // namespace
}  // namespace kmchain::keys
