// Custody views of the key manager (keys/key_manager.h, docs/protocol.md section 4): one view per
// gateway, each holding only its own keys, together do exactly what the composition does.
// Over random joins (through random gateways, some of departed devices), leaves, evictions and
// moves (a member re-attached to another gateway with a fresh node key) with P in 1..5, all
// managers deriving their keys (DerivedKeySource):
//   (a) the views' envelopes, opened, equal the composition's as a multiset;
//   (b) keyrings fed only the views' envelopes hold the composition's key values;
//   (c) a view holds no key of a set it does not own, of a pair of sets it owns neither of, or
//       of a device homed elsewhere, in its store and in its custody record, and its record
//       equals the composition's record of the same gateway;
//   (d) a view rebuilt from the same master and pair secrets by replaying the operations holds
//       the same keys (a restarted gateway).
// Plus unit tests of the custody record, the node-key rules of join and the refusals of a view.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/bytes.h"
#include "base/ids.h"
#include "crypto/random.h"
#include "crypto/secret.h"
#include "keys/custody_record.h"
#include "keys/key_id.h"
#include "keys/key_manager.h"
#include "keys/key_source.h"
#include "keys/keyring.h"
#include "keys/rekey_message.h"
#include "network_fixture.h"

namespace kmchain::keys {
namespace {

GatewayId gw(std::size_t g) {
  return GatewayId{static_cast<std::uint16_t>(g)};
}

// The secrets of a consortium of p gateways: a master per gateway and a pair secret per pair.
struct ConsortiumSecrets {
  std::vector<Secret256> masters;
  std::map<std::pair<std::size_t, std::size_t>, Secret256> pair_secrets;  // (a, b) with a < b

  ConsortiumSecrets(std::size_t p, std::uint64_t seed) {
    crypto::DeterministicRng rng(seed);
    for (std::size_t g = 0; g < p; ++g)
      masters.push_back(rng.secret<32>());
    for (std::size_t a = 0; a < p; ++a) {
      for (std::size_t b = a + 1; b < p; ++b)
        pair_secrets.emplace(std::make_pair(a, b), rng.secret<32>());
    }
  }

  std::unique_ptr<DerivedKeySource> source(std::size_t g) const {
    DerivedKeySource::PairSecrets pairs;
    for (const auto& [ab, secret] : pair_secrets) {
      if (ab.first == g) pairs.emplace(gw(ab.second), secret);
      if (ab.second == g) pairs.emplace(gw(ab.first), secret);
    }
    return std::make_unique<DerivedKeySource>(gw(g), masters.at(g), std::move(pairs));
  }
};

// A custody view with the source and nonce stream it borrows.
struct View {
  std::unique_ptr<DerivedKeySource> source;
  std::unique_ptr<crypto::DeterministicRng> nonces;
  std::unique_ptr<KeyManager> km;

  View(const ConsortiumSecrets& secrets, std::size_t p, std::size_t g, std::uint64_t nonce_seed)
      : source(secrets.source(g)), nonces(std::make_unique<crypto::DeterministicRng>(nonce_seed)) {
    km = std::make_unique<KeyManager>(KeyManager::custody_view(p, gw(g), *source, *nonces));
  }
};

// The composition of all p gateways, each deriving its keys.
struct Composition {
  std::vector<std::unique_ptr<DerivedKeySource>> sources;
  std::unique_ptr<PerGatewayKeySource> source;
  std::unique_ptr<crypto::DeterministicRng> nonces;
  std::unique_ptr<KeyManager> km;

