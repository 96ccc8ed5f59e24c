// Replicas (consensus/replica.h) on a small in-memory network: a perfect network carries every
// message at once and fires the next Schedule (commit timeouts included) only when nothing is
// in flight. Four replicas decide a chain that restores; a restarted replica (its blocks and
// last WAL record) continues without signing a conflicting vote; restore refuses out-of-order,
// broken, mismatching and WAL-ahead stores and undecodable WAL records; garbage changes
// nothing but a counter; a submitted transaction is gossiped and committed everywhere; a
// replica cut off for a while catches up by sync.
#include "consensus/replica.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <tuple>
#include <utility>
#include <vector>

#include "ledger_fixture.h"
#include "membership_fixture.h"

namespace kmchain::consensus {
namespace {

using ledger::fixture::join_tx;
using ledger::fixture::kGenesisTimeMs;
using ledger::fixture::make_genesis;
using ledger::fixture::node_of;
using ledger::fixture::validator_key;

constexpr std::uint64_t kStartMs = kGenesisTimeMs + 1000;

// A shell for each replica (its block store and WAL in memory) and a perfect network.
class Network {
 public:
  explicit Network(std::size_t n, ReplicaConfig config = {})
      : Network(std::vector<std::uint64_t>(n, 1), config) {}
  // `clock_offsets_ms`: how far each replica's clock is from the network's (none: all exact).
  explicit Network(const std::vector<std::uint64_t>& powers, ReplicaConfig config = {},
                   std::vector<std::int64_t> clock_offsets_ms = {})
      : genesis_(make_genesis(powers)),
        config_(config),
        nodes_(powers.size()),
        offsets_(std::move(clock_offsets_ms)) {
    const std::size_t n = powers.size();
    offsets_.resize(n, 0);
    for (std::size_t i = 0; i < n; ++i) {
      boot(i);
      std::vector<Action> out;
      EXPECT_TRUE(nodes_[i].replica->start(std::nullopt, local(i), out).ok());
      execute(i, out);
    }
  }

  struct Node {
    std::unique_ptr<Replica> replica;
    std::vector<StoredBlock> store;
    std::optional<Bytes> wal;
    bool up = true;
    std::uint64_t epoch = 0;  // timers of an earlier life are dropped
  };

  // A new replica for node i over the genesis (not started).
  void boot(std::size_t i) {
    Node& n = nodes_[i];
    n.replica = std::make_unique<Replica>(genesis_, validator_key(static_cast<std::uint16_t>(i)),
                                          GatewayId{static_cast<std::uint16_t>(i)}, config_);
    ++n.epoch;
    n.up = true;
  }

  // Crash: node i stops; what reached its store and WAL stays.
  void crash(std::size_t i) { nodes_[i].up = false; }

  // Restart node i from its store and WAL.
  void restart(std::size_t i) {
    boot(i);
    Node& n = nodes_[i];
    for (const StoredBlock& b : n.store)
      ASSERT_TRUE(n.replica->restore_block(b).ok());
    std::vector<Action> out;
    ASSERT_TRUE(n.replica->start(n.wal, local(i), out).ok());
    execute(i, out);
  }

  void execute(std::size_t i, std::vector<Action>& actions) {
    Node& n = nodes_[i];
    for (Action& action : actions) {
      if (auto* wal = std::get_if<WriteWal>(&action)) {
        n.wal = wal->record;
      } else if (auto* store = std::get_if<StoreBlock>(&action)) {
        EXPECT_EQ(store->stored.block.header.height.value(), n.store.size() + 1);
        n.store.push_back(store->stored);
      } else if (auto* to = std::get_if<SendTo>(&action)) {
        send(i, to->to.value(), to->bytes);
      } else if (auto* all = std::get_if<BroadcastAll>(&action)) {
        for (std::size_t j = 0; j < nodes_.size(); ++j) {
          if (j != i) send(i, j, all->bytes);
        }
      } else if (auto* s = std::get_if<Schedule>(&action)) {
        const auto at =
            static_cast<std::uint64_t>(static_cast<std::int64_t>(s->at_ms) - offsets_[i]);
        timers_.emplace(std::max(at, now_), Timer{i, n.epoch, s->timeout});
      } else if (auto* serve = std::get_if<ServeBlocks>(&action)) {
        ++serves;
        for (std::uint64_t h = serve->from.value(); h <= serve->to_height.value(); ++h) {
          const StoredBlock& b = n.store.at(h - 1);
          send(i, serve->to.value(), encode(Message{CommitMessage{b.block, b.certificate}}));
        }
      } else if (auto* c = std::get_if<Committed>(&action)) {
        commits.push_back({i, *c});
      } else if (auto* note = std::get_if<ClockNote>(&action)) {
        clock_notes.push_back({i, *note});
      }
    }
  }

