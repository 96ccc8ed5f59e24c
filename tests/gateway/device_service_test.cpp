// The gateway's device service and the device agent, wired together in memory: joins in commit
// and sync mode, refused and repeated hellos, requests with stale counters, D2D records, and a
// leave after which the departed device opens nothing. Gateways here share one ledger (a
// mempool and a state, committed by hand); each has its own custody view and store.
#include "gateway/device_service.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>

#include "device/agent.h"
#include "keys/key_source.h"
#include "ledger/block.h"
#include "ledger/contract.h"

namespace kmchain::gateway {
namespace {

class MemoryStore final : public DeviceStore {
 public:
  void put_credential(const enroll::DeviceCredential& c) override { credentials[c.id] = c; }
  std::optional<enroll::DeviceCredential> credential(
      const enroll::CredentialId& id) const override {
    auto it = credentials.find(id);
    return it == credentials.end() ? std::nullopt : std::optional(it->second);
  }
  std::optional<NodeId> credential_user(const enroll::CredentialId& id) const override {
    auto it = used.find(id);
    return it == used.end() ? std::nullopt : std::optional(it->second);
  }
  void put_device(const DeviceRecord& r) override {
    records.insert_or_assign(r.node, r);
    used[r.credential] = r.node;
  }
  void erase_device(NodeId node) override { records.erase(node); }
  std::vector<DeviceRecord> devices() const override {
    std::vector<DeviceRecord> out;
    for (const auto& [n, r] : records)
      out.push_back(r);
    return out;
  }

  std::map<enroll::CredentialId, enroll::DeviceCredential> credentials;
  std::map<enroll::CredentialId, NodeId> used;
  std::map<NodeId, DeviceRecord> records;
};

// One ledger for every gateway: submit checks into the mempool, commit() makes a block of what
// is pending and applies it.
class SharedLedger final : public LedgerPort {
 public:
  explicit SharedLedger(std::size_t gateways) : state(gateways), mempool(state, 1024) {}
  const ledger::LedgerState& check_state() const override { return mempool.check_state(); }
  std::vector<ledger::Transaction> pending() const override { return mempool.reap(1024); }
  Status<ledger::MempoolVerdict> submit(const ledger::Transaction& tx) override {
    return mempool.add(tx);
  }
  ledger::Block commit() {
    ledger::Block block;
    block.transactions = mempool.reap(1024);
    for (const auto& tx : block.transactions) {
      EXPECT_TRUE(ledger::check(state, tx));
      ledger::apply(state, tx);
    }
    (void)mempool.update(state, block.transactions);
    return block;
  }

  ledger::LedgerState state;
  ledger::Mempool mempool;
};

class NoCounters final : public channel::CounterStore {
 public:
  std::uint64_t load() override { return v; }
  void reserve(std::uint64_t up_to) override { v = up_to; }
  std::uint64_t v = 0;
};
class NoState final : public device::StateSink {
 public:
  void save_identity(const device::Identity&) override {}
  void save_request_counter(std::uint64_t) override {}
};

constexpr std::size_t kGateways = 2;

struct Gateway {
  Gateway(GatewayId id, config::SubmissionMode mode, SharedLedger& ledger,
          const std::map<std::pair<int, int>, crypto::Secret256>& pairs, crypto::Rng& rng)
      : source(id, master(id), secrets(id, pairs)),
        service(DeviceServiceConfig{id, kGateways, chain_id(), mode}, source, rng, store, ledger,
                [this] { return ++clock; }) {}

  static crypto::Secret256 master(GatewayId id) {
    crypto::Secret256 m;
    m.mutable_view()[0] = static_cast<std::uint8_t>(id.value() + 1);
    return m;
  }
  static keys::DerivedKeySource::PairSecrets secrets(
      GatewayId id, const std::map<std::pair<int, int>, crypto::Secret256>& pairs) {
    keys::DerivedKeySource::PairSecrets out;
    for (std::size_t g = 0; g < kGateways; ++g) {
      if (g == id.value()) continue;
      const int lo = std::min<int>(id.value(), static_cast<int>(g));
      const int hi = std::max<int>(id.value(), static_cast<int>(g));
      out.emplace(GatewayId{static_cast<std::uint16_t>(g)}, pairs.at({lo, hi}));
    }
    return out;
  }
  static ledger::Hash256 chain_id() {
    ledger::Hash256 h{};
    h[0] = 0x42;
    return h;
  }

  std::uint64_t clock = 0;
  MemoryStore store;
  keys::DerivedKeySource source;
  DeviceService service;
};

struct Device {
  Device(const enroll::DeviceCredential& credential, std::uint16_t port, crypto::Rng& rng)
      : agent(config(port), credential, enroll::draw_secret_code(rng), rng, counters, state,
              std::nullopt, 0) {}
  static device::AgentConfig config(std::uint16_t port) {
    device::AgentConfig c;
    const auto id = Gateway::chain_id();
    std::copy(id.begin(), id.end(), c.chain_id.begin());
    c.listen_port = port;
    return c;
  }
  NoCounters counters;
  NoState state;
  device::DeviceAgent agent;
};

class DeviceServiceTest : public ::testing::Test {
 protected:
  void build(config::SubmissionMode mode) {
    crypto::Secret256 pair;
    pair.mutable_view()[0] = 0x77;
    pairs_[{0, 1}] = pair;
    for (std::uint16_t g = 0; g < kGateways; ++g)
      gateways_.push_back(std::make_unique<Gateway>(GatewayId{g}, mode, ledger_, pairs_, rng_));
  }

