// Status replies: the gateway's answer to a device's status or catch-up request (device_request.h)
// says where the device's membership stands, authenticated so that nobody but its gateway can
// tell a device that its join failed (which makes it join again from scratch).
//
// Wire format, big-endian:
//
//   offset size field
//   0      1    version       1
//   1      1    status        1 member, 2 pending, 3 failed
//   2      4    node id       the device the reply is for
//   6      8    counter       the counter of the request it answers
//   14     1    reason length n <= kReplyReasonBytesMax (0 unless failed)
//   15     n    reason        why the join failed, as text
//   15+n   16   mac           HMAC-SHA-256(K_reply, bytes 0..14+n) truncated to 16 bytes
//
// K_reply (key_schedule.h) is known only to the device and the gateway that ran its join. The
// counter binds the reply to one request: the device accepts a reply only for the request it
// sent last, so an old "pending" or "failed" cannot be played back later.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "base/bytes.h"
#include "base/ids.h"
#include "base/result.h"
#include "crypto/secret.h"

namespace kmchain::enroll {

inline constexpr std::uint8_t kReplyVersion = 1;
inline constexpr std::size_t kReplyHeaderBytes = 1 + 1 + 4 + 8 + 1;
inline constexpr std::size_t kReplyMacBytes = 16;
// A reason is a short phrase ("commitment already used"); longer text is cut.
inline constexpr std::size_t kReplyReasonBytesMax = 64;
inline constexpr std::size_t kReplyBytesMin = kReplyHeaderBytes + kReplyMacBytes;
static_assert(kReplyHeaderBytes == 15, "the layout above");

enum class JoinStatus : std::uint8_t {
  kMember = 1,   // the join is final: the device is a member (its keys are pushed)
  kPending = 2,  // the join is not final yet: ask again later
  kFailed = 3,   // the join will never be final: join again, with a fresh hello
};
// "member", "pending", "failed".
const char* to_string(JoinStatus status);

enum class ReplyError : std::uint8_t {
  kWrongLength = 1,    // shorter than a reply, or not header + reason + mac
  kBadVersion = 2,     // first byte is not kReplyVersion
  kUnknownStatus = 3,  // status byte names no status
  kAuthFailed = 4,     // MAC does not verify under the device's reply key
  kWrongRequest = 5,   // another device, or not the counter of the last request
};
const char* to_string(ReplyError e);

struct StatusReply {
  JoinStatus status{};
  NodeId node;
  std::uint64_t counter = 0;
  std::string reason;
};

// The wire bytes, with the MAC under `reply_key`; a reason longer than the limit is cut.
Bytes encode_status_reply(const StatusReply& reply, const crypto::Secret256& reply_key);

// Parses and authenticates a reply to the request `counter` of `node`.
Result<StatusReply, ReplyError> open_status_reply(ByteView wire, NodeId node, std::uint64_t counter,
                                                  const crypto::Secret256& reply_key);

}  // namespace kmchain::enroll
