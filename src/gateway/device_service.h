// DeviceService: what a gateway does for its devices, the device-facing part of the gateway node
// (gateway_node.h). No sockets, no clock of its own, randomness injected; every change leaves as
// an action, durable before the reply that acknowledges it (the shell executes the actions, then
// sends the reply).
//
//   join     POST /join: an enrollment hello (enroll/join.h) under an operator-admitted PSK.
//            Unknown credential, bad MAC or a credential another device uses: refused, nothing
//            stored, nothing submitted. Otherwise: a node id from this gateway's range, the set
//            Assignment gives, a join transaction with a fresh refresh key; the device record
//            (node key, address, hello, accept) and the pending transaction are durable before
//            the transaction is gossiped and the accept answered. A repeated hello gets the same
//            accept (and its transaction again if it was lost).
//            commit mode: the device's key bundle is pushed when the block holding the join is
//            final. sync mode: as soon as the join is in the mempool, from a trial run of the
//            pending transactions; at commit the final bundle follows (a repair when it
//            differs, counted).
//            An acknowledged join ends in one of two ways: final, and the device gets its keys;
//            or refused for good (its commitment is used by another device), and the device is
//            told so when it asks, and may join again with the same credential.
//   request  POST /req: an authenticated device request (enroll/device_request.h): leave
//            submits a leave transaction (for a member whose join is final); catch-up re-sends the
//            messages after the device's position, or a fresh bundle if they are no longer kept;
//            both catch-up and status answer with an authenticated status reply
//            (enroll/status_reply.h): member, pending or failed with the reason. At most
//            kRequestBurst requests in a row per device, one more every kRequestRefillMs: each
//            costs a durable write.
//   commit   every committed transaction's steps run through this gateway's custody view
//            (key_work.h); the messages for its devices are queued per device (push_queues.h).
//
// Bad input is counted by kind in stats() and never changes state.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/endpoint.h"
#include "base/fault_injection.h"
#include "base/ids.h"
#include "consensus/replica.h"
#include "crypto/random.h"
#include "gateway/actions.h"
#include "gateway/device_registry.h"
#include "gateway/key_work.h"
#include "gateway/pending_transactions.h"
#include "gateway/push_queues.h"
#include "ledger/contract.h"
#include "ledger/submission_mode.h"

namespace kmchain::gateway {

enum class ReplyCode : std::uint8_t {
  kCreated,       // join accepted
  kChanged,       // request done
  kBadRequest,    // does not parse
  kUnauthorized,  // unknown credential, bad MAC
  kForbidden,     // credential used, stale counter, not a device of this gateway
  kConflict,      // the contract refused the transaction
  kUnavailable,   // mempool full
};

struct Reply {
  ReplyCode code;
  Bytes payload;  // the accept; a status reply; or a short reason for an error
};

// Rules of the device flows broken on purpose, to show that the system simulator's checks catch
// them (only in builds with fault injection, base/fault_injection.h).
struct DeviceFaults {
#if KMCHAIN_FAULTS_ENABLED
  bool lose_push = false;            // some key messages are neither pushed nor kept
  bool record_after_gossip = false;  // the join transaction leaves before the device record
#endif
};

struct DeviceServiceConfig {
  GatewayId self;
  std::size_t gateways = 0;
  ledger::Hash256 chain_id{};
  ledger::SubmissionMode mode = ledger::SubmissionMode::kCommit;
  DeviceFaults faults;
};

// Response-time parts of one join, in microseconds (docs/protocol.md section 3: T_r = T_k + T_e
// + T_a, measured at the gateway).
struct JoinTiming {
  std::uint64_t t_k_us = 0;  // key work: the handshake and the join's rekey plan
  std::uint64_t t_e_us = 0;  // transaction generation and contract check
  std::uint64_t t_a_us = 0;  // ordering and commit (0 in sync mode: keys do not wait for it)
};

struct DeviceServiceStats {
  std::map<std::string, std::uint64_t> refused;  // by reason
  std::uint64_t joins_accepted = 0;
  std::uint64_t joins_committed = 0;
  std::uint64_t joins_failed = 0;  // refused for good after they were acknowledged
  std::uint64_t join_retransmissions = 0;
  std::uint64_t leaves = 0;
  std::uint64_t catch_ups = 0;
  std::uint64_t catch_up_bundles = 0;
  std::uint64_t status_requests = 0;
  std::uint64_t messages_pushed = 0;
  std::uint64_t sync_repairs = 0;  // sync mode: the final bundle differed from the early one
  // Pending transactions rebuilt on a new state and submitted again (pending_transactions.h).
  std::uint64_t resubmissions = 0;
  // A committed join of this gateway's range without a kept node key (a device whose join was
  // given up, yet an old copy of it became final): its keys are held under a key nobody has.
  std::uint64_t key_work_errors = 0;
  std::vector<JoinTiming> joins;  // in commit order, at most kJoinTimingsKept
};

// A node id is the gateway id (8 bits) and a number local to the gateway (24 bits).
inline constexpr std::uint32_t kLocalNodeIdMax = (1u << 24) - 1;
// Requests a device may make in a burst, and the time that earns it one more.
inline constexpr std::uint64_t kRequestBurst = 8;
inline constexpr std::uint64_t kRequestRefillMs = 250;

// Join timings kept for the status figures (the most recent).
inline constexpr std::size_t kJoinTimingsKept = 4096;

class DeviceService {
 public:
  // `clock_us` is a monotonic clock for the timing figures only.
  DeviceService(DeviceServiceConfig config, DeviceRegistry& registry, PendingTransactions& pending,
                KeyWork& keys, PushQueues& pushes, consensus::Replica& replica, crypto::Rng& rng,
                std::function<std::uint64_t()> clock_us);

