// Authenticated device requests: what a device that joined asks its home gateway (leave,
// catch-up after sleep, status). Each request carries a per-device counter and a MAC under the
// device's request key (key_schedule.h: derived from the node key, the context id and the node
// id), so a gateway acts on it only if it came from that device and was not seen before.
//
// Wire format, big-endian:
//
//   offset size field
//   0      1    version       1
//   1      1    kind          1 leave, 2 catch-up, 3 status
//   2      4    node id       the requesting device
//   6      8    counter       strictly increasing per device, 1..2^63-1
//   14     2    body length   n, as the kind requires: leave 64, catch-up 8, status 0
//   16     n    body          leave: the device's consent, an Ed25519 signature under its
//                             secret code's key (secret_code.h, consent_to_leave) that every
//                             gateway checks in the leave transaction;
//                             catch-up: u64 position of the last refresh the device applied
//   16+n   16   mac           HMAC-SHA-256(K_request, bytes 0..15+n) truncated to 16 bytes
//
// Parsing checks structure in this order: version (first byte), length at least a header and a
// mac, kind, body length against the kind (`malformed body`), the total length against the body
// length (`wrong length`), then the counter's range (`bad counter`). verify_request checks the MAC
// in constant time. The error of an unauthenticated request says only what its public structure
// shows.
//
// Replay: the gateway keeps the last counter it accepted from each device (RequestCounterCheck)
// and refuses any counter not above it. The device persists its counter before it sends a request
// with it, so a reboot never reuses one; the gateway persists the new last counter before it acts
// on a request, so a restart never accepts one twice. The request key is known only to the device
// and the gateway that ran its join handshake, so a request is valid at that gateway only.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string_view>

#include "base/bytes.h"
#include "base/ids.h"
#include "base/result.h"
#include "crypto/secret.h"
#include "crypto/sign.h"

namespace kmchain::enroll {

inline constexpr std::uint8_t kRequestVersion = 1;
inline constexpr std::size_t kRequestHeaderBytes = 1 + 1 + 4 + 8 + 2;
// Truncated: a request is small and frequent on constrained links, and 128 bits keeps forgery at
// 2^-128 per try (crypto::kHmacTagBytesMin).
inline constexpr std::size_t kRequestMacBytes = 16;
inline constexpr std::size_t kRequestBytesMin = kRequestHeaderBytes + kRequestMacBytes;
// The largest body of any kind (leave's consent). A body length above the kind's is refused
// before anything is buffered for it.
inline constexpr std::size_t kRequestBodyBytesMax = 64;
static_assert(kRequestHeaderBytes == 16 && kRequestBytesMin == 32, "the layout above");

using RequestMac = std::array<std::uint8_t, kRequestMacBytes>;

// Counters are signed 64-bit where they are stored (SQLite): a larger one is refused as
// malformed, so no stored counter is one a restart cannot load.
inline constexpr std::uint64_t kRequestCounterMax = INT64_MAX;

// Reasons a gateway gives, in the clear, when it refuses a request. A device that wants to leave
// stops asking on the first two (it is no member); on the third it asks again later.
inline constexpr std::string_view kRefusedNotOurDevice = "request: not our device";
inline constexpr std::string_view kRefusedLeaveNotMember = "leave: not a member";
inline constexpr std::string_view kRefusedLeaveNotFinal = "leave: join not final";
inline constexpr std::string_view kRefusedLeaveBadConsent = "leave: consent is not the device's";

enum class RequestKind : std::uint8_t {
  kLeave = 1,    // the device leaves the network (a leave transaction follows)
  kCatchUp = 2,  // the device woke up: send the refreshes after this position
  kStatus = 3,   // the device asks what its gateway holds for it
};
// "leave", "catch-up", "status".
const char* to_string(RequestKind kind);
// The body length a kind requires.
std::size_t body_bytes(RequestKind kind);

enum class RequestError : std::uint8_t {
  kWrongLength = 1,    // shorter than a request, or not header + body length + mac
  kBadVersion = 2,     // first byte is not kRequestVersion
  kUnknownKind = 3,    // kind byte names no request
  kMalformedBody = 4,  // body length is not the one its kind requires
  kAuthFailed = 5,     // MAC does not verify under the device's request key
  kStaleCounter = 6,   // counter not above the last one accepted from this device
  kBadCounter = 7,     // counter 0, or above kRequestCounterMax
};
const char* to_string(RequestError e);

struct DeviceRequest {
  RequestKind kind{};
  NodeId node;
  std::uint64_t counter = 0;
  Bytes body;
  RequestMac mac{};

  friend bool operator==(const DeviceRequest&, const DeviceRequest&) = default;
};

// A request with its MAC. `body` must have the kind's length (a local invariant: checked).
DeviceRequest make_request(RequestKind kind, NodeId node, std::uint64_t counter, ByteView body,
                           const crypto::Secret256& request_key);
// The body of a catch-up request, and the position a catch-up request carries.
Bytes catch_up_body(Position last_applied);
Position catch_up_position(const DeviceRequest& request);
// The consent a leave request carries.
crypto::Ed25519Signature leave_consent(const DeviceRequest& request);

// The wire bytes, with the mac as it stands.
Bytes encode(const DeviceRequest& request);
Result<DeviceRequest, RequestError> parse_request(ByteView wire);
[[nodiscard]] Status<RequestError> verify_request(const DeviceRequest& request,
                                                  const crypto::Secret256& request_key);

// The gateway's replay check: the last counter accepted from each device, 0 before any. Call
// admit() for verified requests only, so that no forged request moves a counter.
class RequestCounterCheck {
 public:
  // Records `counter` as the last from `node` if it is above the last one; kStaleCounter if not.
  [[nodiscard]] Status<RequestError> admit(NodeId node, std::uint64_t counter);
  std::uint64_t last(NodeId node) const;
  // The last counter of a device, as persisted, when the gateway restarts.
  void restore(NodeId node, std::uint64_t last);
  // A device that left. A later device with the same node id has another node key, so the old
  // device's requests fail their MAC; its record need not be kept.
  void forget(NodeId node);
  std::size_t size() const { return last_.size(); }

 private:
  std::map<NodeId, std::uint64_t> last_;
};

}  // namespace kmchain::enroll
