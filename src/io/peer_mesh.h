// PeerMesh: the gateway links of one gateway, a full mesh of TLS 1.3 connections pinned to the
// genesis keys (io/pinned_tls.h), carrying framed consensus messages.
//
// One connection per pair of gateways: the gateway with the lower index dials, the other
// accepts, so two gateways never race to open two links. An accepted peer is named by the key
// of its certificate and must have a lower index; a dialled peer must present the key of the
// gateway dialled. A link that fails (refused handshake, reset, oversized frame) is closed and
// re-dialled with a growing backoff; frames sent meanwhile are dropped and counted, which the
// consensus tolerates (a gateway that missed messages catches up from its peers' blocks).
//
// Frame: u32 length (big-endian, at most kFrameBytesMax) || the message. A peer that announces
// a longer frame is cut off: nothing it sends is buffered beyond that bound.
//
// The listening port is open to anyone who can reach it, so what a stranger can hold is bounded:
// at most kHandshakesPendingMax accepted connections are in their handshake at once (more are
// closed at accept, before any TLS state exists), a handshake that has not finished within
// kHandshakeMs is closed (dialled links too), an authenticated peer keeps one link (a new one
// replaces the old), and after a failed accept (descriptor limit) the next waits
// kAcceptBackoffMs instead of spinning.
//
// Runs on one asio::io_context thread; every callback is invoked on it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/endpoint.h"
#include "base/ids.h"
#include "consensus/message.h"
#include "io/asio.h"
#include "ledger/genesis.h"

namespace kmchain::io {

inline constexpr std::size_t kFrameBytesMax = consensus::kMessageBytesMax;
// Frames waiting to be written to one peer; beyond it new frames are dropped (counted).
inline constexpr std::size_t kPeerQueueFramesMax = 4096;
inline constexpr std::uint64_t kRedialMinMs = 100;
inline constexpr std::uint64_t kRedialMaxMs = 2000;
inline constexpr std::size_t kHandshakesPendingMax = 64;
inline constexpr std::uint64_t kHandshakeMs = 5000;
inline constexpr std::uint64_t kAcceptBackoffMs = 100;

struct PeerMeshStats {
  std::uint64_t frames_in = 0;
  std::uint64_t frames_out = 0;
  std::uint64_t frames_dropped = 0;      // sent while the link was down or its queue full
  std::uint64_t handshakes_refused = 0;  // a peer whose certificate is not the pinned one
  std::uint64_t links_lost = 0;
  std::uint64_t oversized_frames = 0;
  std::uint64_t connections_refused = 0;  // accepted beyond kHandshakesPendingMax, closed
  std::uint64_t handshake_timeouts = 0;
  std::uint64_t accept_errors = 0;  // EMFILE and the like
};

class PeerMesh {
 public:
  using OnMessage = std::function<void(GatewayId from, ByteView bytes)>;
  using OnLink = std::function<void(GatewayId peer, bool up, const std::string& reason)>;

  // `addresses` are the gateway-link addresses of every gateway, by index.
  PeerMesh(asio::io_context& io, asio::ssl::context& tls, const ledger::Genesis& genesis,
           GatewayId self, std::vector<Endpoint> addresses, OnMessage on_message, OnLink on_link);
  ~PeerMesh();
  PeerMesh(const PeerMesh&) = delete;
  PeerMesh& operator=(const PeerMesh&) = delete;

  // Binds the listening socket (throws asio::system_error if the address is taken) and starts
  // dialling the peers of higher index.
  void start();
  // Closes every link and stops re-dialling.
  void stop();

  void send(GatewayId to, ByteView bytes);
  void broadcast(ByteView bytes);

  bool connected(GatewayId peer) const;
  std::vector<GatewayId> connected_peers() const;
  const PeerMeshStats& stats() const { return stats_; }

 private:
  class Link;
  friend class Link;

  void accept_next();
  void dial(GatewayId peer);
  void schedule_redial(GatewayId peer);
  void link_up(GatewayId peer, std::shared_ptr<Link> link);
  void link_down(GatewayId peer, const Link* link, const std::string& reason);

  asio::io_context& io_;
  asio::ssl::context& tls_;
  const ledger::Genesis& genesis_;
  const GatewayId self_;
  const std::vector<Endpoint> addresses_;
  OnMessage on_message_;
  OnLink on_link_;
  std::optional<asio::ip::tcp::acceptor> acceptor_;
  std::map<GatewayId, std::shared_ptr<Link>> links_;
  std::map<GatewayId, std::unique_ptr<asio::steady_timer>> redial_timers_;
  std::map<GatewayId, std::uint64_t> backoff_ms_;
  asio::steady_timer accept_backoff_;
  std::size_t handshakes_pending_ = 0;
  bool stopped_ = false;
  PeerMeshStats stats_;
};

}  // namespace kmchain::io
