// DeviceAgent: one device's logic as a deterministic core. The shell (daemon/device_process.h,
// or the system simulator) owns the CoAP endpoint, the clock, the state directory and the
// control channel; it feeds the agent datagram bodies, replies and ticks, and executes the Posts
// it returns.
//
//   join       the enrollment handshake (enroll/join.h) with its home gateway; then the gateway
//              pushes the key bundle and every later rekey message to POST /rekey. An accept
//              that brings no keys within keys_wait_ms makes the device ask how its join stands
//              (a catch-up request, answered by an authenticated status reply); a join the
//              gateway reports failed is started again from a fresh hello and a fresh secret
//              code (the failure may be that another join took its commitment).
//   rekey      each message is applied to the keyring strictly in ledger order. A message from
//              ahead (a gap) is kept (bounded) and a catch-up request names the position the
//              keyring reached; the gateway re-sends what is missing. A device that hears
//              nothing asks anyway every check_interval_ms, so a lost last push is noticed. In
//              sync mode the first bundle is provisional: the bundle sent at commit replaces it.
//   d2d        records (channel/record.h) under the DEK shared with the peer: the pairwise node
//              key within the set, the pairwise set key across sets. Old versions of a DEK stay
//              valid for a grace period after a rekey (channel/dek_history.h) and no longer.
//   leave      an authenticated request to the home gateway, sent again until the gateway takes
//              it (it refuses a leave while the join is not final) or says the device is gone.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/endpoint.h"
#include "base/fault_injection.h"
#include "base/ids.h"
#include "channel/dek_history.h"
#include "channel/receiver.h"
#include "channel/replay_window.h"
#include "channel/sender.h"
#include "crypto/random.h"
#include "enroll/credential.h"
#include "enroll/device_request.h"
#include "enroll/join.h"
#include "enroll/secret_code.h"
#include "keys/keyring.h"

