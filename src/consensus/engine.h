// Engine: the Tendermint consensus algorithm for one validator (Buchman, Kwon, Milosevic,
// "The latest gossip on BFT consensus", 2018, Algorithm 1), as a deterministic state machine.
//
// Inputs are verified-or-not proposals and votes of the current height and timeouts, each
// stamped with `now_ms` by the caller; outputs are actions the shell executes in order:
//
//   PersistSigner    write the signer state to the WAL - always before the Broadcast of what
//                    it signed, so a crash at any point never lets the engine sign twice
//   Broadcast        send a signed proposal or vote to every other validator
//   ScheduleTimeout  deliver this TimeoutIn back after `after_ms`
//   Decided          the height's block and its commit certificate (Algorithm 1 line 49)
//
// After Decided the engine is idle until start() is called for the next height, which the
// replica does once it has applied and stored the block. Blocks come from, and are judged by,
// a ValueSource (getValue() and valid(v) of the paper). No I/O, no clock, no randomness:
// Ed25519 signing is deterministic.
//
// Comments "Lnn" cite the lines of Algorithm 1.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <variant>
#include <vector>

#include "base/fault_injection.h"
#include "base/ids.h"
#include "consensus/broken_rules.h"
#include "consensus/message.h"
#include "consensus/proposer.h"
#include "consensus/signer_state.h"
#include "consensus/vote_keeper.h"
#include "crypto/sign.h"
#include "ledger/block.h"
#include "ledger/certificate.h"
#include "ledger/genesis.h"
#include "ledger/timeouts.h"

namespace kmchain::consensus {

// The chain's timing parameters (ledger/timeouts.h), as every gateway's config gives them.
using Timeouts = ledger::Timeouts;

// Rules broken on purpose (consensus/broken_rules.h), only in builds with fault injection.
using EngineFaults = BrokenRules;

enum class TimeoutKind : std::uint8_t {
  kPropose = 1,
  kPrevote = 2,
  kPrecommit = 3,
  kRebroadcast = 4,
  kCommit = 5,  // the replica's: start the next height
};

struct TimeoutIn {
  Height height;
  Round round;
  TimeoutKind kind;
  friend bool operator==(const TimeoutIn&, const TimeoutIn&) = default;
};

struct PersistSigner {
  SignerState state;
};
struct Broadcast {
  Message message;
};
struct ScheduleTimeout {
  TimeoutIn timeout;
  std::uint64_t after_ms;
};
struct Decided {
  ledger::Block block;
  ledger::CommitCertificate certificate;
};
using EngineAction = std::variant<PersistSigner, Broadcast, ScheduleTimeout, Decided>;

// getValue() and valid(v) (L18, L22), with valid(v) split in two. valid() is deterministic: every
// correct validator gives the same answer for a block at a height, whatever its clock, so a value
// decided by a quorum (L49) is never refused by a correct one. timely() adds the local clock's
// view of the block's time and is asked only before prevoting a fresh proposal (L22, vr = -1);
// a re-proposed value (L28) or a locked one (L36) already has a polka, at least one correct
// validator of which found it timely.
class ValueSource {
 public:
  virtual ~ValueSource() = default;
  virtual ledger::Block make_block(Height height, GatewayId proposer, std::uint64_t now_ms) = 0;
  virtual bool valid(const ledger::Block& block) = 0;
  virtual bool timely(const ledger::Block& block, std::uint64_t now_ms) = 0;
};

// Why an input was not used; counted by the replica, never fatal.
enum class Ignored : std::uint8_t {
  kNone = 0,
  kWrongHeight = 1,
  kUnknownValidator = 2,
  kNotProposer = 3,
  kBadSignature = 4,
  kDuplicate = 5,
  kEquivocation = 6,
  kDecided = 7,
  kStale = 8,  // a timeout of a height, round or step already left
};
const char* to_string(Ignored why);

struct EngineStats {
  std::uint64_t signatures_verified = 0;
  std::uint64_t signatures_skipped = 0;  // exact duplicates recognised before verifying
  std::uint64_t signed_messages = 0;
  std::uint64_t proposal_equivocations = 0;
};

// What a peer behind in rounds is sent (Engine::catch_up).
struct CatchUp {
  std::vector<ledger::Proposal> proposals;
  std::vector<ledger::Vote> votes;
};

struct ProposalEquivocation {
  ledger::Proposal first;
  ledger::Proposal second;
};

class Engine {
 public:
  Engine(const ledger::Genesis& genesis, const ledger::Hash256& chain_id,
         crypto::Ed25519KeyPair key, GatewayId self, Timeouts timeouts, EngineFaults faults,
         ValueSource& source);