  // Admits a credential at gateway g and runs the device's join up to the accept.
  Device& join(std::size_t g, std::uint16_t port) {
    auto credential = enroll::DeviceCredential::generate(rng_);
    gateways_[g]->service.admit(credential);
    devices_.push_back(std::make_unique<Device>(credential, port, rng_));
    Device& d = *devices_.back();
    home_[&d] = g;
    std::vector<device::Post> posts;
    d.agent.start(0, posts);
    EXPECT_EQ(posts.size(), 1u);
    std::vector<Push> pushes;
    const Reply r = gateways_[g]->service.on_join({"127.0.0.1", 1}, posts[0].body, pushes);
    std::vector<device::Event> events;
    d.agent.on_join_reply(true, r.code == ReplyCode::kCreated, r.payload, 0, events);
    deliver(pushes);
    return d;
  }

  void deliver(std::vector<Push>& pushes) {
    for (const Push& p : pushes) {
      for (auto& d : devices_) {
        if (d->agent.node() == p.node) {
          std::vector<device::Post> posts;
          std::vector<device::Event> events;
          EXPECT_TRUE(d->agent.on_rekey(p.wire, now_, posts, events));
        }
      }
    }
    pushes.clear();
  }

  void commit() {
    const ledger::Block block = ledger_.commit();
    for (auto& g : gateways_) {
      std::vector<Push> pushes;
      g->service.on_committed(block, pushes);
      deliver(pushes);
    }
  }