  Reply on_join(const Endpoint& from, ByteView body, std::uint64_t now_ms,
                std::vector<Action>& out);
  // `from`: where the request came from (the device's address follows it).
  Reply on_request(const Endpoint& from, ByteView body, std::uint64_t now_ms,
                   std::vector<Action>& out);
  // After a restart, once the registry holds the durable records.
  void restored();

  // A committed transaction: its key work, and (when `live`, not when a restart replays the
  // chain) the messages to this gateway's devices.
  void on_committed(const ledger::AppliedTransaction& applied, bool live, std::vector<Action>& out);
  // A join this gateway acknowledged will never be final.
  void fail_join(const GivenUp& given_up, std::vector<Action>& out);

  const DeviceServiceStats& stats() const { return stats_; }
  DeviceServiceStats& stats() { return stats_; }

 private:
  Reply refuse(ReplyCode code, const std::string& reason);
  // A repeated hello of an acknowledged join: its transaction again if it is neither final nor
  // pending (a crash between storing the record and the transaction).
  void ensure_submitted(const DeviceRecord& record, std::uint64_t now_ms, std::vector<Action>& out);
  Reply status_reply(const DeviceRecord& record, std::uint64_t counter, std::uint64_t now_ms,
                     std::vector<Action>& out);
  void catch_up(const DeviceRecord& record, Position from, std::vector<Action>& out);
  void deliver(const DeviceMessage& m, std::vector<Action>& out);
  // The next node id of this gateway's range that nothing uses, if the range has one left.
  std::optional<NodeId> free_node_id() const;
  bool take_request_budget(NodeId node, std::uint64_t now_ms);

  const DeviceServiceConfig config_;
  DeviceRegistry& registry_;
  PendingTransactions& pending_;
  KeyWork& keys_;
  PushQueues& pushes_;
  consensus::Replica& replica_;
  crypto::Rng& rng_;
  std::function<std::uint64_t()> clock_us_;
  // Joins submitted and not final yet: when (for T_a), and the early bundle in sync mode. For
  // the figures only: a restart forgets them.
  struct JoinInFlight {
    std::uint64_t submitted_us = 0;
    JoinTiming timing;
    std::optional<crypto::Digest256> early_bundle;
  };
  std::map<NodeId, JoinInFlight> in_flight_;
  std::uint32_t next_node_ = 1;  // the low 24 bits of the next node id to try
  struct RequestBudget {
    std::uint64_t tokens = 0;
    std::uint64_t refilled_ms = 0;
  };
  std::map<NodeId, RequestBudget> budgets_;  // of this gateway's devices only
  DeviceServiceStats stats_;
};

}  // namespace kmchain::gateway
