// Keyring with the KeyManager (docs/protocol.md section 2): small networks in which every plan is
// delivered to its recipients. Every pair derives the same DEK; each rejection is typed and
// changes nothing; a device that missed a refresh recovers from a bundle; a departed device
// reads nothing sent after it left; genesis provisioning yields agreeing keyrings.
#include "keys/keyring.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/bytes.h"
#include "base/ids.h"
#include "crypto/random.h"
#include "keys/key_manager.h"
#include "keys/rekey_message.h"
#include "network_fixture.h"

namespace kmchain::keys {
namespace {

using fixture::all_pairs_agree;
using fixture::flipped;
using fixture::KeyringState;
using fixture::Network;
using fixture::state_of;

std::map<NodeId, KeyringState> snapshot(const Network& net) {
  std::map<NodeId, KeyringState> out;
  for (const auto& [node, ring] : net.devices())
    out.emplace(node, state_of(ring));
  return out;
}

// Applies `wire` at `ring`, expecting `expected` and no change at all.
void expect_rejected(Keyring& ring, const Bytes& wire, RekeyError expected,
                     const std::string& what) {
  const KeyringState before = state_of(ring);
  auto r = ring.apply(wire);
  ASSERT_FALSE(r.ok()) << what << " was accepted by node " << ring.self().value();
  EXPECT_EQ(r.error(), expected) << what << ": got " << to_string(r.error()) << ", expected "
                                 << to_string(expected);
  EXPECT_EQ(state_of(ring), before) << what << " changed node " << ring.self().value();
}

// The first envelope of `plan` of `kind` that `node` receives.
const Envelope* first_for(const RekeyPlan& plan, NodeId node, MessageKind kind) {
  for (const Envelope& e : plan.messages) {
    if (e.header.kind != kind) continue;
    for (NodeId r : e.recipients) {
      if (r == node) return &e;
    }
  }
  return nullptr;
}

// A member of the set the next join through gateway 0 enters (which must exist already).
NodeId member_of_next_joined_set(const Network& net) {
  auto placement = net.km().table().assign(GatewayId{0});
  EXPECT_TRUE(placement.ok());
  EXPECT_FALSE(placement->opens_set);
  return net.km().table().find_set(placement->set)->members.front();
}

// ---------------------------------------------------------------------------------------------
// Agreement

TEST(KeyringAgreement, GrowthThroughOneGatewayGivesTwoSqrtNKeysAtSquares) {
  Network net(1, 7);
  std::uint32_t node = 0;
  for (std::size_t k = 1; k <= 6; ++k) {
    while (net.km().table().member_count() < k * k)
      net.join(NodeId{++node});
    ASSERT_TRUE(all_pairs_agree(net)) << "n = " << k * k;
    ASSERT_EQ(net.km().table().set_count(), k);
    for (const auto& [id, ring] : net.devices())
      EXPECT_EQ(ring.key_count(), 2 * k) << "node " << id.value() << " at n = " << k * k;
  }
}

TEST(KeyringAgreement, EveryPairAgreesThroughChurnOverSeveralGateways) {
  for (const std::uint64_t seed : {std::uint64_t{1}, std::uint64_t{2}, std::uint64_t{3}}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Network net(3, seed);
    crypto::DeterministicRng choice(seed + 100);
    std::vector<NodeId> live;
    std::uint32_t next_node = 0;
    auto join = [&] {
      const NodeId n{++next_node};
      net.join(n, GatewayId{static_cast<std::uint16_t>(choice.uniform(3))});
      live.push_back(n);
    };
    for (int i = 0; i < 40; ++i)
      join();
    ASSERT_TRUE(all_pairs_agree(net));
    for (int op = 1; op <= 120; ++op) {
      if (live.empty() || choice.unit() < 0.45) {
        join();
      } else {
        const std::size_t i = choice.uniform(live.size());
        const NodeId n = live[i];
        live.erase(live.begin() + static_cast<std::ptrdiff_t>(i));
        net.remove(n, choice.unit() < 0.5 ? Cause::kLeave : Cause::kEvict);
      }
      ASSERT_FALSE(::testing::Test::HasFailure()) << "op " << op;
      if (op % 10 == 0) {
        ASSERT_TRUE(all_pairs_agree(net)) << "op " << op;
      }
    }
  }
}

TEST(KeyringAgreement, DekIsAbsentForSelfAndUnknownPeers) {
  Network net(1);
  net.grow(1, 9);
  const Keyring& a = net.device(NodeId{1});
  EXPECT_FALSE(a.dek(NodeId{1}, *a.set()).has_value());  // itself
  const SetId other_set = a.pairwise_set_keys().front().first;
  EXPECT_FALSE(a.dek(NodeId{1}, other_set).has_value());  // itself, under another set
  const NodeId in_other_set = net.km().table().find_set(other_set)->members.front();
  EXPECT_TRUE(a.dek(in_other_set, other_set).has_value());
  EXPECT_FALSE(a.dek(NodeId{999}, *a.set()).has_value());         // not in its set
  EXPECT_FALSE(a.dek(NodeId{2}, SetId{0x00abcdef}).has_value());  // no such set
  Keyring fresh(NodeId{50}, fixture::counting_key(1));
  EXPECT_FALSE(fresh.placed());
  EXPECT_EQ(fresh.key_count(), 1u);
  EXPECT_FALSE(fresh.dek(NodeId{1}, *a.set()).has_value());
}

// ---------------------------------------------------------------------------------------------
// Typed rejections that change nothing

class KeyringRejections : public ::testing::Test {
 protected:
  void SetUp() override {
    net_.grow(1, 16);  // four sets of four
    ASSERT_TRUE(all_pairs_agree(net_));
  }
  Network net_{1, 21};
};

TEST_F(KeyringRejections, EveryReplayedMessageOfAJoinAndALeaveIsReplayed) {
  const RekeyPlan join = net_.join(NodeId{100});
  const RekeyPlan leave = net_.remove(NodeId{3});
  ASSERT_TRUE(all_pairs_agree(net_));
  const auto before = snapshot(net_);
  std::size_t replays = 0;
  std::set<MessageKind> kinds;
  for (const RekeyPlan* plan : {&join, &leave}) {
    for (const Envelope& e : plan->messages) {
      for (NodeId r : e.recipients) {
        if (!net_.devices().contains(r)) continue;
        expect_rejected(net_.device(r), e.wire, RekeyError::kReplayed,
                        "replayed kind " + std::to_string(static_cast<int>(e.header.kind)));
        ++replays;
        kinds.insert(e.header.kind);
      }
    }
  }
  EXPECT_GT(replays, 20u);
  EXPECT_TRUE(kinds.contains(MessageKind::kRefresh));
  EXPECT_TRUE(kinds.contains(MessageKind::kPairwiseNodeKey));
  EXPECT_TRUE(kinds.contains(MessageKind::kKeyBundle));
  EXPECT_EQ(snapshot(net_), before);
}

TEST_F(KeyringRejections, ReplayedRefreshIsReplayed) {
  const NodeId x = member_of_next_joined_set(net_);
  const RekeyPlan plan = net_.join(NodeId{100});
  const Envelope* e = first_for(plan, x, MessageKind::kRefresh);
  ASSERT_NE(e, nullptr);
  expect_rejected(net_.device(x), e->wire, RekeyError::kReplayed, "replayed refresh");
  EXPECT_TRUE(all_pairs_agree(net_));
}

TEST_F(KeyringRejections, ReplayedPairwiseNodeKeyIsReplayed) {
  const NodeId x = member_of_next_joined_set(net_);
  const RekeyPlan plan = net_.join(NodeId{100});
  const Envelope* e = first_for(plan, x, MessageKind::kPairwiseNodeKey);
  ASSERT_NE(e, nullptr);
  // At the position already applied: refused because the key is already held.
  ASSERT_EQ(e->header.position, net_.device(x).position());
  expect_rejected(net_.device(x), e->wire, RekeyError::kReplayed, "replayed pairwise node key");
  // And once the device moved on, by position.
  net_.join(NodeId{101});
  expect_rejected(net_.device(x), e->wire, RekeyError::kReplayed, "old pairwise node key");
  EXPECT_TRUE(all_pairs_agree(net_));
}

TEST_F(KeyringRejections, BundleNotNewerThanThePositionIsReplayed) {
  const NodeId x{5};
  auto old_bundle = net_.km().bundle_for(x);
  ASSERT_TRUE(old_bundle.ok());
  // At the current position.
  expect_rejected(net_.device(x), old_bundle->wire, RekeyError::kReplayed, "current bundle");
  // Older than the current position.
  const RekeyPlan plan = net_.join(NodeId{100});
  expect_rejected(net_.device(x), old_bundle->wire, RekeyError::kReplayed, "older bundle");
  // The joiner's own bundle, again.
  const Envelope* own = first_for(plan, NodeId{100}, MessageKind::kKeyBundle);
  ASSERT_NE(own, nullptr);
  expect_rejected(net_.device(NodeId{100}), own->wire, RekeyError::kReplayed, "joiner's bundle");
  EXPECT_TRUE(all_pairs_agree(net_));
}

TEST_F(KeyringRejections, MessagesTwoPositionsAheadAreAGapAndABundleRecovers) {
  // x misses the whole of one join, then the next join enters x's set.
  const RekeyPlan missed = net_.plan_join(NodeId{100});
  const NodeId x = member_of_next_joined_set(net_);
  ASSERT_NE(x, NodeId{100});
  const Key128 x_node_key = net_.device(x).node_key();
  net_.deliver(missed, [&](const Envelope&, NodeId r) { return r != x; });
  const RekeyPlan plan = net_.plan_join(NodeId{101});
  ASSERT_EQ(net_.km().table().find_member(NodeId{101})->set, *net_.device(x).set());

  const Envelope* refresh = first_for(plan, x, MessageKind::kRefresh);
  ASSERT_NE(refresh, nullptr);
  ASSERT_EQ(refresh->header.position.value(), net_.device(x).position().value() + 2);
  expect_rejected(net_.device(x), refresh->wire, RekeyError::kGap, "refresh two positions ahead");
  const Envelope* pairwise = first_for(plan, x, MessageKind::kPairwiseNodeKey);
  ASSERT_NE(pairwise, nullptr);
  expect_rejected(net_.device(x), pairwise->wire, RekeyError::kGap, "pairwise node key ahead");

  // Catch-up: a fresh bundle at the current position puts x back in step.
  auto bundle = net_.km().bundle_for(x);
  ASSERT_TRUE(bundle.ok());
  ASSERT_TRUE(net_.device(x).apply(bundle->wire).ok());
  EXPECT_TRUE(net_.device(x).node_key() == x_node_key);
  net_.deliver(plan, [&](const Envelope&, NodeId r) { return r != x; });
  EXPECT_TRUE(all_pairs_agree(net_));
  // ... and it follows the next operations normally.
  net_.remove(NodeId{100});
  net_.join(NodeId{102});
  EXPECT_TRUE(all_pairs_agree(net_));
}

TEST_F(KeyringRejections, MessageForAnotherDeviceOrSetIsNotForMe) {
  const RekeyPlan plan = net_.join(NodeId{100});
  const NodeId x{1};
  const SetId x_set = *net_.device(x).set();
  std::size_t tried = 0;
  for (const Envelope& e : plan.messages) {
    const bool mine = e.header.audience == Audience::kDevice ? e.header.target == x.value()
                                                             : e.header.target == x_set.value();
    if (mine) continue;
    expect_rejected(net_.device(x), e.wire, RekeyError::kNotForMe, "message for another");
    ++tried;
  }
  EXPECT_GT(tried, 5u);
  // A device not yet placed has no set key: set messages are not for it.
  Keyring unplaced(NodeId{500}, fixture::counting_key(9));
  const Envelope* set_message = first_for(plan, x, MessageKind::kRefresh);
  ASSERT_NE(set_message, nullptr);
  expect_rejected(unplaced, set_message->wire, RekeyError::kNotForMe, "set message, unplaced");
}

TEST_F(KeyringRejections, TamperedAndTruncatedCopiesAreRefusedBeforeTheGenuineOne) {
  const RekeyPlan plan = net_.plan_join(NodeId{100});
  std::set<NodeId> tried;
  std::size_t checks = 0;
  net_.deliver(plan, [&](const Envelope& e, NodeId r) {
    if (!tried.insert(r).second) return true;  // each device's first message only
    Keyring& ring = net_.device(r);
    const Bytes& w = e.wire;
    expect_rejected(ring, flipped(w, 15), RekeyError::kAuthFailed, "flipped nonce");
    expect_rejected(ring, flipped(w, kRekeyHeaderBytes, 3), RekeyError::kAuthFailed,
                    "flipped ciphertext");
    expect_rejected(ring, flipped(w, w.size() - 1, 7), RekeyError::kAuthFailed, "flipped tag");
    expect_rejected(ring, Bytes(w.begin(), w.end() - 1), RekeyError::kAuthFailed, "one byte short");
    expect_rejected(ring, Bytes(w.begin(), w.begin() + kRekeyHeaderBytes + 15),
                    RekeyError::kTruncated, "truncated to 43 bytes");
    expect_rejected(ring, Bytes{}, RekeyError::kTruncated, "empty");
    Bytes bad_version = w;
    bad_version[0] = 2;
    expect_rejected(ring, bad_version, RekeyError::kBadVersion, "version 2");
    Bytes bad_kind = w;
    bad_kind[1] = 7;
    expect_rejected(ring, bad_kind, RekeyError::kUnknownKind, "kind 7");
    ++checks;
    return true;  // then the genuine message must still apply
  });
  EXPECT_EQ(checks, 17u);  // every device received something
  EXPECT_TRUE(all_pairs_agree(net_));
}

TEST_F(KeyringRejections, ForgedUnderAnotherKeyIsAuthFailed) {
  // A well-formed message to x at the next position, sealed under a key x does not hold.
  const NodeId x{2};
  const Header h{
      MessageKind::kRefresh, Audience::kDevice, x.value(), next(net_.device(x).position()), {}};
  const RefreshBody body{StepKind::kPlace, Cause::kJoin, NodeId{900}, *net_.device(x).set(),
                         fixture::counting_key(1)};
  expect_rejected(net_.device(x), seal_message(h, body, fixture::counting_key(2)),
                  RekeyError::kAuthFailed, "forged refresh");
  // The same message under x's node key is accepted, and contradicts nothing: this shows the
  // forgery was refused for its key alone.
  const KeyringState before = state_of(net_.device(x));
  EXPECT_TRUE(net_.device(x).apply(seal_message(h, body, net_.device(x).node_key())).ok());
  EXPECT_NE(state_of(net_.device(x)), before);
}

// Every member holds the set key, so a key bundle or a pairwise node key sealed under it could
// come from any member: a device accepts those two kinds only under its own node key.
TEST_F(KeyringRejections, BundleOrPairwiseNodeKeyUnderTheSetKeyIsRefused) {
  const NodeId x{2};
  Keyring& ring = net_.device(x);
  ASSERT_TRUE(ring.placed());
  const SetId set = *ring.set();
  const Key128* placed_set_key = ring.set_key();
  ASSERT_NE(placed_set_key, nullptr);
  const Key128 set_key = *placed_set_key;
  const Header bundle_header{
      MessageKind::kKeyBundle, Audience::kSet, set.value(), next(ring.position()), {}};
  const KeyBundleBody bundle{set, fixture::counting_key(3), {}, {}};
  expect_rejected(ring, seal_message(bundle_header, bundle, set_key), RekeyError::kUnknownKind,
                  "bundle under the set key");
  const Header pairwise_header{
      MessageKind::kPairwiseNodeKey, Audience::kSet, set.value(), ring.position(), {}};
  const PairwiseNodeKeyBody pairwise{NodeId{900}, fixture::counting_key(4)};
  expect_rejected(ring, seal_message(pairwise_header, pairwise, set_key), RekeyError::kUnknownKind,
                  "pairwise node key under the set key");
  // The same bundle under x's node key is a legitimate catch-up.
  Header to_device = bundle_header;
  to_device.audience = Audience::kDevice;
  to_device.target = x.value();
  EXPECT_TRUE(ring.apply(seal_message(to_device, bundle, ring.node_key())).ok());
}

// Authentic, well-formed messages that contradict the keyring: sealed under the device's own
// node key at the next position, so only the consistency checks can refuse them.
TEST_F(KeyringRejections, ContradictoryMessagesAreInconsistentAndChangeNothing) {
  const NodeId x{6};
  Keyring& ring = net_.device(x);
  const SetId own = *ring.set();
  const SetId other = ring.pairwise_set_keys().front().first;
  const NodeId peer = ring.pairwise_node_keys().front().first;
  const SetId unknown_set{0x00abcdef};
  const NodeId stranger{999};
  const Key128 r = fixture::counting_key(0x77);
  auto sealed = [&](const Body& body, Position at) {
    return seal_message(Header{kind_of(body), Audience::kDevice, x.value(), at, {}}, body,
                        ring.node_key());
  };
  const Position ahead = next(ring.position());
  const std::vector<std::pair<std::string, Body>> next_position = {
      {"refresh naming itself", RefreshBody{StepKind::kPlace, Cause::kJoin, x, own, r}},
      {"refresh of an unknown set",
       RefreshBody{StepKind::kPlace, Cause::kJoin, stranger, unknown_set, r}},
      {"removal of a stranger", RefreshBody{StepKind::kRemove, Cause::kLeave, stranger, own, r}},
      {"placement of a known peer", RefreshBody{StepKind::kPlace, Cause::kJoin, peer, own, r}},
      {"own set added", SetAddedBody{own, stranger, r}},
      {"known set added again", SetAddedBody{other, stranger, r}},
      {"own set removed", SetRemovedBody{own, Cause::kLeave, stranger}},
      {"unknown set removed", SetRemovedBody{unknown_set, Cause::kLeave, stranger}},
      {"bundle with a key with itself", KeyBundleBody{own, r, {{x, r}}, {}}},
      {"bundle with a key with its own set", KeyBundleBody{other, r, {}, {{other, r}}}},
  };
  for (const auto& [what, body] : next_position)
    expect_rejected(ring, sealed(body, ahead), RekeyError::kInconsistent, what);
  expect_rejected(ring, sealed(PairwiseNodeKeyBody{x, r}, ring.position()),
                  RekeyError::kInconsistent, "pairwise node key with itself");

  // A device not yet placed accepts nothing but a bundle.
  Keyring unplaced(NodeId{500}, fixture::counting_key(9));
  const Body refresh = RefreshBody{StepKind::kPlace, Cause::kJoin, stranger, own, r};
  expect_rejected(
      unplaced,
      seal_message(Header{MessageKind::kRefresh, Audience::kDevice, 500, Position{1}, {}}, refresh,
                   unplaced.node_key()),
      RekeyError::kInconsistent, "refresh before placement");
  EXPECT_TRUE(all_pairs_agree(net_));
}

// ---------------------------------------------------------------------------------------------
// Forward secrecy: a departed device

class KeyringDeparted : public ::testing::TestWithParam<Cause> {};

TEST_P(KeyringDeparted, ReadsNothingSentAfterItLeft) {
  Network net(2, 33);
  net.grow(1, 14, GatewayId{0});
  net.grow(101, 6, GatewayId{1});
  const NodeId x{6};
  Keyring departed = net.device(x);
  const KeyringState at_departure = state_of(departed);
  const SetId old_set = *departed.set();
  std::vector<Key128> held{departed.node_key(), *departed.set_key()};
  for (const auto& [peer, key] : departed.pairwise_node_keys())
    held.push_back(key);
  for (const auto& [set, key] : departed.pairwise_set_keys())
    held.push_back(key);
  ASSERT_EQ(held.size(), departed.key_count());

  std::vector<RekeyPlan> after;
  after.push_back(net.remove(x, GetParam()));
  for (std::uint32_t i = 0; i < 4; ++i)
    after.push_back(net.join(NodeId{200 + i}, GatewayId{0}));  // some land in x's old set
  after.push_back(net.remove(NodeId{7}));
  after.push_back(net.remove(NodeId{102}, Cause::kEvict));
  after.push_back(net.join(NodeId{300}, GatewayId{1}));
  ASSERT_TRUE(all_pairs_agree(net));

  std::size_t messages = 0;
  std::size_t to_old_set = 0;
  for (const RekeyPlan& plan : after) {
    for (const Envelope& e : plan.messages) {
      ++messages;
      if (e.header.audience == Audience::kSet && e.header.target == old_set.value()) ++to_old_set;
      EXPECT_FALSE(departed.apply(e.wire).ok()) << "position " << e.header.position.value();
      auto h = parse_header(e.wire);
      ASSERT_TRUE(h.ok());
      for (const Key128& k : held) {
        auto opened = open_body(*h, e.wire, k);
        ASSERT_FALSE(opened.ok()) << "opened a message at position " << h->position.value();
        EXPECT_EQ(opened.error(), RekeyError::kAuthFailed);
      }
    }
  }
  EXPECT_GT(messages, 50u);
  EXPECT_GT(to_old_set, 0u);  // the set lives on, with keys x never learns
  EXPECT_EQ(state_of(departed), at_departure);

  // And no key x held is still in use by anyone.
  std::set<std::string> in_use;
  for (const auto& [node, ring] : net.devices()) {
    in_use.insert(to_hex(ring.set_key()->view()));
    for (const auto& [peer, key] : ring.pairwise_node_keys())
      in_use.insert(to_hex(key.view()));
    for (const auto& [set, key] : ring.pairwise_set_keys())
      in_use.insert(to_hex(key.view()));
  }
  for (const Key128& k : held)
    EXPECT_FALSE(in_use.contains(to_hex(k.view())));
}

INSTANTIATE_TEST_SUITE_P(LeaveAndEviction, KeyringDeparted,
                         ::testing::Values(Cause::kLeave, Cause::kEvict),
                         [](const ::testing::TestParamInfo<Cause>& p) {
                           return std::string(p.param == Cause::kLeave ? "Leave" : "Evict");
                         });

// ---------------------------------------------------------------------------------------------
// Genesis provisioning and bundles on demand

std::vector<std::pair<NodeId, Key128>> enrollment(Network& net, std::uint32_t first,
                                                  std::size_t count) {
  std::vector<std::pair<NodeId, Key128>> nodes;
  for (std::size_t i = 0; i < count; ++i)
    nodes.emplace_back(NodeId{first + static_cast<std::uint32_t>(i)}, net.key_rng().key128());
  return nodes;
}

TEST(KeyringProvisioning, BundlesGiveEveryDeviceAnAgreeingKeyring) {
  for (std::uint16_t origin : {std::uint16_t{0}, std::uint16_t{1}}) {
    SCOPED_TRACE("origin " + std::to_string(origin));
    Network net(2, 40 + origin);
    const auto nodes = enrollment(net, 1, 30);
    ASSERT_TRUE(net.km().provision(GatewayId{origin}, nodes).ok());
    EXPECT_EQ(net.km().table().member_count(), 30u);
    for (const auto& [node, key] : nodes)
      net.load_bundle(node, key);
    EXPECT_TRUE(all_pairs_agree(net));
    // The provisioned network then runs like any other.
    net.join(NodeId{100}, GatewayId{0});
    net.join(NodeId{101}, GatewayId{1});
    net.remove(NodeId{4});
    net.remove(NodeId{100}, Cause::kEvict);
    EXPECT_TRUE(all_pairs_agree(net));
  }
}

TEST(KeyringProvisioning, ANonEmptyNetworkIsRefused) {
  Network net(1, 50);
  net.grow(1, 3);
  const auto nodes = enrollment(net, 10, 5);
  const Position position = net.km().position();
  auto r = net.km().provision(GatewayId{0}, nodes);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), TableError::kNotEmpty);
  EXPECT_EQ(net.km().table().member_count(), 3u);
  EXPECT_EQ(net.km().position(), position);
  EXPECT_TRUE(all_pairs_agree(net));
}

