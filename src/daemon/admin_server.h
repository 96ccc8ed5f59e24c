// The operator's endpoint of a gateway: TCP on a loopback address, one JSON object per line in
// each direction. Each request {"op": ..., ...} gets one response {"ok": true, ...} or
// {"ok": false, "error": "..."}. `kmchain ctl` is its client.
//
// It binds only loopback addresses: whoever can reach it can evict devices and admit
// credentials, so it is reachable only from the gateway's own host (start() refuses others).
// A request line longer than kAdminLineBytesMax closes the connection.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "base/endpoint.h"
#include "io/asio.h"

namespace kmchain::daemon {

inline constexpr std::size_t kAdminLineBytesMax = 64 * 1024;

class AdminServer {
 public:
  using Handler = std::function<nlohmann::json(const nlohmann::json& request)>;

  AdminServer(asio::io_context& io, Endpoint endpoint, Handler handler);
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // Throws asio::system_error if the address cannot be bound, std::invalid_argument if it is
  // not a loopback address.
  void start();
  void stop();

 private:
  class Session;
  void accept_next();

  asio::io_context& io_;
  const Endpoint endpoint_;
  Handler handler_;
  std::optional<asio::ip::tcp::acceptor> acceptor_;
  bool stopped_ = false;
};

// One request over a fresh connection, for clients: the response object, or nullopt with
// `error` set when the gateway cannot be reached or answers garbage.
std::optional<nlohmann::json> admin_request(const Endpoint& gateway, const nlohmann::json& request,
                                            std::string& error);

}  // namespace kmchain::daemon
