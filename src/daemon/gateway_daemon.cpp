#include "daemon/gateway_daemon.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <utility>

#include "base/bytes.h"
#include "base/check.h"
#include "config/gateway_pair_key.h"
#include "crypto/kdf.h"
#include "crypto/random.h"
#include "crypto/x509.h"
#include "ledger/contract.h"
#include "ledger/mempool.h"

namespace kmchain::daemon {

namespace {

std::uint64_t wall_ms() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

consensus::ReplicaConfig replica_config(const config::GatewayConfig& c) {
  consensus::ReplicaConfig rc;
  rc.timeouts = c.timeouts;
  rc.block_transactions_max = c.block_transactions_max;
  return rc;
}

std::vector<config::Endpoint> gateway_addresses(const config::GenesisFile& g) {
  std::vector<config::Endpoint> out;
  for (const auto& a : g.addresses)
    out.push_back(a.gateway);
  return out;
}

std::string hex(ByteView b) {
  return to_hex(b);
}

const char* verdict_text(const ledger::MempoolVerdict& v) {
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

std::uint64_t monotonic_us() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

// This gateway's key source: a master derived from its identity (one secret file per gateway)
// and a pair secret with every other gateway of the genesis (config/gateway_pair_key.h).
Result<std::unique_ptr<keys::DerivedKeySource>, std::string> make_key_source(
    const io::GatewayFiles& files) {
  static constexpr std::string_view kMasterLabel = "kmchain/v1/gateway/key-master";
  const crypto::Secret256 master = crypto::hkdf_sha256_secret<32>(
      {}, files.identity.seed().view(),
      ByteView(reinterpret_cast<const std::uint8_t*>(kMasterLabel.data()), kMasterLabel.size()));
  const GatewayId self{files.config.index};
  const crypto::X25519KeyPair own = config::gateway_pair_key(files.identity);
  keys::DerivedKeySource::PairSecrets secrets;
  for (std::size_t i = 0; i < files.genesis.pair_keys.size(); ++i) {
    const GatewayId peer{static_cast<std::uint16_t>(i)};
    if (peer == self) continue;
    crypto::Secret256 secret;
    if (!config::gateway_pair_secret(own, self, files.genesis.pair_keys[i], peer,
                                     files.genesis.genesis.chain_id(), secret)) {
      return Err{"genesis: validators[" + std::to_string(i) + "].pair_public_key is a weak key"};
    }
    secrets.emplace(peer, secret);
  }
  return std::make_unique<keys::DerivedKeySource>(self, master, std::move(secrets));
}

io::CoapCode coap_code(gateway::ReplyCode code) {
  switch (code) {
    case gateway::ReplyCode::kCreated:
      return io::CoapCode::kCreated;
    case gateway::ReplyCode::kChanged:
      return io::CoapCode::kChanged;
    case gateway::ReplyCode::kBadRequest:
      return io::CoapCode::kBadRequest;
    case gateway::ReplyCode::kUnauthorized:
      return io::CoapCode::kUnauthorized;
    case gateway::ReplyCode::kForbidden:
      return io::CoapCode::kForbidden;
    case gateway::ReplyCode::kConflict:
      return io::CoapCode::kConflict;
    case gateway::ReplyCode::kUnavailable:
      return io::CoapCode::kServiceUnavailable;
  }
  return io::CoapCode::kInternalError;
}

std::uint64_t percentile(std::vector<std::uint64_t> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

}  // namespace

Result<std::unique_ptr<GatewayDaemon>, std::string> GatewayDaemon::open(io::GatewayFiles files,
                                                                        Logger& log) {
  const auto wal_path = (files.data_dir / "consensus.wal").string();
  auto wal = io::FileWal::open(wal_path);
  if (!wal) return Err{std::string(wal_path) + ": cannot open the WAL"};
  const auto store_path = (files.data_dir / "chain.sqlite").string();
  auto store = io::SqliteBlockStore::open(store_path, files.genesis.genesis.chain_id());
  if (!store) return Err{store_path + ": " + io::to_string(store.error())};
  const auto devices_path = (files.data_dir / "devices.sqlite").string();
  auto devices = io::SqliteDeviceStore::open(devices_path);
  if (!devices) return Err{devices.error()};
  auto key_source = make_key_source(files);
  if (!key_source) return Err{key_source.error()};
  std::unique_ptr<GatewayDaemon> daemon(new GatewayDaemon(std::move(files), log, std::move(*wal),
                                                          std::move(*store), std::move(*devices),
                                                          std::move(*key_source)));
  daemon->service_.load_devices();
  for (std::uint64_t h = 1; h <= daemon->store_->height().value(); ++h) {
    auto stored = daemon->store_->read(Height{h});
    if (!stored || !*stored) {
      return Err{store_path + ": block " + std::to_string(h) + ": " +
                 (stored ? "missing" : io::to_string(stored.error()))};
    }
    if (auto st = daemon->replica_.restore_block(**stored); !st) {
      return Err{store_path + ": block " + std::to_string(h) + ": " +
                 consensus::to_string(st.error())};
    }
    daemon->service_.replay((**stored).block);
  }
  return daemon;
}

GatewayDaemon::GatewayDaemon(io::GatewayFiles files, Logger& log, std::unique_ptr<io::FileWal> wal,
                             std::unique_ptr<io::SqliteBlockStore> store,
                             std::unique_ptr<io::SqliteDeviceStore> devices,
                             std::unique_ptr<keys::DerivedKeySource> key_source)
    : files_(std::move(files)),
      log_(log),
      self_(GatewayId{files_.config.index}),
      wal_(std::move(wal)),
      store_(std::move(store)),
      devices_(std::move(devices)),
      key_source_(std::move(key_source)),
      replica_(files_.genesis.genesis, files_.identity, self_, replica_config(files_.config)),
      service_(gateway::DeviceServiceConfig{self_, files_.genesis.genesis.validators.size(),
                                            files_.genesis.genesis.chain_id(),
                                            files_.config.submission_mode},
               *key_source_, rng_, *devices_, ledger_port_, monotonic_us),
      started_ms_(wall_ms()),
      tls_(io::make_gateway_tls_context(files_.certificate_pem,
                                        crypto::private_key_pem(files_.identity).view())),
      mesh_(
          io_, tls_, files_.genesis.genesis, self_, gateway_addresses(files_.genesis),
          [this](GatewayId from, ByteView bytes) { on_peer_message(from, bytes); },
          [this](GatewayId peer, bool up, const std::string& reason) {
            if (up) {
              log_.info("link_up", {{"peer", peer.value()}});
            } else if (reason.rfind("handshake refused", 0) == 0 ||
                       reason == "peer may not dial this gateway") {
              log_.warn("link_refused", {{"reason", reason}});
            } else {
              log_.info("link_down", {{"peer", peer.value()}, {"reason", reason}});
            }
          }),
      admin_(io_, files_.config.listen_admin,
             [this](const nlohmann::json& request) { return handle_admin(request); }),
      coap_(io_, files_.config.listen_device),
      signals_(io_, SIGTERM, SIGINT) {
  for (const std::string path : {"join", "req"}) {
    coap_.on_post(path, [this, path](const config::Endpoint& from, ByteView body) {
      io::CoapReply reply;
      on_device_post(path, from, body, reply);
      return reply;
    });
  }
}

GatewayDaemon::~GatewayDaemon() = default;

std::uint64_t GatewayDaemon::now_ms() const {
  return wall_ms();
}

int GatewayDaemon::run() {
  try {
    mesh_.start();
    admin_.start();
    coap_.start();
  } catch (const std::exception& e) {
    log_.error("start_failed", {{"error", e.what()}});
    return 1;
  }
  signals_.async_wait([this](const asio::error_code& ec, int signal) {
    if (!ec) stop(signal == SIGTERM ? "SIGTERM" : "SIGINT");
  });
  std::vector<consensus::Action> actions;
  if (auto st = replica_.start(wal_->read_last(), now_ms(), actions); !st) {
    log_.error("start_failed", {{"error", consensus::to_string(st.error())}});
    return 1;
  }
  execute(actions);
  log_.info("started", {{"height", replica_.committed_height().value()},
                        {"gateways", files_.genesis.genesis.validators.size()},
                        {"mode", config::to_string(files_.config.submission_mode)},
                        {"links", config::to_string(files_.config.listen_gateway)},
                        {"admin", config::to_string(files_.config.listen_admin)},
                        {"startup_ms", now_ms() - started_ms_}});
  io_.run();
  log_.info("stopped", {{"height", replica_.committed_height().value()}});
  return 0;
}

void GatewayDaemon::stop(const std::string& why) {
  if (stopping_) return;
  stopping_ = true;
  log_.info("stopping", {{"signal", why}});
  mesh_.stop();
  admin_.stop();
  coap_.stop();
  for (auto& [id, timer] : timers_)
    timer->cancel();
  io_.stop();
}

void GatewayDaemon::on_peer_message(GatewayId from, ByteView bytes) {
  if (stopping_) return;
  std::vector<consensus::Action> actions;
  replica_.on_message(from, bytes, now_ms(), actions);
  execute(actions);
}

void GatewayDaemon::schedule(const consensus::Schedule& s) {
  const std::uint64_t id = next_timer_++;
  auto timer = std::make_unique<asio::steady_timer>(io_);
  const std::uint64_t now = now_ms();
  timer->expires_after(std::chrono::milliseconds(s.at_ms > now ? s.at_ms - now : 0));
  timer->async_wait([this, id, timeout = s.timeout](const asio::error_code& ec) {
    timers_.erase(id);
    if (ec || stopping_) return;
    std::vector<consensus::Action> actions;
    replica_.on_timeout(timeout, now_ms(), actions);
    execute(actions);
  });
  timers_.emplace(id, std::move(timer));
}

void GatewayDaemon::execute(std::vector<consensus::Action>& actions) {
  for (auto& action : actions) {
    if (auto* wal = std::get_if<consensus::WriteWal>(&action)) {
      wal_->write(wal->record);
    } else if (auto* block = std::get_if<consensus::StoreBlock>(&action)) {
      store_->append(block->stored);
    } else if (auto* send = std::get_if<consensus::SendTo>(&action)) {
      mesh_.send(send->to, send->bytes);
    } else if (auto* all = std::get_if<consensus::BroadcastAll>(&action)) {
      mesh_.broadcast(all->bytes);
    } else if (auto* s = std::get_if<consensus::Schedule>(&action)) {
      schedule(*s);
    } else if (auto* serve = std::get_if<consensus::ServeBlocks>(&action)) {
      for (std::uint64_t h = serve->from.value();
           h <= serve->to_height.value() && h <= store_->height().value(); ++h) {
        auto stored = store_->get(Height{h});
        if (!stored) break;
        mesh_.send(serve->to, consensus::encode(consensus::Message{
                                  consensus::CommitMessage{stored->block, stored->certificate}}));
      }
    } else if (auto* c = std::get_if<consensus::Committed>(&action)) {
      on_committed(*c);
    }
  }
  actions.clear();
}

void GatewayDaemon::on_committed(const consensus::Committed& c) {
  log_.info("commit", {{"height", c.height.value()},
                       {"round", c.round.value()},
                       {"txs", c.transactions},
                       {"hash", hex(c.block_hash).substr(0, 16)},
                       {"by_sync", c.by_sync}});
  if (c.transactions == 0) return;
  service_.resubmit_dropped();
  // StoreBlock preceded this action: the block is in the store.
  auto stored = store_->get(c.height);
  KMCHAIN_CHECK(stored.has_value());
  std::vector<gateway::Push> pushes;
  service_.on_committed(stored->block, pushes);
  for (const auto& tx : stored->block.transactions) {
    log_.info("applied", {{"height", c.height.value()},
                          {"op", ledger::to_string(tx.op)},
                          {"node", tx.node.value()},
                          {"set", tx.set.value()}});
  }
  push(pushes);
}

const ledger::LedgerState& GatewayDaemon::Ledger::check_state() const {
  return d_.replica_.mempool().check_state();
}

std::vector<ledger::Transaction> GatewayDaemon::Ledger::pending() const {
  return d_.replica_.mempool().reap(d_.replica_.mempool().size());
}

Status<ledger::MempoolVerdict> GatewayDaemon::Ledger::submit(const ledger::Transaction& tx) {
  return d_.replica_.submit(tx, d_.now_ms(), d_.deferred_);
}

void GatewayDaemon::on_device_post(const std::string& path, const config::Endpoint& from,
                                   ByteView body, io::CoapReply& reply) {
  if (stopping_) {
    reply.code = io::CoapCode::kServiceUnavailable;
    return;
  }
  std::vector<gateway::Push> pushes;
  const gateway::Reply r =
      path == "join" ? service_.on_join(from, body, pushes) : service_.on_request(body, pushes);
  reply.code = coap_code(r.code);
  reply.payload = r.payload;
  if (r.code == gateway::ReplyCode::kCreated) {
    log_.info("join_accepted", {{"from", config::to_string(from)}});
  } else if (r.code != gateway::ReplyCode::kChanged) {
    log_.warn("device_refused", {{"path", path},
                                 {"from", config::to_string(from)},
                                 {"reason", std::string(r.payload.begin(), r.payload.end())}});
  }
  // The replica's actions of a submitted transaction, after the service is done with it.
  if (!deferred_.empty()) {
    auto actions = std::move(deferred_);
    deferred_.clear();
    asio::post(io_, [this, actions = std::move(actions)]() mutable { execute(actions); });
  }
  push(pushes);
}

void GatewayDaemon::push(std::vector<gateway::Push>& pushes) {
  for (gateway::Push& p : pushes) {
    auto& queue = push_queues_[p.node];
    queue.push_back(std::move(p));
    if (queue.size() == 1) push_next(queue.front().node);
  }
}

void GatewayDaemon::push_next(NodeId node) {
  auto it = push_queues_.find(node);
  if (it == push_queues_.end() || it->second.empty()) return;
  const gateway::Push& p = it->second.front();
  coap_.post(p.to, "rekey", p.wire, [this, node](std::optional<io::CoapReply> reply) {
    auto q = push_queues_.find(node);
    if (q == push_queues_.end()) return;
    if (!reply) {
      // Unreachable: drop what is queued; the device asks for catch-up when it is back.
      log_.info("push_failed", {{"node", node.value()}, {"dropped", q->second.size()}});
      push_queues_.erase(q);
      return;
    }
    q->second.pop_front();
    if (q->second.empty()) {
      push_queues_.erase(q);
    } else {
      push_next(node);
    }
  });
}

nlohmann::json GatewayDaemon::admit(const nlohmann::json& request) {
  const auto id_hex = request.value("credential_id", std::string());
  const auto psk_hex = request.value("psk", std::string());
  Bytes id;
  Bytes psk;
  if (!from_hex(id_hex, id) || id.size() != enroll::kCredentialIdBytes || !from_hex(psk_hex, psk) ||
      psk.size() != 32) {
    return {{"ok", false},
            {"error", "admit needs \"credential_id\" (32 hex) and \"psk\" (64 hex)"}};
  }
  enroll::DeviceCredential credential;
  std::copy(id.begin(), id.end(), credential.id.begin());
  credential.psk = crypto::Secret256::from_view(psk);
  OPENSSL_cleanse(psk.data(), psk.size());
  service_.admit(credential);
  log_.info("credential_admitted", {{"credential", id_hex}});
  return {{"ok", true}};
}

nlohmann::json GatewayDaemon::handle_admin(const nlohmann::json& request) {
  const std::string op = request["op"].get<std::string>();
  if (op == "status") return status();
  if (op == "members") return members();
  if (op == "chain") {
    const auto from = request.value("from", std::uint64_t{1});
    const auto count = request.value("count", std::uint64_t{100});
    return chain(from, count);
  }
  if (op == "evict") return evict(request);
  if (op == "admit") return admit(request);
  return {{"ok", false}, {"error", "unknown op \"" + op + "\""}};
}

nlohmann::json GatewayDaemon::status() const {
  const auto& stats = replica_.stats();
  nlohmann::json decode_errors = nlohmann::json::object();
  for (const auto& [code, n] : stats.decode_errors)
    decode_errors[consensus::to_string(consensus::MessageError{code, 0})] = n;
  nlohmann::json ignored = nlohmann::json::object();
  for (const auto& [why, n] : stats.ignored)
    ignored[consensus::to_string(why)] = n;
  nlohmann::json peers = nlohmann::json::array();
  for (GatewayId p : mesh_.connected_peers())
    peers.push_back(p.value());
  const auto& links = mesh_.stats();
  return {
      {"ok", true},
      {"gateway", self_.value()},
      {"chain_id", hex(files_.genesis.genesis.chain_id())},
      {"height", replica_.committed_height().value()},
      {"last_block_hash", hex(replica_.last_block_hash())},
      {"state_hash", hex(replica_.state_hash())},
      {"submission_mode", config::to_string(files_.config.submission_mode)},
      {"peers_connected", peers},
      {"members", replica_.state().table().member_count()},
      {"sets", replica_.state().table().set_count()},
      {"mempool", replica_.mempool().size()},
      {"uptime_ms", now_ms() - started_ms_},
      {"position", replica_.state().position().value()},
      {"devices", device_status()},
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
        {"oversized_frames", links.oversized_frames}}},
  };
}

nlohmann::json GatewayDaemon::device_status() const {
  const auto& st = service_.stats();
  nlohmann::json refused = nlohmann::json::object();
  for (const auto& [why, n] : st.refused)
    refused[why] = n;
  std::vector<std::uint64_t> tk, te, ta, tr;
  for (const auto& j : st.joins) {
    tk.push_back(j.t_k_us);
    te.push_back(j.t_e_us);
    ta.push_back(j.t_a_us);
    tr.push_back(j.t_k_us + j.t_e_us + j.t_a_us);
  }
  const auto ms = [](std::uint64_t us) { return static_cast<double>(us) / 1000.0; };
  const auto pct = [&](const std::vector<std::uint64_t>& v) {
    return nlohmann::json{{"p50", ms(percentile(v, 0.50))}, {"p99", ms(percentile(v, 0.99))}};
  };
  const auto& coap = coap_.stats();
  return {{"homed", service_.devices()},
          {"joins_accepted", st.joins_accepted},
          {"joins_committed", st.joins_committed},
          {"join_retransmissions", st.join_retransmissions},
          {"leaves", st.leaves},
          {"catch_ups", st.catch_ups},
          {"catch_up_bundles", st.catch_up_bundles},
          {"messages_pushed", st.messages_pushed},
          {"sync_repairs", st.sync_repairs},
          {"resubmissions", st.resubmissions},
          {"key_work_errors", st.key_work_errors},
          {"refused", refused},
          {"join_ms", {{"t_k", pct(tk)}, {"t_e", pct(te)}, {"t_a", pct(ta)}, {"t_r", pct(tr)}}},
          {"coap",
           {{"requests", coap.requests},
            {"unknown_paths", coap.unknown_paths},
            {"posts_sent", coap.posts_sent},
            {"posts_failed", coap.posts_failed},
            {"malformed_datagrams", io::coap_malformed_datagrams()}}}};
}

nlohmann::json GatewayDaemon::members() const {
  nlohmann::json sets = nlohmann::json::array();
  for (const auto& [set, rec] : replica_.state().table().sets()) {
    nlohmann::json ids = nlohmann::json::array();
    for (NodeId n : rec.members)
      ids.push_back(n.value());
    sets.push_back({{"set", set.value()}, {"owner", rec.owner.value()}, {"members", ids}});
  }
  return {{"ok", true},
          {"height", replica_.committed_height().value()},
          {"members", replica_.state().table().member_count()},
          {"sets", sets}};
}

nlohmann::json GatewayDaemon::chain(std::uint64_t from, std::uint64_t count) const {
  nlohmann::json blocks = nlohmann::json::array();
  const std::uint64_t top = store_->height().value();
  for (std::uint64_t h = std::max<std::uint64_t>(from, 1); h <= top && count > 0; ++h, --count) {
    auto stored = store_->read(Height{h});
    if (!stored || !*stored) break;
    const ledger::Block& b = (*stored)->block;
    nlohmann::json txs = nlohmann::json::array();
    for (const ledger::Transaction& tx : b.transactions) {
      txs.push_back({{"op", ledger::to_string(tx.op)},
                     {"node", tx.node.value()},
                     {"set", tx.set.value()},
                     {"commitment", hex(tx.commitment)}});
    }
    blocks.push_back({{"height", h},
                      {"hash", hex(ledger::block_hash(b))},
                      {"proposer", b.header.proposer.value()},
                      {"timestamp_ms", b.header.timestamp_ms},
                      {"signatures", (*stored)->certificate.precommits.size()},
                      {"transactions", txs}});
  }
  return {{"ok", true}, {"height", top}, {"blocks", blocks}};
}

nlohmann::json GatewayDaemon::evict(const nlohmann::json& request) {
  if (!request.contains("node") || !request["node"].is_number_unsigned()) {
    return {{"ok", false}, {"error", "evict needs \"node\": an unsigned node id"}};
  }
  const NodeId node{request["node"].get<std::uint32_t>()};
  const auto* member = replica_.mempool().check_state().table().find_member(node);
  const auto* commitment = replica_.mempool().check_state().commitment_of(node);
  if (member == nullptr || commitment == nullptr) {
    return {{"ok", false}, {"error", "node " + std::to_string(node.value()) + " is not a member"}};
  }
  // Copied out: submitting changes the check state these point into.
  const SetId set = member->set;
  crypto::OsRng rng;
  const ledger::Transaction tx{ledger::Operation::kEvict, node, set, *commitment, rng.key128()};
  std::vector<consensus::Action> actions;
  auto verdict = replica_.submit(tx, now_ms(), actions);
  execute(actions);
  if (!verdict) return {{"ok", false}, {"error", verdict_text(verdict.error())}};
  log_.info("evict_submitted", {{"node", node.value()}, {"set", set.value()}});
  return {{"ok", true}, {"node", node.value()}, {"set", set.value()}};
}

}  // namespace kmchain::daemon
