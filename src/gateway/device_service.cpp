#include "gateway/device_service.h"

#include <algorithm>
#include <utility>

#include "base/check.h"
#include "enroll/device_request.h"
#include "enroll/join.h"
#include "enroll/join_refusal.h"
#include "enroll/key_schedule.h"
#include "enroll/status_reply.h"
#include "keys/rekey_message.h"

namespace kmchain::gateway {

namespace {

Bytes text(const std::string& s) {
  return Bytes(s.begin(), s.end());
}

}  // namespace

DeviceService::DeviceService(DeviceServiceConfig config, DeviceRegistry& registry,
                             PendingTransactions& pending, KeyWork& keys, PushQueues& pushes,
                             consensus::Replica& replica, crypto::Rng& rng,
                             std::function<std::uint64_t()> clock_us)
    : config_(config),
      registry_(registry),
      pending_(pending),
      keys_(keys),
      pushes_(pushes),
      replica_(replica),
      rng_(rng),
      clock_us_(std::move(clock_us)) {}

Reply DeviceService::refuse(ReplyCode code, const std::string& reason) {
  ++stats_.refused[reason];
  return Reply{code, text(reason)};
}

std::optional<NodeId> DeviceService::free_node_id() const {
  const ledger::LedgerState& state = replica_.mempool().check_state();
  for (std::uint32_t local = next_node_; local <= kLocalNodeIdMax; ++local) {
    const NodeId node{(static_cast<std::uint32_t>(config_.self.value()) << 24) | local};
    if (!state.node_id_used(node) && registry_.device(node) == nullptr) return node;
  }
  return std::nullopt;
}

void DeviceService::restored() {
  // Above every id this gateway handed out that a record remembers: one a failed join took is
  // never handed out twice (an old copy of its transaction may still become final).
  for (const auto& [node, record] : registry_.devices()) {
    if (ledger::origin_of(node) == config_.self)
      next_node_ = std::max(next_node_, (node.value() & kLocalNodeIdMax) + 1);
  }
}

bool DeviceService::take_request_budget(NodeId node, std::uint64_t now_ms) {
  auto [it, fresh] = budgets_.try_emplace(node, RequestBudget{kRequestBurst, now_ms});
  RequestBudget& budget = it->second;
  if (now_ms > budget.refilled_ms) {
    const std::uint64_t earned = (now_ms - budget.refilled_ms) / kRequestRefillMs;
    budget.tokens = std::min<std::uint64_t>(kRequestBurst, budget.tokens + earned);
    budget.refilled_ms =
        budget.tokens == kRequestBurst ? now_ms : budget.refilled_ms + earned * kRequestRefillMs;
  }
  if (budget.tokens == 0) return false;
  --budget.tokens;
  return true;
}

Reply DeviceService::on_join(const Endpoint& from, ByteView body, std::uint64_t now_ms,
                             std::vector<Action>& out) {
  const std::uint64_t t0 = clock_us_();
  auto hello = enroll::parse_hello(body);
  if (!hello)
    return refuse(ReplyCode::kBadRequest, std::string("join: ") + enroll::to_string(hello.error()));
  const CredentialRecord* credential = registry_.credential(hello->credential);
  if (credential == nullptr) return refuse(ReplyCode::kUnauthorized, "join: unknown credential");
  const crypto::Secret256 psk = credential->credential.psk;
  const enroll::JoinResponder responder(config_.chain_id);
  if (!responder.verify_hello(*hello, psk)) {
    return refuse(ReplyCode::kUnauthorized, "join: bad credential mac");
  }
  // From here on the hello is authentic: a refusal says why, authenticated (join_refusal.h).
  const auto refuse_join = [&](ReplyCode code, enroll::RefusalReason reason) {
    ++stats_.refused[std::string("join: ") + enroll::to_string(reason)];
    return Reply{code, enroll::encode_refusal(reason, body, psk, config_.chain_id)};
  };
  if (credential->used_by) {
    const DeviceRecord* record = registry_.device(*credential->used_by);
    if (record == nullptr || !crypto::ct_equal(record->hello, body)) {
      return refuse_join(ReplyCode::kForbidden, enroll::RefusalReason::kCredentialUsed);
    }
    // The same hello again (our accept was lost, or the device restarted before it): the same
    // accept, and the transaction again if it went missing.
    ++stats_.join_retransmissions;
    ensure_submitted(*record, now_ms, out);
    return Reply{ReplyCode::kCreated, record->accept};
  }

  const ledger::LedgerState& state = replica_.mempool().check_state();
  if (replica_.mempool().size() >= replica_.mempool().capacity()) {
    return refuse_join(ReplyCode::kUnavailable, enroll::RefusalReason::kUnavailable);
  }
  auto placement = state.table().assign(config_.self);
  if (!placement) return refuse_join(ReplyCode::kConflict, enroll::RefusalReason::kRefused);
  const std::optional<NodeId> free = free_node_id();
  if (!free) return refuse_join(ReplyCode::kConflict, enroll::RefusalReason::kRefused);
  const NodeId node = *free;
  const ledger::Transaction tx{ledger::Operation::kJoin, node, placement->set, hello->commitment,
                               rng_.key128()};
  if (auto check = ledger::check_rules(state, tx, config_.self); !check) {
    if (check.error() != ledger::Rejection::kCommitmentUsed)
      return refuse_join(ReplyCode::kConflict, enroll::RefusalReason::kRefused);
    // Final only if a committed join holds the commitment; a pending one may still fail.
    return replica_.state().commitment_used(hello->commitment)
               ? refuse_join(ReplyCode::kConflict, enroll::RefusalReason::kCommitmentUsed)
               : refuse_join(ReplyCode::kUnavailable, enroll::RefusalReason::kUnavailable);
  }
  const std::uint64_t t1 = clock_us_();
  auto accepted = responder.accept(*hello, psk, config_.self, node, rng_);
  if (!accepted) return refuse(ReplyCode::kUnauthorized, "join: bad credential mac");
  const std::uint64_t t2 = clock_us_();

  // A device that was told its join failed tries again: its old record goes.
  if (const DeviceRecord* old = registry_.device_of(hello->credential)) {
    registry_.erase(old->node, out);
  }
  const DeviceRecord record{node,
                            accepted->node_key,
                            Endpoint{from.host, hello->reply_port},
                            hello->credential,
                            Bytes(body.begin(), body.end()),
                            accepted->accept,
                            0,
                            {}};
  // Durable before the transaction leaves this gateway: a crash after the submit must not lose
  // the node key of a device the ledger will admit.
  const bool record_first = !KMCHAIN_FAULT(config_.faults.record_after_gossip);
  if (record_first) registry_.put(record, out);
  const std::uint64_t t3 = clock_us_();
  auto verdict = pending_.submit(tx, replica_, now_ms, out);
  const std::uint64_t t4 = clock_us_();
  if (!record_first) registry_.put(record, out);
  if (!verdict) {
    registry_.release(node, out);
    return verdict.error().error == ledger::MempoolError::kFull
               ? refuse_join(ReplyCode::kUnavailable, enroll::RefusalReason::kUnavailable)
               : refuse_join(ReplyCode::kConflict, enroll::RefusalReason::kRefused);
  }
  ++stats_.joins_accepted;
  next_node_ = (node.value() & kLocalNodeIdMax) + 1;
  JoinInFlight flight;
  flight.submitted_us = t4;
  flight.timing.t_e_us = (t1 - t0) + (t4 - t3);
  flight.timing.t_k_us = t2 - t1;
  if (config_.mode == ledger::SubmissionMode::kSync) {
    const std::uint64_t k0 = clock_us_();
    const auto node_key_of = [this](NodeId n) -> std::optional<crypto::Key128> {
      const DeviceRecord* r = registry_.device(n);
      return r ? std::optional(r->node_key) : std::nullopt;
    };
    if (auto early =
            keys_.early_bundle(node, record.node_key,
                               ledger::bodies(replica_.mempool().reap(replica_.mempool().size())),
                               node_key_of, rng_)) {
      flight.early_bundle = bundle_digest(*early, record.node_key);
      // Not kept for catch-up: a guess at keys that the final bundle replaces, it must never
      // reach the device after the final one.
      ++stats_.messages_pushed;
      pushes_.push(node, record.endpoint, early->wire, out);
    }
    flight.timing.t_k_us += clock_us_() - k0;
  }
  in_flight_[node] = std::move(flight);
  return Reply{ReplyCode::kCreated, accepted->accept};
}

void DeviceService::ensure_submitted(const DeviceRecord& record, std::uint64_t now_ms,
                                     std::vector<Action>& out) {
  if (!record.join_failure.empty()) return;
  if (replica_.state().node_id_used(record.node)) return;  // final
  if (pending_.find(record.node, ledger::Operation::kJoin) != nullptr) return;
  auto hello = enroll::parse_hello(record.hello);
  KMCHAIN_CHECK(hello.ok());  // stored only after it parsed, and checked when loaded
  const ledger::LedgerState& state = replica_.mempool().check_state();
  auto placement = state.table().assign(config_.self);
  const ledger::Transaction tx{ledger::Operation::kJoin, record.node,
                               placement ? placement->set : SetId{}, hello->commitment,
                               rng_.key128()};
  if (replica_.state().commitment_used(hello->commitment)) {
    // Another device's join took the commitment for good: this one can never pass.
    fail_join(GivenUp{tx, ledger::to_string(ledger::Rejection::kCommitmentUsed)}, out);
    return;
  }
  if (!placement) return;
  if (!ledger::check_rules(state, tx, config_.self)) return;  // asked again later, on a new state
  if (pending_.submit(tx, replica_, now_ms, out)) ++stats_.resubmissions;
}

Reply DeviceService::on_request(const Endpoint& from, ByteView body, std::uint64_t now_ms,
                                std::vector<Action>& out) {
  auto request = enroll::parse_request(body);
  if (!request) {
    return refuse(ReplyCode::kBadRequest,
                  std::string("request: ") + enroll::to_string(request.error()));
  }
  const DeviceRecord* found = registry_.device(request->node);
  if (found == nullptr)
    return refuse(ReplyCode::kForbidden, std::string(enroll::kRefusedNotOurDevice));
  const auto key = enroll::request_key(found->node_key, config_.chain_id, found->node);
  if (!enroll::verify_request(*request, key)) {
    return refuse(ReplyCode::kUnauthorized, "request: bad mac");
  }
  if (request->counter <= found->request_counter) {
    return refuse(ReplyCode::kForbidden, "request: stale counter");
  }
  // Each request costs a durable write: a device (or whoever holds its key) gets a bounded rate.
  if (!take_request_budget(found->node, now_ms))
    return refuse(ReplyCode::kUnavailable, "request: too frequent");
  // The counter is durable before the request acts: a replay after a restart is refused too. The
  // device's address follows it if it moved (the request is authentic).
  DeviceRecord record = *found;
  record.request_counter = request->counter;
  record.endpoint.host = from.host;
  registry_.put(record, out);

  switch (request->kind) {
    case enroll::RequestKind::kLeave: {
      const std::string not_member(enroll::kRefusedLeaveNotMember);
      if (!record.join_failure.empty()) return refuse(ReplyCode::kConflict, not_member);
      // A leave is for a member whose join is final: one submitted earlier could pass before the
      // join does, and fail.
      if (replica_.state().table().find_member(record.node) == nullptr)
        return refuse(ReplyCode::kConflict, std::string(enroll::kRefusedLeaveNotFinal));
      if (pending_.find(record.node, ledger::Operation::kLeave) != nullptr) {
        return Reply{ReplyCode::kChanged, {}};  // asked again: it is on its way
      }
      const ledger::LedgerState& state = replica_.mempool().check_state();
      const auto* member = state.table().find_member(record.node);
      const auto* commitment = state.commitment_of(record.node);
      // Final, and gone from the pending state: an eviction is on its way, which is a removal.
      if (member == nullptr || commitment == nullptr) return Reply{ReplyCode::kChanged, {}};
      // The device's own consent travels with the leave: every gateway checks it.
      const crypto::Ed25519Signature consent = enroll::leave_consent(*request);
      if (!ledger::verify_leave_consent(*commitment, config_.chain_id, record.node, consent))
        return refuse(ReplyCode::kForbidden, std::string(enroll::kRefusedLeaveBadConsent));
      const ledger::Transaction tx{ledger::Operation::kLeave, record.node, member->set, *commitment,
                                   rng_.key128()};
      auto verdict = pending_.submit(tx, replica_, now_ms, out, consent);
      if (!verdict) {
        return refuse(ReplyCode::kConflict,
                      std::string("leave: ") + ledger::to_string(verdict.error()));
      }
      ++stats_.leaves;
      return Reply{ReplyCode::kChanged, {}};
    }
    case enroll::RequestKind::kCatchUp:
      ++stats_.catch_ups;
      if (replica_.state().table().find_member(record.node) != nullptr) {
        catch_up(record, enroll::catch_up_position(*request), out);
      }
      return status_reply(record, request->counter, now_ms, out);
    case enroll::RequestKind::kStatus:
      ++stats_.status_requests;
      return status_reply(record, request->counter, now_ms, out);
  }
  return refuse(ReplyCode::kBadRequest, "request: unknown kind");
}

Reply DeviceService::status_reply(const DeviceRecord& record, std::uint64_t counter,
                                  std::uint64_t now_ms, std::vector<Action>& out) {
  const bool member = replica_.state().table().find_member(record.node) != nullptr;
  // Pending: its transaction again if it went missing, or the join fails here and now.
  if (record.join_failure.empty() && !member) ensure_submitted(record, now_ms, out);
  const DeviceRecord* now = registry_.device(record.node);
  KMCHAIN_CHECK(now != nullptr);
  enroll::StatusReply reply{enroll::JoinStatus::kPending, record.node, counter, {}};
  if (!now->join_failure.empty()) {
    reply.status = enroll::JoinStatus::kFailed;
    reply.reason = now->join_failure;
  } else if (member) {
    reply.status = enroll::JoinStatus::kMember;
  }
  const auto key = enroll::reply_key(record.node_key, config_.chain_id, record.node);
  return Reply{ReplyCode::kChanged, enroll::encode_status_reply(reply, key)};
}

void DeviceService::catch_up(const DeviceRecord& record, Position from, std::vector<Action>& out) {
  if (auto kept = keys_.kept_since(record.node, from); kept && kept->size() <= kCatchUpReplayMax) {
    for (Bytes& wire : *kept)
      pushes_.push(record.node, record.endpoint, std::move(wire), out);
    return;
  }
  auto bundle = keys_.bundle_for(record.node);
  if (!bundle) return;
  ++stats_.catch_up_bundles;
  // Not kept for catch-up: the log holds what the ledger sent, and a fresh bundle replaces it.
  ++stats_.messages_pushed;
  pushes_.push(record.node, record.endpoint, bundle->wire, out);
}

void DeviceService::deliver(const DeviceMessage& m, std::vector<Action>& out) {
  const DeviceRecord* record = registry_.device(m.node);
  if (record == nullptr || !record->join_failure.empty()) return;
  if (KMCHAIN_FAULT(config_.faults.lose_push && m.position.value() % 5 == 0 &&
                    keys::parse_header(m.wire).ok() &&
                    !keys::is_bundle(keys::parse_header(m.wire)->kind))) {
    return;
  }
  keys_.remember(m);
  ++stats_.messages_pushed;
  pushes_.push(m.node, record->endpoint, m.wire, out);
}

void DeviceService::on_committed(const ledger::AppliedTransaction& applied, bool live,
                                 std::vector<Action>& out) {
  const ledger::Transaction& tx = applied.transaction;
  if (applied.steps.empty()) return;  // an eviction asked for, not yet in effect: no key changes
  std::optional<crypto::Key128> node_key;
  if (tx.op == ledger::Operation::kJoin && ledger::origin_of(tx.node) == config_.self) {
    const DeviceRecord* record = registry_.device(tx.node);
    if (record != nullptr && record->join_failure.empty()) {
      node_key = record->node_key;
    } else {
      // A replayed join of a device that has left since (its record went with it), or a join
      // given up that became final after all: the view needs some node key to keep its table,
      // and nothing is ever sent under this one.
      node_key = crypto::Key128{};
      if (live) ++stats_.key_work_errors;
    }
  }
  const std::uint64_t k0 = clock_us_();
  const keys::RekeyPlan plan = keys_.apply(applied, node_key);
  const std::uint64_t k1 = clock_us_();
  if (live) {
    for (const DeviceMessage& m : keys_.messages_for_devices(plan))
      deliver(m, out);
  }
  if (tx.op == ledger::Operation::kJoin) {
    auto flight = in_flight_.find(tx.node);
    if (flight == in_flight_.end()) return;
    JoinTiming timing = flight->second.timing;
    timing.t_k_us += k1 - k0;
    if (config_.mode == ledger::SubmissionMode::kCommit) {
      timing.t_a_us = k0 - flight->second.submitted_us;
    } else if (flight->second.early_bundle) {
      const keys::Envelope* bundle = find_bundle(plan, tx.node);
      const DeviceRecord* record = registry_.device(tx.node);
      if (bundle == nullptr || record == nullptr ||
          bundle_digest(*bundle, record->node_key) != flight->second.early_bundle)
        ++stats_.sync_repairs;
    }
    if (stats_.joins.size() >= kJoinTimingsKept) stats_.joins.erase(stats_.joins.begin());
    stats_.joins.push_back(timing);
    ++stats_.joins_committed;
    in_flight_.erase(flight);
    return;
  }
  if (registry_.device(tx.node) != nullptr) {
    // Gone: its node key is of no further use, and keeping it would only widen what a captured
    // gateway leaks.
    registry_.erase(tx.node, out);
    pushes_.forget(tx.node);
    keys_.forget(tx.node);
    budgets_.erase(tx.node);
  }
}

void DeviceService::fail_join(const GivenUp& given_up, std::vector<Action>& out) {
  const NodeId node = given_up.transaction.node;
  in_flight_.erase(node);
  if (registry_.device(node) == nullptr) return;
  ++stats_.joins_failed;
  registry_.fail_join(node, given_up.reason, out);
  pending_.drop(node, ledger::Operation::kJoin, out);
  pushes_.forget(node);
  keys_.forget(node);
  out.push_back(
      Note{"join_failed", {{"node", std::to_string(node.value())}, {"reason", given_up.reason}}});
}

}  // namespace kmchain::gateway