  // Delivers messages in order; when none is in flight, fires the earliest timer. Stops when
  // `done` holds or after `max_events`; returns whether `done` held.
  bool run_until(const std::function<bool()>& done, std::size_t max_events = 200000) {
    for (std::size_t k = 0; k < max_events; ++k) {
      if (done()) return true;
      if (!step()) return done();
    }
    return done();
  }

  // Runs until simulated time reaches `until_ms`.
  void run_for(std::uint64_t ms) {
    const std::uint64_t until = now_ + ms;
    run_until([&] { return now_ >= until; });
  }

  bool step() {
    if (!in_flight_.empty()) {
      Envelope e = std::move(in_flight_.front());
      in_flight_.pop_front();
      Node& n = nodes_[e.to];
      if (!n.up) return true;
      std::vector<Action> out;
      n.replica->on_message(GatewayId{static_cast<std::uint16_t>(e.from)}, e.bytes, local(e.to),
                            out);
      execute(e.to, out);
      return true;
    }
    if (timers_.empty()) return false;
    auto it = timers_.begin();
    now_ = std::max(now_, it->first);
    const Timer t = it->second;
    timers_.erase(it);
    Node& n = nodes_[t.node];
    if (!n.up || n.epoch != t.epoch) return true;
    std::vector<Action> out;
    n.replica->on_timeout(t.timeout, local(t.node), out);
    execute(t.node, out);
    return true;
  }

  bool all_at_least(std::uint64_t height) const {
    for (const Node& n : nodes_) {
      if (n.replica->committed_height().value() < height) return false;
    }
    return true;
  }

  // Every signed vote any replica sent, by signer: no two differ for one height, round, type.
  void expect_no_conflicting_votes() const {
    for (const auto& [key, votes] : votes_) {
      for (const ledger::Vote& v : votes)
        EXPECT_EQ(v, votes.front()) << "validator " << std::get<0>(key) << " height "
                                    << std::get<1>(key) << " round " << std::get<2>(key);
    }
  }

  // Identical block hashes at every height all of them have.
  void expect_same_chain() const {
    std::size_t common = SIZE_MAX;
    for (const Node& n : nodes_)
      common = std::min(common, n.store.size());
    for (std::size_t h = 0; h < common; ++h) {
      for (const Node& n : nodes_) {
        EXPECT_EQ(ledger::block_hash(n.store[h].block),
                  ledger::block_hash(nodes_[0].store[h].block))
            << "height " << h + 1;
        EXPECT_EQ(n.store[h].state_hash_after, nodes_[0].store[h].state_hash_after);
      }
    }
  }

  Replica& replica(std::size_t i) { return *nodes_[i].replica; }
  Node& node(std::size_t i) { return nodes_[i]; }
  const ledger::Genesis& genesis() const { return genesis_; }
  std::uint64_t now() const { return now_; }

  // Messages from -> to are dropped while this says so.
  std::function<bool(std::size_t from, std::size_t to)> drop;
  std::function<bool(std::size_t from, std::size_t to, const Message&)> drop_message;
  std::vector<std::pair<std::size_t, Committed>> commits;
  std::vector<std::pair<std::size_t, ClockNote>> clock_notes;
  std::size_t serves = 0;

  // Whether replica i signed a prevote for a block (not nil) at a height from `from` on.
  bool prevoted_a_block(std::size_t i, std::uint64_t from) const {
    for (const auto& [key, votes] : votes_) {
      if (std::get<0>(key) == i && std::get<1>(key) >= from &&
          std::get<3>(key) == static_cast<int>(ledger::VoteType::kPrevote) &&
          votes.front().block.has_value())
        return true;
    }
    return false;
  }
  bool noted(std::size_t i, ClockNote::Kind kind) const {
    return std::any_of(clock_notes.begin(), clock_notes.end(),
                       [&](const auto& n) { return n.first == i && n.second.kind == kind; });
  }

 private:
  struct Envelope {
    std::size_t from;
    std::size_t to;
    Bytes bytes;
  };
  struct Timer {
    std::size_t node;
    std::uint64_t epoch;
    TimeoutIn timeout;
  };

