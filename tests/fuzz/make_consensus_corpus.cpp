// Writes the seed corpora of the consensus fuzz targets for the fixed consortium
// (ledger_fuzz_fixture.h): messages of every kind and a few near misses (fuzz_message), signer
// states (fuzz_signer_state), and replica scripts (fuzz_replica). Built only with KMCHAIN_FUZZ;
// run once by hand and its output committed:
//   build-fuzz/tests/fuzz/make_consensus_corpus tests/fuzz/corpus
//
// The replica scripts come from a small in-process network of the four replicas (instant
// delivery, timeouts fired in time order): what gateway 0 receives, and which of its timeouts
// fire, is written in fuzz_replica's script format, so the fuzzer starts from inputs carrying
// valid signatures that drive gateway 0 through whole heights. The timeout bookkeeping and the
// replay are fuzz_replica's own (replica_script.h); the generator checks that replaying each
// script into a fresh replica commits what the network run committed.
#include <algorithm>
#include <array>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "consensus/message.h"
#include "consensus/replica.h"
#include "consensus/signer_state.h"
#include "corpus_writer.h"
#include "ledger_fuzz_fixture.h"
#include "replica_script.h"

using namespace kmchain;
namespace fs = std::filesystem;
using fuzz::kAdvanceMaxUnits;
using fuzz::kAdvanceUnitMs;
using fuzz::kScriptStartMs;
using fuzz::write_seed;

namespace {

// A fuzz_replica script for gateway 0, with its clock.
struct Script {
  Bytes bytes;
  std::uint64_t now = kScriptStartMs;

  void message(GatewayId from, std::uint64_t at_ms, ByteView body) {
    KMCHAIN_FUZZ_ASSERT(at_ms >= now && (at_ms - now) % kAdvanceUnitMs == 0);
    std::uint64_t units = (at_ms - now) / kAdvanceUnitMs;
    while (units > kAdvanceMaxUnits) {  // an empty message from gateway 0 only moves the clock
      bytes.push_back(static_cast<std::uint8_t>(kAdvanceMaxUnits << 2));
      bytes.push_back(0);
      bytes.push_back(0);
      units -= kAdvanceMaxUnits;
    }
    now = at_ms;
    KMCHAIN_FUZZ_ASSERT(body.size() <= 0xffff);
    bytes.push_back(static_cast<std::uint8_t>((units << 2) | from.value()));
    bytes.push_back(static_cast<std::uint8_t>(body.size() >> 8));
    bytes.push_back(static_cast<std::uint8_t>(body.size()));
    bytes.insert(bytes.end(), body.begin(), body.end());
  }
  // at_ms: when the fired timeout is due, if known; with 0 this clock lags the replica's, which
  // only delivers the script's later messages later than their at_ms.
  void timeout(std::size_t k, std::uint64_t at_ms) {
    KMCHAIN_FUZZ_ASSERT(k < 16);
    bytes.push_back(static_cast<std::uint8_t>(0xf0 + k));
    now = std::max(now, at_ms);
  }
};

// Four replicas with instant delivery; records gateway 0's inputs as a script.
class Network {
 public:
  // Messages from `mute` to gateway 0 are lost (none if 0).
  explicit Network(std::uint16_t mute = 0) : mute_(mute) {
    const auto& f = fuzz::ledger_fixture();
    for (std::uint16_t i = 0; i < fuzz::kLedgerValidators; ++i) {
      nodes_.push_back(
          Node{std::make_unique<consensus::Replica>(f.genesis, fuzz::ledger_key(i), GatewayId{i},
                                                    consensus::ReplicaConfig{}),
               {},
               {}});
    }
    for (std::uint16_t i = 0; i < fuzz::kLedgerValidators; ++i) {
      std::vector<consensus::Action> out;
      KMCHAIN_FUZZ_ASSERT(nodes_[i].replica->start(std::nullopt, now_, out).ok());
      execute(i, out);
    }
  }

