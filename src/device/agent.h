// DeviceAgent: one device's logic as a deterministic core. The shell (apps/kmchain/cmd_device)
// owns the CoAP endpoint, the clock, the state directory and the control channel; it feeds the
// agent datagram bodies, replies and ticks, and executes the Posts it returns.
//
//   join       the enrollment handshake (enroll/join.h) with its home gateway; then the gateway
//              pushes the key bundle and every later rekey message to POST /rekey.
//   rekey      each message is applied to the keyring strictly in ledger order. A message from
//              ahead (a gap) is kept (bounded) and a catch-up request names the position the
//              keyring reached; the gateway re-sends what is missing. In sync mode the first
//              bundle is provisional: the bundle sent at commit replaces it.
//   d2d        records (channel/record.h) under the DEK shared with the peer: the pairwise node
//              key within the set, the pairwise set key across sets. Old versions of a DEK stay
//              valid for a grace period after a rekey (channel/dek_history.h).
//   leave      an authenticated request to the home gateway.
//   sniff      a record addressed to another device is tried under every key this device holds
//              or held (what a departed or captured device can do with what it keeps) and the
//              outcome reported: the forward-secrecy check of the demo.
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
#include "base/ids.h"
#include "channel/dek_history.h"
#include "channel/receiver.h"
#include "channel/sender.h"
#include "config/endpoint.h"
#include "crypto/random.h"
#include "enroll/credential.h"
#include "enroll/device_request.h"
#include "enroll/join.h"
#include "enroll/secret_code.h"
#include "keys/keyring.h"

namespace kmchain::device {

// Rekey messages from ahead kept while the gap is filled.
inline constexpr std::size_t kAheadMessagesMax = 256;

enum class PostKind : std::uint8_t { kJoin, kRequest, kD2d };

struct Post {
  config::Endpoint to;
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

class StateSink {
 public:
  virtual ~StateSink() = default;
  virtual void save_identity(const Identity& identity) = 0;
  // The request counter, durable before a request carrying it is sent.
  virtual void save_request_counter(std::uint64_t counter) = 0;
};

struct AgentConfig {
  channel::ContextId chain_id{};
  config::Endpoint gateway;       // the home gateway's device endpoint
  std::uint16_t listen_port = 0;  // where this device receives pushes and d2d records
  std::uint64_t grace_ms = 10'000;
  std::uint64_t catch_up_after_ms = 1'000;  // a gap older than this triggers a request
};

struct AgentStats {
  std::map<std::string, std::uint64_t> rekey_errors;
  std::map<std::string, std::uint64_t> d2d_errors;
  std::uint64_t rekey_applied = 0;
  std::uint64_t d2d_sent = 0;
  std::uint64_t d2d_received = 0;
  std::uint64_t sniffed = 0;
  std::uint64_t sniffed_decrypted = 0;
  std::uint64_t catch_up_requests = 0;
};

class DeviceAgent {
 public:
  DeviceAgent(AgentConfig config, enroll::DeviceCredential credential,
              const enroll::SecretCode& code, crypto::Rng& rng, channel::CounterStore& counters,
              StateSink& state, std::optional<Identity> identity, std::uint64_t request_counter);

  // Joins, or (with an identity from an earlier run) asks its gateway to catch it up.
  void start(std::uint64_t now_ms, std::vector<Post>& out);
  void on_join_reply(bool answered, bool success, ByteView body, std::uint64_t now_ms,
                     std::vector<Event>& events);
  // POST /rekey from the gateway: true if the message was applied or kept.
  bool on_rekey(ByteView wire, std::uint64_t now_ms, std::vector<Post>& out,
                std::vector<Event>& events);
  // POST /d2d from a peer.
  bool on_d2d(ByteView record, std::uint64_t now_ms, std::vector<Event>& events);
  void tick(std::uint64_t now_ms, std::vector<Post>& out);

  // Seals `text` for `peer` (in `peer_set`, listening at `at`); false with a reason otherwise.
  bool send(NodeId peer, SetId peer_set, const config::Endpoint& at, ByteView text,
            std::uint64_t tag, std::vector<Post>& out, std::string& error);
  // Asks the home gateway to submit this device's leave.
  void leave(std::vector<Post>& out);

  bool joined() const { return identity_.has_value(); }
  bool placed() const { return keyring_ && keyring_->placed(); }
  std::optional<NodeId> node() const;
  std::optional<SetId> set() const;
  Position position() const { return keyring_ ? keyring_->position() : Position{0}; }
  std::size_t key_count() const { return keyring_ ? keyring_->key_count() : 0; }
  const AgentStats& stats() const { return stats_; }

 private:
  Status<keys::RekeyError> apply(ByteView wire, std::uint64_t now_ms, std::vector<Event>& events);
  void track_deks(std::uint64_t now_ms);
  void request_catch_up(std::uint64_t now_ms, std::vector<Post>& out);
  Bytes request(enroll::RequestKind kind, ByteView body);
  bool sniff(ByteView record, const channel::RecordHeader& header, std::uint64_t now_ms);

  AgentConfig config_;
  enroll::DeviceCredential credential_;
  enroll::Commitment commitment_{};
  crypto::Rng& rng_;
  channel::CounterStore& counters_;
  StateSink& state_;
  std::optional<enroll::JoinInitiator> join_;
  std::optional<Identity> identity_;
  std::uint64_t request_counter_;
  std::optional<keys::Keyring> keyring_;
  bool provisional_ = false;  // sync mode: the first bundle, until the committed one arrives
  std::vector<Bytes> before_accept_;  // pushed while the join handshake was in flight
  std::map<std::uint64_t, std::vector<Bytes>> ahead_;  // messages past a gap, by position
  std::size_t ahead_count_ = 0;
  std::optional<std::uint64_t> gap_since_ms_;
  std::uint64_t last_catch_up_ms_ = 0;
  channel::DekHistory deks_;
  // Every DEK value this device ever held (what it keeps if it is evicted or captured).
  std::vector<crypto::Key128> held_;
  std::optional<crypto::Key128> last_set_key_;
  std::set<keys::KeyId> tracked_;      // the DEKs the keyring holds now
  std::map<NodeId, SetId> peer_sets_;  // learnt from records that opened
  std::unique_ptr<channel::ChannelSender> sender_;
  std::unique_ptr<channel::ChannelReceiver> receiver_;
  AgentStats stats_;
};

}  // namespace kmchain::device