  std::uint64_t local(std::size_t i) const {
    return static_cast<std::uint64_t>(static_cast<std::int64_t>(now_) + offsets_[i]);
  }

  void send(std::size_t from, std::size_t to, const Bytes& bytes) {
    if (auto m = decode_message(bytes)) {
      if (const auto* v = std::get_if<ledger::Vote>(&*m)) {
        if (v->validator.value() == from) {
          votes_[{from, v->height.value(), v->round.value(), static_cast<int>(v->type)}].push_back(
              *v);
        }
      }
    }
    if (drop && drop(from, to)) return;
    if (drop_message) {
      if (auto m = decode_message(bytes); m && drop_message(from, to, *m)) return;
    }
    in_flight_.push_back(Envelope{from, to, bytes});
  }

  ledger::Genesis genesis_;
  ReplicaConfig config_;
  std::vector<Node> nodes_;
  std::vector<std::int64_t> offsets_;
  std::deque<Envelope> in_flight_;
  std::multimap<std::uint64_t, Timer> timers_;
  std::uint64_t now_ = kStartMs;
  std::map<std::tuple<std::size_t, std::uint64_t, std::uint32_t, int>, std::vector<ledger::Vote>>
      votes_;
};

TEST(Replica, FourReplicasDecideAChainThatRestores) {
  Network net(4);
  ASSERT_TRUE(net.run_until([&] { return net.all_at_least(5); }));
  net.expect_same_chain();
  net.expect_no_conflicting_votes();
  for (std::size_t i = 0; i < 4; ++i) {
    SCOPED_TRACE(i);
    const auto& store = net.node(i).store;
    ASSERT_GE(store.size(), 5u);
    // Every stored block is final: its certificate verifies against the genesis.
    for (const StoredBlock& b : store)
      EXPECT_TRUE(ledger::verify_commit(net.genesis(), b.block, b.certificate).ok());
    // A fresh replica restores the chain to the same state.
    Replica fresh(net.genesis(), validator_key(static_cast<std::uint16_t>(i)),
                  GatewayId{static_cast<std::uint16_t>(i)}, ReplicaConfig{});
    for (const StoredBlock& b : store) {
      auto restored = fresh.restore_block(b);
      ASSERT_TRUE(restored.ok()) << to_string(restored.error());
    }
    EXPECT_EQ(fresh.committed_height(), net.replica(i).committed_height());
    EXPECT_EQ(fresh.state_hash(), net.replica(i).state_hash());
    EXPECT_EQ(fresh.last_block_hash(), net.replica(i).last_block_hash());
    // ... and starts at the next height.
    std::vector<Action> out;
    ASSERT_TRUE(fresh.start(std::nullopt, net.now(), out).ok());
    EXPECT_EQ(fresh.engine().height().value(), store.size() + 1);
  }
  // Commits were by voting, each announced with the stored block's hashes.
  for (const auto& [i, c] : net.commits) {
    EXPECT_FALSE(c.by_sync);
    EXPECT_EQ(c.block_hash, ledger::block_hash(net.node(i).store.at(c.height.value() - 1).block));
  }
}

TEST(Replica, RestartedReplicaContinuesAndNeverConflicts) {
  Network net(4);
  ASSERT_TRUE(net.run_until([&] { return net.all_at_least(2); }));
  // Crash replica 3 right after it has persisted a vote of the height it is deciding.
  auto mid_height = [&] {
    const auto& n = net.node(3);
    if (!n.wal) return false;
    auto s = decode_signer_state(*n.wal);
    return s.ok() && s->height.value() == n.replica->committed_height().value() + 1 &&
           !s->own_votes.empty();
  };
  ASSERT_TRUE(net.run_until(mid_height));
  const std::uint64_t crashed_at = net.replica(3).committed_height().value();
  net.crash(3);
  // The others go on for a while (three of four are a quorum).
  net.run_for(3000);
  net.restart(3);
  EXPECT_EQ(net.replica(3).committed_height().value(), crashed_at);
  ASSERT_TRUE(net.run_until([&] { return net.all_at_least(crashed_at + 5); }));
  net.expect_same_chain();
  net.expect_no_conflicting_votes();
  EXPECT_EQ(net.replica(3).state_hash(), net.replica(0).state_hash());
}

TEST(Replica, RestartRightAfterTheCrashResumesTheSameHeight) {
  Network net(4);
  auto persisted_prevote = [&] {
    const auto& n = net.node(2);
    if (!n.wal) return false;
    auto s = decode_signer_state(*n.wal);
    return s.ok() && s->height == Height{3} && !s->own_votes.empty();
  };
  ASSERT_TRUE(net.run_until(persisted_prevote));
  const SignerState before = decode_signer_state(*net.node(2).wal).value();
  net.crash(2);
  net.restart(2);
  // Resumed at the record's height, round and step, with its own votes.
  EXPECT_EQ(net.replica(2).engine().height(), before.height);
  EXPECT_EQ(net.replica(2).engine().round(), before.round);
  EXPECT_EQ(net.replica(2).engine().signer_state().own_votes, before.own_votes);
  ASSERT_TRUE(net.run_until([&] { return net.all_at_least(6); }));
  net.expect_same_chain();
  net.expect_no_conflicting_votes();
}

// --- Restore refusals --------------------------------------------------------------------

class RestoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    Network net(4);
    const auto tx = join_tx(net.replica(1).mempool().check_state(), node_of(1, 1), 1);
    std::vector<Action> out;
    ASSERT_TRUE(net.replica(1).submit(net.replica(1).sign(tx), net.now(), out).ok());
    net.execute(1, out);
    const NodeId device = node_of(1, 1);
    ASSERT_TRUE(net.run_until([&] { return net.replica(0).state().node_id_used(device); }));
    // Two more blocks after the one with the join.
    const std::uint64_t target = net.replica(0).committed_height().value() + 2;
    ASSERT_TRUE(net.run_until([&] { return net.all_at_least(target); }));
    chain_ = new std::vector<StoredBlock>(net.node(0).store);
    genesis_ = new ledger::Genesis(net.genesis());
  }
  static void TearDownTestSuite() {
    delete chain_;
    delete genesis_;
  }