  Composition(const ConsortiumSecrets& secrets, std::size_t p, std::uint64_t nonce_seed)
      : nonces(std::make_unique<crypto::DeterministicRng>(nonce_seed)) {
    std::map<GatewayId, KeySource*> by_gateway;
    for (std::size_t g = 0; g < p; ++g) {
      sources.push_back(secrets.source(g));
      by_gateway.emplace(gw(g), sources.back().get());
    }
    source = std::make_unique<PerGatewayKeySource>(std::move(by_gateway));
    km = std::make_unique<KeyManager>(p, *source, *nonces);
  }
};

// One committed membership change, as every gateway executes it.
struct Change {
  bool join = true;
  bool move = false;
  NodeId node;
  GatewayId origin;  // join: the gateway joined through; move: the gateway moved to
  Key128 node_key;   // join, move: known to the origin only
  Cause cause = Cause::kLeave;
  Key128 refresh_key;
};

Result<RekeyPlan, TableError> execute(KeyManager& km, const Change& c) {
  const bool home = km.holds(c.origin);
  if (c.move)
    return km.move(c.node, c.origin, home ? std::optional<Key128>(c.node_key) : std::nullopt,
                   c.refresh_key);
  if (!c.join) return km.remove(c.node, c.cause, c.refresh_key);
  return km.join(c.node, c.origin, home ? std::optional<Key128>(c.node_key) : std::nullopt,
                 c.refresh_key);
}

// An envelope without its nonce (random per sender) and with its body opened: the sender, the
// header's other fields, the recipients, then the body sealed under a fixed key and nonce (a
// canonical encoding of it), as a byte string.
std::string canonical(const Envelope& e, const Body& body) {
  Bytes out;
  out.push_back(static_cast<std::uint8_t>(e.sender.value() >> 8));
  out.push_back(static_cast<std::uint8_t>(e.sender.value()));
  for (NodeId r : e.recipients) {
    for (int shift = 24; shift >= 0; shift -= 8)
      out.push_back(static_cast<std::uint8_t>(r.value() >> shift));
  }
  out.push_back(0xff);  // recipients end; node ids are 4 bytes each
  Header h = e.header;
  h.nonce = {};
  const Bytes sealed = seal_message(h, body, Key128{});
  out.insert(out.end(), sealed.begin(), sealed.end());
  return std::string(out.begin(), out.end());
}

// The keyrings of the current devices, fed one side's envelopes in delivery order. Each
// envelope is first opened with the KEK its first recipient holds, so it can be compared by
// content.
class Fleet {
 public:
  void enroll(NodeId node, const Key128& node_key) {
    rings_.insert_or_assign(node, Keyring(node, node_key));
  }
  void drop(NodeId node) { rings_.erase(node); }
  const std::map<NodeId, Keyring>& rings() const { return rings_; }

  std::vector<std::string> deliver(const std::vector<Envelope>& envelopes) {
    std::vector<std::string> out;
    for (const Envelope& e : envelopes) {
      RC_ASSERT(!e.recipients.empty());
      auto first = rings_.find(e.recipients.front());
      RC_ASSERT(first != rings_.end());
      const Key128* kek = e.header.audience == Audience::kDevice ? &first->second.node_key()
                                                                 : first->second.set_key();
      RC_ASSERT(kek != nullptr);
      auto body = open_body(e.header, e.wire, *kek);
      RC_ASSERT(body.ok());
      out.push_back(canonical(e, *body));
      for (NodeId r : e.recipients) {
        auto it = rings_.find(r);
        RC_ASSERT(it != rings_.end());
        const auto applied = it->second.apply(e.wire);
        if (!applied.ok()) {
          RC_FAIL("node " + std::to_string(r.value()) + " rejected a " + to_string(e.header.kind) +
                  " message: " + to_string(applied.error()));
        }
      }
    }
    return out;
  }

