// DeviceService: what a gateway does for its devices, as a deterministic core (no sockets, no
// clock of its own, randomness injected). The daemon feeds it device datagrams' bodies and
// committed blocks; it answers, submits transactions through a LedgerPort, and returns the key
// messages to push to devices, in delivery order per device.
//
//   join     POST /join: an enrollment hello (enroll/join.h) under an operator-admitted PSK.
//            Unknown credential, bad MAC or a credential already used: refused, nothing stored,
//            nothing submitted. Otherwise: a node id from this gateway's range, the set
//            Assignment gives, a join transaction with a fresh refresh key; the device record
//            (node key, address, hello, accept, transaction) is stored durably, then the
//            transaction is submitted, then the accept is answered. A retransmitted hello gets
//            the same accept.
//            commit mode: the device's key bundle is pushed when the block holding the join is
//            final. sync mode: as soon as the join is in the mempool, from a speculative run of
//            the pending transactions; at commit the final bundle follows (a repair when it
//            differs, counted).
//   request  POST /req: an authenticated device request (enroll/device_request.h): leave
//            submits a leave transaction; catch-up re-sends the messages after the device's
//            position, or a fresh bundle if they are no longer kept.
//   commit   every committed transaction runs through this gateway's custody view of the key
//            manager (keys/key_manager.h): it holds only this gateway's keys and emits only the
//            messages this gateway sends, which go to its own devices.
//
// Bad input is counted by kind in stats() and never changes state.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/ids.h"
#include "base/result.h"
#include "config/endpoint.h"
#include "config/gateway_config.h"
#include "crypto/random.h"
#include "enroll/credential.h"
#include "enroll/device_request.h"
#include "enroll/join.h"
#include "keys/key_manager.h"
#include "keys/key_source.h"
#include "ledger/block.h"
#include "ledger/ledger_state.h"
#include "ledger/mempool.h"

namespace kmchain::gateway {

// Messages kept per device for catch-up; a device further behind gets a fresh bundle.
inline constexpr std::size_t kCatchUpMessagesKept = 256;

struct DeviceRecord {
  NodeId node;
  crypto::Key128 node_key;
  config::Endpoint endpoint;  // where the device listens for pushed key messages
  enroll::CredentialId credential{};
  Bytes hello;
  Bytes accept;
  Bytes transaction;  // the encoded join transaction
  std::uint64_t request_counter = 0;
};

// The gateway's durable device data (SQLite in the daemon). Every call is durable on return.
class DeviceStore {
 public:
  virtual ~DeviceStore() = default;
  virtual void put_credential(const enroll::DeviceCredential& credential) = 0;
  virtual std::optional<enroll::DeviceCredential> credential(
      const enroll::CredentialId& id) const = 0;
  // The device that joined with the credential, once one did: a credential admits one join,
  // ever, even after that device left.
  virtual std::optional<NodeId> credential_user(const enroll::CredentialId& id) const = 0;
  // Insert or replace; also marks the record's credential used by its node.
  virtual void put_device(const DeviceRecord& record) = 0;
  virtual void erase_device(NodeId node) = 0;
  virtual std::vector<DeviceRecord> devices() const = 0;
};

// The replica, as the device service sees it.
class LedgerPort {
 public:
  virtual ~LedgerPort() = default;
  // The committed state with the pending transactions applied (what a new one is checked on).
  virtual const ledger::LedgerState& check_state() const = 0;
  // Pending transactions, in mempool order.
  virtual std::vector<ledger::Transaction> pending() const = 0;
  virtual Status<ledger::MempoolVerdict> submit(const ledger::Transaction& tx) = 0;
};

struct Push {
  NodeId node;
  config::Endpoint to;
  Bytes wire;
};

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
  Bytes payload;  // the accept; or a short reason for an error
};

struct DeviceServiceConfig {
  GatewayId self;
  std::size_t gateways = 0;
  ledger::Hash256 chain_id{};
  config::SubmissionMode mode = config::SubmissionMode::kCommit;
};