  Replica fresh() const {
    return Replica(*genesis_, validator_key(0), GatewayId{0}, ReplicaConfig{});
  }

  static const std::vector<StoredBlock>& chain() { return *chain_; }

 private:
  static std::vector<StoredBlock>* chain_;
  static ledger::Genesis* genesis_;
};

std::vector<StoredBlock>* RestoreTest::chain_ = nullptr;
ledger::Genesis* RestoreTest::genesis_ = nullptr;

TEST_F(RestoreTest, OutOfOrderBlockIsRefused) {
  Replica r = fresh();
  auto skipped = r.restore_block(chain()[1]);
  ASSERT_FALSE(skipped.ok());
  EXPECT_EQ(skipped.error(), RestoreError::kWrongHeight);
  ASSERT_TRUE(r.restore_block(chain()[0]).ok());
  auto again = r.restore_block(chain()[0]);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error(), RestoreError::kWrongHeight);
  EXPECT_EQ(r.committed_height(), Height{1});
}

TEST_F(RestoreTest, BrokenChainIsRefused) {
  Replica r = fresh();
  ASSERT_TRUE(r.restore_block(chain()[0]).ok());
  StoredBlock broken = chain()[1];
  broken.block.header.previous_hash[0] ^= 1;
  auto restored = r.restore_block(broken);
  ASSERT_FALSE(restored.ok());
  EXPECT_EQ(restored.error(), RestoreError::kBrokenChain);
  // A first block must chain to nothing (zeros).
  Replica other = fresh();
  StoredBlock first = chain()[0];
  first.block.header.previous_hash[31] = 7;
  auto refused = other.restore_block(first);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error(), RestoreError::kBrokenChain);
}

TEST_F(RestoreTest, WrongStateHashIsRefused) {
  Replica r = fresh();
  StoredBlock wrong = chain()[0];
  wrong.state_hash_after[0] ^= 1;
  auto restored = r.restore_block(wrong);
  ASSERT_FALSE(restored.ok());
  EXPECT_EQ(restored.error(), RestoreError::kStateMismatch);
}

TEST_F(RestoreTest, StoredTransactionTheContractRefusesIsRefused) {
  // The chain holds a join; restoring its block twice over would join the same node again.
  std::size_t with_tx = chain().size();
  for (std::size_t i = 0; i < chain().size(); ++i) {
    if (!chain()[i].block.transactions.empty()) with_tx = i;
  }
  ASSERT_LT(with_tx, chain().size()) << "the submitted join was not committed";
  Replica r = fresh();
  for (std::size_t i = 0; i <= with_tx; ++i)
    ASSERT_TRUE(r.restore_block(chain()[i]).ok());
  ASSERT_LT(with_tx + 1, chain().size());
  StoredBlock replay = chain()[with_tx + 1];
  replay.block = ledger::make_block(replay.block.header, chain()[with_tx].block.transactions);
  auto restored = r.restore_block(replay);
  ASSERT_FALSE(restored.ok());
  EXPECT_EQ(restored.error(), RestoreError::kInvalidTransaction);
}

