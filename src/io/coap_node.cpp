#include "io/coap_node.h"

#include <arpa/inet.h>
#include <coap3/coap.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <stdexcept>

#include "io/clock.h"

namespace kmchain::io {

namespace {

std::atomic<std::uint64_t> g_malformed{0};

// libcoap reports what it drops on its log; kmchain keeps its own structured log, so libcoap's
// lines are counted, not printed.
bool g_coap_debug = false;

void on_coap_log(coap_log_t level, const char* message) {
  if (g_coap_debug && message != nullptr) std::fprintf(stderr, "libcoap: %s", message);
  if (level <= LOG_WARNING && message != nullptr) g_malformed.fetch_add(1);
}

void coap_global_init() {
  static std::once_flag once;
  std::call_once(once, [] {
    coap_startup();
    coap_set_log_handler(on_coap_log);
    // KMCHAIN_COAP_DEBUG=1 shows libcoap's own trace on stderr, for debugging a device link.
    const char* debug = std::getenv("KMCHAIN_COAP_DEBUG");
    g_coap_debug = debug != nullptr && debug[0] == '1';
    coap_set_log_level(g_coap_debug ? LOG_DEBUG : LOG_WARNING);
  });
}

// The CoapNode of each libcoap context (libcoap 4.3.1 has no context user data).
std::map<coap_context_t*, CoapNode*>& nodes() {
  static std::map<coap_context_t*, CoapNode*> map;
  return map;
}

CoapNode* node_of(coap_context_t* ctx) {
  auto it = nodes().find(ctx);
  return it == nodes().end() ? nullptr : it->second;
}

bool to_coap_address(const Endpoint& e, coap_address_t& out) {
  coap_address_init(&out);
  in_addr v4{};
  in6_addr v6{};
  if (inet_pton(AF_INET, e.host.c_str(), &v4) == 1) {
    out.size = sizeof(sockaddr_in);
    out.addr.sin.sin_family = AF_INET;
    out.addr.sin.sin_addr = v4;
    out.addr.sin.sin_port = htons(e.port);
    return true;
  }
  if (inet_pton(AF_INET6, e.host.c_str(), &v6) == 1) {
    out.size = sizeof(sockaddr_in6);
    out.addr.sin6.sin6_family = AF_INET6;
    out.addr.sin6.sin6_addr = v6;
    out.addr.sin6.sin6_port = htons(e.port);
    return true;
  }
  return false;
}

Endpoint from_coap_address(const coap_address_t* a) {
  Endpoint e;
  char buf[INET6_ADDRSTRLEN] = {};
  if (a->addr.sa.sa_family == AF_INET) {
    inet_ntop(AF_INET, &a->addr.sin.sin_addr, buf, sizeof buf);
  } else if (a->addr.sa.sa_family == AF_INET6) {
    inet_ntop(AF_INET6, &a->addr.sin6.sin6_addr, buf, sizeof buf);
  }
  e.host = buf;
  e.port = coap_address_get_port(a);
  return e;
}

// Tokens are unique per session only: two sessions can draw the same one.
std::string token_key(const coap_session_t* session, coap_bin_const_t token) {
  const auto id = reinterpret_cast<std::uintptr_t>(session);
  std::string key(reinterpret_cast<const char*>(&id), sizeof id);
  key.append(reinterpret_cast<const char*>(token.s), token.length);
  return key;
}

Bytes body_of(const coap_pdu_t* pdu) {
  std::size_t len = 0;
  std::size_t offset = 0;
  std::size_t total = 0;
  const std::uint8_t* data = nullptr;
  if (coap_get_data_large(pdu, &len, &data, &offset, &total) == 0 || data == nullptr) return {};
  return Bytes(data, data + len);
}

void release_body(coap_session_t*, void* app_ptr) {
  delete static_cast<Bytes*>(app_ptr);
}

void on_request(coap_resource_t* resource, coap_session_t* session, const coap_pdu_t* request,
                const coap_string_t* query, coap_pdu_t* response) {
  CoapNode* node = node_of(coap_session_get_context(session));
  if (node == nullptr) return;
  coap_str_const_t* uri = coap_resource_get_uri_path(resource);
  const std::string path =
      uri ? std::string(reinterpret_cast<const char*>(uri->s), uri->length) : std::string();
  std::size_t len = 0;
  std::size_t offset = 0;
  std::size_t total = 0;
  const std::uint8_t* data = nullptr;
  if (coap_get_data_large(request, &len, &data, &offset, &total) == 0) data = nullptr;
  const CoapNode::Block block{path, from_coap_address(coap_session_get_addr_remote(session)),
                              ByteView(data, data ? len : 0), offset, total};
  CoapReply reply = node->on_block(block);
  coap_pdu_set_code(response, static_cast<coap_pdu_code_t>(reply.code));
  if (reply.code == CoapCode::kTooLarge) {
    // RFC 7959 2.9.3: the largest body this path takes.
    std::uint8_t size[4];
    const auto n =
        coap_encode_var_safe(size, sizeof size, static_cast<unsigned>(node->body_max(path)));
    coap_add_option(response, COAP_OPTION_SIZE1, n, size);
  }
  if (!reply.payload.empty()) {
    auto* body = new Bytes(std::move(reply.payload));
    coap_add_data_large_response(resource, session, request, response, query,
                                 COAP_MEDIATYPE_APPLICATION_OCTET_STREAM, -1, 0, body->size(),
                                 body->data(), release_body, body);
  }
}

void on_unknown(coap_resource_t*, coap_session_t* session, const coap_pdu_t*, const coap_string_t*,
                coap_pdu_t* response) {
  if (CoapNode* node = node_of(coap_session_get_context(session))) node->count_unknown_path();
  coap_pdu_set_code(response, COAP_RESPONSE_CODE_NOT_FOUND);
}

coap_response_t on_response(coap_session_t* session, const coap_pdu_t*, const coap_pdu_t* received,
                            const coap_mid_t) {
  CoapNode* node = node_of(coap_session_get_context(session));
  if (node == nullptr) return COAP_RESPONSE_OK;
  const auto type = coap_pdu_get_type(received);
  if (type == COAP_MESSAGE_RST) return COAP_RESPONSE_OK;
  CoapReply reply;
  reply.code = static_cast<CoapCode>(coap_pdu_get_code(received));
  reply.payload = body_of(received);
  node->complete(token_key(session, coap_pdu_get_token(received)), std::move(reply));
  return COAP_RESPONSE_OK;
}

void on_nack(coap_session_t* session, const coap_pdu_t* sent, const coap_nack_reason_t,
             const coap_mid_t) {
  CoapNode* node = node_of(coap_session_get_context(session));
  if (node == nullptr || sent == nullptr) return;
  node->complete(token_key(session, coap_pdu_get_token(sent)), std::nullopt);
}

}  // namespace

std::string to_string(CoapCode code) {
  const auto c = static_cast<unsigned>(code);
  return std::to_string(c >> 5) + "." + (((c & 31u) < 10) ? "0" : "") + std::to_string(c & 31u);
}

std::uint64_t coap_malformed_datagrams() {
  return g_malformed.load();
}

CoapNode::CoapNode(asio::io_context& io, Endpoint listen)
    : io_(io), listen_(std::move(listen)), local_(listen_), timer_(io) {
  coap_global_init();
}

CoapNode::~CoapNode() {
  stop();
}

void CoapNode::on_post(const std::string& path, Handler handler, std::size_t body_max) {
  handlers_[path] = Route{std::move(handler), std::min(body_max, kCoapBodyBytesMax)};
}

std::size_t CoapNode::body_max(const std::string& path) const {
  auto it = handlers_.find(path);
  return it == handlers_.end() ? 0 : it->second.body_max;
}

CoapReply CoapNode::on_block(const Block& b) {
  const std::size_t max = body_max(b.path);
  // Only complete bodies below the path's bound reach a handler; an announced total (Size1) or
  // a block beyond it is refused before anything is kept.
  if (b.total > max || b.offset > max || b.body.size() > max - std::min(max, b.offset)) {
    ++stats_.bodies_too_large;
    transfers_.erase({to_string(b.from), b.path});
    return {CoapCode::kTooLarge, {}};
  }
  const bool last = b.offset + b.body.size() >= b.total;
  if (b.offset == 0 && last) return dispatch(b.path, b.from, b.body);

  // Block-wise (RFC 7959): reassembled here, in order, in memory that grows with what arrived.
  const std::uint64_t now = steady_clock_ms();
  std::erase_if(transfers_,
                [now](const auto& t) { return now - t.second.last_ms > kCoapTransferIdleMs; });
  const std::pair<std::string, std::string> key{to_string(b.from), b.path};
  auto it = transfers_.find(key);
  if (b.offset == 0) {
    if (it == transfers_.end() && transfers_.size() >= kCoapTransfersMax) {
      ++stats_.transfers_refused;
      return {CoapCode::kServiceUnavailable, {}};
    }
    it = transfers_.insert_or_assign(key, Transfer{}).first;
  }
  if (it == transfers_.end() || it->second.body.size() != b.offset) {
    // A block out of order, or of a transfer this endpoint does not hold.
    if (it != transfers_.end()) transfers_.erase(it);
    ++stats_.transfers_incomplete;
    return {CoapCode::kIncomplete, {}};
  }
  it->second.body.insert(it->second.body.end(), b.body.begin(), b.body.end());
  it->second.last_ms = now;
  if (!last) return {CoapCode::kChanged, {}};  // libcoap answers 2.31 Continue
  const Bytes body = std::move(it->second.body);
  transfers_.erase(it);
  return dispatch(b.path, b.from, body);
}

void CoapNode::start() {
  coap_address_t addr;
  if (!to_coap_address(listen_, addr)) {
    throw std::runtime_error("not an IP address: " + listen_.host);
  }
  ctx_ = coap_new_context(nullptr);
  if (ctx_ == nullptr) throw std::runtime_error("cannot create a CoAP context");
  nodes()[ctx_] = this;
  // Requests to this endpoint are reassembled by on_block(), not by libcoap: libcoap 4.3.1
  // reserves the whole body a first block announces (Size1) at once, up to 4 GiB per session.
  // Sessions copy the context's mode when they are made, so the client sessions of
  // session_to() get libcoap's reassembly of answers (SINGLE_BODY) and the server sessions
  // made later do not.
  coap_context_set_block_mode(ctx_, COAP_BLOCK_USE_LIBCOAP);
  coap_context_set_max_idle_sessions(ctx_, 4096);
  if (coap_new_endpoint(ctx_, &addr, COAP_PROTO_UDP) == nullptr) {
    throw std::runtime_error("cannot bind UDP " + to_string(listen_));
  }
  for (const auto& [path, handler] : handlers_) {
    coap_resource_t* r = coap_resource_init(coap_make_str_const(path.c_str()), 0);
    coap_register_request_handler(r, COAP_REQUEST_POST, on_request);
    coap_add_resource(ctx_, r);
  }
  coap_resource_t* unknown = coap_resource_unknown_init2(on_unknown, 0);
  coap_register_request_handler(unknown, COAP_REQUEST_POST, on_unknown);
  coap_register_request_handler(unknown, COAP_REQUEST_GET, on_unknown);
  coap_add_resource(ctx_, unknown);
  coap_register_response_handler(ctx_, on_response);
  coap_register_nack_handler(ctx_, on_nack);
  const int fd = coap_context_get_coap_fd(ctx_);
  if (fd < 0) throw std::runtime_error("libcoap was built without epoll");
  // libcoap keeps owning the descriptor: ours is a duplicate the io_context may close.
  events_.emplace(io_, ::dup(fd));
  wait_for_events();
}

void CoapNode::wait_for_events() {
  events_->async_wait(asio::posix::stream_descriptor::wait_read,
                      [this](const asio::error_code& ec) {
                        if (ec || stopped_) return;
                        pump();
                        wait_for_events();
                      });
}

void CoapNode::stop() {
  if (stopped_) return;
  stopped_ = true;
  timer_.cancel();
  if (events_) {
    asio::error_code ignored;
    events_->close(ignored);
  }
  auto pending = std::move(pending_);
  pending_.clear();
  if (ctx_ != nullptr) {
    for (auto& [key, session] : sessions_)
      coap_session_release(session);
    sessions_.clear();
    nodes().erase(ctx_);
    coap_free_context(ctx_);
    ctx_ = nullptr;
  }
}

CoapReply CoapNode::dispatch(const std::string& path, const Endpoint& from, ByteView body) {
  ++stats_.requests;
  auto it = handlers_.find(path);
  if (it == handlers_.end()) {
    ++stats_.unknown_paths;
    return {CoapCode::kNotFound, {}};
  }
  return it->second.handler(from, body);
}

void CoapNode::complete(const std::string& token, std::optional<CoapReply> reply) {
  auto it = pending_.find(token);
  if (it == pending_.end()) return;
  Done done = std::move(it->second);
  pending_.erase(it);
  if (!reply) ++stats_.posts_failed;
  done(std::move(reply));
}

coap_session_t* CoapNode::session_to(const Endpoint& to) {
  const std::string key = to_string(to);
  if (auto it = sessions_.find(key); it != sessions_.end()) return it->second;
  coap_address_t dst;
  if (!to_coap_address(to, dst)) return nullptr;
  // Answers to our own requests come whole to on_response (see start()).
  coap_context_set_block_mode(ctx_, COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
  coap_session_t* s = coap_new_client_session(ctx_, nullptr, &dst, COAP_PROTO_UDP);
  coap_context_set_block_mode(ctx_, COAP_BLOCK_USE_LIBCOAP);
  if (s == nullptr) return nullptr;
  // Loopback and LAN peers answer in milliseconds: give up after at most 10.5 s (1 s ack
  // timeout, two retransmissions), not RFC 7252's 93. libcoap refuses an ack timeout below 1 s.
  coap_session_set_ack_timeout(s, coap_fixed_point_t{1, 0});
  coap_session_set_max_retransmit(s, 2);
  sessions_.emplace(key, s);
  return s;
}

void CoapNode::post(const Endpoint& to, std::string_view path, ByteView body, Done done) {
  if (stopped_ || ctx_ == nullptr) return done(std::nullopt);
  coap_session_t* session = session_to(to);
  if (session == nullptr) {
    ++stats_.posts_failed;
    return done(std::nullopt);
  }
  coap_pdu_t* pdu = coap_pdu_init(COAP_MESSAGE_CON, COAP_REQUEST_CODE_POST,
                                  coap_new_message_id(session), coap_session_max_pdu_size(session));
  if (pdu == nullptr) {
    ++stats_.posts_failed;
    return done(std::nullopt);
  }
  std::uint8_t token[8];
  std::size_t token_len = 0;
  coap_session_new_token(session, &token_len, token);
  coap_add_token(pdu, token_len, token);
  coap_add_option(pdu, COAP_OPTION_URI_PATH, path.size(),
                  reinterpret_cast<const std::uint8_t*>(path.data()));
  auto* copy = new Bytes(body.begin(), body.end());
  coap_add_data_large_request(session, pdu, copy->size(), copy->data(), release_body, copy);
  const std::string key = token_key(session, coap_bin_const_t{token_len, token});
  pending_[key] = std::move(done);
  ++stats_.posts_sent;
  if (coap_send(session, pdu) == COAP_INVALID_MID) {
    complete(key, std::nullopt);
    return;
  }
  kick();
}

// libcoap arms its retransmission timer when it processes; after a send from outside its
// loop, one pass makes sure the timer covers the new message.
void CoapNode::kick() {
  if (kicked_) return;
  kicked_ = true;
  asio::post(io_, [this] {
    kicked_ = false;
    if (!stopped_ && ctx_ != nullptr) pump();
  });
}

// One pass of libcoap's I/O, then a timer for its next retransmission or timeout: its own
// timer descriptor is not reliably armed for messages sent outside its loop.
void CoapNode::pump() {
  coap_io_process(ctx_, COAP_IO_NO_WAIT);
  coap_tick_t now = 0;
  coap_ticks(&now);
  const unsigned next_ms = coap_io_prepare_epoll(ctx_, now);
  if (next_ms == 0) return;
  timer_.expires_after(std::chrono::milliseconds(next_ms));
  timer_.async_wait([this](const asio::error_code& ec) {
    if (!ec && !stopped_ && ctx_ != nullptr) pump();
  });
}

}  // namespace kmchain::io
