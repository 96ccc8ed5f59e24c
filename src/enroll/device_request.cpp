#include "enroll/device_request.h"

#include <algorithm>

#include "base/check.h"
#include "base/limits.h"
#include "codec/byte_reader.h"
#include "codec/byte_writer.h"
#include "crypto/mac.h"

namespace kmchain::enroll {

namespace {

bool is_kind(std::uint8_t byte) {
  return byte >= static_cast<std::uint8_t>(RequestKind::kLeave) &&
         byte <= static_cast<std::uint8_t>(RequestKind::kStatus);
}

// Bytes 0..15+n: everything the MAC covers.
Bytes request_without_mac(const DeviceRequest& r) {
  KMCHAIN_CHECK(r.body.size() == body_bytes(r.kind));
  Bytes out;
  out.reserve(kRequestBytesMin + r.body.size());
  codec::ByteWriter w(out);
  w.u8(kRequestVersion);
  w.u8(static_cast<std::uint8_t>(r.kind));
  w.u32(r.node.value());
  w.u64(r.counter);
  w.u16(static_cast<std::uint16_t>(r.body.size()));
  w.raw(r.body);
  return out;
}

RequestMac request_mac(const DeviceRequest& r, const crypto::Secret256& request_key) {
  const crypto::HmacTag full = crypto::hmac_sha256(request_key.view(), request_without_mac(r));
  RequestMac mac{};
  std::copy_n(full.begin(), mac.size(), mac.begin());
  return mac;
}

}  // namespace

const char* to_string(RequestKind kind) {
  switch (kind) {
    case RequestKind::kLeave:
      return "leave";
    case RequestKind::kCatchUp:
      return "catch-up";
    case RequestKind::kStatus:
      return "status";
  }
  return "unknown";
}

std::size_t body_bytes(RequestKind kind) {
  switch (kind) {
    case RequestKind::kLeave:
      return 64;
    case RequestKind::kCatchUp:
      return 8;
    case RequestKind::kStatus:
      return 0;
  }
  return 0;
}

const char* to_string(RequestError e) {
  switch (e) {
    case RequestError::kWrongLength:
      return "wrong length";
    case RequestError::kBadVersion:
      return "bad version";
    case RequestError::kUnknownKind:
      return "unknown kind";
    case RequestError::kMalformedBody:
      return "malformed body";
    case RequestError::kAuthFailed:
      return "authentication failed";
    case RequestError::kStaleCounter:
      return "stale counter";
    case RequestError::kBadCounter:
      return "bad counter";
  }
  return "unknown request error";
}

DeviceRequest make_request(RequestKind kind, NodeId node, std::uint64_t counter, ByteView body,
                           const crypto::Secret256& request_key) {
  DeviceRequest r{kind, node, counter, Bytes(body.begin(), body.end()), {}};
  r.mac = request_mac(r, request_key);
  return r;
}

Bytes catch_up_body(Position last_applied) {
  Bytes body;
  codec::ByteWriter(body).u64(last_applied.value());
  return body;
}

crypto::Ed25519Signature leave_consent(const DeviceRequest& request) {
  KMCHAIN_CHECK(request.kind == RequestKind::kLeave && request.body.size() == 64);
  crypto::Ed25519Signature consent{};
  std::copy(request.body.begin(), request.body.end(), consent.begin());
  return consent;
}

Position catch_up_position(const DeviceRequest& request) {
  KMCHAIN_CHECK(request.kind == RequestKind::kCatchUp && request.body.size() == 8);
  codec::ByteReader r(request.body);
  return Position{r.u64()};
}

Bytes encode(const DeviceRequest& request) {
  Bytes out = request_without_mac(request);
  codec::ByteWriter(out).raw(request.mac);
  return out;
}

Result<DeviceRequest, RequestError> parse_request(ByteView wire) {
  if (wire.empty()) return Err{RequestError::kWrongLength};
  if (wire[0] != kRequestVersion) return Err{RequestError::kBadVersion};
  if (wire.size() < kRequestBytesMin) return Err{RequestError::kWrongLength};
  codec::ByteReader r(wire);
  (void)r.u8();
  const std::uint8_t kind = r.u8();
  if (!is_kind(kind)) return Err{RequestError::kUnknownKind};
  DeviceRequest request;
  request.kind = static_cast<RequestKind>(kind);
  request.node = NodeId{r.u32()};
  request.counter = r.u64();
  const std::size_t body_length = r.u16();
  if (body_length != body_bytes(request.kind)) return Err{RequestError::kMalformedBody};
  static_assert(kRequestBodyBytesMax == 64);
  if (wire.size() != kRequestBytesMin + body_length) return Err{RequestError::kWrongLength};
  if (request.counter == 0 || request.counter > kRequestCounterMax)
    return Err{RequestError::kBadCounter};
  const ByteView body = r.view(body_length);
  request.body.assign(body.begin(), body.end());
  r.raw(request.mac);
  KMCHAIN_CHECK(r.at_end());
  return request;
}

Status<RequestError> verify_request(const DeviceRequest& request,
                                    const crypto::Secret256& request_key) {
  if (!crypto::hmac_sha256_verify(request_key.view(), request_without_mac(request), request.mac)) {
    return Err{RequestError::kAuthFailed};
  }
  return {};
}

Status<RequestError> RequestCounterCheck::admit(NodeId node, std::uint64_t counter) {
  auto [it, inserted] = last_.try_emplace(node, 0);
  if (counter <= it->second) {
    if (inserted) last_.erase(it);
    return Err{RequestError::kStaleCounter};
  }
  it->second = counter;
  // Only verified requests reach here, so only enrolled devices have a record.
  KMCHAIN_CHECK(last_.size() <= limits::kDevicesMax);
  return {};
}

std::uint64_t RequestCounterCheck::last(NodeId node) const {
  auto it = last_.find(node);
  return it == last_.end() ? 0 : it->second;
}

void RequestCounterCheck::restore(NodeId node, std::uint64_t last) {
  last_[node] = last;
  KMCHAIN_CHECK(last_.size() <= limits::kDevicesMax);
}

void RequestCounterCheck::forget(NodeId node) {
  last_.erase(node);
}

}  // namespace kmchain::enroll
