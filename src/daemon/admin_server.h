// The operator's endpoint of a gateway: TLS 1.3 with both ends pinned, one JSON object per line
// in each direction. Each request {"op": ..., ...} (daemon/admin_request.h) gets one response
// {"ok": true, ...} or {"ok": false, "error": "..."}. `kmchain ctl` is its client.
//
// Who may ask: only an operator whose Ed25519 key the gateway's config lists
// (admin.operator_keys). The gateway presents the certificate of its genesis identity, the
// operator a self-signed certificate of its key (io/pinned_tls.h); no certificate authority is
// trusted. So the endpoint may listen beyond loopback: reaching it is not enough to use it, and
// a credential admitted through it crosses the network encrypted.
//
// Bounds: at most kAdminSessionsMax connections at once (more are closed at accept), a
// handshake must finish within kAdminHandshakeMs and a connection that sends no request for
// kAdminIdleMs is closed; a request line longer than kAdminLineBytesMax closes the connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/endpoint.h"
#include "crypto/sign.h"
#include "daemon/admin_request.h"
#include "io/asio.h"

namespace kmchain::daemon {

inline constexpr std::size_t kAdminLineBytesMax = 64 * 1024;
inline constexpr std::size_t kAdminSessionsMax = 16;
inline constexpr std::uint64_t kAdminHandshakeMs = 5'000;
inline constexpr std::uint64_t kAdminIdleMs = 60'000;

struct AdminServerStats {
  std::uint64_t requests = 0;
  std::uint64_t malformed_requests = 0;  // not JSON, or a field of the wrong type or range
  std::uint64_t handshakes_refused = 0;  // no certificate, or a key not listed
  std::uint64_t sessions_refused = 0;    // over kAdminSessionsMax
  std::uint64_t timeouts = 0;            // handshake or idle
};

class AdminServer {
 public:
  // `operator_key` is the key of the certificate the request came with.
  using Handler = std::function<nlohmann::json(const AdminRequest& request,
                                               const crypto::Ed25519PublicKey& operator_key)>;

  // `tls` holds the gateway's certificate and key (io::make_gateway_tls_context); it must
  // outlive the server.
  AdminServer(asio::io_context& io, asio::ssl::context& tls, Endpoint endpoint,
              std::vector<crypto::Ed25519PublicKey> operator_keys, Handler handler);
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // Throws asio::system_error if the address cannot be bound.
  void start();
  void stop();

  const AdminServerStats& stats() const;

 private:
  class Session;
  struct Shared;
  void accept_next();

  asio::io_context& io_;
  asio::ssl::context& tls_;
  const Endpoint endpoint_;
  std::optional<asio::ip::tcp::acceptor> acceptor_;
  // What sessions share with the server; they may outlive it until the io_context drops them.
  std::shared_ptr<Shared> shared_;
};

// What an operator needs to ask a gateway: its own key, and the keys a gateway may present (the
// genesis validators').
struct OperatorCredentials {
  crypto::Ed25519KeyPair key;
  std::vector<crypto::Ed25519PublicKey> gateway_keys;
};

// One request line (without its newline) over a fresh connection: the answer line, or nullopt
// with `error` set as below.
std::optional<std::string> admin_exchange(const Endpoint& gateway,
                                          const OperatorCredentials& credentials,
                                          std::string_view request_line, std::string& error,
                                          std::uint64_t timeout_ms = 30'000);

// One request over a fresh connection, for clients: the response object, or nullopt with
// `error` set when the gateway cannot be reached, refuses the operator, answers garbage or does
// not answer within `timeout_ms`.
std::optional<nlohmann::json> admin_request(const Endpoint& gateway,
                                            const OperatorCredentials& credentials,
                                            const nlohmann::json& request, std::string& error,
                                            std::uint64_t timeout_ms = 30'000);

}  // namespace kmchain::daemon