  // Runs until every gateway has committed `height`, or `steps` events.
  void run_until(std::uint64_t height, std::size_t steps) {
    for (std::size_t step = 0; step < steps; ++step) {
      bool done = true;
      for (const Node& n : nodes_)
        done = done && n.replica->committed_height().value() >= height;
      if (done) return;
      if (!queue_.empty()) {
        const Delivery d = std::move(queue_.front());
        queue_.pop_front();
        deliver(d);
        continue;
      }
      std::size_t next = nodes_.size();
      for (std::size_t i = 0; i < nodes_.size(); ++i) {
        if (nodes_[i].pending.empty()) continue;
        if (next == nodes_.size() ||
            nodes_[i].pending.earliest().at_ms < nodes_[next].pending.earliest().at_ms)
          next = i;
      }
      KMCHAIN_FUZZ_ASSERT(next != nodes_.size());
      Node& n = nodes_[next];
      const fuzz::Pending fired = *n.pending.take(0);
      now_ = std::max(now_, fired.at_ms);
      if (next == 0) script_.timeout(0, fired.at_ms);
      std::vector<consensus::Action> out;
      n.replica->on_timeout(fired.timeout, now_, out);
      execute(static_cast<std::uint16_t>(next), out);
    }
    KMCHAIN_FUZZ_ASSERT(false);  // did not converge
  }

  const Script& script() const { return script_; }
  const consensus::Replica& replica(std::size_t i) const { return *nodes_[i].replica; }
  const std::vector<consensus::StoredBlock>& stored(std::size_t i) const {
    return nodes_[i].stored;
  }
  const std::vector<Bytes>& wal0() const { return wal0_; }
  const std::vector<Bytes>& sent() const { return sent_; }

 private:
  struct Node {
    std::unique_ptr<consensus::Replica> replica;
    fuzz::PendingTimeouts pending;
    std::vector<consensus::StoredBlock> stored;
  };
  struct Delivery {
    std::uint16_t from;
    std::uint16_t to;
    Bytes bytes;
  };

  void send(std::uint16_t from, std::uint16_t to, const Bytes& bytes) {
    if (to == 0 && from == mute_ && mute_ != 0) return;
    queue_.push_back(Delivery{from, to, bytes});
  }

  void deliver(const Delivery& d) {
    if (d.to == 0) script_.message(GatewayId{d.from}, now_, d.bytes);
    std::vector<consensus::Action> out;
    nodes_[d.to].replica->on_message(GatewayId{d.from}, d.bytes, now_, out);
    execute(d.to, out);
  }

  void execute(std::uint16_t i, const std::vector<consensus::Action>& out) {
    Node& n = nodes_[i];
    for (const consensus::Action& action : out) {
      if (const auto* all = std::get_if<consensus::BroadcastAll>(&action)) {
        sent_.push_back(all->bytes);
        for (std::uint16_t j = 0; j < nodes_.size(); ++j)
          if (j != i) send(i, j, all->bytes);
      } else if (const auto* to = std::get_if<consensus::SendTo>(&action)) {
        sent_.push_back(to->bytes);
        send(i, to->to.value(), to->bytes);
      } else if (const auto* s = std::get_if<consensus::Schedule>(&action)) {
        n.pending.add(*s);
      } else if (const auto* wal = std::get_if<consensus::WriteWal>(&action)) {
        if (i == 0) wal0_.push_back(wal->record);
      } else if (const auto* store = std::get_if<consensus::StoreBlock>(&action)) {
        n.stored.push_back(store->stored);
      } else if (const auto* serve = std::get_if<consensus::ServeBlocks>(&action)) {
        for (std::uint64_t h = serve->from.value(); h <= serve->to_height.value(); ++h) {
          const consensus::StoredBlock& b = n.stored.at(h - 1);
          send(i, serve->to.value(),
               consensus::encode(
                   consensus::Message{consensus::CommitMessage{b.block, b.certificate}}));
        }
      }
    }
  }

