#include "device/agent.h"

#include <algorithm>
#include <set>
#include <utility>

#include "enroll/device_request.h"
#include "enroll/key_schedule.h"
#include "keys/key_id.h"
#include "keys/rekey_message.h"

namespace kmchain::device {

namespace {

// DEK values kept for the sniffer's trial: bounded, oldest dropped.
constexpr std::size_t kHeldKeysMax = 8192;

enroll::ContextId context_of(const channel::ContextId& c) {
  enroll::ContextId out{};
  std::copy(c.begin(), c.end(), out.begin());
  return out;
}

}  // namespace

DeviceAgent::DeviceAgent(AgentConfig config, enroll::DeviceCredential credential,
                         const enroll::SecretCode& code, crypto::Rng& rng,
                         channel::CounterStore& counters, StateSink& state,
                         std::optional<Identity> identity, std::uint64_t request_counter)
    : config_(std::move(config)),
      credential_(std::move(credential)),
      commitment_(enroll::commitment_of(code)),
      rng_(rng),
      counters_(counters),
      state_(state),
      identity_(std::move(identity)),
      request_counter_(request_counter),
      deks_(config_.grace_ms) {}

std::optional<NodeId> DeviceAgent::node() const {
  return identity_ ? std::optional<NodeId>(identity_->node) : std::nullopt;
}

std::optional<SetId> DeviceAgent::set() const {
  return keyring_ ? keyring_->set() : std::nullopt;
}

void DeviceAgent::start(std::uint64_t now_ms, std::vector<Post>& out) {
  if (identity_) {
    if (!keyring_) {
      keyring_.emplace(identity_->node, identity_->node_key);
      sender_ =
          std::make_unique<channel::ChannelSender>(identity_->node, config_.chain_id, counters_);
      receiver_ = std::make_unique<channel::ChannelReceiver>(identity_->node, config_.chain_id);
    }
    // Back from a restart with an empty keyring: the gateway sends what it holds for us.
    request_catch_up(now_ms, out);
    return;
  }
  // A retry sends the same hello: a second one would find the credential used.
  if (!join_) {
    join_.emplace(credential_, commitment_, config_.listen_port, context_of(config_.chain_id),
                  rng_);
  }
  out.push_back(Post{config_.gateway, "join", join_->hello(), PostKind::kJoin});
}

void DeviceAgent::on_join_reply(bool answered, bool success, ByteView body, std::uint64_t now_ms,
                                std::vector<Event>& events) {
  if (identity_ || !join_) return;
  if (!answered || !success) {
    Event e{"join_refused", {}};
    e.add("reason", answered ? std::string(body.begin(), body.end()) : "no answer");
    events.push_back(std::move(e));
    return;
  }
  auto result = join_->on_accept(body);
  if (!result) {
    Event e{"join_refused", {}};
    e.add("reason", std::string("bad accept: ") + enroll::to_string(result.error()));
    events.push_back(std::move(e));
    return;
  }
  identity_ = Identity{result->node, result->gateway, result->node_key};
  // Durable before anything is done with it: a restart resumes as this node.
  state_.save_identity(*identity_);
  keyring_.emplace(identity_->node, identity_->node_key);
  sender_ = std::make_unique<channel::ChannelSender>(identity_->node, config_.chain_id, counters_);
  receiver_ = std::make_unique<channel::ChannelReceiver>(identity_->node, config_.chain_id);
  join_.reset();
  Event e{"accepted", {}};
  e.add("node", result->node.value());
  e.add("gateway", result->gateway.value());
  events.push_back(std::move(e));
  auto early = std::move(before_accept_);
  before_accept_.clear();
  std::vector<Post> unused;
  for (const Bytes& wire : early)
    (void)on_rekey(wire, now_ms, unused, events);
}

Status<keys::RekeyError> DeviceAgent::apply(ByteView wire, std::uint64_t now_ms,
                                            std::vector<Event>& events) {
  auto header = keys::parse_header(wire);
  if (!header) return Err{header.error()};
  const bool bundle = header->kind == keys::MessageKind::kKeyBundle;
  auto st = keyring_->apply(wire);
  if (!st && st.error() == keys::RekeyError::kReplayed && bundle && provisional_) {
    // Sync mode: the bundle of the committed join replaces the early one, whatever its
    // position. It is authenticated under the node key like any bundle.
    keys::Keyring fresh(identity_->node, identity_->node_key);
    st = fresh.apply(wire);
    if (st) {
      keyring_.emplace(std::move(fresh));
      // The early keys were never the network's: no grace period for them.
      for (const keys::KeyId& id : tracked_)
        deks_.erase(id);
      tracked_.clear();
    }
  }
  if (!st) return st;
  ++stats_.rekey_applied;
  provisional_ = bundle && !provisional_;
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

bool DeviceAgent::on_rekey(ByteView wire, std::uint64_t now_ms, std::vector<Post>& out,
                           std::vector<Event>& events) {
  if (!keyring_) {
    // The gateway can push before its accept reaches us (sync mode's early bundle): kept,
    // bounded, until the handshake completes; authenticated then, under the node key.
    if (join_ && before_accept_.size() < kAheadMessagesMax) {
      before_accept_.emplace_back(wire.begin(), wire.end());
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
      if (header && ahead_count_ < kAheadMessagesMax) {
        ahead_[header->position.value()].emplace_back(wire.begin(), wire.end());
        ++ahead_count_;
      }
      if (!gap_since_ms_) gap_since_ms_ = now_ms;
      tick(now_ms, out);
      return true;
    }
    // A replay is harmless: acknowledged so that the gateway stops re-sending it.
    return e == keys::RekeyError::kReplayed;
  }
  // Messages that waited for this one.
  bool progress = true;
  while (progress && !ahead_.empty()) {
    progress = false;
    auto first = ahead_.begin();
    if (first->first > keyring_->position().value() + 1) break;
    std::vector<Bytes> waiting = std::move(first->second);
    ahead_count_ -= waiting.size();
    ahead_.erase(first);
    for (const Bytes& m : waiting) {
      if (apply(m, now_ms, events)) progress = true;
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
    held_.push_back(key);
    if (held_.size() > kHeldKeysMax) held_.erase(held_.begin());
  };
  if (keyring_->placed()) {
    for (const auto& [peer, key] : keyring_->pairwise_node_keys())
      note(keys::KeyId::pairwise_node_key(self, peer), key);
    for (const auto& [set, key] : keyring_->pairwise_set_keys())
      note(keys::KeyId::pairwise_set_key(*keyring_->set(), set), key);
    const crypto::Key128* set_key = keyring_->set_key();
    if (set_key != nullptr && (!last_set_key_ || !(*last_set_key_ == *set_key))) {
      last_set_key_.emplace(*set_key);
      held_.push_back(*set_key);
    }
  }
  if (held_.empty()) held_.push_back(keyring_->node_key());
  // A peer or set that is gone: its key is no longer accepted, not even in a grace period.
  for (const keys::KeyId& id : tracked_) {
    if (!current.contains(id)) deks_.erase(id);
  }
  tracked_ = std::move(current);
}

void DeviceAgent::tick(std::uint64_t now_ms, std::vector<Post>& out) {
  deks_.expire(now_ms);
  if (!gap_since_ms_ || !identity_) return;
  if (now_ms - *gap_since_ms_ < config_.catch_up_after_ms &&
      now_ms - last_catch_up_ms_ < 10 * config_.catch_up_after_ms) {
    return;
  }
  if (now_ms - last_catch_up_ms_ < config_.catch_up_after_ms) return;
  request_catch_up(now_ms, out);
}

void DeviceAgent::request_catch_up(std::uint64_t now_ms, std::vector<Post>& out) {
  last_catch_up_ms_ = now_ms;
  ++stats_.catch_up_requests;
  out.push_back(Post{config_.gateway, "req",
                     request(enroll::RequestKind::kCatchUp,
                             enroll::catch_up_body(keyring_ ? keyring_->position() : Position{0})),
                     PostKind::kRequest});
}

Bytes DeviceAgent::request(enroll::RequestKind kind, ByteView body) {
  ++request_counter_;
  state_.save_request_counter(request_counter_);
  const auto key =
      enroll::request_key(identity_->node_key, context_of(config_.chain_id), identity_->node);
  return enroll::encode(enroll::make_request(kind, identity_->node, request_counter_, body, key));
}

void DeviceAgent::leave(std::vector<Post>& out) {
  if (!identity_) return;
  out.push_back(
      Post{config_.gateway, "req", request(enroll::RequestKind::kLeave, {}), PostKind::kRequest});
}

bool DeviceAgent::send(NodeId peer, SetId peer_set, const config::Endpoint& at, ByteView text,
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

bool DeviceAgent::sniff(ByteView record, const channel::RecordHeader& header,
                        std::uint64_t now_ms) {
  ++stats_.sniffed;
  // Every key this device holds or held, tried as the receiver would: a fresh receiver for the
  // addressee, so that only the keys decide.
  for (const crypto::Key128& key : held_) {
    channel::ChannelReceiver trial(header.receiver, config_.chain_id);
    const auto lookup = [&key, &header](NodeId, keys::KeyClass, std::uint64_t) {
      channel::DekCandidates c;
      c.push_back(channel::DekVersion{key, header.epoch});
      return c;
    };
    if (trial.open(record, lookup, now_ms)) {
      ++stats_.sniffed_decrypted;
      return true;
    }
  }
  return false;
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
    const bool decrypted = sniff(record, *header, now_ms);
    Event e{"sniffed", {}};
    e.add("from", header->sender.value());
    e.add("to", header->receiver.value());
    e.add("decrypted", decrypted ? "true" : "false");
    events.push_back(std::move(e));
    return true;
  }
  const NodeId self = identity_->node;
  const auto own_set = keyring_ ? keyring_->set() : std::nullopt;
  // Which set the sender is in decides the pairwise set key: known once a record opened, else
  // each set this device shares a key with is tried.
  std::vector<SetId> sets;
  if (header->key_class == keys::KeyClass::kPairwiseSetKey && own_set) {
    if (auto it = peer_sets_.find(header->sender); it != peer_sets_.end()) {
      sets.push_back(it->second);
    } else {
      for (const auto& [set, key] : keyring_->pairwise_set_keys())
        sets.push_back(set);
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
  ++stats_.d2d_received;
  Event e{"d2d", {}};
  e.add("from", opened->sender.value());
  e.add("counter", opened->counter);
  e.add("class", opened->key_class == keys::KeyClass::kPairwiseNodeKey ? "node" : "set");
  e.add("text", std::string(opened->plaintext.begin(), opened->plaintext.end()));
  events.push_back(std::move(e));
  return true;
}

}  // namespace kmchain::device