namespace kmchain::device {

// Rekey messages from ahead kept while the gap is filled, by count, by bytes, and by how far
// ahead of the keyring they may be (a gap wider than this is filled by catch-up alone).
inline constexpr std::size_t kAheadMessagesMax = 256;
inline constexpr std::size_t kAheadBytesMax = 256 * 1024;
inline constexpr std::uint64_t kAheadPositionsMax = 1024;
inline constexpr std::uint64_t kCredentialUsedBackoff = 15;

enum class PostKind : std::uint8_t { kJoin, kRequest, kD2d };

struct Post {
  Endpoint to;
  std::string path;
  Bytes body;
  PostKind kind;
  std::uint64_t tag = 0;  // d2d: the sequence number the shell reports back
};

// What the agent tells its operator (the control channel), one line each.
struct Event {
  std::string name;
  std::vector<std::pair<std::string, std::string>> fields;
  void add(const std::string& key, const std::string& value) { fields.emplace_back(key, value); }
  void add(const std::string& key, std::uint64_t value) {
    fields.emplace_back(key, std::to_string(value));
  }
};

// What survives a restart, written by the shell before the agent uses it.
struct Identity {
  NodeId node;
  GatewayId gateway;
  crypto::Key128 node_key;
};

// A join handshake under way: its ephemeral private key and nonce, kept until the accept comes
// so that a device restarted in between sends the same hello again (a new one would find its
// credential used by the join the gateway already acknowledged).
struct JoinAttempt {
  crypto::Secret256 ephemeral;
  enroll::DeviceNonce nonce{};
  std::uint16_t reply_port = 0;  // the hello's: a device restarted on another port sends it too
};

// Everything the agent keeps durably.
struct DurableState {
  std::optional<Identity> identity;
  std::optional<JoinAttempt> join;
  std::uint64_t request_counter = 0;
  // The D2D replay windows of that identity: a record accepted before a restart is refused
  // after it.
  channel::ReplayState replay;
};

class StateSink {
 public:
  virtual ~StateSink() = default;
  // Before the hello carrying it is sent.
  virtual void save_join(const JoinAttempt& attempt) = 0;
  // The accept came: the device is this node (the join attempt goes, wiped).
  virtual void save_identity(const Identity& identity) = 0;
  // The join failed for good, or another join took the commitment: the device is no node and
  // joins again from scratch, with the fresh secret code `code`.
  virtual void restart_join(const enroll::SecretCode& code) = 0;
  // The request counter, durable before a request carrying it is sent.
  virtual void save_request_counter(std::uint64_t counter) = 0;
  // The replay windows, durable before the record that changed them is delivered.
  virtual void save_replay_state(const channel::ReplayState& state) = 0;
};

struct AgentConfig {
  channel::ContextId chain_id{};
  Endpoint gateway;               // the home gateway's device endpoint
  std::uint16_t listen_port = 0;  // where this device receives pushes and d2d records
  std::uint64_t grace_ms = 10'000;
  std::uint64_t catch_up_after_ms = 1'000;  // a gap older than this triggers a request
  std::uint64_t join_retry_ms = 2'000;      // a hello without an accept goes again
  // After an accept without keys, the device asks how its join stands this often.
  std::uint64_t keys_wait_ms = 3'000;
  // A device with keys asks for anything it missed this often, even if nothing shows a gap.
  std::uint64_t check_interval_ms = 30'000;
#if KMCHAIN_FAULTS_ENABLED
  // Broken on purpose (base/fault_injection.h): a record across sets is tried only under the set
  // its sender's last record came from.
  bool fault_cached_peer_set_only = false;
#endif
};

struct AgentStats {
  std::map<std::string, std::uint64_t> rekey_errors;
  std::map<std::string, std::uint64_t> d2d_errors;
  std::map<std::string, std::uint64_t> reply_errors;
  std::uint64_t rekey_applied = 0;
  std::uint64_t d2d_sent = 0;
  std::uint64_t d2d_received = 0;
  std::uint64_t catch_up_requests = 0;
  std::uint64_t joins_restarted = 0;  // joins started again: failed, or the commitment taken
};

// Removed members a device remembers, to refuse their records during the grace period.
inline constexpr std::size_t kDepartedMax = 4096;

class DeviceAgent {
 public:
  DeviceAgent(AgentConfig config, enroll::DeviceCredential credential,
              const enroll::SecretCode& code, crypto::Rng& rng, channel::CounterStore& counters,
              StateSink& state, DurableState durable);

  // Joins, or (with an identity from an earlier run) asks its gateway to catch it up.
  void start(std::uint64_t now_ms, std::vector<Post>& out);
  void on_join_reply(bool answered, bool success, ByteView body, std::uint64_t now_ms,
                     std::vector<Post>& out, std::vector<Event>& events);
  // The reply to the request whose counter is `tag` (Post::tag).
  void on_request_reply(std::uint64_t tag, bool answered, bool success, ByteView body,
                        std::uint64_t now_ms, std::vector<Post>& out, std::vector<Event>& events);
  // POST /rekey from the gateway: a batch of key messages (keys/rekey_batch.h), applied in
  // order; false if it does not parse.
  bool on_push(ByteView batch, std::uint64_t now_ms, std::vector<Post>& out,
               std::vector<Event>& events);
  // One key message: true if it was applied or kept.
  bool on_rekey(ByteView wire, std::uint64_t now_ms, std::vector<Post>& out,
                std::vector<Event>& events);
  // POST /d2d from a peer.
  bool on_d2d(ByteView record, std::uint64_t now_ms, std::vector<Event>& events);
  void tick(std::uint64_t now_ms, std::vector<Post>& out);

  // Seals `text` for `peer` (in `peer_set`, listening at `at`); false with a reason otherwise.
  bool send(NodeId peer, SetId peer_set, const Endpoint& at, ByteView text, std::uint64_t tag,
            std::vector<Post>& out, std::string& error);
  // Asks the home gateway to submit this device's leave, again every join_retry_ms until the
  // gateway takes it (a join not final yet, or a lost request) or says the device is no member.
  void leave(std::uint64_t now_ms, std::vector<Post>& out);
  // The gateway took the leave: it is pending on the ledger, durably.
  bool leave_acknowledged() const { return leave_acknowledged_; }