// Response-time parts of one join, in microseconds (PROTOCOL.md section 3: T_r = T_k + T_e +
// T_a, measured at the gateway).
struct JoinTiming {
  std::uint64_t t_k_us = 0;  // key work: the handshake and the join's rekey plan
  std::uint64_t t_e_us = 0;  // transaction generation and contract check
  std::uint64_t t_a_us = 0;  // ordering and commit (0 in sync mode: keys do not wait for it)
};

struct DeviceServiceStats {
  std::map<std::string, std::uint64_t> refused;  // by reason
  std::uint64_t joins_accepted = 0;
  std::uint64_t joins_committed = 0;
  std::uint64_t join_retransmissions = 0;
  std::uint64_t leaves = 0;
  std::uint64_t catch_ups = 0;
  std::uint64_t catch_up_bundles = 0;
  std::uint64_t messages_pushed = 0;
  std::uint64_t sync_repairs = 0;  // sync mode: the final bundle differed from the early one
  // A pending transaction the mempool dropped after a block changed the state it was checked
  // on (Assignment gives another set once n crosses a square; a Reorder moved a leaving
  // device): submitted again, re-checked on the new state.
  std::uint64_t resubmissions = 0;
  std::uint64_t key_work_errors = 0;
  std::vector<JoinTiming> joins;  // in commit order
};

class DeviceService {
 public:
  // `source` derives this gateway's keys; `rng` draws node keys' ephemeral keys, refresh keys
  // and nonces; `clock_us` is a monotonic clock for the timing figures only.
  DeviceService(DeviceServiceConfig config, keys::KeySource& source, crypto::Rng& rng,
                DeviceStore& store, LedgerPort& ledger, std::function<std::uint64_t()> clock_us);

  // Restart: loads the device records, then replays each committed block (in height order)
  // into the key view without sending anything.
  void load_devices();
  void replay(const ledger::Block& block);

  Reply on_join(const config::Endpoint& from, ByteView body, std::vector<Push>& out);
  Reply on_request(ByteView body, std::vector<Push>& out);
  void on_committed(const ledger::Block& block, std::vector<Push>& out);
  // After a block: resubmits this gateway's joins and leaves the mempool dropped.
  void resubmit_dropped();

  // The operator admits a device credential (ctl admit).
  void admit(const enroll::DeviceCredential& credential) { store_.put_credential(credential); }

  const DeviceServiceStats& stats() const { return stats_; }
  std::size_t devices() const { return records_.size(); }
  const keys::KeyManager& view() const { return view_; }

 private:
  Reply refuse(ReplyCode code, const std::string& reason);
  void execute(const ledger::Transaction& tx, bool send, std::vector<Push>* out);
  void push_plan(const keys::RekeyPlan& plan, std::vector<Push>& out);
  void push(NodeId node, Position position, const Bytes& wire, std::vector<Push>& out);
  std::optional<keys::Envelope> speculative_bundle(NodeId node);
  NodeId next_node_id();

  const DeviceServiceConfig config_;
  crypto::Rng& rng_;
  DeviceStore& store_;
  LedgerPort& ledger_;
  std::function<std::uint64_t()> clock_us_;
  keys::KeyManager view_;
  std::map<NodeId, DeviceRecord> records_;
  std::map<enroll::CredentialId, NodeId> by_credential_;
  std::map<NodeId, std::deque<std::pair<Position, Bytes>>> sent_;
  enroll::RequestCounterCheck counters_;
  // Joins submitted and not yet committed: when (for T_a), and the early bundle in sync mode.
  struct PendingJoin {
    std::uint64_t submitted_us = 0;
    JoinTiming timing;
    std::optional<Bytes> early_bundle_body;
  };
  std::map<NodeId, PendingJoin> pending_joins_;
  std::set<NodeId> pending_leaves_;
  std::uint32_t next_node_ = 1;
  DeviceServiceStats stats_;
};

}  // namespace kmchain::gateway
