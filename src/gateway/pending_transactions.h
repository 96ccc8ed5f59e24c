// PendingTransactions: the membership changes this gateway submitted that are not final yet
// (its devices' joins and leaves, its operator's evictions).
//
// A change is durable (PutPending) before it is gossiped, so a restart resubmits it instead of
// losing it; it is gossiped again every kRegossipMs until a block holds it, since a peer may
// have missed it, refused it on a state that has since changed, or restarted with an empty
// mempool.
// When a block makes it invalid (Assignment gives another set once n crosses a square; a Reorder
// moved the device), it is rebuilt on the new state: the same node and commitment, the set the
// state gives now, a fresh refresh key. Any version of it that becomes final makes it final. A
// change that can never pass again (a join whose commitment another device now uses) is given up
// with the reason. One change per node and operation. A leave or an eviction is submitted only
// for a member of the committed state (a device whose join is final). Each is kept as this
// gateway signed it (ledger/signed_transaction.h), a leave with its device's consent, which a
// rebuilt version carries too.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/ids.h"
#include "base/result.h"
#include "consensus/replica.h"
#include "crypto/random.h"
#include "gateway/actions.h"
#include "ledger/mempool.h"
#include "ledger/signed_transaction.h"
#include "ledger/transaction.h"

namespace kmchain::gateway {

// How often a pending change is gossiped again.
inline constexpr std::uint64_t kRegossipMs = 1'000;

struct GivenUp {
  ledger::Transaction transaction;
  std::string reason;
};

class PendingTransactions {
 public:
  explicit PendingTransactions(GatewayId self) : self_(self) {}

  // At a restart, before any block is replayed: what was pending when the gateway stopped.
  void restore(const std::vector<ledger::SignedTransaction>& transactions);

  const ledger::Transaction* find(NodeId node, ledger::Operation op) const;
  std::size_t size() const { return pending_.size(); }

  // Signed, into the mempool and out to the peers; durable first. The mempool's verdict
  // otherwise, and nothing is kept. A leave carries its device's consent.
  Status<ledger::MempoolVerdict> submit(
      const ledger::Transaction& tx, consensus::Replica& replica, std::uint64_t now_ms,
      std::vector<Action>& out,
      std::optional<crypto::Ed25519Signature> device_consent = std::nullopt);
  // A transaction of a committed block: the change it makes for its node is final (for an
  // eviction asked by a gateway other than the home and not yet in effect: the request is).
  void on_committed(const ledger::AppliedTransaction& applied, std::vector<Action>& out);
  // After a block, at a start and at every tick: forgets what is final, rebuilds and submits
  // again what the mempool does not hold, and returns what can never pass (still pending: the
  // caller records why first, then drops them). `resubmitted` counts the rebuilt transactions the
  // mempool took.
  std::vector<GivenUp> resubmit(consensus::Replica& replica, crypto::Rng& rng, std::uint64_t now_ms,
                                std::vector<Action>& out, std::uint64_t& resubmitted);
  // Forgets a change given up (after the caller made the reason durable).
  void drop(NodeId node, ledger::Operation op, std::vector<Action>& out);
  // Gossips once more every pending change the mempool holds that was last gossiped
  // kRegossipMs ago or more.
  void regossip(const consensus::Replica& replica, std::uint64_t now_ms, std::vector<Action>& out);

 private:
  using Key = std::pair<NodeId, ledger::Operation>;
  struct Pending {
    ledger::SignedTransaction signed_tx;
    std::uint64_t gossiped_ms = 0;
  };
  void forget(const Key& key, std::vector<Action>& out);

  GatewayId self_;
  std::map<Key, Pending> pending_;
};

}  // namespace kmchain::gateway
