// ByzantineGateways: what the simulator's lying gateways do. A Byzantine gateway runs a real
// replica but tampers with what it sends, each with its own random set of behaviours:
// equivocating proposals and votes, votes for invalid or unknown blocks, bad signatures and
// votes in another's name, stale and future messages, silence, floods of signed votes across
// rounds, garbage bytes, and the split-lock attack (below), which only the lock rule survives.
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
};
inline constexpr int kBehaviourCount = 8;
inline constexpr std::uint32_t kAllBehaviours = (1u << kBehaviourCount) - 1;
std::string describe_behaviours(std::uint32_t behaviours);

// What the simulator offers its liars: the network, and the time.
class ByzantineHost {
 public:
  virtual ~ByzantineHost() = default;
  // Sends through the simulated network (with its loss, delay, partitions).
  virtual void transmit(std::size_t from, std::size_t to, const Bytes& bytes) = 0;
  virtual bool faulty_phase() const = 0;
  virtual std::uint64_t now_ms() const = 0;
};

class ByzantineGateways {
 public:
  ByzantineGateways(const ledger::Genesis& genesis, std::uint64_t seed, crypto::Rng& rng,
                    ByzantineHost& host, bool trace);

  // Makes `count` gateways chosen at random Byzantine, each with a random set of behaviours.
  void draw(std::size_t count, bool force_equivocation, bool force_split_lock);
  bool is_byzantine(std::size_t gateway) const { return behaviours_.contains(gateway); }
  std::uint32_t behaviours(std::size_t gateway) const;
  // "gateway 2 byzantine: flood+silence; ..." for the run's description.
  std::string describe() const;

  // What Byzantine gateway `from` sends when its replica sends `bytes` to `to`.
  void send(std::size_t from, const std::vector<std::size_t>& to, const Bytes& bytes);
  // A correct gateway sent `m` (the split-lock attack watches the next round's proposal).
  void note_sent(const consensus::Message& m);
  // Whether a correct gateway that just decided `height` is the split-lock attack's decider,
  // which must now be cut off before it tells the others.
  bool is_split_lock_decider(std::size_t gateway, Height height, bool by_sync) const;
  // A burst against every bound from Byzantine gateway `from`, whose chain ends with `last`.
  void flood(std::size_t from, Height next, const std::optional<consensus::StoredBlock>& last);
  void toggle_silence(std::size_t gateway) { silent_now_[gateway] = !silent_now_[gateway]; }

  std::uint64_t split_lock_attacks() const { return split_lock_attacks_; }

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
  };

  crypto::Ed25519KeyPair& key_of(std::size_t i);
  ledger::Hash256 random_hash();
  Bytes resign_vote(std::size_t i, ledger::Vote v);
  bool start_split_lock(std::size_t i, const ledger::Proposal& p);
  bool split_lock_send(std::size_t i, const std::vector<std::size_t>& to,
                       const consensus::Message& m);

  const ledger::Hash256 chain_id_;
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
};

}  // namespace kmchain::sim