  std::uint16_t mute_;
  std::uint64_t now_ = kScriptStartMs;
  std::vector<Node> nodes_;
  std::deque<Delivery> queue_;
  Script script_;
  std::vector<Bytes> wal0_;
  std::vector<Bytes> sent_;
};

// Replays a script into a fresh gateway 0 the way fuzz_replica does; returns its height.
std::uint64_t replay(ByteView script) {
  const auto& f = fuzz::ledger_fixture();
  consensus::Replica replica(f.genesis, fuzz::ledger_key(0), GatewayId{0},
                             consensus::ReplicaConfig{});
  fuzz::run_script(replica, script, [](const std::vector<consensus::Action>&) {});
  return replica.committed_height().value();
}

Bytes encode_message(const consensus::Message& m) {
  return consensus::encode(m);
}

}  // namespace

int main(int argc, char** argv) {
  const auto root = fuzz::corpus_root(argc, argv);
  if (!root) return 2;
  const auto& f = fuzz::ledger_fixture();

  // A network run of two heights; its traffic and WAL records feed the other corpora too.
  Network net;
  net.run_until(2, 20000);
  const auto& stored = net.stored(1);
  KMCHAIN_FUZZ_ASSERT(stored.size() >= 2);

  // Messages: one or more of every kind, then near misses.
  const fs::path msg_dir = *root / "fuzz_message";
  const ledger::Block proposed = fuzz::sample_block(5, 3);
  const ledger::Hash256 hash = ledger::block_hash(proposed);
  for (const auto& [name, proposal] : fuzz::sample_proposals(proposed))
    write_seed(msg_dir, name, encode_message(proposal));
  for (const auto& [name, vote] : fuzz::sample_votes(hash))
    write_seed(msg_dir, "vote-" + name, encode_message(vote));
  const Bytes commit =
      encode_message(consensus::CommitMessage{stored[0].block, stored[0].certificate});
  write_seed(msg_dir, "commit-height-1", commit);
  write_seed(msg_dir, "commit-sample",
             encode_message(consensus::CommitMessage{
                 proposed, fuzz::sample_certificate(5, 1, hash, {0, 1, 2, 3})}));
  write_seed(msg_dir, "transaction-0", encode_message(fuzz::sample_signed_transaction(0)));
  write_seed(msg_dir, "transaction-5", encode_message(fuzz::sample_signed_transaction(5)));
  write_seed(msg_dir, "sync-request-1", encode_message(consensus::SyncRequest{Height{1}}));
  const Bytes unknown{6, 0, 0, 0, 0, 0, 0, 0, 1};
  write_seed(msg_dir, "unknown-kind-6", unknown);
  write_seed(msg_dir, "commit-truncated", ByteView(commit).first(commit.size() - 10));
  Bytes overrun = commit;
  overrun[4] = static_cast<std::uint8_t>(overrun[4] + 1);  // the block length, one too many
  write_seed(msg_dir, "commit-block-overrun", overrun);
  write_seed(msg_dir, "sync-request-short",
             ByteView(encode_message(consensus::SyncRequest{Height{1}})).first(8));
  // And a few of what the network really sent: a proposal with its block, and votes.
  std::array<std::size_t, 6> kinds_seen{};
  for (const Bytes& b : net.sent()) {
    if (b.empty() || b[0] > 5 || kinds_seen[b[0]]++ > 0) continue;
    write_seed(msg_dir, "network-kind-" + std::to_string(b[0]), b);
  }

  // Signer states: the empty one, a full one, near misses, and gateway 0's last records.
  const fs::path ss_dir = *root / "fuzz_signer_state";
  write_seed(ss_dir, "initial", consensus::encode(consensus::SignerState{}));
  consensus::SignerState full;
  full.height = Height{5};
  full.round = Round{2};
  full.step = consensus::Step::kPrecommit;
  full.locked_round = Round{1};
  full.locked_value = proposed;
  full.valid_round = Round{2};
  full.valid_value = fuzz::sample_block(5, 1);
  full.own_proposal = ledger::sign_proposal(fuzz::ledger_key(0), f.chain_id, Height{5}, Round{2},
                                            Round{1}, proposed, GatewayId{0});
  for (auto type : {ledger::VoteType::kPrevote, ledger::VoteType::kPrecommit}) {
    full.own_votes.push_back(ledger::sign_vote(
        fuzz::ledger_key(0), f.chain_id, type, Height{5}, Round{2},
        type == ledger::VoteType::kPrevote ? std::optional{hash} : std::nullopt, GatewayId{0}));
  }
  // The valid value's polka: prevotes of validators 0..2 for it at its round.
  for (std::uint16_t v = 0; v < 3; ++v) {
    full.valid_polka.push_back(
        ledger::sign_vote(fuzz::ledger_key(v), f.chain_id, ledger::VoteType::kPrevote, Height{5},
                          Round{2}, ledger::block_hash(*full.valid_value), GatewayId{v}));
  }
  // The own votes of round 1, which it left.
  for (auto type : {ledger::VoteType::kPrevote, ledger::VoteType::kPrecommit}) {
    full.left_votes.push_back(ledger::sign_vote(fuzz::ledger_key(0), f.chain_id, type, Height{5},
                                                Round{1}, std::nullopt, GatewayId{0}));
  }
  const Bytes full_bytes = consensus::encode(full);
  KMCHAIN_FUZZ_ASSERT(consensus::decode_signer_state(full_bytes).ok());
  write_seed(ss_dir, "full", full_bytes);
  Bytes bad_step = full_bytes;
  bad_step[13] = 4;
  write_seed(ss_dir, "bad-step", bad_step);
  Bytes trailing = full_bytes;
  trailing.push_back(0);
  write_seed(ss_dir, "trailing-byte", trailing);
  consensus::SignerState ahead = full;
  ahead.locked_round = Round{3};  // above the current round
  write_seed(ss_dir, "locked-ahead", consensus::encode(ahead));
  // A version 2 record (before the left round's votes): the full one without them.
  consensus::SignerState old = full;
  old.left_votes.clear();
  Bytes v2 = consensus::encode(old);
  v2.pop_back();
  v2[0] = consensus::kSignerStateVersionNoLeftVotes;
  KMCHAIN_FUZZ_ASSERT(consensus::decode_signer_state(v2).ok());
  write_seed(ss_dir, "version-2", v2);
  const auto& wal = net.wal0();
  KMCHAIN_FUZZ_ASSERT(wal.size() >= 3);
  for (std::size_t i : {std::size_t{0}, wal.size() / 2, wal.size() - 1})
    write_seed(ss_dir, "network-wal-" + std::to_string(i), wal[i]);

  // Replica scripts.
  const fs::path rep_dir = *root / "fuzz_replica";
  const Bytes& two = net.script().bytes;
  KMCHAIN_FUZZ_ASSERT(replay(two) == net.replica(0).committed_height().value());
  write_seed(rep_dir, "two-heights", two);

  // Gateway 3 (power 4) unheard: gateway 0 cannot see a quorum and catches up from commits.
  Network muted(3);
  muted.run_until(2, 20000);
  KMCHAIN_FUZZ_ASSERT(replay(muted.script().bytes) == muted.replica(0).committed_height().value());
  write_seed(rep_dir, "catch-up-without-3", muted.script().bytes);

  // Commits out of order (height 2 then 1), a sync request, a vote from far ahead, timeouts.
  Script sync;
  const auto& s1 = net.stored(1);
  sync.message(GatewayId{1}, kScriptStartMs,
               encode_message(consensus::CommitMessage{s1[1].block, s1[1].certificate}));
  sync.message(GatewayId{1}, kScriptStartMs,
               encode_message(consensus::CommitMessage{s1[0].block, s1[0].certificate}));
  sync.message(GatewayId{2}, kScriptStartMs + 500,
               encode_message(consensus::SyncRequest{Height{1}}));
  sync.message(
      GatewayId{3}, kScriptStartMs + 1000,
      encode_message(ledger::sign_vote(fuzz::ledger_key(3), f.chain_id, ledger::VoteType::kPrevote,
                                       Height{9}, Round{0}, std::nullopt, GatewayId{3})));
  for (std::size_t k = 0; k < 4; ++k)
    sync.timeout(k, 0);
  KMCHAIN_FUZZ_ASSERT(replay(sync.bytes) >= 2);
  write_seed(rep_dir, "sync-out-of-order", sync.bytes);

  // Byzantine traffic the fuzzer cannot forge: the proposer of (1, 0) proposes two blocks, gateway
  // 3 prevotes both, a prevote signed with gateway 0's own key (as if by an earlier life of it)
  // arrives from gateway 1, then precommits for the first block and a proposal of round 1 that
  // claims a valid round.
  {
    consensus::Replica fresh(f.genesis, fuzz::ledger_key(0), GatewayId{0},
                             consensus::ReplicaConfig{});
    const GatewayId p0 = fresh.engine().proposer(Height{1}, Round{0});
    const GatewayId p1 = fresh.engine().proposer(Height{1}, Round{1});
    auto block = [&](GatewayId proposer, std::uint64_t timestamp_ms) {
      ledger::BlockHeader h;
      h.height = Height{1};
      h.previous_hash = fresh.last_block_hash();
      h.state_hash = fresh.state_hash();
      h.proposer = proposer;
      h.timestamp_ms = timestamp_ms;
      return ledger::make_block(h, {});
    };
    const ledger::Block a = block(p0, kScriptStartMs);
    const ledger::Block b = block(p0, kScriptStartMs + 1);
    const ledger::Hash256 ha = ledger::block_hash(a);
    const ledger::Hash256 hb = ledger::block_hash(b);
    auto vote = [&](std::uint16_t who, ledger::VoteType type, std::uint32_t round,
                    const std::optional<ledger::Hash256>& value) {
      return encode_message(ledger::sign_vote(fuzz::ledger_key(who), f.chain_id, type, Height{1},
                                              Round{round}, value, GatewayId{who}));
    };
    Script byz;
    for (const ledger::Block* proposed_block : {&a, &b}) {
      byz.message(
          p0, kScriptStartMs,
          encode_message(ledger::sign_proposal(fuzz::ledger_key(p0.value()), f.chain_id, Height{1},
                                               Round{0}, std::nullopt, *proposed_block, p0)));
    }
    byz.message(GatewayId{3}, kScriptStartMs, vote(3, ledger::VoteType::kPrevote, 0, ha));
    byz.message(GatewayId{3}, kScriptStartMs, vote(3, ledger::VoteType::kPrevote, 0, hb));
    byz.message(GatewayId{1}, kScriptStartMs, vote(0, ledger::VoteType::kPrevote, 0, hb));
    byz.message(GatewayId{1}, kScriptStartMs, vote(1, ledger::VoteType::kPrevote, 0, ha));
    byz.message(GatewayId{2}, kScriptStartMs, vote(2, ledger::VoteType::kPrevote, 0, ha));
    byz.message(GatewayId{3}, kScriptStartMs + 500, vote(3, ledger::VoteType::kPrecommit, 0, ha));
    byz.message(GatewayId{2}, kScriptStartMs + 500,
                vote(2, ledger::VoteType::kPrecommit, 0, std::nullopt));
    byz.timeout(0, 0);
    byz.message(p1, byz.now,
                encode_message(ledger::sign_proposal(fuzz::ledger_key(p1.value()), f.chain_id,
                                                     Height{1}, Round{1}, Round{0},
                                                     block(p1, kScriptStartMs + 2), p1)));
    byz.message(GatewayId{1}, byz.now, vote(1, ledger::VoteType::kPrecommit, 0, ha));
    for (std::size_t k = 0; k < 3; ++k)
      byz.timeout(k, 0);
    write_seed(rep_dir, "byzantine-height-1", byz.bytes);
  }

  // Nothing but timeouts: gateway 0 alone goes through rounds.
  write_seed(rep_dir, "timeouts-only", Bytes(24, 0xf0));

  std::printf("%zu seeds\n", fuzz::seeds_written);
  return 0;
}