TEST(KeyringProvisioning, ProvisioningTwiceIsRefused) {
  Network net(1, 51);
  ASSERT_TRUE(net.km().provision(GatewayId{0}, enrollment(net, 1, 4)).ok());
  auto again = net.km().provision(GatewayId{0}, enrollment(net, 10, 4));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error(), TableError::kNotEmpty);
  EXPECT_EQ(net.km().table().member_count(), 4u);
}

TEST(KeyringProvisioning, UnknownGatewayOrNodeIsRefused) {
  Network net(2, 52);
  auto r = net.km().provision(GatewayId{2}, enrollment(net, 1, 4));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), TableError::kGatewayOutOfRange);
  EXPECT_EQ(net.km().table().member_count(), 0u);
  auto b = net.km().bundle_for(NodeId{1});
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error(), TableError::kNodeUnknown);
}

TEST(KeyManagerErrors, RefusedOperationsChangeNothing) {
  Network net(2, 60);
  net.grow(1, 10);
  const Position position = net.km().position();
  const auto before = snapshot(net);
  auto twice =
      net.km().join(NodeId{3}, GatewayId{1}, fixture::counting_key(1), fixture::counting_key(2));
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.error(), TableError::kNodeExists);
  auto bad_gateway =
      net.km().join(NodeId{50}, GatewayId{2}, fixture::counting_key(1), fixture::counting_key(2));
  ASSERT_FALSE(bad_gateway.ok());
  EXPECT_EQ(bad_gateway.error(), TableError::kGatewayOutOfRange);
  auto unknown = net.km().remove(NodeId{50}, Cause::kLeave, fixture::counting_key(3));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error(), TableError::kNodeUnknown);
  EXPECT_EQ(net.km().position(), position);
  EXPECT_EQ(snapshot(net), before);
  EXPECT_TRUE(all_pairs_agree(net));
  net.join(NodeId{50}, GatewayId{1});  // and the manager still works
  EXPECT_TRUE(all_pairs_agree(net));
}

}  // namespace
}  // namespace kmchain::keys

