// GatewayDaemon: the shell of one gateway process (`kmchain gateway --config FILE`). It owns
// the sockets, the disk and the clock, and drives the deterministic cores:
//
//   gateway links (io/peer_mesh)  --bytes-->  consensus::Replica  --actions-->  WAL, SQLite,
//   admin endpoint (daemon/admin_server)       links, timers, and the key work on each commit
//
// Every action of the replica is executed in order, on one thread: the WAL record is on disk
// before the vote it protects is sent, a decided block is in SQLite before the next WAL write.
// SIGTERM or SIGINT stops it cleanly: links closed, timers cancelled, files closed; nothing is
// lost, because everything was durable when it was acknowledged.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "consensus/replica.h"
#include "crypto/random.h"
#include "daemon/admin_server.h"
#include "daemon/log.h"
#include "gateway/device_service.h"
#include "io/asio.h"
#include "io/coap_node.h"
#include "io/file_wal.h"
#include "io/gateway_files.h"
#include "io/peer_mesh.h"
#include "io/pinned_tls.h"
#include "io/sqlite_block_store.h"
#include "io/sqlite_device_store.h"
#include "keys/key_source.h"

namespace kmchain::daemon {

class GatewayDaemon {
 public:
  // Opens the storage and restores the chain from it; an error message on failure (a corrupt
  // store, a WAL ahead of the store).
  static Result<std::unique_ptr<GatewayDaemon>, std::string> open(io::GatewayFiles files,
                                                                  Logger& log);
  ~GatewayDaemon();
  GatewayDaemon(const GatewayDaemon&) = delete;
  GatewayDaemon& operator=(const GatewayDaemon&) = delete;

  // Binds the sockets, starts consensus and serves until SIGTERM/SIGINT. Returns the exit code.
  int run();

 private:
  GatewayDaemon(io::GatewayFiles files, Logger& log, std::unique_ptr<io::FileWal> wal,
                std::unique_ptr<io::SqliteBlockStore> store,
                std::unique_ptr<io::SqliteDeviceStore> devices,
                std::unique_ptr<keys::DerivedKeySource> key_source);

  // The replica as the device service sees it; transactions' actions run after the handler.
  class Ledger final : public gateway::LedgerPort {
   public:
    explicit Ledger(GatewayDaemon& d) : d_(d) {}
    const ledger::LedgerState& check_state() const override;
    std::vector<ledger::Transaction> pending() const override;
    Status<ledger::MempoolVerdict> submit(const ledger::Transaction& tx) override;

   private:
    GatewayDaemon& d_;
  };
  void on_device_post(const std::string& path, const config::Endpoint& from, ByteView body,
                      io::CoapReply& reply);
  void push(std::vector<gateway::Push>& pushes);
  void push_next(NodeId node);
  nlohmann::json admit(const nlohmann::json& request);

  std::uint64_t now_ms() const;
  void execute(std::vector<consensus::Action>& actions);
  void schedule(const consensus::Schedule& s);
  void on_peer_message(GatewayId from, ByteView bytes);
  void on_committed(const consensus::Committed& c);
  void stop(const std::string& why);

  nlohmann::json handle_admin(const nlohmann::json& request);
  nlohmann::json status() const;
  nlohmann::json members() const;
  nlohmann::json device_status() const;
  nlohmann::json chain(std::uint64_t from, std::uint64_t count) const;
  nlohmann::json evict(const nlohmann::json& request);

  io::GatewayFiles files_;
  Logger& log_;
  const GatewayId self_;
  std::unique_ptr<io::FileWal> wal_;
  std::unique_ptr<io::SqliteBlockStore> store_;
  std::unique_ptr<io::SqliteDeviceStore> devices_;
  std::unique_ptr<keys::DerivedKeySource> key_source_;
  crypto::OsRng rng_;
  consensus::Replica replica_;
  Ledger ledger_port_{*this};
  std::vector<consensus::Action> deferred_;
  gateway::DeviceService service_;
  const std::uint64_t started_ms_;

  asio::io_context io_;
  asio::ssl::context tls_;
  io::PeerMesh mesh_;
  AdminServer admin_;
  io::CoapNode coap_;
  // Key messages for each device, sent one at a time so that they arrive in ledger order.
  std::map<NodeId, std::deque<gateway::Push>> push_queues_;
  asio::signal_set signals_;
  std::map<std::uint64_t, std::unique_ptr<asio::steady_timer>> timers_;
  std::uint64_t next_timer_ = 0;
  bool stopping_ = false;
};

}  // namespace kmchain::daemon
