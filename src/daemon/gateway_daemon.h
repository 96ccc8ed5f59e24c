// GatewayDaemon: the shell of one gateway process (`kmchain gateway --config FILE`). It owns the
// sockets, the disk and the clock; the gateway node (gateway/gateway_node.h) decides everything:
//
//   gateway links (io/peer_mesh)   --bytes-->    gateway::GatewayNode  --actions-->  WAL, SQLite,
//   device endpoint (io/coap_node) --requests-->                                    links, pushes,
//   admin endpoint (daemon/admin_server) --ops-->                                   timers
//
// Every action is executed in order, on one thread: a WAL record or a device record is on disk
// before the vote or the reply it protects is sent; a reply to a device or an operator leaves
// only after the actions of its input are executed. SIGTERM or SIGINT stops it cleanly: links
// closed, timers cancelled, files closed; nothing is lost, because everything was durable when it
// was acknowledged.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "crypto/random.h"
#include "daemon/admin_server.h"
#include "daemon/device_store.h"
#include "daemon/log.h"
#include "gateway/gateway_node.h"
#include "io/asio.h"
#include "io/coap_node.h"
#include "io/file_wal.h"
#include "io/gateway_files.h"
#include "io/peer_mesh.h"
#include "io/pinned_tls.h"
#include "io/sqlite_block_store.h"
#include "keys/key_source.h"

namespace kmchain::daemon {

// `kmchain gateway --config FILE`: loads the gateway's files, logs at their level and serves until
// SIGTERM/SIGINT. The exit code: 0, 1 if the storage does not open, 2 if the files do not load.
int run_gateway(const std::string& config_path);

class GatewayDaemon {
 public:
  // Opens the storage and restores the node from it; an error message on failure (a corrupt
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
                std::unique_ptr<io::SqliteBlockStore> store, std::unique_ptr<DeviceStore> devices,
                std::unique_ptr<keys::DerivedKeySource> key_source);

  void execute(std::vector<gateway::Action>& actions);
  void run_action(gateway::Action& action);
  void on_committed(const consensus::Committed& c);
  void after(std::uint64_t at_ms, std::function<void(std::uint64_t now_ms)> then);
  void push(const gateway::PushToDevice& p);
  io::CoapReply on_device_post(const std::string& path, const Endpoint& from, ByteView body);
  nlohmann::json on_admin(const AdminRequest& request, const crypto::Ed25519PublicKey& by);
  void stop(const std::string& why);

  io::GatewayFiles files_;
  Logger& log_;
  std::unique_ptr<io::FileWal> wal_;
  std::unique_ptr<io::SqliteBlockStore> store_;
  std::unique_ptr<DeviceStore> devices_;
  std::unique_ptr<keys::DerivedKeySource> key_source_;
  crypto::OsRng rng_;
  gateway::GatewayNode node_;
  const std::uint64_t started_ms_;

  asio::io_context io_;
  asio::ssl::context tls_;
  io::PeerMesh mesh_;
  AdminServer admin_;
  io::CoapNode coap_;
  asio::signal_set signals_;
  std::map<std::uint64_t, std::unique_ptr<asio::steady_timer>> timers_;
  std::uint64_t next_timer_ = 0;
  bool stopping_ = false;
  // Refused device requests are logged, but no faster than this: anyone can send them.
  LogRate refused_log_{20, 1000};
};

}  // namespace kmchain::daemon