// ---------------------------------------------------------------------------------------------
// What a keyring waits for: the pairwise node key with a newcomer, and a final bundle after an
// early one (sync mode)

namespace kmchain::keys {
namespace {

TEST(KeyringOrder, APairwiseNodeKeyIsAwaitedBeforeAnyLaterPosition) {
  Network net(1, 21);
  for (std::uint32_t n = 1; n <= 4; ++n)
    net.join(NodeId{n});
  const NodeId member = member_of_next_joined_set(net);
  Keyring& ring = net.device(member);
  const RekeyPlan first = net.plan_join(NodeId{10});
  const RekeyPlan second = net.plan_join(NodeId{11});
  // The refresh of the first placement arrives, its pairwise node key does not (yet).
  const Envelope* refresh = first_for(first, member, MessageKind::kRefresh);
  const Envelope* pairwise = first_for(first, member, MessageKind::kPairwiseNodeKey);
  ASSERT_NE(refresh, nullptr);
  ASSERT_NE(pairwise, nullptr);
  ASSERT_TRUE(ring.apply(refresh->wire).ok());
  EXPECT_EQ(ring.awaited_peer(), NodeId{10});
  const Envelope* next = nullptr;
  for (const Envelope& e : second.messages) {
    for (NodeId r : e.recipients)
      if (r == member && next == nullptr) next = &e;
  }
  ASSERT_NE(next, nullptr);
  // Anything of the next position waits: a gap, nothing changes.
  expect_rejected(ring, next->wire, RekeyError::kGap, "a message past the awaited key");
  ASSERT_TRUE(ring.apply(pairwise->wire).ok());
  EXPECT_FALSE(ring.awaited_peer().has_value());
  EXPECT_TRUE(ring.apply(next->wire).ok());
}

TEST(KeyringOrder, AnEarlyBundleIsReplacedByTheFinalOneWhateverItsPosition) {
  Network net(1, 22);
  for (std::uint32_t n = 1; n <= 4; ++n)
    net.join(NodeId{n});
  const RekeyPlan plan = net.plan_join(NodeId{20});
  const Envelope* bundle = first_for(plan, NodeId{20}, MessageKind::kKeyBundle);
  ASSERT_NE(bundle, nullptr);
  const Key128 node_key = net.device(NodeId{20}).node_key();
  auto body = open_body(bundle->header, bundle->wire, node_key);
  ASSERT_TRUE(body.ok());
  // An early bundle at a later (guessed) position, then the final one at the real position.
  Header early = bundle->header;
  early.kind = MessageKind::kEarlyBundle;
  early.position = Position{bundle->header.position.value() + 5};
  early.nonce[0] ^= 1;
  const Bytes early_wire = seal_message(early, *body, node_key);
  Keyring ring(NodeId{20}, node_key);
  ASSERT_TRUE(ring.apply(early_wire).ok());
  EXPECT_TRUE(ring.provisional());
  // While provisional, only a bundle changes it.
  for (const Envelope& e : plan.messages) {
    if (e.header.kind == MessageKind::kRefresh) {
      EXPECT_FALSE(ring.apply(e.wire).ok());
      break;
    }
  }
  ASSERT_TRUE(ring.apply(bundle->wire).ok());
  EXPECT_FALSE(ring.provisional());
  EXPECT_EQ(ring.position(), bundle->header.position);
  // Final keys take no early bundle, not even a replay of the first.
  expect_rejected(ring, early_wire, RekeyError::kReplayed, "an early bundle after the final one");
}

TEST(KeyringOrder, AnEarlyBundleComesUnderTheNodeKeyOnly) {
  Network net(1, 23);
  for (std::uint32_t n = 1; n <= 2; ++n)
    net.join(NodeId{n});
  Keyring& ring = net.device(NodeId{1});
  Header h{MessageKind::kEarlyBundle, Audience::kSet, ring.set()->value(), Position{99}, {}};
  KeyBundleBody b{*ring.set(), *ring.set_key(), {}, {}};
  expect_rejected(ring, seal_message(h, b, *ring.set_key()), RekeyError::kUnknownKind,
                  "an early bundle under a set key");
}

}  // namespace
}  // namespace kmchain::keys
