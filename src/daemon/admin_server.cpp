#include "daemon/admin_server.h"

#include <openssl/err.h>

#include <chrono>
#include <string>
#include <utility>

#include "crypto/x509.h"
#include "io/clock.h"
#include "io/pinned_tls.h"

namespace kmchain::daemon {

using asio::ip::tcp;
using TlsStream = asio::ssl::stream<tcp::socket>;

namespace {

// After a failed accept (EMFILE, ENFILE, ENOBUFS), wait before the next: accepting again at
// once fails again at once and spins a core.
constexpr std::chrono::milliseconds kAcceptBackoff{100};

}  // namespace

struct AdminServer::Shared {
  Handler handler;
  std::vector<crypto::Ed25519PublicKey> operator_keys;
  AdminServerStats stats;
  std::size_t sessions = 0;
  bool stopped = false;
  std::vector<std::weak_ptr<Session>> live;
};

class AdminServer::Session : public std::enable_shared_from_this<AdminServer::Session> {
 public:
  Session(tcp::socket socket, asio::ssl::context& tls, std::shared_ptr<Shared> shared)
      : stream_(std::move(socket), tls),
        timer_(stream_.get_executor()),
        buffer_(kAdminLineBytesMax),
        shared_(std::move(shared)) {
    ++shared_->sessions;
  }
  ~Session() { --shared_->sessions; }

  void start() {
    stream_.set_verify_callback(io::pin_to(shared_->operator_keys));
    arm(kAdminHandshakeMs);
    auto self = shared_from_this();
    stream_.async_handshake(asio::ssl::stream_base::server, [self](const asio::error_code& ec) {
      self->timer_.cancel();
      if (self->closed_) return;
      const auto key = ec ? std::nullopt : io::peer_key(self->stream_.native_handle());
      if (!key) {
        ERR_clear_error();
        ++self->shared_->stats.handshakes_refused;
        return self->close();
      }
      self->operator_ = *key;
      self->read_next();
    });
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    timer_.cancel();
    asio::error_code ignored;
    stream_.lowest_layer().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.lowest_layer().close(ignored);
  }

 private:
  // Closes the connection if nothing completes within `ms`.
  void arm(std::uint64_t ms) {
    timer_.expires_after(std::chrono::milliseconds(ms));
    timer_.async_wait([weak = weak_from_this()](const asio::error_code& ec) {
      auto self = weak.lock();
      if (ec || !self || self->closed_) return;
      ++self->shared_->stats.timeouts;
      self->close();
    });
  }

  void read_next() {
    arm(kAdminIdleMs);
    auto self = shared_from_this();
    asio::async_read_until(
        stream_, buffer_, '\n', [self](const asio::error_code& ec, std::size_t n) {
          self->timer_.cancel();
          // Closed, timed out, or a line above the bound.
          if (ec || self->closed_) return self->close();
          std::string line(
              asio::buffers_begin(self->buffer_.data()),
              asio::buffers_begin(self->buffer_.data()) + static_cast<std::ptrdiff_t>(n));
          self->buffer_.consume(n);
          self->answer(line);
        });
  }

  void answer(const std::string& line) {
    nlohmann::json response;
    auto request = parse_admin_request(std::string_view(line));
    if (!request) {
      ++shared_->stats.malformed_requests;
      response = {{"ok", false}, {"error", request.error()}};
    } else if (shared_->stopped) {
      response = {{"ok", false}, {"error", "the gateway is stopping"}};
    } else {
      ++shared_->stats.requests;
      response = shared_->handler(*request, operator_);
    }
    out_ = response.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    arm(kAdminIdleMs);
    auto self = shared_from_this();
    asio::async_write(stream_, asio::buffer(out_), [self](const asio::error_code& ec, std::size_t) {
      self->timer_.cancel();
      if (ec || self->closed_) return self->close();
      self->read_next();
    });
  }

