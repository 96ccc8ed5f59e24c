// ByzantineGateways: what the simulator's lying gateways do. A Byzantine gateway runs a real
// replica but tampers with what it sends, each with its own random set of behaviours:
// equivocating proposals and votes, votes for invalid or unknown blocks, bad signatures and
// votes in another's name, stale and future messages, silence, floods of signed votes across
// rounds, garbage bytes, the split-lock attack (below), which only the lock rule survives, and
// membership changes it has no right to make (forged, foreign and replayed transactions).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "consensus/message.h"
#include "consensus/proposer.h"
#include "consensus/replica.h"
#include "consensus/storage.h"
#include "crypto/random.h"
#include "crypto/sign.h"
#include "ledger/genesis.h"

namespace kmchain::sim {

enum Behaviour : std::uint32_t {
  kEquivocate = 1u << 0,
  kInvalidVotes = 1u << 1,
  kBadSignatures = 1u << 2,
  kStaleFuture = 1u << 3,
  kSilence = 1u << 4,
  kFlood = 1u << 5,
  kGarbage = 1u << 6,
  kSplitLock = 1u << 7,
  kInvalidProposals = 1u << 8,  // its proposals break one validity rule each
  kOutOfTurn = 1u << 9,         // proposals in rounds not its own, or in the proposer's name
  kForgedSync = 1u << 10,       // blocks with forged, short or borrowed commit certificates
  kFakePolka = 1u << 11,        // re-proposals with a valid round whose polka never happened
  kRoundAhead = 1u << 12,       // with each vote, a vote two rounds on: always ahead
  // Membership changes it may not make: joins into another gateway's range, leaves without the
  // device's consent or in another's name, envelopes signed with its key in another's name,
  // evictions of other gateways' devices (a valid request, which alone must not evict), moves
  // of other gateways' devices to itself without the device's consent, and replays of final
  // changes; gossiped, and put in its own proposals.
  kForgedTransactions = 1u << 13,
};
inline constexpr int kBehaviourCount = 14;
inline constexpr std::uint32_t kAllBehaviours = (1u << kBehaviourCount) - 1;
// The behaviours drawn from a seed's main stream; the later ones from a stream of their own, so
// that the rest of each seed's run is what it was before they existed.
inline constexpr std::uint32_t kMainStreamBehaviours = (1u << 13) - 1;
std::string describe_behaviours(std::uint32_t behaviours);

// What the simulator offers its liars: the network, the time, and their own ledger.
class ByzantineHost {
 public:
  virtual ~ByzantineHost() = default;
  // Sends through the simulated network (with its loss, delay, partitions).
  virtual void transmit(std::size_t from, std::size_t to, const Bytes& bytes) = 0;
  virtual bool faulty_phase() const = 0;
  virtual std::uint64_t now_ms() const = 0;
  // Gateway i's replica while it runs (a liar forges from what its own replica knows).
  virtual const consensus::Replica* replica_of(std::size_t i) const = 0;
  // Block `height` of gateway i's store, if it has it.
  virtual std::optional<consensus::StoredBlock> stored_block(std::size_t i,
                                                             Height height) const = 0;
};

class ByzantineGateways {
 public:
  ByzantineGateways(const ledger::Genesis& genesis, std::uint64_t seed, crypto::Rng& rng,
                    ByzantineHost& host, bool trace);

  // Makes `count` gateways chosen at random Byzantine, each with a random set of behaviours.
  void draw(std::size_t count, bool force_equivocation, bool force_split_lock,
            std::uint32_t force_behaviours = 0);
  bool is_byzantine(std::size_t gateway) const { return behaviours_.contains(gateway); }
  std::uint32_t behaviours(std::size_t gateway) const;
  // "gateway 2 byzantine: flood+silence; ..." for the run's description.
  std::string describe() const;

  // What Byzantine gateway `from` sends when its replica sends `bytes` to `to`.
  void send(std::size_t from, const std::vector<std::size_t>& to, const Bytes& bytes);
  // A correct gateway sent `m` (the split-lock attack watches the later rounds of its height).
  void note_sent(const consensus::Message& m);
  // Whether a correct gateway that just decided `height` is the split-lock attack's decider,
  // which must now be cut off before it tells the others.
  bool is_split_lock_decider(std::size_t gateway, Height height, bool by_sync) const;
  // Whether the network, on the split-lock attacker's side, loses this message while faults
  // last: the attacker's prevote for v and its proposal as a locker relays them to a gateway
  // that is not one (with them the others would see the lockers' polka), and the block the
  // decider hands on (which would give the others v).
  bool network_withholds(std::size_t from, std::size_t to, const Bytes& bytes) const;
  // Whether `m`, sent by correct gateway `gateway`, is a split-lock locker's precommit for the
  // attacked value: it is locked now (the moment to restart it, for the WAL's lock rule).
  bool is_split_lock_locker_precommit(std::size_t gateway, const consensus::Message& m) const;
  // A burst against every bound from Byzantine gateway `from`, whose chain ends with `last`.
  void flood(std::size_t from, Height next, const std::optional<consensus::StoredBlock>& last);
  void toggle_silence(std::size_t gateway) { silent_now_[gateway] = !silent_now_[gateway]; }