 private:
  std::map<NodeId, Keyring> rings_;
};

bool same(const std::optional<Key128>& a, const std::optional<Key128>& b) {
  return a.has_value() && b.has_value() && *a == *b;
}

// (b): every device of `fleet` holds exactly the keys the composition gives it, with its values.
void check_keyrings(const Fleet& fleet, const KeyManager& comp) {
  const SetTable& t = comp.table();
  RC_ASSERT(fleet.rings().size() == t.member_count());
  for (const auto& [node, member] : t.members()) {
    const Keyring& ring = fleet.rings().at(node);
    RC_ASSERT(ring.position() == comp.position());
    RC_ASSERT(ring.set() == std::optional<SetId>(member.set));
    RC_ASSERT(same(ring.node_key(), comp.current_key(KeyId::node_key(node))));
    const Key128* set_key = ring.set_key();
    const auto designed_set_key = comp.current_key(KeyId::set_key(member.set));
    // RC_ASSERT captures its operands, so && would not short-circuit inside it.
    const bool set_key_agrees =
        set_key != nullptr && designed_set_key.has_value() && *set_key == *designed_set_key;
    RC_ASSERT(set_key_agrees);
    const SetRecord& rec = *t.find_set(member.set);
    RC_ASSERT(ring.pairwise_node_keys().size() == rec.members.size() - 1);
    for (const auto& [peer, key] : ring.pairwise_node_keys()) {
      RC_ASSERT(same(key, comp.current_key(KeyId::pairwise_node_key(node, peer))));
    }
    RC_ASSERT(ring.pairwise_set_keys().size() == t.set_count() - 1);
    for (const auto& [other, key] : ring.pairwise_set_keys()) {
      RC_ASSERT(same(key, comp.current_key(KeyId::pairwise_set_key(member.set, other))));
    }
  }
}

// What the ground truth says a gateway may ever have held, gathered from the composition's steps.
struct Entitlement {
  std::map<SetId, GatewayId> set_owner;              // every set that ever existed
  std::map<GatewayId, std::set<NodeId>> homed_ever;  // devices ever placed into g's sets