  TlsStream stream_;
  asio::steady_timer timer_;
  asio::streambuf buffer_;
  std::shared_ptr<Shared> shared_;
  crypto::Ed25519PublicKey operator_{};
  std::string out_;
  bool closed_ = false;
};

AdminServer::AdminServer(asio::io_context& io, asio::ssl::context& tls, Endpoint endpoint,
                         std::vector<crypto::Ed25519PublicKey> operator_keys, Handler handler)
    : io_(io), tls_(tls), endpoint_(std::move(endpoint)), shared_(std::make_shared<Shared>()) {
  shared_->handler = std::move(handler);
  shared_->operator_keys = std::move(operator_keys);
}

AdminServer::~AdminServer() {
  stop();
}

const AdminServerStats& AdminServer::stats() const {
  return shared_->stats;
}

void AdminServer::start() {
  const tcp::endpoint endpoint(asio::ip::make_address(endpoint_.host), endpoint_.port);
  acceptor_.emplace(io_);
  acceptor_->open(endpoint.protocol());
  acceptor_->set_option(tcp::acceptor::reuse_address(true));
  acceptor_->bind(endpoint);
  acceptor_->listen();
  accept_next();
}

void AdminServer::stop() {
  if (shared_->stopped) return;
  shared_->stopped = true;
  if (acceptor_) {
    asio::error_code ignored;
    acceptor_->close(ignored);
  }
  for (auto& weak : shared_->live) {
    if (auto session = weak.lock()) session->close();
  }
  shared_->live.clear();
}

void AdminServer::accept_next() {
  acceptor_->async_accept([this, shared = shared_](const asio::error_code& ec, tcp::socket socket) {
    if (shared->stopped) return;
    if (ec) {
      auto timer = std::make_shared<asio::steady_timer>(io_, kAcceptBackoff);
      timer->async_wait([this, shared, timer](const asio::error_code&) {
        if (!shared->stopped) accept_next();
      });
      return;
    }
    std::erase_if(shared->live, [](const auto& weak) { return weak.expired(); });
    if (shared->sessions >= kAdminSessionsMax) {
      ++shared->stats.sessions_refused;
      asio::error_code ignored;
      socket.close(ignored);
    } else {
      auto session = std::make_shared<Session>(std::move(socket), tls_, shared);
      shared->live.push_back(session);
      session->start();
    }
    accept_next();
  });
}

std::optional<std::string> admin_exchange(const Endpoint& gateway,
                                          const OperatorCredentials& credentials,
                                          std::string_view request_line, std::string& error,
                                          std::uint64_t timeout_ms) {
  asio::error_code ec;
  const auto address = asio::ip::make_address(gateway.host, ec);
  if (ec) {
    error = "bad address " + gateway.host + ": an IP address is expected";
    return std::nullopt;
  }
  // The operator's certificate is made afresh for each connection: the gateway pins the key,
  // not the certificate.
  const std::string certificate =
      crypto::self_signed_certificate_pem(credentials.key, "kmchain operator",
                                          static_cast<std::int64_t>(io::wall_clock_ms() / 1000), 1);
  asio::ssl::context tls =
      io::make_gateway_tls_context(certificate, crypto::private_key_pem(credentials.key).view());
  asio::io_context io;
  TlsStream stream(io, tls);
  stream.set_verify_callback(io::pin_to(credentials.gateway_keys));

  const std::string line = std::string(request_line) + "\n";
  asio::streambuf buffer(16 * 1024 * 1024);
  std::string stage = "cannot reach";
  asio::error_code result;
  std::size_t length = 0;
  bool done = false;
  const auto finish = [&](const asio::error_code& e) {
    result = e;
    done = true;
  };
  stream.lowest_layer().async_connect(
      tcp::endpoint(address, gateway.port), [&](const asio::error_code& connected) {
        if (connected) return finish(connected);
        stage = "TLS handshake refused by";
        stream.async_handshake(asio::ssl::stream_base::client, [&](const asio::error_code& shook) {
          if (shook) return finish(shook);
          stage = "cannot send to";
          asio::async_write(
              stream, asio::buffer(line), [&](const asio::error_code& sent, std::size_t) {
                if (sent) return finish(sent);
                stage = "no answer from";
                asio::async_read_until(stream, buffer, '\n',
                                       [&](const asio::error_code& read, std::size_t n) {
                                         length = n;
                                         finish(read);
                                       });
              });
        });
      });
  io.run_for(std::chrono::milliseconds(timeout_ms));
  ERR_clear_error();
  if (!done) {
    error = stage + " " + to_string(gateway) + ": no progress within " +
            std::to_string(timeout_ms) + " ms";
    return std::nullopt;
  }
  if (result) {
    error = stage + " " + to_string(gateway) + ": " + result.message();
    // TLS 1.3: a gateway that refuses the operator's key says so only after our handshake.
    if (stage != "cannot reach")
      error += " (is this operator's key in the gateway's admin.operator_keys?)";
    return std::nullopt;
  }
  return std::string(asio::buffers_begin(buffer.data()),
                     asio::buffers_begin(buffer.data()) + static_cast<std::ptrdiff_t>(length));
}

std::optional<nlohmann::json> admin_request(const Endpoint& gateway,
                                            const OperatorCredentials& credentials,
                                            const nlohmann::json& request, std::string& error,
                                            std::uint64_t timeout_ms) {
  const auto text = admin_exchange(gateway, credentials, request.dump(), error, timeout_ms);
  if (!text) return std::nullopt;
  auto response = nlohmann::json::parse(*text, nullptr, false);
  if (response.is_discarded() || !response.is_object()) {
    error = "the gateway's answer is not a JSON object";
    return std::nullopt;
  }
  return response;
}

}  // namespace kmchain::daemon