  std::uint64_t split_lock_attacks() const { return split_lock_attacks_; }
  // Transactions sent that no gateway may accept, or (eviction requests) that must not evict.
  std::uint64_t forged_transactions() const { return forged_transactions_; }

 private:
  // The split-lock attack: a Byzantine proposer, with the network on its side, drives the
  // correct gateways into the one situation that only the lock rule (L22, L28) keeps safe.
  // At its round r it shows its block v to `lockers` (just enough correct gateways that with
  // its own vote they make a quorum) and another block to the rest, who include the proposer
  // of round r+1. The lockers see a polka for v, lock on it and precommit it; the attacker's
  // precommit for v goes to one of them only, the decider, which decides v and is then cut
  // off. The other lockers move to round r+1 locked on v, where a correct proposer that never
  // saw v proposes a fresh block, and the attacker votes for it. Correct lockers prevote nil
  // and the height goes on safely; lockers that ignore their lock give that block a quorum,
  // and it is decided beside v.
  struct SplitLock {
    std::size_t attacker = 0;
    Height height;
    Round round;
    ledger::Hash256 value{};  // v
    Bytes proposal;           // the proposal of v, and of the other block, as sent
    Bytes other_proposal;
    ledger::Hash256 other_value{};
    std::set<std::size_t> lockers;
    std::size_t decider = 0;
    std::optional<ledger::Hash256> next_value;  // the proposal of round r+1, once sent
    std::set<std::uint32_t> backed;             // later rounds whose fresh block it voted for
    std::set<std::uint32_t> own_turns;          // later rounds it proposed in itself
    std::set<std::uint32_t> waved_on;           // later rounds it voted nil in
  };

  crypto::Ed25519KeyPair& key_of(std::size_t i);
  ledger::Hash256 random_hash();
  ledger::Transaction made_up_join(std::size_t i, SetId set, std::uint32_t tag);
  // `tx` in an envelope signed by gateway i as itself.
  ledger::SignedTransaction signed_by(std::size_t i, const ledger::Transaction& tx);
  Bytes resign_vote(std::size_t i, ledger::Vote v);
  bool start_split_lock(std::size_t i, const ledger::Proposal& p);
  // A membership change gateway i has no right to make (kForgedTransactions), if it can forge one
  // from what its replica knows.
  std::optional<ledger::SignedTransaction> forged_transaction(std::size_t i);
  // A proposal's block broken in one of the ways valid(v) refuses, re-signed.
  Bytes invalid_proposal(std::size_t i, const ledger::Proposal& p);
  // A valid-looking empty block at `height` on gateway i's chain, if it has the one before.
  std::optional<ledger::Block> fabricated_block(std::size_t i, Height height);
  // The attack's later rounds, driven by what correct gateways send: the attacker's prevote and
  // precommit for any fresh block proposed there, and its own fake-polka proposals.
  void split_lock_later_round(const consensus::Message& m);
  void back_value(Round round, const std::optional<ledger::Hash256>& value);
  void send_out_of_turn(std::size_t i, const std::vector<std::size_t>& to, const ledger::Vote& v);
  void send_forged_commit(std::size_t i, const std::vector<std::size_t>& to, Height height);
  void send_all(std::size_t i, const std::vector<std::size_t>& to, const Bytes& bytes);
  bool split_lock_send(std::size_t i, const std::vector<std::size_t>& to,
                       const consensus::Message& m);

  const ledger::Hash256 chain_id_;
  const ledger::Hash256 genesis_state_hash_;
  const std::uint64_t seed_;
  const std::size_t gateways_;
  crypto::Rng& rng_;
  ByzantineHost& host_;
  const bool trace_;
  consensus::ProposerSchedule schedule_;
  std::vector<std::uint64_t> powers_;
  std::uint64_t total_power_ = 0;
  std::map<std::size_t, std::uint32_t> behaviours_;
  std::map<std::size_t, bool> silent_now_;
  std::map<std::size_t, crypto::Ed25519KeyPair> keys_;
  std::map<std::pair<std::uint64_t, std::uint32_t>, ledger::Hash256> alt_blocks_;
  std::optional<SplitLock> split_;
  std::uint64_t split_lock_attacks_ = 0;
  std::uint64_t forged_transactions_ = 0;
  crypto::DeterministicRng forge_rng_;
};

}  // namespace kmchain::sim