  // Begins `height` (L10-11 StartRound(0)), or resumes it from a signer state of that height.
  void start(Height height, const std::optional<SignerState>& restored, std::uint64_t now_ms,
             std::vector<EngineAction>& out);

  Ignored on_proposal(const ledger::Proposal& proposal, std::uint64_t now_ms,
                      std::vector<EngineAction>& out);
  Ignored on_vote(const ledger::Vote& vote, std::uint64_t now_ms, std::vector<EngineAction>& out);
  Ignored on_timeout(const TimeoutIn& timeout, std::uint64_t now_ms,
                     std::vector<EngineAction>& out);

  Height height() const { return signer_.height; }
  Round round() const { return signer_.round; }
  Step step() const { return signer_.step; }
  bool decided() const { return decided_; }
  const SignerState& signer_state() const { return signer_; }
  GatewayId proposer(Height height, Round round) const { return schedule_.proposer(height, round); }
  const VoteKeeper& votes() const { return votes_; }
  const std::vector<ProposalEquivocation>& proposal_evidence() const { return proposal_evidence_; }
  // The proposal stored for `round` of this height, if any.
  const ledger::Proposal* proposal(Round round) const;
  const EngineStats& stats() const { return stats_; }

  // What a validator whose latest message at this height is of an earlier round than ours
  // lacks to catch up (CometBFT gossips a peer the votes of its round): the proposal and every
  // stored vote of its round, which end that round for it; the precommits of the round before
  // ours, a quorum that lets it skip there (L55) and time out; and the proposal and votes of
  // ours. Empty if the peer is not behind. Liveness must not rest on a liar's future-round
  // votes pulling laggards along, nor on the network keeping every message of a round left.
  CatchUp catch_up(Round peer_round) const;

  // The quorum and one-third rules this engine counts with (faults may break the first).
  bool quorum(std::uint64_t power) const;
  bool one_third(std::uint64_t power) const;

 private:
  void start_round(Round round, std::uint64_t now_ms, std::vector<EngineAction>& out);
  void evaluate(std::uint64_t now_ms, std::vector<EngineAction>& out);
  bool try_decide(std::vector<EngineAction>& out);
  bool try_round_skip(std::uint64_t now_ms, std::vector<EngineAction>& out);
  bool on_current_proposal(std::uint64_t now_ms, std::vector<EngineAction>& out);
  bool on_prevote_quorum(std::vector<EngineAction>& out);
  bool on_precommit_quorum(std::vector<EngineAction>& out);
  bool valid(const ledger::Block& block);
  void sign_vote(ledger::VoteType type, const std::optional<ledger::Hash256>& value,
                 std::vector<EngineAction>& out);
  void persist(std::vector<EngineAction>& out);
  void relay_polka(std::vector<EngineAction>& out);
  void schedule(TimeoutKind kind, std::uint64_t after_ms, std::vector<EngineAction>& out);
  const ledger::Block* known_block(const ledger::Hash256& hash) const;
  static bool is_locked_on(const SignerState& s, const ledger::Hash256& hash);

  const ledger::Genesis& genesis_;
  ledger::Hash256 chain_id_;
  crypto::Ed25519KeyPair key_;
  GatewayId self_;
  Timeouts timeouts_;
  [[maybe_unused]] EngineFaults faults_;  // empty outside fault-injection builds
  ValueSource& source_;
  ProposerSchedule schedule_;
  std::uint64_t total_power_;

  SignerState signer_;
  bool decided_ = false;
  VoteKeeper votes_;
  std::map<Round, ledger::Proposal> proposals_;  // the round proposer's first proposal
  std::map<ledger::Hash256, bool> valid_cache_;
  // "for the first time" flags of L34, L36 and L47, per round.
  std::set<Round> prevote_timeout_scheduled_;
  std::set<Round> locked_in_round_;
  std::set<Round> precommit_timeout_scheduled_;
  std::vector<ProposalEquivocation> proposal_evidence_;
  EngineStats stats_;
};

}  // namespace kmchain::consensus
