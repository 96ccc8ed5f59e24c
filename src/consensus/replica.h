// Replica: one gateway's ledger node, the composition the daemon and the simulator both run.
// It owns the consensus engine, the replicated ledger state, the mempool, and the rules that
// move decided blocks between gateways (catch-up); it is a deterministic state machine like
// the engine: bytes and timeouts in, actions out, no I/O.
//
// Actions, executed by the shell in order:
//   WriteWal      append the signer state to the ConsensusWal - before any later send
//   StoreBlock    append a decided block to the BlockStore - before any later WAL write
//   SendTo        bytes (an encoded Message) to one gateway
//   BroadcastAll  bytes to every other gateway
//   Schedule      deliver the timeout back at `at_ms`
//   ServeBlocks   read decided blocks from..to from the BlockStore and send each to a gateway
//                 as a CommitMessage (the store is the shell's)
//   Committed     a block is final here (for observers: key work, metrics, checkers)
//   ClockNote     the local clock disagrees with the chain's time (for the log; rate-limited)
//
// Everything a peer sends is untrusted: decode errors and ignored messages are counted in
// stats(), never asserted on. Messages of the next height are buffered (bounded) and replayed
// when it starts; a message from further ahead makes the replica ask that peer for the blocks
// it lacks; a message from behind makes it offer the sender the blocks it lacks, and a peer's
// own message of an earlier round of this height gets it the votes it lacks to catch up.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "base/ids.h"
#include "base/result.h"
#include "consensus/engine.h"
#include "consensus/message.h"
#include "consensus/storage.h"
#include "ledger/contract.h"
#include "ledger/genesis.h"
#include "ledger/ledger_state.h"
#include "ledger/mempool.h"

namespace kmchain::consensus {

struct ReplicaConfig {
  Timeouts timeouts;
  EngineFaults faults;
  std::size_t mempool_capacity = 4096;
  // Transactions a proposer puts in one block (at most limits::kBlockTransactionsMax).
  std::size_t block_transactions_max = 256;
  // A fresh proposal's timestamp may be at most this far ahead of the local clock (see
  // Replica::timely for the whole block-time rule).
  std::uint64_t clock_drift_max_ms = 10'000;
  // At most one sync request to, and one block batch for, each peer per interval.
  std::uint64_t sync_interval_ms = 500;
  std::size_t sync_batch = 16;
};

// Messages of the next height kept until it starts; more are dropped (senders re-send).
inline constexpr std::size_t kNextHeightBufferPerValidator = 8;
// Evidence of equivocation kept across heights (proposals and votes together).
inline constexpr std::size_t kEvidenceKept = 256;

struct WriteWal {
  Bytes record;
};
struct StoreBlock {
  StoredBlock stored;
};
struct SendTo {
  GatewayId to;
  Bytes bytes;
};
struct BroadcastAll {
  Bytes bytes;
};
struct Schedule {
  TimeoutIn timeout;
  std::uint64_t at_ms;
};
struct ServeBlocks {
  GatewayId to;
  Height from;
  Height to_height;
};
struct Committed {
  Height height;
  Round round;
  ledger::Hash256 block_hash{};
  ledger::Hash256 state_hash{};
  // The block's transactions as the ledger applied them, with their structural steps: the
  // membership computed once, for the key work.
  std::vector<ledger::AppliedTransaction> applied;
  bool by_sync = false;  // learnt from a peer's commit certificate, not by voting
};
// The local clock and the chain's time disagree by more than the allowed drift.
struct ClockNote {
  enum class Kind : std::uint8_t {
    kProposalAhead = 1,  // a fresh proposal was refused: its time is ahead of the local clock
    kClockBehind = 2,    // a final block's time is ahead of the local clock
    kClockAhead = 3,     // the local clock is ahead of a block decided at once
  } kind;
  Height height;
  GatewayId proposer;
  std::uint64_t by_ms = 0;  // how far apart
};
const char* to_string(ClockNote::Kind kind);
// At most one ClockNote of a kind per interval.
inline constexpr std::uint64_t kClockNoteIntervalMs = 10'000;

using Action = std::variant<WriteWal, StoreBlock, SendTo, BroadcastAll, Schedule, ServeBlocks,
                            Committed, ClockNote>;

enum class RestoreError : std::uint8_t {
  kWrongHeight = 1,         // a stored block out of order
  kBrokenChain = 2,         // its previous hash is not the last block's
  kInvalidTransaction = 3,  // a stored transaction the contract refuses
  kStateMismatch = 4,       // the state after it is not the stored state hash
  kBadWal = 5,              // the WAL record does not decode
  kWalAhead = 6,            // the WAL is of a height above the next: the store lost blocks
};
const char* to_string(RestoreError e);

struct Evidence {
  enum class Kind : std::uint8_t { kVote = 1, kProposal = 2 } kind;
  Height height;
  Round round;
  GatewayId validator;
  Bytes first;  // the two signed messages, encoded
  Bytes second;
};

struct ReplicaStats {
  std::map<MessageErrorCode, std::uint64_t> decode_errors;
  std::map<Ignored, std::uint64_t> ignored;
  std::uint64_t messages = 0;
  std::uint64_t transactions_accepted = 0;
  std::uint64_t transactions_refused = 0;
  std::uint64_t next_height_buffered = 0;
  std::uint64_t next_height_dropped = 0;
  std::uint64_t commits_by_sync = 0;
  std::uint64_t bad_commits = 0;  // a commit whose certificate or block fails
  std::uint64_t certificate_verifications = 0;
  std::uint64_t equivocations = 0;
  std::uint64_t catch_ups_sent = 0;         // a peer behind in our round was sent what it lacks
  std::uint64_t untimely_proposals = 0;     // fresh proposals prevoted nil for their time alone
  std::uint64_t blocks_ahead_of_clock = 0;  // final blocks ahead of the local clock
};

class Replica final : private ValueSource {
 public:
  Replica(const ledger::Genesis& genesis, crypto::Ed25519KeyPair key, GatewayId self,
          ReplicaConfig config);
  Replica(const Replica&) = delete;
  Replica& operator=(const Replica&) = delete;

