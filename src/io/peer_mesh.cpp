#include "io/peer_mesh.h"

#include <openssl/err.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <utility>

#include "io/pinned_tls.h"

namespace kmchain::io {

using asio::ip::tcp;
using TlsStream = asio::ssl::stream<tcp::socket>;

// One established (or establishing) link. Owned by the mesh map and by its pending
// operations, so that a callback that fires after the mesh dropped it finds a live object.
class PeerMesh::Link : public std::enable_shared_from_this<PeerMesh::Link> {
 public:
  Link(PeerMesh& mesh, TlsStream stream)
      : mesh_(mesh), stream_(std::move(stream)), handshake_timer_(stream_.get_executor()) {}

  TlsStream& stream() { return stream_; }

  // Closes the link unless handshake_done() comes within kHandshakeMs: a peer (or anyone)
  // that connects and says nothing must not hold a socket and a TLS state for long.
  void arm_handshake_timeout() {
    handshake_timer_.expires_after(std::chrono::milliseconds(kHandshakeMs));
    handshake_timer_.async_wait([weak = weak_from_this()](const asio::error_code& ec) {
      auto self = weak.lock();
      if (ec || !self || self->closed_) return;
      ++self->mesh_.stats_.handshake_timeouts;
      self->close();
    });
  }
  void handshake_done() { handshake_timer_.cancel(); }
  void set_peer(GatewayId peer) { peer_ = peer; }

  void start_reading() { read_header(); }

  void send(std::shared_ptr<const Bytes> frame) {
    if (closed_) return;
    if (queue_.size() >= kPeerQueueFramesMax) {
      ++mesh_.stats_.frames_dropped;
      return;
    }
    queue_.push_back(std::move(frame));
    if (queue_.size() == 1) write_next();
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    handshake_timer_.cancel();
    asio::error_code ignored;
    stream_.lowest_layer().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.lowest_layer().close(ignored);
  }

 private:
  void fail(const std::string& reason) {
    if (closed_) return;
    close();
    mesh_.link_down(peer_, this, reason);
  }

  void read_header() {
    auto self = shared_from_this();
    asio::async_read(
        stream_, asio::buffer(header_), [self](const asio::error_code& ec, std::size_t) {
          if (ec) return self->fail(ec.message());
          const std::uint32_t length =
              (std::uint32_t{self->header_[0]} << 24) | (std::uint32_t{self->header_[1]} << 16) |
              (std::uint32_t{self->header_[2]} << 8) | std::uint32_t{self->header_[3]};
          if (length > kFrameBytesMax) {
            ++self->mesh_.stats_.oversized_frames;
            return self->fail("oversized frame");
          }
          self->body_.resize(length);
          self->read_body();
        });
  }

  void read_body() {
    auto self = shared_from_this();
    asio::async_read(stream_, asio::buffer(body_), [self](const asio::error_code& ec, std::size_t) {
      if (ec) return self->fail(ec.message());
      if (self->closed_) return;
      ++self->mesh_.stats_.frames_in;
      self->mesh_.on_message_(self->peer_, self->body_);
      if (!self->closed_) self->read_header();
    });
  }

  void write_next() {
    auto self = shared_from_this();
    asio::async_write(stream_, asio::buffer(*queue_.front()),
                      [self](const asio::error_code& ec, std::size_t) {
                        if (ec) return self->fail(ec.message());
                        ++self->mesh_.stats_.frames_out;
                        self->queue_.pop_front();
                        if (!self->queue_.empty() && !self->closed_) self->write_next();
                      });
  }

  PeerMesh& mesh_;
  TlsStream stream_;
  asio::steady_timer handshake_timer_;
  GatewayId peer_{};
  bool closed_ = false;
  std::array<std::uint8_t, 4> header_{};
  Bytes body_;
  std::deque<std::shared_ptr<const Bytes>> queue_;
};

PeerMesh::PeerMesh(asio::io_context& io, asio::ssl::context& tls, const ledger::Genesis& genesis,
                   GatewayId self, std::vector<Endpoint> addresses, OnMessage on_message,
                   OnLink on_link)
    : io_(io),
      tls_(tls),
      genesis_(genesis),
      self_(self),
      addresses_(std::move(addresses)),
      on_message_(std::move(on_message)),
      on_link_(std::move(on_link)),
      accept_backoff_(io) {}

PeerMesh::~PeerMesh() {
  stop();
}

void PeerMesh::start() {
  const Endpoint& own = addresses_.at(self_.value());
  const tcp::endpoint endpoint(asio::ip::make_address(own.host), own.port);
  acceptor_.emplace(io_);
  acceptor_->open(endpoint.protocol());
  acceptor_->set_option(tcp::acceptor::reuse_address(true));
  acceptor_->bind(endpoint);
  acceptor_->listen();
  accept_next();
  for (std::size_t i = self_.value() + 1u; i < addresses_.size(); ++i) {
    dial(GatewayId{static_cast<std::uint16_t>(i)});
  }
}

void PeerMesh::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (acceptor_) {
    asio::error_code ignored;
    acceptor_->close(ignored);
  }
  for (auto& [peer, timer] : redial_timers_)
    timer->cancel();
  accept_backoff_.cancel();
  auto links = std::move(links_);
  links_.clear();
  for (auto& [peer, link] : links)
    link->close();
}

