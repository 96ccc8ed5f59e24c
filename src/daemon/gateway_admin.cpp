#include "daemon/gateway_admin.h"

#include <algorithm>
#include <string>

#include "base/bytes.h"
#include "base/percentile.h"
#include "io/clock.h"

namespace kmchain::daemon {

namespace {

using nlohmann::json;

json refused(const std::string& error) {
  return {{"ok", false}, {"error", error}};
}

// Evictions asked for by gateways other than the home, final on the ledger and not yet in effect.
json pending_evictions(const ledger::LedgerState& state) {
  json out = json::array();
  for (const auto& [node, by] : state.eviction_requests()) {
    json ids = json::array();
    for (GatewayId g : by)
      ids.push_back(g.value());
    out.push_back({{"node", node.value()},
                   {"asked_by", ids},
                   {"power", state.eviction_power(node)},
                   {"power_needed", state.consortium().total_power / 3 + 1}});
  }
  return out;
}

json status(const GatewayView& v) {
  const consensus::Replica& replica = v.node.replica();
  const auto& stats = replica.stats();
  json decode_errors = json::object();
  for (const auto& [code, n] : stats.decode_errors)
    decode_errors[consensus::to_string(consensus::MessageError{code, 0})] = n;
  json ignored = json::object();
  for (const auto& [why, n] : stats.ignored)
    ignored[consensus::to_string(why)] = n;
  json peers = json::array();
  for (GatewayId p : v.mesh.connected_peers())
    peers.push_back(p.value());
  const auto& links = v.mesh.stats();
  const auto& st = v.node.device_stats();
  json refusals = json::object();
  for (const auto& [why, n] : st.refused)
    refusals[why] = n;
  std::vector<std::uint64_t> tk, te, ta, tr;
  for (const auto& j : st.joins) {
    tk.push_back(j.t_k_us);
    te.push_back(j.t_e_us);
    ta.push_back(j.t_a_us);
    tr.push_back(j.t_k_us + j.t_e_us + j.t_a_us);
  }
  const auto pct = [](const std::vector<std::uint64_t>& us) {
    return json{{"p50", static_cast<double>(percentile(us, 0.50)) / 1000.0},
                {"p99", static_cast<double>(percentile(us, 0.99)) / 1000.0}};
  };
  const auto& coap = v.coap.stats();
  const auto& pushes = v.node.pushes().stats();
  std::size_t homed = 0;
  for (const auto& [node, record] : v.node.registry().devices())
    homed += record.join_failure.empty() ? 1u : 0u;
  const json devices = {
      {"homed", homed},
      {"credentials", v.node.registry().credential_count()},
      {"pending_transactions", v.node.pending().size()},
      {"joins_accepted", st.joins_accepted},
      {"joins_committed", st.joins_committed},
      {"joins_failed", st.joins_failed},
      {"join_retransmissions", st.join_retransmissions},
      {"leaves", st.leaves},
      {"catch_ups", st.catch_ups},
      {"catch_up_bundles", st.catch_up_bundles},
      {"status_requests", st.status_requests},
      {"messages_pushed", st.messages_pushed},
      {"pushes",
       {{"sent", pushes.pushed},
        {"delivered", pushes.delivered},
        {"dropped", pushes.dropped},
        {"queued", v.node.pushes().queued()}}},
      {"sync_repairs", st.sync_repairs},
      {"resubmissions", st.resubmissions},
      {"key_work_errors", st.key_work_errors},
      {"refused", refusals},
      {"join_ms", {{"t_k", pct(tk)}, {"t_e", pct(te)}, {"t_a", pct(ta)}, {"t_r", pct(tr)}}},
      {"coap",
       {{"requests", coap.requests},
        {"unknown_paths", coap.unknown_paths},
        {"posts_sent", coap.posts_sent},
        {"posts_failed", coap.posts_failed},
        {"malformed_datagrams", io::coap_malformed_datagrams()},
        {"bodies_too_large", coap.bodies_too_large},
        {"transfers_refused", coap.transfers_refused},
        {"transfers_incomplete", coap.transfers_incomplete}}}};
  return {
      {"ok", true},
      {"gateway", v.node.self().value()},
      {"chain_id", to_hex(v.files.genesis.genesis.chain_id())},
      {"height", replica.committed_height().value()},
      {"last_block_hash", to_hex(replica.last_block_hash())},
      {"state_hash", to_hex(replica.state_hash())},
      {"submission_mode", ledger::to_string(v.node.mode())},
      {"peers_connected", peers},
      {"members", replica.state().table().member_count()},
      {"sets", replica.state().table().set_count()},
      {"mempool", replica.mempool().size()},
      {"uptime_ms", io::wall_clock_ms() - v.started_ms},
      {"position", replica.state().position().value()},
      {"pending_evictions", pending_evictions(replica.state())},
      {"devices", devices},
      {"consensus",
       {{"messages", stats.messages},
        {"decode_errors", decode_errors},
        {"ignored", ignored},
        {"commits_by_sync", stats.commits_by_sync},
        {"bad_commits", stats.bad_commits},
        {"equivocations", stats.equivocations},
        {"transactions_accepted", stats.transactions_accepted},
        {"transactions_refused", stats.transactions_refused}}},
      {"links",
       {{"frames_in", links.frames_in},
        {"frames_out", links.frames_out},
        {"frames_dropped", links.frames_dropped},
        {"handshakes_refused", links.handshakes_refused},
        {"links_lost", links.links_lost},
        {"oversized_frames", links.oversized_frames},
        {"connections_refused", links.connections_refused},
        {"handshake_timeouts", links.handshake_timeouts},
        {"accept_errors", links.accept_errors}}},
      {"admin",
       {{"requests", v.admin.requests},
        {"malformed_requests", v.admin.malformed_requests},
        {"handshakes_refused", v.admin.handshakes_refused},
        {"sessions_refused", v.admin.sessions_refused},
        {"timeouts", v.admin.timeouts}}},
  };
}

json members(const GatewayView& v) {
  const consensus::Replica& replica = v.node.replica();
  json sets = json::array();
  for (const auto& [set, rec] : replica.state().table().sets()) {
    json ids = json::array();
    for (NodeId n : rec.members)
      ids.push_back(n.value());
    sets.push_back({{"set", set.value()}, {"owner", rec.owner.value()}, {"members", ids}});
  }
  return {{"ok", true},
          {"height", replica.committed_height().value()},
          {"members", replica.state().table().member_count()},
          {"sets", sets},
          {"pending_evictions", pending_evictions(replica.state())}};
}

json chain(const GatewayView& v, std::uint64_t from, std::uint64_t count) {
  json blocks = json::array();
  const std::uint64_t top = v.store.height().value();
  for (std::uint64_t h = from; h <= top && count > 0; ++h, --count) {
    auto stored = v.store.read(Height{h});
    if (!stored || !*stored) break;
    const ledger::Block& b = (*stored)->block;
    json txs = json::array();
    for (const ledger::SignedTransaction& stx : b.transactions) {
      const ledger::Transaction& tx = stx.transaction;
      txs.push_back({{"op", ledger::to_string(tx.op)},
                     {"node", tx.node.value()},
                     {"set", tx.set.value()},
                     {"commitment", to_hex(tx.commitment)},
                     {"submitter", stx.submitter.value()},
                     {"device_consent", stx.device_signature.has_value()}});
    }
    blocks.push_back({{"height", h},
                      {"hash", to_hex(ledger::block_hash(b))},
                      {"proposer", b.header.proposer.value()},
                      {"timestamp_ms", b.header.timestamp_ms},
                      {"signatures", (*stored)->certificate.precommits.size()},
                      {"transactions", txs}});
  }
  return {{"ok", true}, {"height", top}, {"blocks", blocks}};
}

json admit(const AdmitRequest& request, gateway::GatewayNode& node,
           std::vector<gateway::Action>& out) {
  if (!node.admit(request.credential, out))
    return refused("the gateway holds all the credentials it may");
  return {{"ok", true}, {"credential", to_hex(request.credential.id)}};
}

json evict(const EvictRequest& request, gateway::GatewayNode& node, std::uint64_t now_ms,
           std::vector<gateway::Action>& out) {
  auto eviction = node.evict(request.node, now_ms, out);
  if (!eviction) return refused(eviction.error());
  json asked_by = json::array();
  for (GatewayId g : eviction->asked_by)
    asked_by.push_back(g.value());
  // pending: in effect once its block is final; asked: more gateways must ask.
  const bool in_effect_when_final = eviction->by_home || eviction->power >= eviction->power_needed;
  return {{"ok", true},
          {"node", eviction->node.value()},
          {"set", eviction->set.value()},
          {"state", in_effect_when_final ? "pending" : "asked"},
          {"by_home", eviction->by_home},
          {"already_asked", eviction->already_asked},
          {"asked_by", asked_by},
          {"power", eviction->power},
          {"power_needed", eviction->power_needed}};
}

}  // namespace

json handle_admin(const AdminRequest& request, const GatewayView& view, gateway::GatewayNode& node,
                  std::uint64_t now_ms, std::vector<gateway::Action>& out) {
  if (std::holds_alternative<StatusRequest>(request)) return status(view);
  if (std::holds_alternative<MembersRequest>(request)) return members(view);
  if (const auto* c = std::get_if<ChainRequest>(&request)) return chain(view, c->from, c->count);
  if (const auto* e = std::get_if<EvictRequest>(&request)) return evict(*e, node, now_ms, out);
  return admit(std::get<AdmitRequest>(request), node, out);
}

}  // namespace kmchain::daemon
