#include "daemon/admin_server.h"

#include <stdexcept>
#include <string>
#include <utility>

namespace kmchain::daemon {

using asio::ip::tcp;

class AdminServer::Session : public std::enable_shared_from_this<AdminServer::Session> {
 public:
  Session(tcp::socket socket, Handler& handler)
      : socket_(std::move(socket)), buffer_(kAdminLineBytesMax), handler_(handler) {}

  void read_next() {
    auto self = shared_from_this();
    asio::async_read_until(
        socket_, buffer_, '\n', [self](const asio::error_code& ec, std::size_t n) {
          if (ec) return;  // closed, or a line above the bound
          std::string line(
              asio::buffers_begin(self->buffer_.data()),
              asio::buffers_begin(self->buffer_.data()) + static_cast<std::ptrdiff_t>(n));
          self->buffer_.consume(n);
          self->answer(line);
        });
  }

 private:
  void answer(const std::string& line) {
    nlohmann::json request = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    nlohmann::json response;
    if (request.is_discarded() || !request.is_object() || !request.contains("op") ||
        !request["op"].is_string()) {
      response = {{"ok", false}, {"error", "request is not a JSON object with a string \"op\""}};
    } else {
      response = handler_(request);
    }
    out_ = response.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    auto self = shared_from_this();
    asio::async_write(socket_, asio::buffer(out_), [self](const asio::error_code& ec, std::size_t) {
      if (!ec) self->read_next();
    });
  }

  tcp::socket socket_;
  asio::streambuf buffer_;
  Handler& handler_;
  std::string out_;
};

AdminServer::AdminServer(asio::io_context& io, Endpoint endpoint, Handler handler)
    : io_(io), endpoint_(std::move(endpoint)), handler_(std::move(handler)) {}

AdminServer::~AdminServer() {
  stop();
}

void AdminServer::start() {
  const auto address = asio::ip::make_address(endpoint_.host);
  if (!address.is_loopback()) {
    throw std::invalid_argument("listen.admin: " + endpoint_.host + " is not a loopback address");
  }
  const tcp::endpoint endpoint(address, endpoint_.port);
  acceptor_.emplace(io_);
  acceptor_->open(endpoint.protocol());
  acceptor_->set_option(tcp::acceptor::reuse_address(true));
  acceptor_->bind(endpoint);
  acceptor_->listen();
  accept_next();
}

void AdminServer::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (acceptor_) {
    asio::error_code ignored;
    acceptor_->close(ignored);
  }
}

void AdminServer::accept_next() {
  acceptor_->async_accept([this](const asio::error_code& ec, tcp::socket socket) {
    if (stopped_) return;
    if (!ec) std::make_shared<Session>(std::move(socket), handler_)->read_next();
    accept_next();
  });
}

std::optional<nlohmann::json> admin_request(const Endpoint& gateway, const nlohmann::json& request,
                                            std::string& error) {
  asio::io_context io;
  tcp::socket socket(io);
  asio::error_code ec;
  const auto address = asio::ip::make_address(gateway.host, ec);
  if (ec) {
    error = "bad address " + gateway.host;
    return std::nullopt;
  }
  socket.connect(tcp::endpoint(address, gateway.port), ec);
  if (ec) {
    error = "cannot reach " + to_string(gateway) + ": " + ec.message();
    return std::nullopt;
  }
  const std::string line = request.dump() + "\n";
  asio::write(socket, asio::buffer(line), ec);
  if (ec) {
    error = "cannot send to " + to_string(gateway) + ": " + ec.message();
    return std::nullopt;
  }
  asio::streambuf buffer(16 * 1024 * 1024);
  const std::size_t n = asio::read_until(socket, buffer, '\n', ec);
  if (ec) {
    error = "no answer from " + to_string(gateway) + ": " + ec.message();
    return std::nullopt;
  }
  const std::string text(asio::buffers_begin(buffer.data()),
                         asio::buffers_begin(buffer.data()) + static_cast<std::ptrdiff_t>(n));
  auto response = nlohmann::json::parse(text, nullptr, false);
  if (response.is_discarded() || !response.is_object()) {
    error = "the gateway's answer is not a JSON object";
    return std::nullopt;
  }
  return response;
}

}  // namespace kmchain::daemon
