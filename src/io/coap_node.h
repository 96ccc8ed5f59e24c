// CoapNode: one CoAP (RFC 7252) endpoint over UDP, on libcoap3, driven by an asio io_context.
// Both ends of the device protocol use it: a gateway serves /join and /req and pushes key
// messages to devices; a device serves /rekey and /d2d and makes requests to its gateway and
// its peers.
//
// - Server: POST handlers per path, each with the largest body it takes. The body reaches the
//   handler whole: block-wise (RFC 7959) requests are reassembled here, in order, in memory that
//   grows with what arrived (libcoap 4.3.1 would reserve whatever a first block announces);
//   a body, announced or sent, above the path's bound is answered 4.13 with Size1 before
//   anything is kept, at most kCoapTransfersMax transfers are in progress at once (5.03
//   beyond), and one idle for kCoapTransferIdleMs is dropped. Answers larger than a datagram go
//   back block-wise. A request to a path without a handler is answered 4.04 and counted.
// - Client: post() sends a confirmable POST (retransmitted by libcoap, block-wise when large)
//   and calls back once with the answer, or with nothing when the peer never answered.
// - libcoap owns the UDP socket and drops datagrams that are not CoAP; it reports each on its
//   log, which is routed here and counted as `malformed_datagrams` (process-wide: one CoapNode
//   per process in kmchain) instead of being printed.
//
// Integration with asio: libcoap keeps every socket and timer in one epoll descriptor; the
// io_context waits for it to become readable and lets libcoap process what is due.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "base/bytes.h"
#include "base/endpoint.h"
#include "io/asio.h"

struct coap_context_t;
struct coap_session_t;

namespace kmchain::io {

// Response codes as CoAP encodes them (class << 5 | detail).
enum class CoapCode : std::uint8_t {
  kCreated = 0x41,             // 2.01
  kChanged = 0x44,             // 2.04
  kContent = 0x45,             // 2.05
  kBadRequest = 0x80,          // 4.00
  kUnauthorized = 0x81,        // 4.01
  kForbidden = 0x83,           // 4.03
  kNotFound = 0x84,            // 4.04
  kIncomplete = 0x88,          // 4.08 Request Entity Incomplete
  kConflict = 0x89,            // 4.09
  kTooLarge = 0x8D,            // 4.13
  kInternalError = 0xA0,       // 5.00
  kServiceUnavailable = 0xA3,  // 5.03
};
std::string to_string(CoapCode code);
inline bool is_success(CoapCode code) {
  return (static_cast<std::uint8_t>(code) >> 5) == 2;
}

struct CoapReply {
  CoapCode code = CoapCode::kChanged;
  Bytes payload;
};

struct CoapStats {
  std::uint64_t requests = 0;
  std::uint64_t unknown_paths = 0;
  std::uint64_t posts_sent = 0;
  std::uint64_t posts_failed = 0;          // no answer after libcoap's retransmissions, or a reset
  std::uint64_t bodies_too_large = 0;      // refused 4.13, announced or sent
  std::uint64_t transfers_refused = 0;     // over kCoapTransfersMax
  std::uint64_t transfers_incomplete = 0;  // a block out of order or of no transfer held
};

// Datagrams libcoap discarded as malformed, in this process.
std::uint64_t coap_malformed_datagrams();

// Bodies above this are refused (4.13) before they reach a handler, whatever a path allows.
inline constexpr std::size_t kCoapBodyBytesMax = 256 * 1024;
// Block-wise requests being reassembled at once, and how long one may sit idle.
inline constexpr std::size_t kCoapTransfersMax = 64;
inline constexpr std::uint64_t kCoapTransferIdleMs = 30'000;

class CoapNode {
 public:
  using Handler = std::function<CoapReply(const Endpoint& from, ByteView body)>;
  using Done = std::function<void(std::optional<CoapReply>)>;

  CoapNode(asio::io_context& io, Endpoint listen);
  ~CoapNode();
  CoapNode(const CoapNode&) = delete;
  CoapNode& operator=(const CoapNode&) = delete;

  // `body_max`: the largest body a valid request to `path` has (at most kCoapBodyBytesMax).
  void on_post(const std::string& path, Handler handler, std::size_t body_max = kCoapBodyBytesMax);
  // Binds the UDP endpoint (port 0: any free port) and starts serving. Throws
  // std::runtime_error when the address cannot be bound.
  void start();
  void stop();

  // The bound address (after start()).
  const Endpoint& local() const { return local_; }

  void post(const Endpoint& to, std::string_view path, ByteView body, Done done);

  const CoapStats& stats() const { return stats_; }

  // One request block as libcoap delivers it: `body` at `offset` of a body of `total` bytes
  // (the whole body when offset is 0 and it is as long as total).
  struct Block {
    std::string path;
    Endpoint from;
    ByteView body;
    std::size_t offset = 0;
    std::size_t total = 0;
  };

  // Called from libcoap's C callbacks.
  CoapReply on_block(const Block& block);
  std::size_t body_max(const std::string& path) const;
  CoapReply dispatch(const std::string& path, const Endpoint& from, ByteView body);
  void complete(const std::string& token, std::optional<CoapReply> reply);
  void count_unknown_path() { ++stats_.unknown_paths; }

 private:
  coap_session_t* session_to(const Endpoint& to);
  void wait_for_events();
  void kick();
  void pump();

  asio::io_context& io_;
  Endpoint listen_;
  Endpoint local_;
  coap_context_t* ctx_ = nullptr;
  std::optional<asio::posix::stream_descriptor> events_;
  asio::steady_timer timer_;
  struct Route {
    Handler handler;
    std::size_t body_max = kCoapBodyBytesMax;
  };
  struct Transfer {
    Bytes body;
    std::uint64_t last_ms = 0;
  };
  std::map<std::string, Route> handlers_;
  // Block-wise requests in progress, by peer address and path.
  std::map<std::pair<std::string, std::string>, Transfer> transfers_;
  std::map<std::string, coap_session_t*> sessions_;
  std::map<std::string, Done> pending_;
  bool stopped_ = false;
  bool kicked_ = false;
  CoapStats stats_;
};

}  // namespace kmchain::io
