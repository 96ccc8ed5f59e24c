#include "enroll/status_reply.h"

#include <algorithm>

#include "codec/byte_reader.h"
#include "codec/byte_writer.h"
#include "crypto/mac.h"

namespace kmchain::enroll {

const char* to_string(JoinStatus status) {
  switch (status) {
    case JoinStatus::kMember:
      return "member";
    case JoinStatus::kPending:
      return "pending";
    case JoinStatus::kFailed:
      return "failed";
  }
  return "unknown";
}

const char* to_string(ReplyError e) {
  switch (e) {
    case ReplyError::kWrongLength:
      return "wrong length";
    case ReplyError::kBadVersion:
      return "bad version";
    case ReplyError::kUnknownStatus:
      return "unknown status";
    case ReplyError::kAuthFailed:
      return "authentication failed";
    case ReplyError::kWrongRequest:
      return "reply to another request";
  }
  return "unknown reply error";
}

Bytes encode_status_reply(const StatusReply& reply, const crypto::Secret256& reply_key) {
  const std::size_t n = std::min(reply.reason.size(), kReplyReasonBytesMax);
  Bytes out;
  out.reserve(kReplyBytesMin + n);
  codec::ByteWriter w(out);
  w.u8(kReplyVersion);
  w.u8(static_cast<std::uint8_t>(reply.status));
  w.u32(reply.node.value());
  w.u64(reply.counter);
  w.u8(static_cast<std::uint8_t>(n));
  w.raw(ByteView(reinterpret_cast<const std::uint8_t*>(reply.reason.data()), n));
  const crypto::HmacTag tag = crypto::hmac_sha256(reply_key.view(), out);
  w.raw(ByteView(tag.data(), kReplyMacBytes));
  return out;
}

Result<StatusReply, ReplyError> open_status_reply(ByteView wire, NodeId node, std::uint64_t counter,
                                                  const crypto::Secret256& reply_key) {
  if (wire.empty()) return Err{ReplyError::kWrongLength};
  if (wire[0] != kReplyVersion) return Err{ReplyError::kBadVersion};
  if (wire.size() < kReplyBytesMin) return Err{ReplyError::kWrongLength};
  codec::ByteReader r(wire);
  (void)r.u8();
  const std::uint8_t status = r.u8();
  if (status < static_cast<std::uint8_t>(JoinStatus::kMember) ||
      status > static_cast<std::uint8_t>(JoinStatus::kFailed)) {
    return Err{ReplyError::kUnknownStatus};
  }
  StatusReply reply;
  reply.status = static_cast<JoinStatus>(status);
  reply.node = NodeId{r.u32()};
  reply.counter = r.u64();
  const std::size_t n = r.u8();
  if (n > kReplyReasonBytesMax || wire.size() != kReplyBytesMin + n) {
    return Err{ReplyError::kWrongLength};
  }
  const ByteView reason = r.view(n);
  const ByteView mac = r.view(kReplyMacBytes);
  if (!crypto::hmac_sha256_verify(reply_key.view(), wire.first(kReplyHeaderBytes + n), mac)) {
    return Err{ReplyError::kAuthFailed};
  }
  if (reply.node != node || reply.counter != counter) return Err{ReplyError::kWrongRequest};
  reply.reason.assign(reason.begin(), reason.end());
  return reply;
}

}  // namespace kmchain::enroll