TEST_F(RestoreTest, UndecodableWalIsRefused) {
  Replica r = fresh();
  for (const StoredBlock& b : chain())
    ASSERT_TRUE(r.restore_block(b).ok());
  std::vector<Action> out;
  auto started = r.start(Bytes{1, 2, 3}, kStartMs, out);
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.error(), RestoreError::kBadWal);
  EXPECT_TRUE(out.empty());
}

TEST_F(RestoreTest, WalAheadOfTheStoreIsRefused) {
  Replica r = fresh();
  ASSERT_TRUE(r.restore_block(chain()[0]).ok());  // next height 2
  SignerState ahead;
  ahead.height = Height{3};
  std::vector<Action> out;
  auto started = r.start(encode(ahead), kStartMs, out);
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.error(), RestoreError::kWalAhead);
}

TEST_F(RestoreTest, WalOfAnOlderHeightIsIgnoredAndOfTheNextIsResumed) {
  {
    Replica r = fresh();
    ASSERT_TRUE(r.restore_block(chain()[0]).ok());
    SignerState old;
    old.height = Height{1};
    old.round = Round{5};
    std::vector<Action> out;
    ASSERT_TRUE(r.start(encode(old), kStartMs, out).ok());
    EXPECT_EQ(r.engine().height(), Height{2});
    EXPECT_EQ(r.engine().round(), Round{0});
  }
  {
    Replica r = fresh();
    ASSERT_TRUE(r.restore_block(chain()[0]).ok());
    SignerState next;
    next.height = Height{2};
    next.round = Round{4};
    next.step = Step::kPrevote;
    std::vector<Action> out;
    ASSERT_TRUE(r.start(encode(next), kStartMs, out).ok());
    EXPECT_EQ(r.engine().height(), Height{2});
    EXPECT_EQ(r.engine().round(), Round{4});
    EXPECT_EQ(r.engine().step(), Step::kPrevote);
  }
}

// --- Untrusted input ---------------------------------------------------------------------

TEST(Replica, GarbageIsCountedAndChangesNothing) {
  Network net(4);
  ASSERT_TRUE(net.run_until([&] { return net.all_at_least(2); }));
  Replica& r = net.replica(0);
  const Height height = r.committed_height();
  const ledger::Hash256 state = r.state_hash();
  const ledger::Hash256 last = r.last_block_hash();
  const std::uint64_t messages = r.stats().messages;
  const std::vector<std::pair<Bytes, MessageErrorCode>> garbage{
      {{}, MessageErrorCode::kEmpty},
      {{0}, MessageErrorCode::kUnknownKind},
      {{9, 1, 2}, MessageErrorCode::kUnknownKind},
      {{1, 1, 2, 3}, MessageErrorCode::kBadProposal},
      {{2, 1, 1}, MessageErrorCode::kBadVote},
      {{3, 0, 0, 0, 1, 0}, MessageErrorCode::kBadBlock},
      {{4, 1}, MessageErrorCode::kBadTransaction},
      {{5, 0, 0}, MessageErrorCode::kBadSyncRequest},
      {Bytes(kMessageBytesMax + 1, 3), MessageErrorCode::kTooLarge},
  };
  for (const auto& [bytes, code] : garbage) {
    std::vector<Action> out;
    r.on_message(GatewayId{1}, bytes, net.now(), out);
    EXPECT_TRUE(out.empty()) << to_string(code);
  }
  std::map<MessageErrorCode, std::uint64_t> expected;
  for (const auto& [bytes, code] : garbage)
    ++expected[code];
  EXPECT_EQ(r.stats().decode_errors, expected);
  EXPECT_EQ(r.stats().messages, messages + garbage.size());
  EXPECT_EQ(r.committed_height(), height);
  EXPECT_EQ(r.state_hash(), state);
  EXPECT_EQ(r.last_block_hash(), last);
  // And the network still works.
  ASSERT_TRUE(net.run_until([&] { return net.all_at_least(height.value() + 2); }));
  net.expect_same_chain();
}

