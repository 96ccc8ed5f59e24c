#include "gateway/device_service.h"

#include <algorithm>
#include <utility>

#include "base/check.h"
#include "enroll/key_schedule.h"
#include "keys/rekey_message.h"
#include "ledger/contract.h"

namespace kmchain::gateway {

namespace {

Bytes text(const std::string& s) {
  return Bytes(s.begin(), s.end());
}

const char* verdict_reason(const ledger::MempoolVerdict& v) {
  if (v.rejection) return ledger::to_string(*v.rejection);
  switch (v.error) {
    case ledger::MempoolError::kDuplicate:
      return "duplicate";
    case ledger::MempoolError::kFull:
      return "mempool full";
    case ledger::MempoolError::kRejected:
      return "rejected";
  }
  return "unknown";
}

// The body of a key bundle, for comparing an early bundle with the final one.
std::optional<Bytes> bundle_body(const keys::Envelope& e, const crypto::Key128& node_key) {
  auto body = keys::open_body(e.header, e.wire, node_key);
  if (!body) return std::nullopt;
  const auto* bundle = std::get_if<keys::KeyBundleBody>(&*body);
  if (bundle == nullptr) return std::nullopt;
  Bytes out;
  const auto put32 = [&out](std::uint32_t v) {
    for (int s = 24; s >= 0; s -= 8)
      out.push_back(static_cast<std::uint8_t>(v >> s));
  };
  put32(bundle->set.value());
  out.insert(out.end(), bundle->set_key.view().begin(), bundle->set_key.view().end());
  for (const auto& [node, key] : bundle->pairwise_node_keys) {
    put32(node.value());
    out.insert(out.end(), key.view().begin(), key.view().end());
  }
  for (const auto& [set, key] : bundle->pairwise_set_keys) {
    put32(set.value());
    out.insert(out.end(), key.view().begin(), key.view().end());
  }
  const auto p = e.header.position.value();
  for (int s = 56; s >= 0; s -= 8)
    out.push_back(static_cast<std::uint8_t>(p >> s));
  return out;
}

const keys::Envelope* find_bundle(const keys::RekeyPlan& plan, NodeId node) {
  for (const keys::Envelope& e : plan.messages) {
    if (e.header.kind == keys::MessageKind::kKeyBundle &&
        e.header.audience == keys::Audience::kDevice && e.header.target == node.value()) {
      return &e;
    }
  }
  return nullptr;
}

}  // namespace

DeviceService::DeviceService(DeviceServiceConfig config, keys::KeySource& source, crypto::Rng& rng,
                             DeviceStore& store, LedgerPort& ledger,
                             std::function<std::uint64_t()> clock_us)
    : config_(config),
      rng_(rng),
      store_(store),
      ledger_(ledger),
      clock_us_(std::move(clock_us)),
      view_(keys::KeyManager::custody_view(config.gateways, config.self, source, rng)) {}

void DeviceService::load_devices() {
  for (DeviceRecord& r : store_.devices()) {
    by_credential_[r.credential] = r.node;
    counters_.restore(r.node, r.request_counter);
    const NodeId node = r.node;
    records_.insert_or_assign(node, std::move(r));
  }
}

void DeviceService::replay(const ledger::Block& block) {
  for (const ledger::Transaction& tx : block.transactions)
    execute(tx, /*send=*/false, nullptr);
}

Reply DeviceService::refuse(ReplyCode code, const std::string& reason) {
  ++stats_.refused[reason];
  return Reply{code, text(reason)};
}

NodeId DeviceService::next_node_id() {
  const ledger::LedgerState& state = ledger_.check_state();
  while (true) {
    const NodeId node{(static_cast<std::uint32_t>(config_.self.value()) << 24) | next_node_};
    ++next_node_;
    if (!state.node_id_used(node) && !records_.contains(node)) return node;
  }
}

Reply DeviceService::on_join(const config::Endpoint& from, ByteView body, std::vector<Push>& out) {
  const std::uint64_t t0 = clock_us_();
  auto hello = enroll::parse_hello(body);
  if (!hello)
    return refuse(ReplyCode::kBadRequest, std::string("join: ") + enroll::to_string(hello.error()));
  auto credential = store_.credential(hello->credential);
  if (!credential) return refuse(ReplyCode::kUnauthorized, "join: unknown credential");
  const enroll::JoinResponder responder(config_.chain_id);
  if (!responder.verify_hello(*hello, credential->psk)) {
    return refuse(ReplyCode::kUnauthorized, "join: bad credential mac");
  }
  if (auto used = by_credential_.find(hello->credential); used != by_credential_.end()) {
    const DeviceRecord& r = records_.at(used->second);
    if (!crypto::ct_equal(r.hello, body)) {
      return refuse(ReplyCode::kForbidden, "join: credential already used");
    }
    // The same hello again (our accept was lost): the same accept; the transaction again if
    // it is neither committed nor pending (a restart between storing and submitting).
    ++stats_.join_retransmissions;
    if (ledger_.check_state().table().find_member(r.node) == nullptr) {
      if (auto tx = ledger::decode_transaction(r.transaction)) (void)ledger_.submit(*tx);
    }
    return Reply{ReplyCode::kCreated, r.accept};
  }
  if (store_.credential_user(hello->credential)) {
    return refuse(ReplyCode::kForbidden, "join: credential already used");
  }

  const ledger::LedgerState& state = ledger_.check_state();
  auto placement = state.table().assign(config_.self);
  if (!placement) return refuse(ReplyCode::kConflict, keys::to_string(placement.error()));
  const NodeId node = next_node_id();
  const ledger::Transaction tx{ledger::Operation::kJoin, node, placement->set, hello->commitment,
                               rng_.key128()};
  if (auto check = ledger::check(state, tx); !check) {
    return refuse(ReplyCode::kConflict, std::string("join: ") + ledger::to_string(check.error()));
  }
  const std::uint64_t t1 = clock_us_();
  auto accepted = responder.accept(*hello, credential->psk, config_.self, node, rng_);
  if (!accepted) return refuse(ReplyCode::kUnauthorized, "join: bad credential mac");
  const std::uint64_t t2 = clock_us_();

  DeviceRecord record{node,
                      accepted->node_key,
                      config::Endpoint{from.host, hello->reply_port},
                      hello->credential,
                      Bytes(body.begin(), body.end()),
                      accepted->accept,
                      {},
                      0};
  const auto encoded = ledger::encode(tx);
  record.transaction.assign(encoded.begin(), encoded.end());
  // Durable before the transaction leaves this gateway: a crash after the submit must not lose
  // the node key of a device the ledger will admit.
  store_.put_device(record);
  records_.insert_or_assign(node, record);
  by_credential_[hello->credential] = node;

  const std::uint64_t t3 = clock_us_();
  auto verdict = ledger_.submit(tx);
  const std::uint64_t t4 = clock_us_();
  if (!verdict) {
    store_.erase_device(node);
    records_.erase(node);
    by_credential_.erase(hello->credential);
    return refuse(verdict.error().error == ledger::MempoolError::kFull ? ReplyCode::kUnavailable
                                                                       : ReplyCode::kConflict,
                  std::string("join: ") + verdict_reason(verdict.error()));
  }
  ++stats_.joins_accepted;
  PendingJoin pending;
  pending.submitted_us = t4;
  pending.timing.t_e_us = (t1 - t0) + (t4 - t3);
  pending.timing.t_k_us = t2 - t1;
  if (config_.mode == config::SubmissionMode::kSync) {
    const std::uint64_t k0 = clock_us_();
    if (auto early = speculative_bundle(node)) {
      pending.early_bundle_body = bundle_body(*early, record.node_key);
      push(node, early->header.position, early->wire, out);
    }
    pending.timing.t_k_us += clock_us_() - k0;
  }
  pending_joins_[node] = std::move(pending);
  return Reply{ReplyCode::kCreated, accepted->accept};
}

// The bundle the device would get if the pending transactions committed in mempool order: run
// them on a copy of the key view. Only this gateway's devices' node keys are needed, and the
// copy's messages go nowhere but the one bundle.
std::optional<keys::Envelope> DeviceService::speculative_bundle(NodeId node) {
  keys::KeyManager copy = view_;
  for (const ledger::Transaction& tx : ledger_.pending()) {
    if (tx.op == ledger::Operation::kJoin) {
      const GatewayId origin = ledger::origin_of(tx.node);
      std::optional<crypto::Key128> key;
      if (origin == config_.self) {
        auto it = records_.find(tx.node);
        if (it == records_.end()) return std::nullopt;
        key = it->second.node_key;
      }
      auto plan = copy.join(tx.node, origin, key, tx.refresh_key);
      if (!plan) return std::nullopt;
      if (tx.node == node) {
        const keys::Envelope* bundle = find_bundle(*plan, node);
        return bundle ? std::optional<keys::Envelope>(*bundle) : std::nullopt;
      }
    } else {
      const auto cause =
          tx.op == ledger::Operation::kLeave ? keys::Cause::kLeave : keys::Cause::kEvict;
      if (!copy.remove(tx.node, cause, tx.refresh_key)) return std::nullopt;
    }
  }
  return std::nullopt;
}

Reply DeviceService::on_request(ByteView body, std::vector<Push>& out) {
  auto request = enroll::parse_request(body);
  if (!request) {
    return refuse(ReplyCode::kBadRequest,
                  std::string("request: ") + enroll::to_string(request.error()));
  }
  auto it = records_.find(request->node);
  if (it == records_.end()) return refuse(ReplyCode::kForbidden, "request: not our device");
  DeviceRecord& record = it->second;
  const auto key = enroll::request_key(record.node_key, config_.chain_id, record.node);
  if (!enroll::verify_request(*request, key)) {
    return refuse(ReplyCode::kUnauthorized, "request: bad mac");
  }
  if (request->counter <= counters_.last(record.node)) {
    return refuse(ReplyCode::kForbidden, "request: stale counter");
  }
  // The counter is durable before the request acts: a replay after a restart is refused too.
  record.request_counter = request->counter;
  store_.put_device(record);
  counters_.restore(record.node, request->counter);

  switch (request->kind) {
    case enroll::RequestKind::kLeave: {
      const ledger::LedgerState& state = ledger_.check_state();
      const auto* member = state.table().find_member(record.node);
      const auto* commitment = state.commitment_of(record.node);
      if (member == nullptr || commitment == nullptr) {
        return refuse(ReplyCode::kConflict, "leave: not a member");
      }
      const ledger::Transaction tx{ledger::Operation::kLeave, record.node, member->set, *commitment,
                                   rng_.key128()};
      auto verdict = ledger_.submit(tx);
      if (!verdict) {
        return refuse(ReplyCode::kConflict,
                      std::string("leave: ") + verdict_reason(verdict.error()));
      }
      ++stats_.leaves;
      pending_leaves_.insert(record.node);
      return Reply{ReplyCode::kChanged, {}};
    }
    case enroll::RequestKind::kCatchUp: {
      ++stats_.catch_ups;
      const Position from = enroll::catch_up_position(*request);
      const auto& kept = sent_[record.node];
      const bool covered = !kept.empty() && kept.front().first.value() <= from.value() + 1;
      if (covered) {
        for (const auto& [position, wire] : kept) {
          if (position.value() >= from.value())
            out.push_back(Push{record.node, record.endpoint, wire});
        }
      } else if (view_.table().find_member(record.node) != nullptr) {
        auto bundle = view_.bundle_for(record.node);
        if (bundle) {
          ++stats_.catch_up_bundles;
          push(record.node, bundle->header.position, bundle->wire, out);
        }
      }
      return Reply{ReplyCode::kChanged, {}};
    }
    case enroll::RequestKind::kStatus:
      return Reply{ReplyCode::kChanged, {}};
  }
  return refuse(ReplyCode::kBadRequest, "request: unknown kind");
}

void DeviceService::push(NodeId node, Position position, const Bytes& wire,
                         std::vector<Push>& out) {
  auto it = records_.find(node);
  if (it == records_.end()) return;
  auto& kept = sent_[node];
  kept.emplace_back(position, wire);
  while (kept.size() > kCatchUpMessagesKept)
    kept.pop_front();
  ++stats_.messages_pushed;
  out.push_back(Push{node, it->second.endpoint, wire});
}

void DeviceService::push_plan(const keys::RekeyPlan& plan, std::vector<Push>& out) {
  for (const keys::Envelope& e : plan.messages) {
    if (e.sender != config_.self) continue;
    for (NodeId recipient : e.recipients)
      push(recipient, e.header.position, e.wire, out);
  }
}

void DeviceService::execute(const ledger::Transaction& tx, bool send, std::vector<Push>* out) {
  Result<keys::RekeyPlan, keys::TableError> plan = Err{keys::TableError::kNodeUnknown};
  const std::uint64_t k0 = clock_us_();
  if (tx.op == ledger::Operation::kJoin) {
    const GatewayId origin = ledger::origin_of(tx.node);
    std::optional<crypto::Key128> key;
    if (origin == config_.self) {
      if (auto it = records_.find(tx.node); it != records_.end()) key = it->second.node_key;
    }
    plan = view_.join(tx.node, origin, key, tx.refresh_key);
  } else {
    plan = view_.remove(
        tx.node, tx.op == ledger::Operation::kLeave ? keys::Cause::kLeave : keys::Cause::kEvict,
        tx.refresh_key);
  }
  if (!plan) {
    // The ledger committed it, so every step is valid; only a lost node key gets here.
    ++stats_.key_work_errors;
    return;
  }
  const std::uint64_t k1 = clock_us_();
  if (!send) return;
  push_plan(*plan, *out);
  if (tx.op == ledger::Operation::kJoin) {
    if (auto p = pending_joins_.find(tx.node); p != pending_joins_.end()) {
      JoinTiming timing = p->second.timing;
      timing.t_k_us += k1 - k0;
      if (config_.mode == config::SubmissionMode::kCommit) {
        timing.t_a_us = k0 - p->second.submitted_us;
      } else if (p->second.early_bundle_body) {
        const keys::Envelope* bundle = find_bundle(*plan, tx.node);
        const auto& record = records_.at(tx.node);
        if (bundle == nullptr ||
            bundle_body(*bundle, record.node_key) != p->second.early_bundle_body)
          ++stats_.sync_repairs;
      }
      stats_.joins.push_back(timing);
      ++stats_.joins_committed;
      pending_joins_.erase(p);
    }
  } else if (auto it = records_.find(tx.node); it != records_.end()) {
    pending_leaves_.erase(tx.node);
    // Gone: its node key is of no further use, and keeping it would only widen what a captured
    // gateway leaks.
    store_.erase_device(tx.node);
    by_credential_.erase(it->second.credential);
    records_.erase(it);
    sent_.erase(tx.node);
    counters_.forget(tx.node);
  }
}

void DeviceService::on_committed(const ledger::Block& block, std::vector<Push>& out) {
  for (const ledger::Transaction& tx : block.transactions)
    execute(tx, /*send=*/true, &out);
}

void DeviceService::resubmit_dropped() {
  const ledger::LedgerState& state = ledger_.check_state();
  for (auto& [node, pending] : pending_joins_) {
    // Used means committed or pending; neither means the mempool dropped it.
    if (state.node_id_used(node)) continue;
    auto rit = records_.find(node);
    if (rit == records_.end()) continue;
    auto old = ledger::decode_transaction(rit->second.transaction);
    auto placement = state.table().assign(config_.self);
    if (!old || !placement) continue;
    // The same node id and commitment (the device holds its accept), the set Assignment gives
    // now, and a fresh refresh key.
    const ledger::Transaction tx{ledger::Operation::kJoin, node, placement->set, old->commitment,
                                 rng_.key128()};
    const auto encoded = ledger::encode(tx);
    rit->second.transaction.assign(encoded.begin(), encoded.end());
    store_.put_device(rit->second);
    if (ledger_.submit(tx)) ++stats_.resubmissions;
  }
  for (NodeId node : pending_leaves_) {
    const auto* member = state.table().find_member(node);
    const auto* commitment = state.commitment_of(node);
    if (member == nullptr || commitment == nullptr) continue;  // gone, or its leave is pending
    bool pending = false;
    for (const ledger::Transaction& tx : ledger_.pending())
      pending = pending || (tx.node == node && tx.op != ledger::Operation::kJoin);
    if (pending) continue;
    const ledger::Transaction tx{ledger::Operation::kLeave, node, member->set, *commitment,
                                 rng_.key128()};
    if (ledger_.submit(tx)) ++stats_.resubmissions;
  }
}

}  // namespace kmchain::gateway