  bool joined() const { return identity_.has_value(); }
  bool placed() const { return keyring_ && keyring_->placed(); }
  std::optional<NodeId> node() const;
  std::optional<SetId> set() const;
  Position position() const { return keyring_ ? keyring_->position() : Position{0}; }
  std::size_t key_count() const { return keyring_ ? keyring_->key_count() : 0; }
  // The keys as they stand (for observers: the simulator's checks, the demo's eavesdropper).
  const keys::Keyring* keyring() const { return keyring_ ? &*keyring_ : nullptr; }
  const AgentStats& stats() const { return stats_; }

 private:
  Status<keys::RekeyError> apply(ByteView wire, std::uint64_t now_ms, std::vector<Event>& events);
  void track_deks(std::uint64_t now_ms);
  void note_departure(NodeId node, bool departed);
  void request_catch_up(std::uint64_t now_ms, std::vector<Post>& out);
  Post request(enroll::RequestKind kind, ByteView body);
  void become_node(const Identity& identity);
  void join_failed(const std::string& reason, std::uint64_t now_ms, std::vector<Post>& out,
                   std::vector<Event>& events);
  void restart_join(std::uint64_t now_ms, std::vector<Post>& out);
  void send_leave(std::uint64_t now_ms, std::vector<Post>& out);
  void on_leave_reply(bool success, ByteView body, std::vector<Event>& events);

  AgentConfig config_;
  enroll::DeviceCredential credential_;
  enroll::SecretCode code_;
  enroll::Commitment commitment_{};
  crypto::Rng& rng_;
  channel::CounterStore& counters_;
  StateSink& state_;
  std::optional<enroll::JoinInitiator> join_;
  std::optional<JoinAttempt> attempt_;  // the durable half of join_
  std::uint64_t join_sent_ms_ = 0;
  // Another hello joined with our credential: the operator's to solve, so the hello goes again
  // only every kCredentialUsedBackoff join retries (that join may still fail and free it).
  bool credential_used_ = false;
  std::optional<Identity> identity_;
  std::uint64_t request_counter_;
  std::optional<keys::Keyring> keyring_;
  std::vector<Bytes> before_accept_;  // pushed while the join handshake was in flight
  std::map<std::uint64_t, std::vector<Bytes>> ahead_;  // messages past a gap, by position
  std::size_t ahead_count_ = 0;
  std::size_t ahead_bytes_ = 0;
  std::size_t before_accept_bytes_ = 0;
  std::optional<std::uint64_t> gap_since_ms_;
  std::uint64_t last_catch_up_ms_ = 0;
  std::uint64_t accepted_ms_ = 0;
  std::uint64_t status_counter_ = 0;  // the counter of the last catch-up request
  bool leave_wanted_ = false;         // asked to leave, not taken by the gateway yet
  bool leave_acknowledged_ = false;
  std::uint64_t leave_counter_ = 0;  // the counter of the last leave request
  std::uint64_t leave_sent_ms_ = 0;
  channel::DekHistory deks_;
  std::set<keys::KeyId> tracked_;      // the DEKs the keyring holds now
  std::map<NodeId, SetId> peer_sets_;  // learnt from records that opened
  std::unique_ptr<channel::ChannelSender> sender_;
  std::unique_ptr<channel::ChannelReceiver> receiver_;
  // Members whose leave or eviction this device applied, the oldest forgotten beyond
  // kDepartedMax: their records are refused even while their old keys are in their grace period.
  std::set<NodeId> departed_;
  std::deque<NodeId> departed_order_;
  // The replay windows read at boot, until the receiver of the restored identity takes them.
  std::optional<channel::ReplayState> restored_replay_;
  AgentStats stats_;
};

}  // namespace kmchain::device