TEST(Replica, ForgedCommitIsCountedAndRefused) {
  Network net(4);
  Replica& r = net.replica(0);
  // Past height 1 and into height 2 (not between heights, where a commit would be kept for
  // its turn).
  ASSERT_TRUE(net.run_until([&] {
    return r.committed_height() >= Height{1} &&
           r.engine().height().value() == r.committed_height().value() + 1;
  }));
  const Height next{r.committed_height().value() + 1};
  // A block for the next height with a certificate signed by one validator only.
  ledger::BlockHeader h;
  h.height = next;
  h.previous_hash = r.last_block_hash();
  h.state_hash = r.state_hash();
  h.proposer = GatewayId{1};
  h.timestamp_ms = net.now();
  const ledger::Block block = ledger::make_block(h, {});
  const auto certificate = ledger::fixture::certify(net.genesis().chain_id(), next, Round{0},
                                                    ledger::block_hash(block), {1});
  std::vector<Action> out;
  r.on_message(GatewayId{1}, encode(Message{CommitMessage{block, certificate}}), net.now(), out);
  EXPECT_EQ(r.stats().bad_commits, 1u);
  EXPECT_EQ(r.committed_height().value(), next.value() - 1);
  for (const Action& a : out)
    EXPECT_FALSE(std::holds_alternative<Committed>(a));
}

// --- Transactions and catch-up -----------------------------------------------------------

TEST(Replica, SubmittedTransactionIsGossipedAndCommittedEverywhere) {
  Network net(4);
  ASSERT_TRUE(net.run_until([&] { return net.all_at_least(1); }));
  const NodeId device = node_of(2, 1);
  const ledger::Transaction tx = join_tx(net.replica(2).mempool().check_state(), device, 7);
  std::vector<Action> out;
  ASSERT_TRUE(net.replica(2).submit(net.replica(2).sign(tx), net.now(), out).ok());
  ASSERT_EQ(out.size(), 1u);
  ASSERT_TRUE(std::holds_alternative<BroadcastAll>(out[0]));
  net.execute(2, out);
  // Submitting it again is a duplicate.
  std::vector<Action> again;
  auto duplicate = net.replica(2).submit(net.replica(2).sign(tx), net.now(), again);
  ASSERT_FALSE(duplicate.ok());
  EXPECT_EQ(duplicate.error().error, ledger::MempoolError::kDuplicate);
  EXPECT_TRUE(again.empty());

  auto everywhere = [&] {
    for (std::size_t i = 0; i < 4; ++i) {
      if (!net.replica(i).state().node_id_used(device)) return false;
    }
    return true;
  };
  ASSERT_TRUE(net.run_until(everywhere));
  for (std::size_t i = 0; i < 4; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(net.replica(i).state_hash(), net.replica(0).state_hash());
    EXPECT_EQ(net.replica(i).mempool().size(), 0u);
    if (i != 2) {
      EXPECT_GE(net.replica(i).stats().transactions_accepted, 1u);
    }
  }
  std::size_t carrying = 0;
  for (const auto& [i, c] : net.commits)
    carrying += c.applied.size();
  EXPECT_EQ(carrying, 4u);  // the one transaction, committed once at each replica
  net.expect_same_chain();
}

TEST(Replica, LaggingReplicaCatchesUpBySync) {
  Network net(4);
  ASSERT_TRUE(net.run_until([&] { return net.all_at_least(1); }));
  // Everything to replica 3 is lost while the others decide several heights.
  net.drop = [](std::size_t, std::size_t to) { return to == 3; };
  const std::uint64_t behind = net.replica(3).committed_height().value();
  ASSERT_TRUE(net.run_until([&] {
    for (std::size_t i = 0; i < 3; ++i) {
      if (net.replica(i).committed_height().value() < behind + 5) return false;
    }
    return true;
  }));
  EXPECT_EQ(net.replica(3).committed_height().value(), behind);
  // The network heals: replica 3 learns the decided blocks from their certificates.
  net.drop = nullptr;
  const std::uint64_t target = net.replica(0).committed_height().value() + 2;
  ASSERT_TRUE(net.run_until([&] { return net.all_at_least(target); }));
  EXPECT_GT(net.replica(3).stats().commits_by_sync, 0u);
  EXPECT_GT(net.serves, 0u);
  EXPECT_EQ(net.replica(3).state_hash(), net.replica(0).state_hash());
  net.expect_same_chain();
  net.expect_no_conflicting_votes();
  bool by_sync = false;
  for (const auto& [i, c] : net.commits)
    by_sync = by_sync || (i == 3 && c.by_sync);
  EXPECT_TRUE(by_sync);
}

