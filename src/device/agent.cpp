#include "device/agent.h"

#include <algorithm>
#include <set>
#include <utility>

#include "enroll/device_request.h"
#include "enroll/join_refusal.h"
#include "enroll/key_schedule.h"
#include "enroll/status_reply.h"
#include "keys/key_id.h"
#include "keys/rekey_batch.h"
#include "keys/rekey_message.h"

namespace kmchain::device {

namespace {

enroll::ContextId context_of(const channel::ContextId& c) {
  enroll::ContextId out{};
  std::copy(c.begin(), c.end(), out.begin());
  return out;
}

}  // namespace

DeviceAgent::DeviceAgent(AgentConfig config, enroll::DeviceCredential credential,
                         const enroll::SecretCode& code, crypto::Rng& rng,
                         channel::CounterStore& counters, StateSink& state, DurableState durable)
    : config_(std::move(config)),
      credential_(std::move(credential)),
      code_(code),
      commitment_(enroll::commitment_of(code)),
      rng_(rng),
      counters_(counters),
      state_(state),
      attempt_(std::move(durable.join)),
      identity_(std::move(durable.identity)),
      request_counter_(durable.request_counter),
      deks_(config_.grace_ms) {
  if (identity_) restored_replay_ = std::move(durable.replay);
}

std::optional<NodeId> DeviceAgent::node() const {
  return identity_ ? std::optional<NodeId>(identity_->node) : std::nullopt;
}

std::optional<SetId> DeviceAgent::set() const {
  return keyring_ ? keyring_->set() : std::nullopt;
}

void DeviceAgent::become_node(const Identity& identity) {
  identity_ = identity;
  keyring_.emplace(identity.node, identity.node_key);
  sender_ = std::make_unique<channel::ChannelSender>(identity.node, config_.chain_id, counters_);
  // The windows saved with this identity, if the device restarted as the same node.
  channel::ReplayState replay =
      restored_replay_ ? std::move(*restored_replay_) : channel::ReplayState{};
  restored_replay_.reset();
  receiver_ = std::make_unique<channel::ChannelReceiver>(identity.node, config_.chain_id,
                                                         std::move(replay));
}

void DeviceAgent::start(std::uint64_t now_ms, std::vector<Post>& out) {
  if (identity_) {
    if (!keyring_) become_node(*identity_);
    // Back from a restart with an empty keyring: the gateway sends what it holds for us, and
    // says how our join stands if we never got keys.
    accepted_ms_ = now_ms;
    request_catch_up(now_ms, out);
    return;
  }
  // A retry sends the same hello, also after a restart: a second one would find the
  // credential used.
  if (!join_) {
    if (!attempt_) {
      JoinAttempt attempt{rng_.secret<32>(), {}, config_.listen_port};
      rng_.fill(attempt.nonce);
      state_.save_join(attempt);
      attempt_ = std::move(attempt);
    }
    join_.emplace(credential_, commitment_, attempt_->reply_port, context_of(config_.chain_id),
                  crypto::X25519KeyPair::from_private(attempt_->ephemeral), attempt_->nonce);
  }
  join_sent_ms_ = now_ms;
  out.push_back(Post{config_.gateway, "join", join_->hello(), PostKind::kJoin});
}

void DeviceAgent::restart_join(std::uint64_t now_ms, std::vector<Post>& out) {
  ++stats_.joins_restarted;
  // Durable before its commitment can reach the ledger, as the first one was.
  code_ = enroll::draw_secret_code(rng_);
  commitment_ = enroll::commitment_of(code_);
  state_.restart_join(code_);
  identity_.reset();
  keyring_.reset();
  sender_.reset();
  receiver_.reset();
  for (const keys::KeyId& id : tracked_)
    deks_.erase(id);
  tracked_.clear();
  peer_sets_.clear();
  departed_.clear();
  departed_order_.clear();
  ahead_.clear();
  ahead_count_ = 0;
  ahead_bytes_ = 0;
  gap_since_ms_.reset();
  status_counter_ = 0;
  leave_wanted_ = false;  // the failed join made the device no member: nothing to leave
  // A fresh hello: the old one belongs to the failed join.
  join_.reset();
  attempt_.reset();
  start(now_ms, out);
}

void DeviceAgent::on_join_reply(bool answered, bool success, ByteView body, std::uint64_t now_ms,
                                std::vector<Post>& out, std::vector<Event>& events) {
  if (identity_ || !join_) return;
  if (!answered) return;  // the hello goes again at a tick
  if (!success) {
    Event e{"join_refused", {}};
    auto refusal =
        enroll::open_refusal(body, join_->hello(), credential_.psk, context_of(config_.chain_id));
    if (!refusal) {
      // Not from a holder of the PSK (an unknown credential, or anyone on the path): it changes
      // nothing; the hello goes again at a tick.
      e.add("reason", std::string(body.begin(), body.end()));
      events.push_back(std::move(e));
      return;
    }
    e.add("reason", enroll::to_string(*refusal));
    events.push_back(std::move(e));
    if (*refusal == enroll::RefusalReason::kCommitmentUsed) {
      // Another join took our commitment: a fresh secret code, and a fresh hello.
      restart_join(now_ms, out);
    } else if (*refusal == enroll::RefusalReason::kCredentialUsed) {
      credential_used_ = true;
    }
    return;
  }
  auto result = join_->on_accept(body);
  if (!result) {
    Event e{"join_refused", {}};
    e.add("reason", std::string("bad accept: ") + enroll::to_string(result.error()));
    events.push_back(std::move(e));
    return;
  }
  const Identity identity{result->node, result->gateway, result->node_key};
  // Durable before anything is done with it: a restart resumes as this node.
  state_.save_identity(identity);
  become_node(identity);
  accepted_ms_ = now_ms;
  last_catch_up_ms_ = now_ms;
  join_.reset();
  attempt_.reset();
  Event e{"accepted", {}};
  e.add("node", result->node.value());
  e.add("gateway", result->gateway.value());
  events.push_back(std::move(e));
  auto early = std::move(before_accept_);
  before_accept_.clear();
  before_accept_bytes_ = 0;
  for (const Bytes& wire : early)
    (void)on_rekey(wire, now_ms, out, events);
}

void DeviceAgent::on_request_reply(std::uint64_t tag, bool answered, bool success, ByteView body,
                                   std::uint64_t now_ms, std::vector<Post>& out,
                                   std::vector<Event>& events) {
  if (!identity_ || !answered) return;
  if (leave_wanted_ && tag == leave_counter_) {
    on_leave_reply(success, body, events);
    return;
  }
  // Only the answer to the last catch-up request says how the join stands.
  if (tag != status_counter_ || !success) return;
  const auto key =
      enroll::reply_key(identity_->node_key, context_of(config_.chain_id), identity_->node);
  auto reply = enroll::open_status_reply(body, identity_->node, tag, key);
  if (!reply) {
    ++stats_.reply_errors[enroll::to_string(reply.error())];
    return;
  }
  if (reply->status == enroll::JoinStatus::kFailed) join_failed(reply->reason, now_ms, out, events);
}

void DeviceAgent::join_failed(const std::string& reason, std::uint64_t now_ms,
                              std::vector<Post>& out, std::vector<Event>& events) {
  Event e{"join_failed", {}};
  e.add("node", identity_->node.value());
  e.add("reason", reason);
  events.push_back(std::move(e));
  restart_join(now_ms, out);
}

Status<keys::RekeyError> DeviceAgent::apply(ByteView wire, std::uint64_t now_ms,
                                            std::vector<Event>& events) {
  auto header = keys::parse_header(wire);
  if (!header) return Err{header.error()};
  const bool bundle = keys::is_bundle(header->kind);
  const bool was_provisional = keyring_->provisional();
  auto st = keyring_->apply(wire);
  if (!st) return st;
  ++stats_.rekey_applied;
  if (const auto& change = keyring_->last_change()) note_departure(change->node, change->departed);
  if (was_provisional) {
    // Sync mode: the early keys were never the network's: no grace period for them.
    for (const keys::KeyId& id : tracked_)
      deks_.erase(id);
    tracked_.clear();
  }
  track_deks(now_ms);
  if (bundle) {
    Event e{"keys", {}};
    e.add("set", keyring_->set() ? keyring_->set()->value() : 0u);
    e.add("position", keyring_->position().value());
    e.add("keys", keyring_->key_count());
    events.push_back(std::move(e));
  }
  return {};
}

bool DeviceAgent::on_push(ByteView batch, std::uint64_t now_ms, std::vector<Post>& out,
                          std::vector<Event>& events) {
  auto messages = keys::decode_batch(batch);
  if (!messages) {
    ++stats_.rekey_errors[std::string("batch: ") + keys::to_string(messages.error())];
    return false;
  }
  for (ByteView m : *messages)
    (void)on_rekey(m, now_ms, out, events);
  return true;
}

bool DeviceAgent::on_rekey(ByteView wire, std::uint64_t now_ms, std::vector<Post>& out,
                           std::vector<Event>& events) {
  if (!keyring_) {
    // The gateway can push before its accept reaches us (sync mode's early bundle): kept,
    // bounded, until the handshake completes; authenticated then, under the node key.
    if (join_ && before_accept_.size() < kAheadMessagesMax &&
        before_accept_bytes_ + wire.size() <= kAheadBytesMax) {
      before_accept_.emplace_back(wire.begin(), wire.end());
      before_accept_bytes_ += wire.size();
      return true;
    }
    ++stats_.rekey_errors["not joined"];
    return false;
  }
  auto st = apply(wire, now_ms, events);
  if (!st) {
    const keys::RekeyError e = st.error();
    ++stats_.rekey_errors[keys::to_string(e)];
    if (e == keys::RekeyError::kGap) {
      auto header = keys::parse_header(wire);
      if (header && ahead_count_ < kAheadMessagesMax &&
          ahead_bytes_ + wire.size() <= kAheadBytesMax &&
          header->position.value() <= keyring_->position().value() + kAheadPositionsMax) {
        ahead_[header->position.value()].emplace_back(wire.begin(), wire.end());
        ++ahead_count_;
        ahead_bytes_ += wire.size();
      }
      if (!gap_since_ms_) gap_since_ms_ = now_ms;
      tick(now_ms, out);
      return true;
    }
    // A replay is harmless: acknowledged so that the gateway stops re-sending it.
    return e == keys::RekeyError::kReplayed;
  }
  // Messages that waited for this one. One that is still ahead (a pairwise node key it waits
  // for has not come) waits on.
  bool progress = true;
  while (progress && !ahead_.empty()) {
    progress = false;
    auto first = ahead_.begin();
    if (first->first > keyring_->position().value() + 1) break;
    std::vector<Bytes> waiting = std::move(first->second);
    const std::uint64_t at = first->first;
    ahead_count_ -= waiting.size();
    for (const Bytes& m : waiting)
      ahead_bytes_ -= m.size();
    ahead_.erase(first);
    for (Bytes& m : waiting) {
      auto applied = apply(m, now_ms, events);
      if (applied) {
        progress = true;
      } else if (applied.error() == keys::RekeyError::kGap) {
        ++ahead_count_;
        ahead_bytes_ += m.size();
        ahead_[at].push_back(std::move(m));
      }
    }
  }
  if (ahead_.empty()) gap_since_ms_.reset();
  return true;
}

void DeviceAgent::track_deks(std::uint64_t now_ms) {
  std::set<keys::KeyId> current;
  const NodeId self = identity_->node;
  const auto note = [&](const keys::KeyId& id, const crypto::Key128& key) {
    current.insert(id);
    const channel::DekCandidates c = deks_.candidates(id, now_ms);
    if (!c.empty() && c[0].key == key) return;
    deks_.update(id, key, keyring_->position().value(), now_ms);
  };
  if (keyring_->placed()) {
    for (const auto& [peer, key] : keyring_->pairwise_node_keys())
      note(keys::KeyId::pairwise_node_key(self, peer), key);
    for (const auto& [set, key] : keyring_->pairwise_set_keys())
      note(keys::KeyId::pairwise_set_key(*keyring_->set(), set), key);
  }
  // A peer or set that is gone: its key is no longer accepted, not even in a grace period.
  for (const keys::KeyId& id : tracked_) {
    if (!current.contains(id)) deks_.erase(id);
  }
  tracked_ = std::move(current);
}

void DeviceAgent::tick(std::uint64_t now_ms, std::vector<Post>& out) {
  deks_.expire(now_ms);
  if (identity_ && leave_wanted_ && now_ms - leave_sent_ms_ >= config_.join_retry_ms)
    send_leave(now_ms, out);
  if (!identity_) {
    // Joining: the same hello again until an answer brings an accept.
    const std::uint64_t retry_ms =
        config_.join_retry_ms * (credential_used_ ? kCredentialUsedBackoff : 1);
    if (join_ && now_ms - join_sent_ms_ >= retry_ms) start(now_ms, out);
    return;
  }
  const std::uint64_t since_request = now_ms - last_catch_up_ms_;
  if (!placed()) {
    // Accepted, no keys yet: ask how the join stands.
    if (now_ms - accepted_ms_ >= config_.keys_wait_ms && since_request >= config_.keys_wait_ms)
      request_catch_up(now_ms, out);
    return;
  }
  if (gap_since_ms_ && now_ms - *gap_since_ms_ >= config_.catch_up_after_ms &&
      since_request >= config_.catch_up_after_ms) {
    request_catch_up(now_ms, out);
    return;
  }
  if (since_request >= config_.check_interval_ms) request_catch_up(now_ms, out);
}

void DeviceAgent::request_catch_up(std::uint64_t now_ms, std::vector<Post>& out) {
  last_catch_up_ms_ = now_ms;
  ++stats_.catch_up_requests;
  // A provisional keyring (sync mode's early bundle) asks from scratch: its position is a guess.
  const Position from = keyring_ && !keyring_->provisional() ? keyring_->position() : Position{0};
  out.push_back(request(enroll::RequestKind::kCatchUp, enroll::catch_up_body(from)));
  status_counter_ = out.back().tag;
}

Post DeviceAgent::request(enroll::RequestKind kind, ByteView body) {
  ++request_counter_;
  state_.save_request_counter(request_counter_);
  const auto key =
      enroll::request_key(identity_->node_key, context_of(config_.chain_id), identity_->node);
  return Post{
      config_.gateway, "req",
      enroll::encode(enroll::make_request(kind, identity_->node, request_counter_, body, key)),
      PostKind::kRequest, request_counter_};
}

void DeviceAgent::leave(std::uint64_t now_ms, std::vector<Post>& out) {
  if (!identity_ || leave_acknowledged_) return;
  leave_wanted_ = true;
  send_leave(now_ms, out);
}

void DeviceAgent::send_leave(std::uint64_t now_ms, std::vector<Post>& out) {
  leave_sent_ms_ = now_ms;
  const crypto::Ed25519Signature consent =
      enroll::consent_to_leave(code_, context_of(config_.chain_id), identity_->node);
  out.push_back(request(enroll::RequestKind::kLeave, consent));
  leave_counter_ = out.back().tag;
}

void DeviceAgent::on_leave_reply(bool success, ByteView body, std::vector<Event>& events) {
  const std::string reason(body.begin(), body.end());
  if (success) {
    leave_wanted_ = false;
    leave_acknowledged_ = true;
    events.push_back(Event{"leave_accepted", {}});
    return;
  }
  Event e{"leave_refused", {}};
  e.add("reason", reason);
  events.push_back(std::move(e));
  // Gone already (left, evicted, or never final and failed): nothing to ask for. Anything else
  // (a join not final yet, a busy gateway) is asked again at a tick.
  if (reason == enroll::kRefusedLeaveNotMember || reason == enroll::kRefusedNotOurDevice)
    leave_wanted_ = false;
}

bool DeviceAgent::send(NodeId peer, SetId peer_set, const Endpoint& at, ByteView text,
                       std::uint64_t tag, std::vector<Post>& out, std::string& error) {
  if (!keyring_ || !keyring_->placed()) {
    error = "no keys yet";
    return false;
  }
  const auto key = keyring_->dek(peer, peer_set);
  if (!key) {
    error = "no key shared with node " + std::to_string(peer.value());
    return false;
  }
  const auto key_class = peer_set == *keyring_->set() ? keys::KeyClass::kPairwiseNodeKey
                                                      : keys::KeyClass::kPairwiseSetKey;
  auto record = sender_->seal(peer, key_class, keyring_->position().value(), *key, text);
  if (!record) {
    error = channel::to_string(record.error());
    return false;
  }
  ++stats_.d2d_sent;
  out.push_back(Post{at, "d2d", std::move(*record), PostKind::kD2d, tag});
  return true;
}

bool DeviceAgent::on_d2d(ByteView record, std::uint64_t now_ms, std::vector<Event>& events) {
  auto header = channel::parse_header(record);
  if (!header) {
    ++stats_.d2d_errors[channel::to_string(header.error())];
    return false;
  }
  if (!identity_ || !receiver_) {
    ++stats_.d2d_errors["not joined"];
    return false;
  }
  if (header->receiver != identity_->node) {
    ++stats_.d2d_errors["addressed to another device"];
    return false;
  }
  // A member that left or was evicted is no peer any more, whatever keys are still in their
  // grace period (that is for members a rekey behind, not for removed ones).
  if (departed_.contains(header->sender)) {
    ++stats_.d2d_errors["sender removed"];
    Event e{"d2d_refused", {}};
    e.add("from", header->sender.value());
    e.add("reason", "sender removed");
    events.push_back(std::move(e));
    return false;
  }
  const NodeId self = identity_->node;
  const auto own_set = keyring_ ? keyring_->set() : std::nullopt;
  // Which set the sender is in decides the pairwise set key: the set its last record came
  // from is tried first, then every other set this device shares a key with (a Reorder may have
  // moved the sender since).
  std::vector<SetId> sets;
  if (header->key_class == keys::KeyClass::kPairwiseSetKey && own_set) {
    auto cached = peer_sets_.find(header->sender);
    if (cached != peer_sets_.end()) sets.push_back(cached->second);
    const bool only_cached =
        cached != peer_sets_.end() && KMCHAIN_FAULT(config_.fault_cached_peer_set_only);
    for (const auto& [set, key] : keyring_->pairwise_set_keys()) {
      if (only_cached) break;
      if (cached == peer_sets_.end() || set != cached->second) sets.push_back(set);
    }
  } else {
    sets.push_back(own_set.value_or(SetId{}));
  }
  Result<channel::Opened, channel::ChannelError> opened = Err{channel::ChannelError::kNoKey};
  for (SetId candidate : sets) {
    const auto lookup = [&](NodeId sender, keys::KeyClass key_class, std::uint64_t now) {
      if (key_class == keys::KeyClass::kPairwiseNodeKey)
        return deks_.candidates(keys::KeyId::pairwise_node_key(self, sender), now);
      return deks_.candidates(keys::KeyId::pairwise_set_key(*own_set, candidate), now);
    };
    opened = receiver_->open(record, lookup, now_ms);
    if (opened || (opened.error() != channel::ChannelError::kAuthFailed &&
                   opened.error() != channel::ChannelError::kNoKey)) {
      if (opened && header->key_class == keys::KeyClass::kPairwiseSetKey)
        peer_sets_[header->sender] = candidate;
      break;
    }
  }
  if (!opened) {
    ++stats_.d2d_errors[channel::to_string(opened.error())];
    Event e{"d2d_refused", {}};
    e.add("from", header->sender.value());
    e.add("reason", channel::to_string(opened.error()));
    events.push_back(std::move(e));
    return false;
  }
  // Durable before it is delivered: after a restart the same record is a replay.
  state_.save_replay_state(receiver_->replay_state());
  ++stats_.d2d_received;
  Event e{"d2d", {}};
  e.add("from", opened->sender.value());
  e.add("counter", opened->counter);
  e.add("class", opened->key_class == keys::KeyClass::kPairwiseNodeKey ? "node" : "set");
  e.add("text", std::string(opened->plaintext.begin(), opened->plaintext.end()));
  events.push_back(std::move(e));
  return true;
}

void DeviceAgent::note_departure(NodeId node, bool departed) {
  if (!departed) {
    // A node id placed again is a member again.
    if (departed_.erase(node) > 0) std::erase(departed_order_, node);
    return;
  }
  if (!departed_.insert(node).second) return;
  departed_order_.push_back(node);
  if (departed_order_.size() > kDepartedMax) {
    departed_.erase(departed_order_.front());
    departed_order_.pop_front();
  }
}

}  // namespace kmchain::device