  // Before start(): replays one block of this gateway's own store, in height order. Returns its
  // transactions as applied (for the key work to replay them too).
  Result<std::vector<ledger::AppliedTransaction>, RestoreError> restore_block(
      const StoredBlock& stored);
  // Begins consensus at the height after the last block, resuming from the WAL's last record
  // if it is of that height.
  Status<RestoreError> start(const std::optional<Bytes>& wal_record, std::uint64_t now_ms,
                             std::vector<Action>& out);

  void on_message(GatewayId from, ByteView bytes, std::uint64_t now_ms, std::vector<Action>& out);
  void on_timeout(const TimeoutIn& timeout, std::uint64_t now_ms, std::vector<Action>& out);
  // A transaction from a local client (a device join through this gateway, say): checked into
  // the mempool and gossiped to the other gateways.
  // This gateway's envelope for a change it submits (with the device's consent, for a leave).
  ledger::SignedTransaction sign(
      const ledger::Transaction& tx,
      std::optional<crypto::Ed25519Signature> device_consent = std::nullopt) const;
  Status<ledger::MempoolVerdict> submit(const ledger::SignedTransaction& tx, std::uint64_t now_ms,
                                        std::vector<Action>& out);

  GatewayId self() const { return self_; }
  Height committed_height() const { return committed_; }
  const ledger::LedgerState& state() const { return state_; }
  const ledger::Hash256& state_hash() const { return state_hash_; }
  const ledger::Hash256& last_block_hash() const { return last_hash_; }
  const ledger::Mempool& mempool() const { return mempool_; }
  const Engine& engine() const { return engine_; }
  const ReplicaStats& stats() const { return stats_; }
  const std::deque<Evidence>& evidence() const { return evidence_; }
  const ledger::Genesis& genesis() const { return genesis_; }

 private:
  ledger::Block make_block(Height height, GatewayId proposer, std::uint64_t now_ms) override;
  bool valid(const ledger::Block& block) override;
  bool timely(const ledger::Block& block, std::uint64_t now_ms) override;
  // The local clock, or the chain's time when the clock is clearly behind it.
  std::uint64_t chain_now(std::uint64_t now_ms) const;
  void note_clock(ClockNote note, std::uint64_t now_ms);
  void check_clock(const ledger::Block& block, Round round, bool by_sync, std::uint64_t now_ms);
  void flush_clock_notes(std::vector<Action>& out);

  // The height being decided: committed + 1 (the engine is on it unless waiting_).
  Height next() const { return Height{committed_.value() + 1}; }
  void start_next_height(std::uint64_t now_ms, std::vector<Action>& out);
  void run(std::vector<EngineAction>& engine_out, std::uint64_t now_ms, std::vector<Action>& out);
  void commit(const ledger::Block& block, const ledger::CommitCertificate& certificate,
              bool by_sync, std::uint64_t now_ms, std::vector<Action>& out);
  void on_consensus(GatewayId from, const Message& message, Height height, std::uint64_t now_ms,
                    std::vector<Action>& out);
  void on_commit(const CommitMessage& commit, std::uint64_t now_ms, std::vector<Action>& out);
  // verify_commit: the certificate is for this block, with a quorum of valid signatures.
  bool certified(const CommitMessage& commit) const;
  void request_sync(GatewayId from, std::uint64_t now_ms, std::vector<Action>& out);
  void help_behind(GatewayId from, const Message& message, Ignored why, std::uint64_t now_ms,
                   std::vector<Action>& out);
  void serve(GatewayId to, Height from, std::uint64_t now_ms, std::vector<Action>& out);
  void collect_evidence();
  void count(Ignored why);

  const ledger::Genesis genesis_;
  const ledger::Hash256 chain_id_;
  const GatewayId self_;
  const ReplicaConfig config_;
  const crypto::Ed25519KeyPair key_;  // signs this gateway's submissions (the engine its votes)
  ledger::LedgerState state_;
  ledger::Hash256 state_hash_{};
  ledger::Hash256 last_hash_{};
  std::uint64_t last_timestamp_ms_ = 0;
  std::vector<ClockNote> clock_notes_;  // to go out with the next actions
  std::map<ClockNote::Kind, std::uint64_t> last_clock_note_ms_;
  ledger::Mempool mempool_;
  Engine engine_;
  bool started_ = false;
  Height committed_{0};
  // Between a decision and the start of the next height (Timeouts::commit_ms).
  bool waiting_ = false;

  std::vector<std::pair<GatewayId, Message>> next_height_;
  std::map<Height, CommitMessage> pending_commits_;
  std::map<GatewayId, std::uint64_t> last_sync_request_ms_;
  std::map<GatewayId, std::uint64_t> last_serve_ms_;
  std::map<GatewayId, std::uint64_t> last_catch_up_ms_;
  std::size_t vote_evidence_seen_ = 0;
  std::size_t proposal_evidence_seen_ = 0;
  std::deque<Evidence> evidence_;
  ReplicaStats stats_;
};

}  // namespace kmchain::consensus