  crypto::DeterministicRng rng_{7};
  std::map<std::pair<int, int>, crypto::Secret256> pairs_;
  SharedLedger ledger_{kGateways};
  std::vector<std::unique_ptr<Gateway>> gateways_;
  std::vector<std::unique_ptr<Device>> devices_;
  std::map<Device*, std::size_t> home_;
  std::uint64_t now_ = 1000;
};

TEST_F(DeviceServiceTest, CommitModeDeliversKeysOnlyOnceTheJoinIsFinal) {
  build(config::SubmissionMode::kCommit);
  Device& a = join(0, 100);
  EXPECT_TRUE(a.agent.joined());
  EXPECT_FALSE(a.agent.placed());  // accepted, but not final yet
  commit();
  ASSERT_TRUE(a.agent.placed());
  Device& b = join(1, 101);
  Device& c = join(0, 102);
  commit();
  for (Device* d : {&a, &b, &c}) {
    EXPECT_TRUE(d->agent.placed());
    EXPECT_EQ(d->agent.position(), ledger_.state.position());
  }
  EXPECT_EQ(gateways_[0]->service.stats().joins_committed, 2u);
  EXPECT_EQ(gateways_[1]->service.stats().joins_committed, 1u);
}

TEST_F(DeviceServiceTest, SyncModeDeliversKeysBeforeTheCommitAndTheFinalBundleAfter) {
  build(config::SubmissionMode::kSync);
  Device& a = join(0, 100);
  EXPECT_TRUE(a.agent.placed());  // the early bundle
  commit();
  Device& b = join(1, 101);
  EXPECT_TRUE(b.agent.placed());
  commit();
  EXPECT_EQ(a.agent.position(), ledger_.state.position());
  EXPECT_EQ(b.agent.position(), ledger_.state.position());
  // The two agents talk under their pairwise set key.
  std::vector<device::Post> posts;
  std::string error;
  const Bytes text{'h', 'i'};
  ASSERT_TRUE(
      a.agent.send(*b.agent.node(), *b.agent.set(), {"127.0.0.1", 101}, text, 1, posts, error))
      << error;
  std::vector<device::Event> events;
  EXPECT_TRUE(b.agent.on_d2d(posts[0].body, now_, events));
}

TEST_F(DeviceServiceTest, RefusedHellosStoreNothingAndSubmitNothing) {
  build(config::SubmissionMode::kCommit);
  // A hello under a credential the gateway never admitted.
  auto stranger = enroll::DeviceCredential::generate(rng_);
  Device d(stranger, 100, rng_);
  std::vector<device::Post> posts;
  d.agent.start(0, posts);
  std::vector<Push> pushes;
  EXPECT_EQ(gateways_[0]->service.on_join({"127.0.0.1", 1}, posts[0].body, pushes).code,
            ReplyCode::kUnauthorized);
  // Garbage and a truncated hello.
  EXPECT_EQ(gateways_[0]->service.on_join({"127.0.0.1", 1}, Bytes(5, 1), pushes).code,
            ReplyCode::kBadRequest);
  Bytes truncated = posts[0].body;
  truncated.pop_back();
  EXPECT_EQ(gateways_[0]->service.on_join({"127.0.0.1", 1}, truncated, pushes).code,
            ReplyCode::kBadRequest);
  EXPECT_TRUE(gateways_[0]->store.records.empty());
  EXPECT_EQ(ledger_.mempool.size(), 0u);
  EXPECT_TRUE(pushes.empty());
}

TEST_F(DeviceServiceTest, RepeatedHelloGetsTheSameAcceptAndAnotherHelloIsRefused) {
  build(config::SubmissionMode::kCommit);
  auto credential = enroll::DeviceCredential::generate(rng_);
  gateways_[0]->service.admit(credential);
  Device d(credential, 100, rng_);
  std::vector<device::Post> posts;
  d.agent.start(0, posts);
  std::vector<Push> pushes;
  const Reply first = gateways_[0]->service.on_join({"127.0.0.1", 1}, posts[0].body, pushes);
  const Reply again = gateways_[0]->service.on_join({"127.0.0.1", 1}, posts[0].body, pushes);
  ASSERT_EQ(first.code, ReplyCode::kCreated);
  EXPECT_EQ(again.payload, first.payload);
  EXPECT_EQ(ledger_.mempool.size(), 1u);
  // The same credential from another device (another ephemeral key): refused.
  Device other(credential, 101, rng_);
  std::vector<device::Post> other_posts;
  other.agent.start(0, other_posts);
  EXPECT_EQ(gateways_[0]->service.on_join({"127.0.0.1", 2}, other_posts[0].body, pushes).code,
            ReplyCode::kForbidden);
  EXPECT_EQ(ledger_.mempool.size(), 1u);
}

TEST_F(DeviceServiceTest, LeaveIsAuthenticatedNotReplayableAndTheDepartedOpensNothing) {
  build(config::SubmissionMode::kCommit);
  Device& a = join(0, 100);
  Device& b = join(0, 101);
  Device& c = join(1, 102);
  commit();
  std::vector<device::Post> posts;
  b.agent.leave(posts);
  ASSERT_EQ(posts.size(), 1u);
  std::vector<Push> pushes;
  EXPECT_EQ(gateways_[0]->service.on_request(posts[0].body, pushes).code, ReplyCode::kChanged);
  // The same request again: a stale counter.
  EXPECT_EQ(gateways_[0]->service.on_request(posts[0].body, pushes).code, ReplyCode::kForbidden);
  // A forged one: refused.
  Bytes forged = posts[0].body;
  forged.back() ^= 1;
  EXPECT_EQ(gateways_[0]->service.on_request(forged, pushes).code, ReplyCode::kUnauthorized);
  commit();
  EXPECT_EQ(ledger_.state.table().find_member(*b.agent.node()), nullptr);
  EXPECT_FALSE(gateways_[0]->store.records.contains(*b.agent.node()));

  // After the leave: a and c talk (same set and across sets); b holds every key it ever had and
  // receives copies of both records, and opens neither.
  for (Device* to : {&a, &c}) {
    Device* from = to == &a ? &c : &a;
    std::vector<device::Post> out;
    std::string error;
    ASSERT_TRUE(from->agent.send(*to->agent.node(), *to->agent.set(), {"127.0.0.1", 1}, Bytes{'x'},
                                 1, out, error))
        << error;
    std::vector<device::Event> events;
    EXPECT_TRUE(to->agent.on_d2d(out[0].body, now_, events));
    EXPECT_TRUE(b.agent.on_d2d(out[0].body, now_, events));
    EXPECT_EQ(events.back().name, "sniffed");
  }
  EXPECT_EQ(b.agent.stats().sniffed, 2u);
  EXPECT_EQ(b.agent.stats().sniffed_decrypted, 0u);
}

TEST_F(DeviceServiceTest, BeforeTheLeaveTheSnifferOpensWhatItHoldsTheKeyOf) {
  // The trial is real: every member of a set holds its pairwise set keys (PROTOCOL.md section 5,
  // insider limits), so b opens a record from c's set to its set-mate a while b is a member.
  build(config::SubmissionMode::kCommit);
  Device& a = join(0, 100);
  Device& b = join(0, 101);
  Device& c = join(1, 102);
  commit();
  ASSERT_EQ(*a.agent.set(), *b.agent.set());
  ASSERT_NE(*a.agent.set(), *c.agent.set());
  std::vector<device::Post> out;
  std::string error;
  ASSERT_TRUE(
      c.agent.send(*a.agent.node(), *a.agent.set(), {"127.0.0.1", 1}, Bytes{'x'}, 1, out, error));
  std::vector<device::Event> events;
  EXPECT_TRUE(b.agent.on_d2d(out[0].body, now_, events));
  EXPECT_EQ(b.agent.stats().sniffed_decrypted, 1u);
}

}  // namespace
}  // namespace kmchain::gateway
