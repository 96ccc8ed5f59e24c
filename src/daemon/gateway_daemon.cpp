#include "daemon/gateway_daemon.h"

#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <csignal>
#include <utility>

#include "base/bytes.h"
#include "base/check.h"
#include "base/limits.h"
#include "config/gateway_pair_key.h"
#include "crypto/x509.h"
#include "daemon/gateway_admin.h"
#include "enroll/device_request.h"
#include "enroll/join.h"
#include "io/clock.h"

namespace kmchain::daemon {

int run_gateway(const std::string& config_path) {
  auto files = io::load_gateway_files(config_path);
  if (!files) {
    fmt::print(stderr, "kmchain: {}: {}\n", config_path, to_string(files.error()));
    return 2;
  }
  const auto level = parse_log_level(files->config.log_level);
  Logger log(fmt::format("gw={}", files->config.index), level ? *level : LogLevel::kInfo);
  auto gateway = GatewayDaemon::open(std::move(*files), log);
  if (!gateway) {
    log.error("open_failed", {{"error", gateway.error()}});
    return 1;
  }
  return (*gateway)->run();
}

namespace {

// Enough for every bounded connection count with room to spare: mesh handshakes and links,
// admin sessions, the stores' files.
constexpr std::uint64_t kDescriptorsWanted =
    4 * (io::kHandshakesPendingMax + kAdminSessionsMax + limits::kGatewaysMax);

gateway::GatewayNodeConfig node_config(const config::GatewayConfig& c) {
  gateway::GatewayNodeConfig nc;
  nc.self = GatewayId{c.index};
  nc.mode = c.submission_mode;
  nc.replica.timeouts = c.timeouts;
  nc.replica.block_transactions_max = c.block_transactions_max;
  return nc;
}

std::vector<Endpoint> gateway_addresses(const config::GenesisFile& g) {
  std::vector<Endpoint> out;
  for (const auto& a : g.addresses)
    out.push_back(a.gateway);
  return out;
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

}  // namespace

Result<std::unique_ptr<GatewayDaemon>, std::string> GatewayDaemon::open(io::GatewayFiles files,
                                                                        Logger& log) {
  const auto wal_path = (files.data_dir / "consensus.wal").string();
  auto wal = io::FileWal::open(wal_path);
  if (!wal) return Err{io::describe(wal.error(), wal_path)};
  const auto store_path = (files.data_dir / "chain.sqlite").string();
  std::string detail;
  auto store = io::SqliteBlockStore::open(store_path, files.genesis.genesis.chain_id(), &detail);
  if (!store) return Err{store_path + ": " + io::to_string(store.error()) + " (" + detail + ")"};
  auto devices = DeviceStore::open((files.data_dir / "devices.sqlite").string());
  if (!devices) return Err{devices.error()};
  auto durable = (*devices)->load();
  if (!durable) return Err{durable.error()};
  auto key_source =
      config::gateway_key_source(files.identity, GatewayId{files.config.index}, files.genesis);
  if (!key_source) return Err{key_source.error()};
  std::unique_ptr<GatewayDaemon> daemon(new GatewayDaemon(std::move(files), log, std::move(*wal),
                                                          std::move(*store), std::move(*devices),
                                                          std::move(*key_source)));
  daemon->node_.restore(std::move(durable).value());
  for (std::uint64_t h = 1; h <= daemon->store_->height().value(); ++h) {
    auto stored = daemon->store_->read(Height{h});
    if (!stored || !*stored) {
      return Err{store_path + ": block " + std::to_string(h) + ": " +
                 (stored ? "missing" : io::to_string(stored.error()))};
    }
    std::vector<gateway::Action> actions;
    if (auto st = daemon->node_.restore_block(**stored, actions); !st) {
      return Err{store_path + ": block " + std::to_string(h) + ": " +
                 consensus::to_string(st.error())};
    }
    // Replaying the chain only finishes what a crash interrupted: device records and pending
    // transactions that a final block made obsolete.
    daemon->execute(actions);
  }
  return daemon;
}

GatewayDaemon::GatewayDaemon(io::GatewayFiles files, Logger& log, std::unique_ptr<io::FileWal> wal,
                             std::unique_ptr<io::SqliteBlockStore> store,
                             std::unique_ptr<DeviceStore> devices,
                             std::unique_ptr<keys::DerivedKeySource> key_source)
    : files_(std::move(files)),
      log_(log),
      wal_(std::move(wal)),
      store_(std::move(store)),
      devices_(std::move(devices)),
      key_source_(std::move(key_source)),
      node_(files_.genesis.genesis, files_.identity, node_config(files_.config), *key_source_, rng_,
            io::steady_clock_us),
      started_ms_(io::wall_clock_ms()),
      tls_(io::make_gateway_tls_context(files_.certificate_pem,
                                        crypto::private_key_pem(files_.identity).view())),
      mesh_(
          io_, tls_, files_.genesis.genesis, node_.self(), gateway_addresses(files_.genesis),
          [this](GatewayId from, ByteView bytes) {
            if (stopping_) return;
            std::vector<gateway::Action> actions;
            node_.on_peer_message(from, bytes, io::wall_clock_ms(), actions);
            execute(actions);
          },
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
      admin_(io_, tls_, files_.config.listen_admin, files_.config.operator_keys,
             [this](const AdminRequest& request, const crypto::Ed25519PublicKey& by) {
               return on_admin(request, by);
             }),
      coap_(io_, files_.config.listen_device),
      signals_(io_, SIGTERM, SIGINT) {
  // Each path takes bodies up to its largest valid message: nothing larger is reassembled.
  const std::pair<std::string, std::size_t> paths[] = {
      {"join", enroll::kJoinHelloBytes},
      {"req", enroll::kRequestBytesMin + enroll::kRequestBodyBytesMax}};
  for (const auto& [path, body_max] : paths) {
    coap_.on_post(
        path,
        [this, path](const Endpoint& from, ByteView body) {
          return on_device_post(path, from, body);
        },
        body_max);
  }
}

GatewayDaemon::~GatewayDaemon() = default;

int GatewayDaemon::run() {
  // Descriptors: the soft limit raised to the hard one, so that the bounded connection counts
  // (mesh handshakes, admin sessions) stay far below it and an accept never meets EMFILE in
  // normal operation.
  if (rlimit files{}; ::getrlimit(RLIMIT_NOFILE, &files) == 0) {
    if (files.rlim_cur < files.rlim_max) {
      files.rlim_cur = files.rlim_max;
      (void)::setrlimit(RLIMIT_NOFILE, &files);
      (void)::getrlimit(RLIMIT_NOFILE, &files);
    }
    if (files.rlim_cur < kDescriptorsWanted) {
      log_.warn("descriptor_limit_low", {{"limit", static_cast<std::uint64_t>(files.rlim_cur)},
                                         {"wanted", kDescriptorsWanted}});
    }
  }
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
  std::vector<gateway::Action> actions;
  if (auto st = node_.start(wal_->read_last(), io::wall_clock_ms(), actions); !st) {
    log_.error("start_failed", {{"error", consensus::to_string(st.error())}});
    return 1;
  }
  execute(actions);
  log_.info("started", {{"height", node_.replica().committed_height().value()},
                        {"gateways", files_.genesis.genesis.validators.size()},
                        {"mode", ledger::to_string(files_.config.submission_mode)},
                        {"links", to_string(files_.config.listen_gateway)},
                        {"admin", to_string(files_.config.listen_admin)},
                        {"pending", node_.pending().size()},
                        {"startup_ms", io::wall_clock_ms() - started_ms_}});
  io_.run();
  log_.info("stopped", {{"height", node_.replica().committed_height().value()}});
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

void GatewayDaemon::after(std::uint64_t at_ms, std::function<void(std::uint64_t)> then) {
  const std::uint64_t id = next_timer_++;
  auto timer = std::make_unique<asio::steady_timer>(io_);
  const std::uint64_t now = io::wall_clock_ms();
  timer->expires_after(std::chrono::milliseconds(at_ms > now ? at_ms - now : 0));
  timer->async_wait([this, id, then = std::move(then)](const asio::error_code& ec) {
    timers_.erase(id);
    if (ec || stopping_) return;
    then(io::wall_clock_ms());
  });
  timers_.emplace(id, std::move(timer));
}

void GatewayDaemon::execute(std::vector<gateway::Action>& actions) {
  for (gateway::Action& action : actions)
    run_action(action);
  actions.clear();
}

void GatewayDaemon::run_action(gateway::Action& action) {
  std::visit(
      [this](auto& a) {
        using T = std::decay_t<decltype(a)>;
        if constexpr (std::is_same_v<T, consensus::WriteWal>) {
          wal_->write(a.record);
        } else if constexpr (std::is_same_v<T, consensus::StoreBlock>) {
          store_->append(a.stored);
        } else if constexpr (std::is_same_v<T, consensus::SendTo>) {
          mesh_.send(a.to, a.bytes);
        } else if constexpr (std::is_same_v<T, consensus::BroadcastAll>) {
          mesh_.broadcast(a.bytes);
        } else if constexpr (std::is_same_v<T, consensus::Schedule>) {
          after(a.at_ms, [this, timeout = a.timeout](std::uint64_t now) {
            std::vector<gateway::Action> actions;
            node_.on_timeout(timeout, now, actions);
            execute(actions);
          });
        } else if constexpr (std::is_same_v<T, consensus::ServeBlocks>) {
          for (std::uint64_t h = a.from.value();
               h <= a.to_height.value() && h <= store_->height().value(); ++h) {
            auto stored = store_->get(Height{h});
            if (!stored) break;
            mesh_.send(a.to, consensus::encode(consensus::Message{
                                 consensus::CommitMessage{stored->block, stored->certificate}}));
          }
        } else if constexpr (std::is_same_v<T, consensus::Committed>) {
          on_committed(a);
        } else if constexpr (std::is_same_v<T, gateway::PutCredential>) {
          devices_->put_credential(a.record);
        } else if constexpr (std::is_same_v<T, gateway::PutDevice>) {
          devices_->put_device(a.record);
        } else if constexpr (std::is_same_v<T, gateway::EraseDevice>) {
          devices_->erase_device(a.node, a.free_credential);
        } else if constexpr (std::is_same_v<T, gateway::PutPending>) {
          devices_->put_pending(a.transaction);
        } else if constexpr (std::is_same_v<T, gateway::ErasePending>) {
          devices_->erase_pending(a.node, a.op);
        } else if constexpr (std::is_same_v<T, gateway::PushToDevice>) {
          push(a);
        } else if constexpr (std::is_same_v<T, gateway::ScheduleTick>) {
          after(a.at_ms, [this](std::uint64_t now) {
            std::vector<gateway::Action> actions;
            node_.on_tick(now, actions);
            execute(actions);
          });
        } else if constexpr (std::is_same_v<T, gateway::Note>) {
          std::vector<LogField> fields;
          for (const auto& [k, v] : a.fields)
            fields.emplace_back(k, v);
          log_.log(a.warning ? LogLevel::kWarn : LogLevel::kInfo, a.event, fields);
        }
      },
      action);
}

void GatewayDaemon::on_committed(const consensus::Committed& c) {
  log_.info("commit", {{"height", c.height.value()},
                       {"round", c.round.value()},
                       {"txs", c.applied.size()},
                       {"hash", to_hex(c.block_hash).substr(0, 16)},
                       {"by_sync", c.by_sync}});
  for (const ledger::AppliedTransaction& a : c.applied) {
    log_.info("applied", {{"height", c.height.value()},
                          {"op", ledger::to_string(a.transaction.op)},
                          {"node", a.transaction.node.value()},
                          {"set", a.transaction.set.value()},
                          {"steps", a.steps.size()}});
  }
}

void GatewayDaemon::push(const gateway::PushToDevice& p) {
  coap_.post(p.to, "rekey", p.wire, [this, node = p.node](std::optional<io::CoapReply> reply) {
    if (stopping_) return;
    if (!reply) log_.info("push_failed", {{"node", node.value()}});
    std::vector<gateway::Action> actions;
    node_.on_push_result(node, reply.has_value(), actions);
    execute(actions);
  });
}

io::CoapReply GatewayDaemon::on_device_post(const std::string& path, const Endpoint& from,
                                            ByteView body) {
  io::CoapReply reply;
  if (stopping_) {
    reply.code = io::CoapCode::kServiceUnavailable;
    return reply;
  }
  std::vector<gateway::Action> actions;
  const std::uint64_t now = io::wall_clock_ms();
  const gateway::Reply r = path == "join" ? node_.on_join(from, body, now, actions)
                                          : node_.on_request(from, body, now, actions);
  // Durable before the device hears of it.
  execute(actions);
  reply.code = coap_code(r.code);
  reply.payload = r.payload;
  if (r.code == gateway::ReplyCode::kCreated) {
    log_.info("join_accepted", {{"from", to_string(from)}});
  } else if (std::uint64_t held_back = 0;
             r.code != gateway::ReplyCode::kChanged && refused_log_.allow(now, held_back)) {
    // An authenticated refusal is binary: its reason is the device's to read, not the log's.
    const bool text = std::all_of(r.payload.begin(), r.payload.end(),
                                  [](std::uint8_t c) { return c >= 0x20 && c < 0x7f; });
    log_.warn("device_refused", {{"path", path},
                                 {"from", to_string(from)},
                                 {"reason", text ? std::string(r.payload.begin(), r.payload.end())
                                                 : std::string("(authenticated refusal)")},
                                 {"held_back", held_back}});
  }
  return reply;
}

nlohmann::json GatewayDaemon::on_admin(const AdminRequest& request,
                                       const crypto::Ed25519PublicKey& by) {
  std::vector<gateway::Action> actions;
  const GatewayView view{node_, *store_, mesh_, coap_, files_, admin_.stats(), started_ms_};
  nlohmann::json answer = handle_admin(request, view, node_, io::wall_clock_ms(), actions);
  // Durable before the operator hears of it.
  execute(actions);
  // Who changed what: the operator's key (its first 8 bytes name it well enough in a log).
  const std::string by_key = to_hex(ByteView(by.data(), 8));
  const std::string error = answer.value("error", std::string());
  if (const auto* admit = std::get_if<AdmitRequest>(&request)) {
    log_.info("credential_admitted", {{"ok", error.empty()},
                                      {"operator", by_key},
                                      {"credential", to_hex(admit->credential.id)},
                                      {"error", error}});
  } else if (const auto* evict = std::get_if<EvictRequest>(&request)) {
    log_.info("evict_submitted", {{"ok", error.empty()},
                                  {"operator", by_key},
                                  {"node", evict->node.value()},
                                  {"error", error}});
  }
  return answer;
}

}  // namespace kmchain::daemon