  void learn(const RekeyPlan& plan) {
    for (const Step& s : plan.steps) {
      set_owner.insert_or_assign(s.set, s.owner);
      if (s.kind == StepKind::kPlace) homed_ever[s.owner].insert(s.node);
    }
  }
  bool owns(GatewayId g, std::uint32_t set) const {
    auto it = set_owner.find(SetId{set});
    return it != set_owner.end() && it->second == g;
  }
};

// (c): the view of g holds only what g may hold, and holds what the composition's store of g
// holds, with the same values and the same custody record.
void check_custody(const KeyManager& view, const KeyManager& comp, const Entitlement& truth) {
  const GatewayId g = *view.self();
  for (std::size_t h = 0; h < comp.gateway_count(); ++h)
    RC_ASSERT(view.holds(gw(h)) == (gw(h) == g));
  const GatewayKeys& store = view.gateway(g);
  const SetTable& t = comp.table();
  std::size_t homed = 0;
  std::size_t owned = 0;
  std::size_t pairs = 0;
  for (const auto& [node, member] : t.members()) {
    const bool home = t.find_set(member.set)->owner == g;
    RC_ASSERT((store.node_key(node) != nullptr) == home);
    homed += home ? 1 : 0;
  }
  for (auto x = t.sets().begin(); x != t.sets().end(); ++x) {
    const bool own = x->second.owner == g;
    RC_ASSERT((store.owned_set(x->first) != nullptr) == own);
    owned += own ? 1 : 0;
    for (auto y = std::next(x); y != t.sets().end(); ++y) {
      const bool involved = own || y->second.owner == g;
      RC_ASSERT((store.pairwise_set_key(x->first, y->first) != nullptr) == involved);
      pairs += involved ? 1 : 0;
    }
  }
  RC_ASSERT(store.node_key_count() == homed);
  RC_ASSERT(store.owned_set_count() == owned);
  RC_ASSERT(store.pairwise_set_key_count() == pairs);

  const CustodyRecord& record = store.custody();
  RC_ASSERT(record.held_count() == homed + owned + pairs);
  std::set<KeyId> open;
  for (const CustodySpan& span : record.spans()) {
    const KeyId& k = span.key;
    switch (k.key_class) {
      case KeyClass::kNodeKey: {
        auto it = truth.homed_ever.find(g);
        const bool homed_here = it != truth.homed_ever.end() && it->second.contains(NodeId{k.a});
        RC_ASSERT(homed_here);
        break;
      }
      case KeyClass::kSetKey:
        RC_ASSERT(truth.owns(g, k.a));
        break;
      case KeyClass::kPairwiseSetKey:
        RC_ASSERT(truth.owns(g, k.a) || truth.owns(g, k.b));
        break;
      case KeyClass::kPairwiseNodeKey:
        RC_FAIL("pairwise node keys are covered by their set's entry");
    }
    RC_ASSERT(span.held_from <= view.position());
    if (span.dropped_at) {
      RC_ASSERT(span.held_from <= *span.dropped_at);
      RC_ASSERT(*span.dropped_at <= view.position());
    } else {
      RC_ASSERT(open.insert(k).second);
      // Held now: the view gives it the composition's value.
      RC_ASSERT(same(view.current_key(k), comp.current_key(k)));
    }
  }
  RC_ASSERT(record == comp.gateway(g).custody());
}

enum class OpKind : std::uint8_t { kJoin, kRejoin, kLeave, kEvict, kMove };

struct Op {
  OpKind kind;
  std::uint32_t pick;
  std::uint8_t gateway;
};

RC_GTEST_PROP(CustodyViews, TogetherDoWhatTheCompositionDoes, ()) {
  const auto p = *rc::gen::inRange<std::size_t>(1, 6);
  const auto seed = *rc::gen::arbitrary<std::uint64_t>();
  const auto ops = *rc::gen::container<std::vector<Op>>(rc::gen::construct<Op>(
      rc::gen::weightedElement<OpKind>({{5, OpKind::kJoin},
                                        {1, OpKind::kRejoin},
                                        {2, OpKind::kLeave},
                                        {1, OpKind::kEvict},
                                        {2, OpKind::kMove}}),
      rc::gen::arbitrary<std::uint32_t>(), rc::gen::inRange<std::uint8_t>(0, 5)));

  const ConsortiumSecrets secrets(p, seed);
  Composition comp(secrets, p, seed + 1);
  std::vector<View> views;
  for (std::size_t g = 0; g < p; ++g)
    views.emplace_back(secrets, p, g, seed + 2 + g);
  crypto::DeterministicRng device_rng(seed ^ 0x6465766963657300ULL);
  Fleet comp_fleet;
  Fleet view_fleet;
  Entitlement truth;
  std::vector<Change> log;
  std::vector<NodeId> live;
  std::vector<NodeId> departed;
  std::uint32_t next_node = 0;

  for (const Op& op : ops) {
    Change c;
    const bool removal = (op.kind == OpKind::kLeave || op.kind == OpKind::kEvict) && !live.empty();
    const bool move = op.kind == OpKind::kMove && !live.empty() && p > 1;
    if (move) {
      // To another gateway than its home, with the node key of its attachment there; the
      // device starts a fresh keyring under it and waits for its bundle.
      c.join = false;
      c.move = true;
      c.node = live[op.pick % live.size()];
      const SetTable& t = comp.km->table();
      const GatewayId home = t.find_set(t.find_member(c.node)->set)->owner;
      c.origin = gw(op.gateway % p);
      if (c.origin == home) c.origin = gw((home.value() + 1) % p);
      c.node_key = device_rng.key128();
      comp_fleet.enroll(c.node, c.node_key);
      view_fleet.enroll(c.node, c.node_key);
    } else if (removal) {
      const std::size_t i = op.pick % live.size();
      c.join = false;
      c.node = live[i];
      c.cause = op.kind == OpKind::kLeave ? Cause::kLeave : Cause::kEvict;
      live.erase(live.begin() + static_cast<std::ptrdiff_t>(i));
      departed.push_back(c.node);
      comp_fleet.drop(c.node);
      view_fleet.drop(c.node);
    } else {
      if (op.kind == OpKind::kRejoin && !departed.empty()) {
        const std::size_t i = op.pick % departed.size();
        c.node = departed[i];
        departed.erase(departed.begin() + static_cast<std::ptrdiff_t>(i));
      } else {
        c.node = NodeId{++next_node};
      }
      c.origin = gw(op.gateway % p);
      c.node_key = device_rng.key128();
      live.push_back(c.node);
      comp_fleet.enroll(c.node, c.node_key);
      view_fleet.enroll(c.node, c.node_key);
    }
    c.refresh_key = device_rng.key128();
    log.push_back(c);

    auto comp_plan = execute(*comp.km, c);
    RC_ASSERT(comp_plan.ok());
    truth.learn(*comp_plan);
    std::vector<std::string> expected = comp_fleet.deliver(comp_plan->messages);
    std::vector<std::string> produced;
    for (View& v : views) {
      auto plan = execute(*v.km, c);
      RC_ASSERT(plan.ok());
      RC_ASSERT(plan->steps.size() == comp_plan->steps.size());
      for (const Envelope& e : plan->messages)
        RC_ASSERT(e.sender == *v.km->self());  // a view speaks only for itself
      for (std::string& b : view_fleet.deliver(plan->messages))
        produced.push_back(std::move(b));
      Bytes view_table;
      Bytes comp_table;
      v.km->table().encode(view_table);
      comp.km->table().encode(comp_table);
      RC_ASSERT(view_table == comp_table);
      RC_ASSERT(v.km->position() == comp.km->position());
    }
    // (a)
    std::sort(expected.begin(), expected.end());
    std::sort(produced.begin(), produced.end());
    RC_ASSERT(produced == expected);
    // (b)
    check_keyrings(view_fleet, *comp.km);
    check_keyrings(comp_fleet, *comp.km);
    // (c)
    for (const View& v : views)
      check_custody(*v.km, *comp.km, truth);
  }

  // (d): each gateway restarts, rebuilds its keys by replaying the committed changes, and
  // holds what it held.
  for (std::size_t g = 0; g < p; ++g) {
    View rebuilt(secrets, p, g, seed + 100 + g);
    for (const Change& c : log)
      RC_ASSERT(execute(*rebuilt.km, c).ok());
    const GatewayKeys& before = views[g].km->gateway(gw(g));
    const GatewayKeys& after = rebuilt.km->gateway(gw(g));
    RC_ASSERT(after.custody() == before.custody());
    RC_ASSERT(after.node_key_count() == before.node_key_count());
    RC_ASSERT(after.owned_set_count() == before.owned_set_count());
    RC_ASSERT(after.pairwise_set_key_count() == before.pairwise_set_key_count());
    for (const CustodySpan& span : before.custody().spans()) {
      if (span.dropped_at) continue;
      RC_ASSERT(same(rebuilt.km->current_key(span.key), views[g].km->current_key(span.key)));
      if (span.key.key_class == KeyClass::kSetKey) {
        const SetId set{span.key.a};
        const GatewayKeys::OwnedSet* a = after.owned_set(set);
        const GatewayKeys::OwnedSet* b = before.owned_set(set);
        const bool same_seed = a != nullptr && b != nullptr && a->pairwise_seed == b->pairwise_seed;
        RC_ASSERT(same_seed);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Custody record

TEST(CustodyRecord, RecordsEachHoldingWithItsPositions) {
  CustodyRecord r;
  const KeyId nk = KeyId::node_key(NodeId{7});
  const KeyId sk = KeyId::set_key(SetId{1});
  r.hold(nk, Position{3});
  r.hold(sk, Position{3});
  r.hold(nk, Position{4});  // replaced in place: still the same holding
  EXPECT_EQ(r.spans().size(), 2u);
  EXPECT_EQ(r.held_count(), 2u);
  r.drop(nk, Position{6});
  r.drop(nk, Position{7});  // not held: nothing to close
  EXPECT_FALSE(r.holds(nk));
  EXPECT_TRUE(r.holds(sk));
  r.hold(nk, Position{9});  // a device that left joins again: a second holding
  ASSERT_EQ(r.spans().size(), 3u);
  EXPECT_EQ(r.spans()[0], (CustodySpan{nk, Position{3}, Position{6}}));
  EXPECT_EQ(r.spans()[1], (CustodySpan{sk, Position{3}, std::nullopt}));
  EXPECT_EQ(r.spans()[2], (CustodySpan{nk, Position{9}, std::nullopt}));
  EXPECT_EQ(r.held_at(Position{2}), std::vector<KeyId>{});
  EXPECT_EQ(r.held_at(Position{5}), (std::vector<KeyId>{nk, sk}));
  EXPECT_EQ(r.held_at(Position{6}), std::vector<KeyId>{sk});  // dropped at that step
  EXPECT_EQ(r.held_at(Position{9}), (std::vector<KeyId>{nk, sk}));
}

// ---------------------------------------------------------------------------------------------
// Views: node keys, refusals, provisioning

class CustodyViewUnits : public ::testing::Test {
 protected:
  static constexpr std::size_t kGateways = 3;
  CustodyViewUnits() : secrets_(kGateways, 11) {
    for (std::size_t g = 0; g < kGateways; ++g)
      views_.emplace_back(secrets_, kGateways, g, 20 + g);
  }
  KeyManager& view(std::size_t g) { return *views_.at(g).km; }

  // Joins `node` through `origin` at every view; only the origin gets the node key.
  void join_all(NodeId node, std::size_t origin) {
    for (std::size_t g = 0; g < kGateways; ++g) {
      auto r =
          view(g).join(node, gw(origin),
                       g == origin ? std::optional<Key128>(fixture::counting_key(1)) : std::nullopt,
                       fixture::counting_key(2));
      ASSERT_TRUE(r.ok()) << to_string(r.error());
    }
  }

  ConsortiumSecrets secrets_;
  std::vector<View> views_;
};

TEST_F(CustodyViewUnits, JoinTakesTheNodeKeyExactlyAtTheHome) {
  auto missing = view(0).join(NodeId{1}, gw(0), std::nullopt, fixture::counting_key(2));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error(), TableError::kNodeKeyMissing);
  auto not_home =
      view(1).join(NodeId{1}, gw(0), fixture::counting_key(1), fixture::counting_key(2));
  ASSERT_FALSE(not_home.ok());
  EXPECT_EQ(not_home.error(), TableError::kNodeKeyNotHome);
  for (std::size_t g = 0; g < kGateways; ++g) {
    EXPECT_EQ(view(g).table().member_count(), 0u) << "a refused join changed view " << g;
    EXPECT_EQ(view(g).position(), Position{0});
  }
  join_all(NodeId{1}, 0);
  EXPECT_TRUE(view(0).current_key(KeyId::node_key(NodeId{1})) == fixture::counting_key(1));
  EXPECT_FALSE(view(1).current_key(KeyId::node_key(NodeId{1})).has_value());
  EXPECT_EQ(view(1).gateway(gw(1)).node_key_count(), 0u);
}

TEST_F(CustodyViewUnits, CompositionStillNeedsEveryNodeKey) {
  crypto::DeterministicRng rng(3);
  KeyManager km(kGateways, rng);
  auto r = km.join(NodeId{1}, gw(2), std::nullopt, fixture::counting_key(2));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), TableError::kNodeKeyMissing);
  EXPECT_EQ(km.table().member_count(), 0u);
  EXPECT_FALSE(km.self().has_value());
  for (std::size_t g = 0; g < kGateways; ++g)
    EXPECT_TRUE(km.holds(gw(g)));
}

TEST_F(CustodyViewUnits, AViewHoldsOnlyItsOwnStore) {
  EXPECT_EQ(view(1).self(), std::optional<GatewayId>(gw(1)));
  EXPECT_TRUE(view(1).holds(gw(1)));
  EXPECT_FALSE(view(1).holds(gw(0)));
  EXPECT_FALSE(view(1).holds(gw(2)));
  EXPECT_DEATH((void)view(1).gateway(gw(0)), "invariant broken");
}

TEST_F(CustodyViewUnits, BundlesOnlyForItsOwnDevices) {
  join_all(NodeId{1}, 0);
  join_all(NodeId{2}, 1);
  auto own = view(0).bundle_for(NodeId{1});
  ASSERT_TRUE(own.ok());
  EXPECT_EQ(own->sender, gw(0));
  auto foreign = view(0).bundle_for(NodeId{2});
  ASSERT_FALSE(foreign.ok());
  EXPECT_EQ(foreign.error(), TableError::kNotInCustody);
}

TEST_F(CustodyViewUnits, RecordsWhenKeysWereHeldAndDropped) {
  join_all(NodeId{1}, 0);  // position 1: opens 0's first set
  join_all(NodeId{2}, 1);  // position 2: opens 1's first set; pair key known to 0 and 1
  join_all(NodeId{3}, 2);  // position 3: opens 2's first set
  const SetId s0 = view(0).table().find_member(NodeId{1})->set;
  const SetId s1 = view(0).table().find_member(NodeId{2})->set;
  const SetId s2 = view(0).table().find_member(NodeId{3})->set;
  const CustodyRecord& r0 = view(0).gateway(gw(0)).custody();
  EXPECT_EQ(r0.spans(), (std::vector<CustodySpan>{
                            {KeyId::node_key(NodeId{1}), Position{1}, std::nullopt},
                            {KeyId::set_key(s0), Position{1}, std::nullopt},
                            {KeyId::pairwise_set_key(s1, s0), Position{2}, std::nullopt},
                            {KeyId::pairwise_set_key(s2, s0), Position{3}, std::nullopt},
                        }));
  // Gateway 1 never held a key of the pair of 0's and 2's sets.
  for (const CustodySpan& span : view(1).gateway(gw(1)).custody().spans())
    EXPECT_FALSE(span.key == KeyId::pairwise_set_key(s0, s2));
  EXPECT_FALSE(view(1).current_key(KeyId::pairwise_set_key(s0, s2)).has_value());
  // The last member of 0's set leaves at position 4: the set closes everywhere.
  for (std::size_t g = 0; g < kGateways; ++g)
    ASSERT_TRUE(view(g).remove(NodeId{1}, Cause::kLeave, fixture::counting_key(3)).ok());
  EXPECT_EQ(r0.held_count(), 0u);
  for (const CustodySpan& span : r0.spans())
    EXPECT_EQ(span.dropped_at, std::optional<Position>(Position{4}));
  // Gateway 1 dropped its key with the closed set at the same step.
  const CustodyRecord& r1 = view(1).gateway(gw(1)).custody();
  EXPECT_EQ(r1.held_at(Position{4}),
            (std::vector<KeyId>{KeyId::node_key(NodeId{2}), KeyId::set_key(s1),
                                KeyId::pairwise_set_key(s1, s2)}));
}

TEST_F(CustodyViewUnits, ProvisioningHoldsKeysAtTheOriginOnly) {
  const std::vector<std::pair<NodeId, Key128>> keyed = {{NodeId{1}, fixture::counting_key(1)},
                                                        {NodeId{2}, fixture::counting_key(2)},
                                                        {NodeId{3}, fixture::counting_key(3)},
                                                        {NodeId{4}, fixture::counting_key(4)},
                                                        {NodeId{5}, fixture::counting_key(5)}};
  const std::vector<NodeId> ids = {NodeId{1}, NodeId{2}, NodeId{3}, NodeId{4}, NodeId{5}};
  auto wrong_home = view(1).provision(gw(0), keyed);
  ASSERT_FALSE(wrong_home.ok());
  EXPECT_EQ(wrong_home.error(), TableError::kNodeKeyNotHome);
  auto wrong_ids = view(0).provision(gw(0), ids);
  ASSERT_FALSE(wrong_ids.ok());
  EXPECT_EQ(wrong_ids.error(), TableError::kNodeKeyMissing);

  ASSERT_TRUE(view(0).provision(gw(0), keyed).ok());
  ASSERT_TRUE(view(1).provision(gw(0), ids).ok());
  ASSERT_TRUE(view(2).provision(gw(0), ids).ok());
  crypto::DeterministicRng rng(4);
  KeyManager comp(kGateways, rng);
  ASSERT_TRUE(comp.provision(gw(0), keyed).ok());
  EXPECT_EQ(view(0).gateway(gw(0)).node_key_count(), 5u);
  EXPECT_EQ(view(0).gateway(gw(0)).custody().spans(), comp.gateway(gw(0)).custody().spans());
  for (std::size_t g = 1; g < kGateways; ++g) {
    EXPECT_EQ(view(g).gateway(gw(g)).custody().spans().size(), 0u) << "gateway " << g;
    EXPECT_EQ(view(g).position(), view(0).position());
  }
  // Every device loads its bundle from its home and agrees with its set mates.
  std::map<NodeId, Keyring> rings;
  for (const auto& [node, key] : keyed) {
    rings.emplace(node, Keyring(node, key));
    auto bundle = view(0).bundle_for(node);
    ASSERT_TRUE(bundle.ok());
    ASSERT_TRUE(rings.at(node).apply(bundle->wire).ok());
  }
  for (const auto& [a, ra] : rings) {
    for (const auto& [b, rb] : rings) {
      if (a >= b) continue;
      const auto ka = ra.dek(b, *rb.set());
      const auto kb = rb.dek(a, *ra.set());
      ASSERT_TRUE(ka && kb);
      EXPECT_TRUE(*ka == *kb);
    }
  }
}

}  // namespace
}  // namespace kmchain::keys