constexpr std::int64_t kHourMs = 3'600'000;

// A replica whose clock runs an hour behind follows the chain: it decides and syncs blocks its
// clock calls the future, says so, and judges fresh proposals by the chain's time, so it still
// prevotes them. Two such replicas of four are half the power: without their prevotes nothing
// would be decided at all.
TEST(Replica, ReplicasWithClocksAnHourBehindFollowAndKeepTheChainLive) {
  Network net({1, 1, 1, 1}, {}, {0, 0, -kHourMs, -kHourMs});
  ASSERT_TRUE(net.run_until([&] { return net.all_at_least(8); }));
  net.expect_same_chain();
  net.expect_no_conflicting_votes();
  for (std::size_t i : {2u, 3u}) {
    EXPECT_GT(net.replica(i).stats().blocks_ahead_of_clock, 0u) << i;
    EXPECT_TRUE(net.noted(i, ClockNote::Kind::kClockBehind)) << i;
    EXPECT_TRUE(net.prevoted_a_block(i, 3)) << i;
  }
  EXPECT_FALSE(net.noted(0, ClockNote::Kind::kClockBehind));
  // Blocks are never stamped in the slow clocks' past: time only moves on.
  for (std::size_t h = 1; h < net.node(0).store.size(); ++h)
    EXPECT_GT(net.node(0).store[h].block.header.timestamp_ms,
              net.node(0).store[h - 1].block.header.timestamp_ms);
}