void PeerMesh::accept_next() {
  acceptor_->async_accept([this](const asio::error_code& ec, tcp::socket socket) {
    if (stopped_) return;
    if (ec) {
      // EMFILE, ENFILE, ENOBUFS: accepting again at once fails again at once and spins a
      // core; wait a little for descriptors to be freed.
      ++stats_.accept_errors;
      accept_backoff_.expires_after(std::chrono::milliseconds(kAcceptBackoffMs));
      accept_backoff_.async_wait([this](const asio::error_code& waited) {
        if (!waited && !stopped_) accept_next();
      });
      return;
    }
    // Connections not yet authenticated are capped: beyond the cap they are closed at once,
    // before any TLS state is allocated for them.
    if (handshakes_pending_ >= kHandshakesPendingMax) {
      ++stats_.connections_refused;
      asio::error_code ignored;
      socket.close(ignored);
      accept_next();
      return;
    }
    ++handshakes_pending_;
    auto link = std::make_shared<Link>(*this, TlsStream(std::move(socket), tls_));
    link->stream().set_verify_callback(pin_to(validator_keys(genesis_)));
    link->arm_handshake_timeout();
    link->stream().async_handshake(asio::ssl::stream_base::server, [this, link](
                                                                       const asio::error_code& hs) {
      if (stopped_) return;
      --handshakes_pending_;
      link->handshake_done();
      const auto peer = hs ? std::nullopt : peer_gateway(link->stream().native_handle(), genesis_);
      // Only lower indices dial us: one link per pair.
      if (!peer || peer->value() >= self_.value()) {
        ERR_clear_error();
        ++stats_.handshakes_refused;
        if (on_link_)
          on_link_(GatewayId{}, false,
                   hs ? "handshake refused: " + hs.message() : "peer may not dial this gateway");
        link->close();
        return;
      }
      link_up(*peer, link);
    });
    accept_next();
  });
}

void PeerMesh::dial(GatewayId peer) {
  if (stopped_) return;
  const Endpoint& address = addresses_.at(peer.value());
  auto link = std::make_shared<Link>(*this, TlsStream(tcp::socket(io_), tls_));
  link->set_peer(peer);
  link->stream().set_verify_callback(pin_to({genesis_.validators.at(peer.value()).public_key}));
  asio::error_code ec;
  const tcp::endpoint endpoint(asio::ip::make_address(address.host, ec), address.port);
  if (ec) {
    link_down(peer, nullptr, "bad address " + to_string(address));
    return;
  }
  link->arm_handshake_timeout();
  link->stream().lowest_layer().async_connect(
      endpoint, [this, link, peer](const asio::error_code& connect_ec) {
        if (stopped_) return;
        if (connect_ec) {
          link->close();
          return link_down(peer, nullptr, connect_ec.message());
        }
        link->stream().async_handshake(
            asio::ssl::stream_base::client, [this, link, peer](const asio::error_code& hs) {
              if (stopped_) return;
              link->handshake_done();
              if (hs) {
                ERR_clear_error();
                ++stats_.handshakes_refused;
                link->close();
                return link_down(peer, nullptr, "handshake refused: " + hs.message());
              }
              // TLS 1.3: the server may still refuse our certificate; that shows as a failed
              // first read, which takes this link down again.
              link_up(peer, link);
            });
      });
}

void PeerMesh::link_up(GatewayId peer, std::shared_ptr<Link> link) {
  link->set_peer(peer);
  if (auto old = links_.find(peer); old != links_.end()) old->second->close();
  links_[peer] = link;
  backoff_ms_[peer] = kRedialMinMs;
  link->start_reading();
  if (on_link_) on_link_(peer, true, "");
}

void PeerMesh::link_down(GatewayId peer, const Link* link, const std::string& reason) {
  if (stopped_) return;
  auto it = links_.find(peer);
  if (link != nullptr) {
    // A link that was replaced meanwhile is not the peer's link any more.
    if (it == links_.end() || it->second.get() != link) return;
    links_.erase(it);
    ++stats_.links_lost;
    if (on_link_) on_link_(peer, false, reason);
  }
  if (peer.value() > self_.value()) schedule_redial(peer);
}

void PeerMesh::schedule_redial(GatewayId peer) {
  auto& timer = redial_timers_[peer];
  if (!timer) timer = std::make_unique<asio::steady_timer>(io_);
  std::uint64_t& backoff = backoff_ms_[peer];
  backoff = backoff == 0 ? kRedialMinMs : std::min(backoff * 2, kRedialMaxMs);
  timer->expires_after(std::chrono::milliseconds(backoff));
  timer->async_wait([this, peer](const asio::error_code& ec) {
    if (!ec && !stopped_) dial(peer);
  });
}

void PeerMesh::send(GatewayId to, ByteView bytes) {
  auto it = links_.find(to);
  if (it == links_.end() || bytes.size() > kFrameBytesMax) {
    ++stats_.frames_dropped;
    return;
  }
  auto frame = std::make_shared<Bytes>();
  frame->reserve(4 + bytes.size());
  const auto n = static_cast<std::uint32_t>(bytes.size());
  frame->push_back(static_cast<std::uint8_t>(n >> 24));
  frame->push_back(static_cast<std::uint8_t>(n >> 16));
  frame->push_back(static_cast<std::uint8_t>(n >> 8));
  frame->push_back(static_cast<std::uint8_t>(n));
  frame->insert(frame->end(), bytes.begin(), bytes.end());
  it->second->send(std::move(frame));
}

void PeerMesh::broadcast(ByteView bytes) {
  for (std::size_t i = 0; i < addresses_.size(); ++i) {
    const GatewayId peer{static_cast<std::uint16_t>(i)};
    if (peer != self_) send(peer, bytes);
  }
}

bool PeerMesh::connected(GatewayId peer) const {
  return links_.contains(peer);
}

std::vector<GatewayId> PeerMesh::connected_peers() const {
  std::vector<GatewayId> peers;
  for (const auto& [peer, link] : links_)
    peers.push_back(peer);
  return peers;
}

}  // namespace kmchain::io
