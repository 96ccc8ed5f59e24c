#include "gateway/gateway_node.h"

#include <set>
#include <utility>

#include "base/check.h"

namespace kmchain::gateway {

GatewayNode::GatewayNode(const ledger::Genesis& genesis, crypto::Ed25519KeyPair key,
                         GatewayNodeConfig config, keys::KeySource& source, crypto::Rng& rng,
                         std::function<std::uint64_t()> clock_us)
    : config_(std::move(config)),
      rng_(rng),
      replica_(genesis, std::move(key), config_.self, config_.replica),
      pending_(config_.self),
      keys_(genesis.validators.size(), config_.self, source, rng),
      devices_(DeviceServiceConfig{config_.self, genesis.validators.size(), genesis.chain_id(),
                                   config_.mode, config_.faults},
               registry_, pending_, keys_, pushes_, replica_, rng, std::move(clock_us)) {}

void GatewayNode::restore(DurableDeviceData data) {
  registry_.restore(std::move(data.credentials), std::move(data.devices));
  pending_.restore(data.pending);
  devices_.restored();
}

Status<consensus::RestoreError> GatewayNode::restore_block(const consensus::StoredBlock& stored,
                                                           std::vector<Action>& out) {
  auto applied = replica_.restore_block(stored);
  if (!applied) return Err{applied.error()};
  for (const ledger::AppliedTransaction& a : *applied) {
    devices_.on_committed(a, /*live=*/false, out);
    pending_.on_committed(a, out);
  }
  check_views_agree();
  return {};
}

Status<consensus::RestoreError> GatewayNode::start(const std::optional<Bytes>& wal_record,
                                                   std::uint64_t now_ms, std::vector<Action>& out) {
  std::vector<consensus::Action> replica_out;
  if (auto st = replica_.start(wal_record, now_ms, replica_out); !st) return st;
  absorb(replica_out, now_ms, out);
  // What was pending when the gateway stopped: into the fresh mempool, or given up.
  after_blocks(now_ms, out);
  out.push_back(ScheduleTick{now_ms + config_.tick_ms});
  return {};
}

void GatewayNode::on_peer_message(GatewayId from, ByteView bytes, std::uint64_t now_ms,
                                  std::vector<Action>& out) {
  std::vector<consensus::Action> replica_out;
  replica_.on_message(from, bytes, now_ms, replica_out);
  absorb(replica_out, now_ms, out);
}

void GatewayNode::on_timeout(const consensus::TimeoutIn& timeout, std::uint64_t now_ms,
                             std::vector<Action>& out) {
  std::vector<consensus::Action> replica_out;
  replica_.on_timeout(timeout, now_ms, replica_out);
  absorb(replica_out, now_ms, out);
}

void GatewayNode::on_tick(std::uint64_t now_ms, std::vector<Action>& out) {
  after_blocks(now_ms, out);
  pending_.regossip(replica_, now_ms, out);
  out.push_back(ScheduleTick{now_ms + config_.tick_ms});
}

Reply GatewayNode::on_join(const Endpoint& from, ByteView body, std::uint64_t now_ms,
                           std::vector<Action>& out) {
  return devices_.on_join(from, body, now_ms, out);
}

Reply GatewayNode::on_request(const Endpoint& from, ByteView body, std::uint64_t now_ms,
                              std::vector<Action>& out) {
  return devices_.on_request(from, body, now_ms, out);
}

void GatewayNode::on_push_result(NodeId node, bool delivered, std::vector<Action>& out) {
  pushes_.on_result(node, delivered, out);
}

bool GatewayNode::admit(const enroll::DeviceCredential& credential, std::vector<Action>& out) {
  return registry_.admit(credential, out);
}

Result<Eviction, std::string> GatewayNode::evict(NodeId node, std::uint64_t now_ms,
                                                 std::vector<Action>& out) {
  // A member whose join is final (the committed state), and not already on its way out (the
  // state with the pending transactions).
  const ledger::LedgerState& committed = replica_.state();
  const ledger::LedgerState& state = replica_.mempool().check_state();
  if (committed.table().find_member(node) == nullptr) {
    return Err{"node " + std::to_string(node.value()) +
               (state.node_id_used(node) && state.table().find_member(node) != nullptr
                    ? " is not a member yet: its join is not final"
                    : " is not a member")};
  }
  const auto* member = state.table().find_member(node);
  const auto* commitment = state.commitment_of(node);
  if (member == nullptr || commitment == nullptr) {
    return Err{"node " + std::to_string(node.value()) + " is already being removed"};
  }
  // Copied out: submitting changes the check state these point into.
  Eviction eviction;
  eviction.node = node;
  eviction.set = member->set;
  // The home is the owner of the member's set (its range's gateway until it moves).
  eviction.by_home = state.home_of(node) == config_.self;
  const ledger::Transaction tx{ledger::Operation::kEvict, node, member->set, *commitment,
                               rng_.key128()};
  std::set<GatewayId> askers = state.eviction_requested_by(node);
  eviction.already_asked =
      !eviction.by_home && (askers.contains(config_.self) || pending_.find(node, tx.op) != nullptr);
  if (!eviction.by_home) {
    // Counted before submitting: the request that reaches the power removes the node, and its
    // requests with it, from the state after it.
    askers.insert(config_.self);
    for (GatewayId g : askers) {
      eviction.asked_by.push_back(g);
      if (const ledger::Validator* v = state.consortium().find(g)) eviction.power += v->power;
    }
    eviction.power_needed = state.consortium().total_power / 3 + 1;
  }
  if (!eviction.already_asked) {
    auto verdict = pending_.submit(tx, replica_, now_ms, out);
    if (!verdict) return Err{std::string(ledger::to_string(verdict.error()))};
  }
  return eviction;
}

void GatewayNode::absorb(std::vector<consensus::Action>& replica_out, std::uint64_t now_ms,
                         std::vector<Action>& out) {
  bool committed = false;
  for (consensus::Action& action : replica_out) {
    if (auto* c = std::get_if<consensus::Committed>(&action)) {
      committed = true;
      // StoreBlock came first: the block is durable before its keys go anywhere.
      const consensus::Committed block = *c;
      out.push_back(std::move(*c));
      for (const ledger::AppliedTransaction& a : block.applied) {
        pending_.on_committed(a, out);
        devices_.on_committed(a, /*live=*/true, out);
      }
      continue;
    }
    out.push_back(from_replica(std::move(action)));
  }
  if (committed) {
    check_views_agree();
    after_blocks(now_ms, out);
  }
}

void GatewayNode::after_blocks(std::uint64_t now_ms, std::vector<Action>& out) {
  std::uint64_t resubmitted = 0;
  const auto given_up = pending_.resubmit(replica_, rng_, now_ms, out, resubmitted);
  devices_.stats().resubmissions += resubmitted;
  for (const GivenUp& g : given_up) {
    // The device's record says why before the pending transaction goes: a crash in between
    // leaves the join reported failed, not forgotten.
    if (g.transaction.op == ledger::Operation::kJoin) devices_.fail_join(g, out);
    pending_.drop(g.transaction.node, g.transaction.op, out);
  }
}

// Membership is decided once, by the ledger; the key view replays its steps. Were they ever to
// differ, keys would go to the wrong devices: stop instead.
void GatewayNode::check_views_agree() const {
  KMCHAIN_CHECK(keys_.view().position() == replica_.state().position());
  KMCHAIN_CHECK(keys_.view().table() == replica_.state().table());
}

}  // namespace kmchain::gateway