// A replica whose clock runs an hour ahead has its proposals refused (the others prevote nil and
// say whose proposal and by how much), so its rounds are lost, but it follows the chain, and
// says its clock is ahead.
TEST(Replica, AReplicaWithAClockAnHourAheadFollowsButItsProposalsAreRefused) {
  Network net({1, 1, 1, 1}, {}, {0, 0, 0, kHourMs});
  ASSERT_TRUE(net.run_until([&] { return net.all_at_least(8); }));
  net.expect_same_chain();
  for (const StoredBlock& b : net.node(0).store) {
    EXPECT_NE(b.block.header.proposer, GatewayId{3});
    EXPECT_LE(b.block.header.timestamp_ms, net.now() + 10'000);
  }
  std::uint64_t refused = 0;
  for (std::size_t i = 0; i < 3; ++i)
    refused += net.replica(i).stats().untimely_proposals;
  EXPECT_GT(refused, 0u);
  bool named = false;
  for (const auto& [i, note] : net.clock_notes) {
    if (note.kind == ClockNote::Kind::kProposalAhead) {
      EXPECT_EQ(note.proposer, GatewayId{3});
      EXPECT_GE(note.by_ms, 3'500'000u);
      named = true;
    }
  }
  EXPECT_TRUE(named);
  EXPECT_TRUE(net.noted(3, ClockNote::Kind::kClockAhead));
  EXPECT_EQ(net.replica(3).stats().untimely_proposals, 0u);
}

// The liveness bug of a consortium whose quorum is every correct gateway: one replica leaves a
// round (it saw every precommit) while its own precommit of that round is lost to the others,
// who then wait for it for good unless it sends them what they lack. Its rebroadcast carries
// only its current round's messages, and one replica ahead is not the third of the power that
// lets the others skip rounds.
TEST(Replica, AReplicaThatLeftARoundSendsTheOthersItsVotesOfIt) {
  Network net(3);
  ASSERT_TRUE(net.run_until([&] { return net.all_at_least(1); }));
  const Height h{net.replica(0).committed_height().value() + 1};
  auto of_round_zero = [h](const Message& m) {
    if (const auto* p = std::get_if<ledger::Proposal>(&m))
      return p->height == h && p->round.value() == 0;
    if (const auto* v = std::get_if<ledger::Vote>(&m))
      return v->height == h && v->round.value() == 0;
    return false;
  };
  // Round 0 of height h: no proposal arrives anywhere (all prevote and precommit nil), and
  // replica 2's precommit reaches nobody - except, after it moved on, in a catch-up. Its
  // messages of later rounds are lost too while a receiver is still in round 0, or the others
  // would simply skip to its round (L55: one gateway of three is more than the Byzantine power).
  auto later_round_of_2 = [h](std::size_t from, const Message& m) {
    if (const auto* p = std::get_if<ledger::Proposal>(&m))
      return from == 2 && p->height == h && p->round.value() >= 1;
    const auto* v = std::get_if<ledger::Vote>(&m);
    return from == 2 && v && v->height == h && v->round.value() >= 1;
  };
  net.drop_message = [&](std::size_t from, std::size_t to, const Message& m) {
    if (later_round_of_2(from, m)) return net.replica(to).engine().round().value() == 0;
    if (!of_round_zero(m)) return false;
    if (std::holds_alternative<ledger::Proposal>(m)) return true;
    const auto& v = std::get<ledger::Vote>(m);
    return from == 2 && v.validator.value() == 2 && v.type == ledger::VoteType::kPrecommit &&
           net.replica(2).engine().round().value() == 0;
  };
  ASSERT_TRUE(net.run_until([&] { return net.replica(2).engine().round().value() >= 1; }));
  EXPECT_EQ(net.replica(0).engine().round().value(), 0u);
  // The others are stuck in round 0 without replica 2's precommit; their rebroadcasts tell it
  // so, and it answers with the round's votes.
  ASSERT_TRUE(net.run_until([&] { return net.all_at_least(h.value() + 2); }, 20000));
  EXPECT_GT(net.replica(2).stats().catch_ups_sent, 0u);
  net.expect_same_chain();
  net.expect_no_conflicting_votes();
}

// The same, with replica 2 restarted after it left round 0 (P3F0 seed 448 of the sweep): its
// lost precommit of round 0 comes back from its WAL, where the own votes of the round left are
// kept, and a catch-up still serves it.
TEST(Replica, ItsVotesOfTheRoundItLeftSurviveARestart) {
  Network net(3);
  ASSERT_TRUE(net.run_until([&] { return net.all_at_least(1); }));
  const Height h{net.replica(0).committed_height().value() + 1};
  net.drop_message = [&](std::size_t from, std::size_t to, const Message& m) {
    if (const auto* p = std::get_if<ledger::Proposal>(&m)) {
      if (p->height != h) return false;
      return p->round.value() == 0 || (from == 2 && net.replica(to).engine().round().value() == 0);
    }
    const auto* v = std::get_if<ledger::Vote>(&m);
    if (!v || v->height != h || from != 2) return false;
    if (v->round.value() >= 1) return net.replica(to).engine().round().value() == 0;
    return v->type == ledger::VoteType::kPrecommit && net.replica(2).engine().round().value() == 0;
  };
  ASSERT_TRUE(net.run_until([&] { return net.replica(2).engine().round().value() >= 1; }));
  EXPECT_EQ(net.replica(0).engine().round().value(), 0u);
  net.crash(2);
  net.restart(2);
  EXPECT_EQ(net.replica(2).engine().round().value(), 1u);
  ASSERT_TRUE(net.run_until([&] { return net.all_at_least(h.value() + 2); }, 20000));
  EXPECT_GT(net.replica(2).stats().catch_ups_sent, 0u);
  net.expect_same_chain();
  net.expect_no_conflicting_votes();
}

// The same with unequal powers and the quorum exactly reachable: 2+1+1+1 = 5, quorum 4 (more
// than 10/3), so replicas 1, 2, 3 together (3) are not enough without replica 0.
TEST(Replica, CatchUpWorksWithUnequalPowers) {
  Network net(std::vector<std::uint64_t>{2, 1, 1, 1});
  ASSERT_TRUE(net.run_until([&] { return net.all_at_least(1); }));
  const Height h{net.replica(1).committed_height().value() + 1};
  net.drop_message = [&](std::size_t from, std::size_t, const Message& m) {
    if (const auto* p = std::get_if<ledger::Proposal>(&m))
      return p->height == h && p->round.value() == 0;
    const auto* v = std::get_if<ledger::Vote>(&m);
    return v && v->height == h && v->round.value() == 0 && from == 0 && v->validator.value() == 0 &&
           v->type == ledger::VoteType::kPrecommit && net.replica(0).engine().round().value() == 0;
  };
  ASSERT_TRUE(net.run_until([&] { return net.all_at_least(h.value() + 2); }, 20000));
  EXPECT_GT(net.replica(0).stats().catch_ups_sent, 0u);
  net.expect_same_chain();
  net.expect_no_conflicting_votes();
}

}  // namespace
}  // namespace kmchain::consensus
