// The gateway node with real device agents, in one process (sim/system_cluster.h), driven step
// by step: joins in commit and sync mode, refused and repeated hellos, leaves, and what crashes
// and restarts must not lose (an acknowledged join, a pending eviction). The system checker
// watches every run; each test ends with its final checks.
#include "gateway/gateway_node.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "enroll/device_request.h"
#include "enroll/join_refusal.h"
#include "enroll/key_schedule.h"
#include "sim/system_cluster.h"

namespace kmchain::gateway {
namespace {

using sim::SystemCluster;
using sim::SystemClusterConfig;

SystemClusterConfig quiet(std::size_t gateways,
                          ledger::SubmissionMode mode = ledger::SubmissionMode::kCommit) {
  SystemClusterConfig c;
  c.gateways = gateways;
  c.seed = 11;
  c.mode = mode;
  c.agent.keys_wait_ms = 500;
  c.agent.check_interval_ms = 1'000;
  c.agent.catch_up_after_ms = 200;
  c.agent.join_retry_ms = 500;
  c.agent.grace_ms = 1'000;
  return c;
}

// A device holds final keys at the reference chain's position.
bool keyed(const SystemCluster& cluster, std::size_t d) {
  const auto& dev = cluster.device(d);
  const keys::Keyring* ring = dev.agent ? dev.agent->keyring() : nullptr;
  return ring != nullptr && ring->placed() && !ring->provisional() &&
         ring->position() == cluster.checker().reference_state().position();
}

// Starts the cluster and one device at gateway `home`; runs until it holds final keys.
std::size_t keyed_device(SystemCluster& cluster, std::size_t home) {
  cluster.start();
  cluster.run_until(1'000);
  const std::size_t d = cluster.add_device(home);
  cluster.start_device(d);
  cluster.run_until([&] { return keyed(cluster, d); }, cluster.now_ms() + 20'000);
  return d;
}

bool all_keyed(const SystemCluster& cluster, const std::vector<std::size_t>& devices) {
  for (std::size_t d : devices)
    if (!keyed(cluster, d)) return false;
  return true;
}

// The final checks once everything settled, and no violation at any point.
void expect_clean(SystemCluster& cluster) {
  cluster.run_until(cluster.now_ms() + 3'000);
  cluster.checker().final_checks(cluster, cluster.now_ms());
  for (const auto& v : cluster.checker().violations())
    ADD_FAILURE() << v.invariant << " at " << v.at_ms << " ms: " << v.detail;
}

bool is_storage(const Action& a) {
  return std::holds_alternative<PutCredential>(a) || std::holds_alternative<PutDevice>(a) ||
         std::holds_alternative<EraseDevice>(a) || std::holds_alternative<PutPending>(a) ||
         std::holds_alternative<consensus::BroadcastAll>(a);
}

// Gateways 1..3 of 4 down, a device joins at gateway 0: accepted, and its join cannot become
// final until they are back.
std::size_t accepted_while_peers_are_down(SystemCluster& cluster) {
  cluster.start();
  cluster.run_until(1'000);
  for (std::size_t g = 1; g < 4; ++g)
    cluster.crash_gateway(g);
  const std::size_t d = cluster.add_device(0);
  cluster.start_device(d);
  cluster.run_until([&] { return cluster.device(d).agent->joined(); }, cluster.now_ms() + 5'000);
  return d;
}

// The hello a fresh agent with `credential` sends.
Bytes hello_of(const SystemCluster& cluster, const enroll::DeviceCredential& credential,
               crypto::Rng& rng, device::MemoryCounterStore& counters,
               device::MemoryStateSink& state) {
  device::AgentConfig c;
  const auto id = cluster.genesis().chain_id();
  std::copy(id.begin(), id.end(), c.chain_id.begin());
  c.gateway = Endpoint{"gateway", 5000};
  c.listen_port = 9000;
  device::DeviceAgent agent(c, credential, enroll::draw_secret_code(rng), rng, counters, state, {});
  std::vector<device::Post> posts;
  agent.start(0, posts);
  return posts.at(0).body;
}

TEST(GatewayNode, CommitModeDeliversKeysOnlyOnceTheJoinIsFinal) {
  SystemCluster cluster(quiet(2));
  cluster.start();
  cluster.run_until(1'000);
  const std::size_t a = cluster.add_device(0);
  cluster.start_device(a);
  ASSERT_TRUE(cluster.run_until([&] { return cluster.device(a).agent->joined(); }, 5'000));
  EXPECT_FALSE(cluster.device(a).agent->placed());  // accepted, not final yet
  ASSERT_TRUE(cluster.run_until([&] { return keyed(cluster, a); }, 10'000));
  const std::size_t b = cluster.add_device(1);
  const std::size_t c = cluster.add_device(0);
  cluster.start_device(b);
  cluster.start_device(c);
  ASSERT_TRUE(cluster.run_until([&] { return all_keyed(cluster, {a, b, c}); }, 20'000));
  EXPECT_EQ(cluster.gateway(0).node->device_stats().joins_committed, 2u);
  EXPECT_EQ(cluster.gateway(1).node->device_stats().joins_committed, 1u);
  EXPECT_EQ(cluster.gateway(0).node->pending().size(), 0u);
  expect_clean(cluster);
}

TEST(GatewayNode, SyncModeEarlyBundleIsProvisionalUntilTheFinalOneReplacesIt) {
  SystemCluster cluster(quiet(2, ledger::SubmissionMode::kSync));
  cluster.start();
  cluster.run_until(1'000);
  const std::size_t a = cluster.add_device(0);
  const std::size_t b = cluster.add_device(1);
  cluster.start_device(a);
  cluster.start_device(b);
  ASSERT_TRUE(cluster.run_until([&] { return cluster.device(a).agent->placed(); }, 5'000));
  // Keys before the commit: the early bundle, provisional.
  const keys::Keyring* early = cluster.device(a).agent->keyring();
  ASSERT_NE(early, nullptr);
  EXPECT_TRUE(early->provisional());
  EXPECT_FALSE(cluster.checker().reference_state().node_id_used(*cluster.device(a).agent->node()));
  ASSERT_TRUE(cluster.run_until([&] { return all_keyed(cluster, {a, b}); }, 20'000));
  ASSERT_TRUE(cluster.send_record(a, b, true));
  ASSERT_TRUE(cluster.send_record(b, a, true));
  cluster.run_until(cluster.now_ms() + 500);
  for (const auto& r : cluster.records())
    EXPECT_EQ(r.opened, true) << r.refused;
  expect_clean(cluster);
}

TEST(GatewayNode, RefusedHellosStoreNothingAndSubmitNothing) {
  SystemCluster cluster(quiet(1));
  cluster.start();
  crypto::DeterministicRng rng(5);
  device::MemoryCounterStore counters;
  device::MemoryStateSink state;
  const auto stranger = enroll::DeviceCredential::generate(rng);
  const Bytes hello = hello_of(cluster, stranger, rng, counters, state);
  GatewayNode& node = *cluster.gateway(0).node;
  std::vector<Action> out;
  EXPECT_EQ(node.on_join({"device", 9000}, hello, 0, out).code, ReplyCode::kUnauthorized);
  EXPECT_EQ(node.on_join({"device", 9000}, Bytes(5, 1), 0, out).code, ReplyCode::kBadRequest);
  Bytes truncated = hello;
  truncated.pop_back();
  EXPECT_EQ(node.on_join({"device", 9000}, truncated, 0, out).code, ReplyCode::kBadRequest);
  Bytes forged = hello;
  forged[20] ^= 1;
  EXPECT_EQ(node.on_join({"device", 9000}, forged, 0, out).code, ReplyCode::kUnauthorized);
  for (const Action& a : out)
    EXPECT_FALSE(is_storage(a));
  EXPECT_TRUE(node.registry().devices().empty());
  EXPECT_EQ(node.replica().mempool().size(), 0u);
  EXPECT_GE(node.device_stats().refused.size(), 2u);
}

TEST(GatewayNode, RepeatedHelloGetsTheSameAcceptAndAnotherHelloAnAuthenticatedRefusal) {
  SystemCluster cluster(quiet(1));
  cluster.start();
  crypto::DeterministicRng rng(6);
  device::MemoryCounterStore counters;
  device::MemoryStateSink state;
  const auto credential = enroll::DeviceCredential::generate(rng);
  GatewayNode& node = *cluster.gateway(0).node;
  std::vector<Action> out;
  ASSERT_TRUE(node.admit(credential, out));
  const Bytes hello = hello_of(cluster, credential, rng, counters, state);
  const Reply first = node.on_join({"device", 9000}, hello, 0, out);
  const Reply again = node.on_join({"device", 9000}, hello, 0, out);
  ASSERT_EQ(first.code, ReplyCode::kCreated);
  EXPECT_EQ(again.code, ReplyCode::kCreated);
  EXPECT_EQ(again.payload, first.payload);
  EXPECT_EQ(node.replica().mempool().size(), 1u);
  EXPECT_EQ(node.pending().size(), 1u);
  // The same credential, another hello (another ephemeral key): refused, and the device can
  // tell why, since the refusal is authenticated over its hello.
  device::MemoryStateSink other_state;
  const Bytes other = hello_of(cluster, credential, rng, counters, other_state);
  const Reply refused = node.on_join({"device", 9001}, other, 0, out);
  EXPECT_EQ(refused.code, ReplyCode::kForbidden);
  auto reason =
      enroll::open_refusal(refused.payload, other, credential.psk, cluster.genesis().chain_id());
  ASSERT_TRUE(reason.ok());
  EXPECT_EQ(*reason, enroll::RefusalReason::kCredentialUsed);
  EXPECT_FALSE(
      enroll::open_refusal(refused.payload, hello, credential.psk, cluster.genesis().chain_id())
          .ok());
  EXPECT_EQ(node.replica().mempool().size(), 1u);
}

// Two gateways; devices a and b at gateway 0, c at gateway 1, all keyed.
struct ThreeDevices {
  std::size_t a, b, c;
};
std::optional<ThreeDevices> three_keyed_devices(SystemCluster& cluster) {
  cluster.start();
  cluster.run_until(1'000);
  const ThreeDevices t{cluster.add_device(0), cluster.add_device(0), cluster.add_device(1)};
  for (std::size_t d : {t.a, t.b, t.c})
    cluster.start_device(d);
  if (!cluster.run_until([&] { return all_keyed(cluster, {t.a, t.b, t.c}); }, 20'000))
    return std::nullopt;
  return t;
}

TEST(GatewayNode, AfterALeaveTheDepartedDeviceOpensNothing) {
  SystemCluster cluster(quiet(2));
  const auto three = three_keyed_devices(cluster);
  ASSERT_TRUE(three);
  const auto [a, b, c] = *three;
  // Before the leave, b holds the key of a record between a and c (its set's pairwise set key
  // with c's set, or its pairwise node key with a): the eavesdropper's trial is real.
  ASSERT_TRUE(cluster.send_record(c, a, false));
  EXPECT_TRUE(cluster.device(b).eavesdropper->holds(cluster.records().back().key) ||
              cluster.device(a).agent->set() != cluster.device(b).agent->set());
  const NodeId leaver = *cluster.device(b).agent->node();
  cluster.leave(b);
  ASSERT_TRUE(cluster.run_until(
      [&] {
        return cluster.checker().removed_at(leaver).has_value() && all_keyed(cluster, {a, c});
      },
      20'000));
  EXPECT_EQ(cluster.gateway(0).node->registry().device(leaver), nullptr);  // its node key is gone
  const std::size_t before = cluster.records().size();
  ASSERT_TRUE(cluster.send_record(a, c, true));
  ASSERT_TRUE(cluster.send_record(c, a, true));
  cluster.run_until(cluster.now_ms() + 500);
  for (std::size_t i = before; i < cluster.records().size(); ++i) {
    const auto& r = cluster.records()[i];
    EXPECT_EQ(r.opened, true);
    EXPECT_FALSE(cluster.device(b).eavesdropper->holds(r.key));
    EXPECT_FALSE(cluster.device(b).eavesdropper->opens(r.wire, cluster.now_ms()));
  }
  expect_clean(cluster);
}

// Once an eviction is final, every device refuses the evicted device's records at once: the
// grace period keeps old keys for members a rekey behind, not for removed ones (its records to
// a device of another set were accepted for about 10 s).
TEST(GatewayNode, AnEvictedDevicesRecordsAreRefusedAsSoonAsTheEvictionIsApplied) {
  SystemCluster cluster(quiet(2));
  const auto three = three_keyed_devices(cluster);
  ASSERT_TRUE(three);
  const auto [a, b, c] = *three;
  ASSERT_NE(cluster.device(b).agent->set(), cluster.device(c).agent->set());
  ASSERT_TRUE(cluster.send_record(b, c, false));
  cluster.run_until(cluster.now_ms() + 200);
  ASSERT_EQ(cluster.records().back().opened, true);
  const NodeId evicted = *cluster.device(b).agent->node();
  ASSERT_TRUE(cluster.evict(1, evicted));
  ASSERT_TRUE(cluster.run_until(
      [&] {
        return cluster.checker().removed_at(evicted).has_value() && all_keyed(cluster, {a, c});
      },
      20'000));
  // Well inside the grace period (1 s here): b still holds keys c keeps for it.
  const std::size_t before = cluster.records().size();
  ASSERT_TRUE(cluster.send_record(b, c, false));
  ASSERT_TRUE(cluster.send_record(b, a, false));
  cluster.run_until(cluster.now_ms() + 100);
  for (std::size_t i = before; i < cluster.records().size(); ++i)
    EXPECT_NE(cluster.records()[i].opened, true) << "record " << i;
  EXPECT_GE(cluster.device(c).agent->stats().d2d_errors.at("sender removed"), 1u);
}

// Another gateway's operator only asks: alone (one gateway of four) nothing happens but the
// request on the ledger; a second gateway asking makes more than a third, and the device goes.
// Asking twice is one request. The home gateway's own view of its device is never bypassed.
TEST(GatewayNode, AnotherGatewaysEvictionIsARequestUntilMoreThanAThirdAsk) {
  SystemCluster cluster(quiet(4));
  const std::size_t d = keyed_device(cluster, 1);
  ASSERT_TRUE(keyed(cluster, d));
  const NodeId node = *cluster.device(d).agent->node();
  ASSERT_TRUE(cluster.evict(0, node));
  const auto first = cluster.last_eviction();
  ASSERT_TRUE(first.has_value());
  EXPECT_FALSE(first->by_home);
  EXPECT_EQ(first->asked_by, std::vector<GatewayId>{GatewayId{0}});
  EXPECT_EQ(first->power, 1u);
  EXPECT_EQ(first->power_needed, 2u);
  ASSERT_TRUE(cluster.run_until(
      [&] { return cluster.gateway(1).node->replica().state().eviction_requests().contains(node); },
      20'000));
  cluster.run_until(cluster.now_ms() + 2'000);
  EXPECT_NE(cluster.gateway(1).node->replica().state().table().find_member(node), nullptr);
  EXPECT_FALSE(cluster.checker().removed_at(node).has_value());
  EXPECT_EQ(cluster.gateway(0).node->pending().size(), 0u);  // its request is final
  // Asked again: nothing new.
  ASSERT_TRUE(cluster.evict(0, node));
  ASSERT_TRUE(cluster.last_eviction().has_value());
  EXPECT_TRUE(cluster.last_eviction()->already_asked);
  EXPECT_EQ(cluster.gateway(0).node->pending().size(), 0u);
  // A second gateway: in effect, and its answer says so (the request that reaches the power
  // removes the node and its requests from the state after it).
  ASSERT_TRUE(cluster.evict(2, node));
  const auto second = cluster.last_eviction();
  ASSERT_TRUE(second.has_value());
  EXPECT_FALSE(second->already_asked);
  EXPECT_EQ(second->asked_by, (std::vector<GatewayId>{GatewayId{0}, GatewayId{2}}));
  EXPECT_EQ(second->power, 2u);
  EXPECT_EQ(second->power_needed, 2u);
  ASSERT_TRUE(cluster.run_until(
      [&] {
        return cluster.checker().removed_at(node).has_value() &&
               cluster.gateway(3).node->replica().state().table().find_member(node) == nullptr;
      },
      20'000));
  EXPECT_TRUE(cluster.gateway(3).node->replica().state().eviction_requests().empty());
  expect_clean(cluster);
}

// The lost join: the device is accepted while the other gateways are down, its gateway
// restarts (the transaction was in its mempool only), the others come back.
TEST(GatewayNode, AnAcknowledgedJoinSurvivesARestartBeforeAnyPeerHeardOfIt) {
  SystemCluster cluster(quiet(4));
  const std::size_t d = accepted_while_peers_are_down(cluster);
  ASSERT_TRUE(cluster.device(d).agent->joined());
  EXPECT_EQ(cluster.gateway(0).node->pending().size(), 1u);
  cluster.crash_gateway(0);
  cluster.restart_gateway(0);
  EXPECT_EQ(cluster.gateway(0).node->pending().size(), 1u);  // from its disk
  cluster.run_until(cluster.now_ms() + 1'000);
  for (std::size_t g = 1; g < 4; ++g)
    cluster.restart_gateway(g);
  ASSERT_TRUE(cluster.run_until([&] { return keyed(cluster, d); }, 30'000));
  EXPECT_EQ(cluster.gateway(0).node->pending().size(), 0u);
  // The restarted gateway hands out node ids above the ones its records hold.
  const std::size_t e = cluster.add_device(0);
  cluster.start_device(e);
  ASSERT_TRUE(cluster.run_until([&] { return keyed(cluster, e); }, 30'000));
  EXPECT_GT(cluster.device(e).agent->node()->value(), cluster.device(d).agent->node()->value());
  expect_clean(cluster);
}

// A join refused because the mempool is full stores nothing and leaves the credential free: the
// device is told (an authenticated refusal) and joins when it tries again.
TEST(GatewayNode, AJoinRefusedForAFullMempoolKeepsTheCredentialFreeForItsRetry) {
  SystemClusterConfig config = quiet(4);
  config.mempool_capacity = 1;
  SystemCluster cluster(config);
  const std::size_t first = accepted_while_peers_are_down(cluster);
  ASSERT_TRUE(cluster.device(first).agent->joined());
  GatewayNode& node = *cluster.gateway(0).node;
  ASSERT_EQ(node.replica().mempool().size(), 1u);
  const std::string unavailable =
      "join: " + std::string(enroll::to_string(enroll::RefusalReason::kUnavailable));
  const auto refused = [&] {
    const auto& r = node.device_stats().refused;
    return r.contains(unavailable) ? r.at(unavailable) : 0u;
  };
  const auto refused_before = refused();
  const std::size_t devices_before = node.registry().devices().size();

  const std::size_t second = cluster.add_device(0);
  cluster.start_device(second);
  cluster.run_until(cluster.now_ms() + 300);
  EXPECT_FALSE(cluster.device(second).agent->joined());
  EXPECT_EQ(node.registry().devices().size(), devices_before);
  EXPECT_GT(refused(), refused_before);
  for (std::size_t g = 1; g < 4; ++g)
    cluster.restart_gateway(g);
  ASSERT_TRUE(cluster.run_until([&] { return keyed(cluster, first) && keyed(cluster, second); },
                                cluster.now_ms() + 30'000));
  expect_clean(cluster);
}

// A crash before any action of a join's batch: whatever was durable, the device ends with keys.
TEST(GatewayNode, ACrashAnywhereInAJoinLosesNothingTheDeviceWasTold) {
  for (std::size_t index = 0; index < 8; ++index) {
    SCOPED_TRACE(index);
    SystemCluster cluster(quiet(2));
    cluster.start();
    cluster.run_until(1'000);
    const std::size_t d = cluster.add_device(0);
    cluster.crash_in_next_join(0, index);
    cluster.start_device(d);
    cluster.run_until(cluster.now_ms() + 300);
    cluster.restart_gateway(0);
    ASSERT_TRUE(cluster.run_until([&] { return keyed(cluster, d); }, 30'000));
    expect_clean(cluster);
  }
}

// Two devices with one secret code (one commitment): one join takes it, the other is told its
// join failed (or refused, if it was not accepted yet), draws a new code and joins.
TEST(GatewayNode, AJoinWhoseCommitmentAnotherTookEndsToldAndJoinsAgain) {
  SystemCluster cluster(quiet(2));
  cluster.start();
  cluster.run_until(1'000);
  crypto::DeterministicRng rng(9);
  const enroll::SecretCode code = enroll::draw_secret_code(rng);
  const std::size_t a = cluster.add_device(0, code);
  const std::size_t b = cluster.add_device(1, code);
  cluster.start_device(a);
  cluster.start_device(b);
  ASSERT_TRUE(cluster.run_until([&] { return all_keyed(cluster, {a, b}); }, 30'000));
  const std::uint64_t restarted = cluster.device(a).agent->stats().joins_restarted +
                                  cluster.device(b).agent->stats().joins_restarted;
  const std::uint64_t failed = cluster.gateway(0).node->device_stats().joins_failed +
                               cluster.gateway(1).node->device_stats().joins_failed;
  EXPECT_GE(restarted, 1u);      // one of them started again with a fresh code
  EXPECT_LE(failed, restarted);  // told so, or refused before it was accepted
  EXPECT_NE(cluster.device(a).agent->node(), cluster.device(b).agent->node());
  expect_clean(cluster);
}

TEST(GatewayNode, ADeviceRestartedBeforeItsAcceptSendsTheSameHello) {
  SystemCluster cluster(quiet(2));
  cluster.start();
  cluster.run_until(1'000);
  const std::size_t d = cluster.add_device(0);
  cluster.start_device(d);
  cluster.run_until(cluster.now_ms() + 1);  // the hello is on its way, the accept not back
  cluster.restart_device(d);
  ASSERT_TRUE(cluster.run_until([&] { return keyed(cluster, d); }, 20'000));
  const auto& refused = cluster.gateway(0).node->device_stats().refused;
  EXPECT_FALSE(refused.contains("join: credential already used"));
  EXPECT_EQ(cluster.gateway(0).node->registry().devices().size(), 1u);
  expect_clean(cluster);
}

TEST(GatewayNode, APendingEvictionSurvivesARestartAndIsGossipedUntilFinal) {
  SystemCluster cluster(quiet(4));
  const std::size_t d = keyed_device(cluster, 1);
  ASSERT_TRUE(keyed(cluster, d));
  const NodeId node = *cluster.device(d).agent->node();
  // Its home gateway (1) evicts it alone, while the others are down.
  for (std::size_t g : {0u, 2u, 3u})
    cluster.crash_gateway(g);
  ASSERT_TRUE(cluster.evict(1, node));
  cluster.crash_gateway(1);
  cluster.restart_gateway(1);
  ASSERT_NE(cluster.gateway(1).node->pending().find(node, ledger::Operation::kEvict), nullptr);
  for (std::size_t g : {0u, 2u, 3u})
    cluster.restart_gateway(g);
  ASSERT_TRUE(cluster.run_until(
      [&] {
        return cluster.checker().removed_at(node).has_value() &&
               cluster.gateway(1).node->pending().size() == 0;
      },
      30'000));
  expect_clean(cluster);
}

// A leave is for a member whose join is final: asked before, it is refused, and the device asks
// again until its gateway takes it; once taken, the device ends removed.
TEST(GatewayNode, ALeaveBeforeTheJoinIsFinalIsAskedAgainUntilTaken) {
  SystemCluster cluster(quiet(4));
  const std::size_t d = accepted_while_peers_are_down(cluster);
  ASSERT_TRUE(cluster.device(d).agent->joined());
  const NodeId node = *cluster.device(d).agent->node();
  cluster.leave(d);
  cluster.run_until(cluster.now_ms() + 2'000);
  const auto& refused = cluster.gateway(0).node->device_stats().refused;
  EXPECT_GE(refused.count(std::string(enroll::kRefusedLeaveNotFinal)), 1u);
  EXPECT_FALSE(cluster.device(d).agent->leave_acknowledged());
  EXPECT_EQ(cluster.gateway(0).node->pending().find(node, ledger::Operation::kLeave), nullptr);
  for (std::size_t g = 1; g < 4; ++g)
    cluster.restart_gateway(g);
  ASSERT_TRUE(
      cluster.run_until([&] { return cluster.checker().removed_at(node).has_value(); }, 30'000));
  EXPECT_TRUE(cluster.device(d).agent->leave_acknowledged());
  expect_clean(cluster);
}

// Requests of one device: authentic ones beyond the burst are refused before the counter is
// written; the budget comes back with time; the record follows the device to a new address.
TEST(GatewayNode, RequestsBeyondTheBudgetAreRefusedBeforeTheyCostAWrite) {
  SystemCluster cluster(quiet(1));
  const std::size_t d = keyed_device(cluster, 0);
  ASSERT_TRUE(keyed(cluster, d));
  const device::Identity identity = *cluster.device(d).state.state().identity;
  GatewayNode& node = *cluster.gateway(0).node;
  const auto key =
      enroll::request_key(identity.node_key, cluster.genesis().chain_id(), identity.node);
  std::uint64_t counter = cluster.device(d).state.state().request_counter;
  const std::uint64_t now = cluster.now_ms() + 60'000;  // a full budget
  const Endpoint moved{"moved-device", 9000};
  std::vector<Action> out;
  std::size_t taken = 0;
  for (std::uint64_t i = 0; i < kRequestBurst + 4; ++i) {
    out.clear();
    const Bytes wire = enroll::encode(
        enroll::make_request(enroll::RequestKind::kStatus, identity.node, ++counter, {}, key));
    const Reply r = node.on_request(moved, wire, now, out);
    if (r.code == ReplyCode::kChanged) {
      ++taken;
      continue;
    }
    EXPECT_EQ(r.code, ReplyCode::kUnavailable);
    EXPECT_EQ(std::string(r.payload.begin(), r.payload.end()), "request: too frequent");
    for (const Action& a : out)
      EXPECT_FALSE(is_storage(a));
  }
  EXPECT_EQ(taken, kRequestBurst);
  EXPECT_EQ(node.registry().device(identity.node)->endpoint.host, "moved-device");
  out.clear();
  const Bytes later = enroll::encode(
      enroll::make_request(enroll::RequestKind::kStatus, identity.node, ++counter, {}, key));
  EXPECT_EQ(node.on_request(moved, later, now + kRequestRefillMs, out).code, ReplyCode::kChanged);
}

TEST(GatewayNode, APushCarriesEverythingQueuedForTheDevice) {
  SystemCluster cluster(quiet(1));
  cluster.start();
  cluster.run_until(1'000);
  std::vector<std::size_t> devices;
  for (int i = 0; i < 12; ++i) {
    devices.push_back(cluster.add_device(0));
    cluster.start_device(devices.back());
  }
  ASSERT_TRUE(cluster.run_until([&] { return all_keyed(cluster, devices); }, 30'000));
  const auto& pushes = cluster.gateway(0).node->pushes().stats();
  EXPECT_GT(pushes.messages, pushes.pushed);  // some pushes held several messages
  expect_clean(cluster);
}

}  // namespace
}  // namespace kmchain::gateway
